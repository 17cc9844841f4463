"""Words a newcomer knows (issue 25): every technical term a lesson uses is in docs/glossary.md and linked there at
its first use in each lesson; each lesson says what it assumes; the README says what the course assumes.

The glossary page is the one list of terms: each `## Heading` is a term (its anchor is the heading's slug, as
GitHub and MyST make it) and an optional `*Also:* a, b` line under it names the other spellings the lessons use.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"
# Lessons 00-89. The apps (90-99) are shown alone in Voila, where a link to a repository page leads nowhere.
LESSONS = sorted((ROOT / "notebooks").glob("[0-8][0-9]_*.ipynb"))
LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^)\s]+)\)")
GLOSSARY_TARGET = re.compile(r"(?:^|/)glossary\.md#([\w-]+)$")


@dataclass(frozen=True)
class Term:
    name: str
    anchor: str
    spellings: tuple[str, ...]

    def pattern(self) -> re.Pattern:
        """Any spelling as a whole word. A lower-case or Capitalised word matches in any case (Token, token); an
        acronym or a name with other capitals or digits up front (GQA, LoRA, KV cache, Q8_0) matches its case."""
        parts = []
        for spelling in sorted(self.spellings, key=len, reverse=True):
            escaped = re.escape(spelling)
            plain = not any(ch.isupper() for ch in spelling[1:]) and (len(spelling) == 1 or spelling[1].islower())
            parts.append(f"(?i:{escaped})" if plain or spelling.islower() else escaped)
        return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")


def slug(heading: str) -> str:
    """The anchor GitHub and MyST (myst_heading_anchors) give a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def glossary_terms(text: str | None = None) -> list[Term]:
    text = GLOSSARY.read_text(encoding="utf-8") if text is None else text
    terms = []
    for match in re.finditer(r"^## (.+)\n(?:\*Also:\* (.+)\n)?", text, re.M):
        name, also = match.group(1).strip(), match.group(2) or ""
        spellings = [name] + [s.strip().strip("`") for s in also.split(",") if s.strip()]
        terms.append(Term(name, slug(name), tuple(spellings)))
    return terms


def blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def readable_text(markdown: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The markdown with everything that is not running prose blanked out (same length, so offsets hold), and the
    glossary links in it as (start, end, anchor). Blanked: code, headings, HTML tags, maths, and links that do not
    go to the glossary (their words are a link already)."""
    text = markdown
    for pattern in (r"(?s:```.*?```)", r"`[^`\n]*`", r"^#{1,6} .*$", r"<[^>\n]+>", r"\$[^$\n]+\$"):
        for match in re.finditer(pattern, text, re.M):
            text = blank(text, match.start(), match.end())
    links = []
    for match in LINK.finditer(text):
        target = GLOSSARY_TARGET.search(match.group(2))
        if target:
            links.append((match.start(1), match.end(1), target.group(1)))
            text = blank(text, match.end(1), match.end())  # the address is not prose
        else:
            text = blank(text, match.start(), match.end())
    return text, links


def first_use_problems(markdown_cells: list[str], terms: list[Term]) -> list[str]:
    """Terms whose first use in these cells (in order) is not a link to the term's glossary entry."""
    problems = []
    prose = [readable_text(cell) for cell in markdown_cells]
    patterns = {term.anchor: term.pattern() for term in terms}
    for term in terms:
        pattern = patterns[term.anchor]
        for number, (text, links) in enumerate(prose, start=1):
            others = text
            for start, end, anchor in links:  # words linked to another entry are that entry's (KV cache's "cache")
                if anchor != term.anchor and anchor in patterns and patterns[anchor].fullmatch(text[start:end]):
                    others = blank(others, start, end)
            match = pattern.search(others)
            if match is None:
                continue
            if not any(start <= match.start() and match.end() <= end and anchor == term.anchor
                       for start, end, anchor in links):
                line = others[:match.start()].count("\n") + 1
                problems.append(f"'{match.group(0)}' (markdown cell {number}, line {line}) is the first use of "
                                f"'{term.name}' and is not linked to the glossary (#{term.anchor})")
            break
    return problems


def markdown_cells(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


TERMS = glossary_terms()


def test_glossary_lists_the_terms_a_newcomer_meets():
    names = {term.name for term in TERMS}
    needed = {"KV cache", "GQA", "Prefill", "Decode", "GPTQ", "AWQ", "GGUF", "MMLU-Redux", "YaRN",
              "AdamW optimizer states", "LoRA", "QLoRA", "MoE", "DPO", "SFT", "Token", "Context window",
              "Quantization", "bf16"}
    assert needed <= names, f"missing from docs/glossary.md: {sorted(needed - names)}"
    assert len({term.anchor for term in TERMS}) == len(TERMS), "two glossary headings share an anchor"
    text = GLOSSARY.read_text(encoding="utf-8")
    for term in TERMS:  # every entry says something
        body = text.split(f"## {term.name}\n", 1)[1].split("\n## ", 1)[0]
        assert len(re.sub(r"\*Also:\*.*", "", body).split()) >= 12, f"glossary entry '{term.name}' is too short"


def test_the_first_use_rule_catches_a_bare_term_and_accepts_a_linked_one():
    terms = glossary_terms("## KV cache\n*Also:* KV-cache\n\nx\n\n## Token\n*Also:* tokens\n\ny\n")
    bare = ["# About the KV cache\n\nEvery `KV cache` line here is code.", "The KV-cache grows with tokens."]
    problems = first_use_problems(bare, terms)
    assert len(problems) == 2 and "'KV-cache' (markdown cell 2" in problems[0] and "'tokens'" in problems[1]
    linked = ["The [KV cache](../docs/glossary.md#kv-cache) grows with [tokens](../docs/glossary.md#token).",
              "Later the KV cache and tokens need no link."]
    assert first_use_problems(linked, terms) == []
    wrong_anchor = ["The [KV cache](../docs/glossary.md#token) grows."]
    assert "not linked" in first_use_problems(wrong_anchor, terms)[0]
    assert first_use_problems(["A [token-level](../x.md) list and a GQA."], terms) == []  # other words, other links


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda path: path.stem)
def test_every_glossary_term_is_linked_at_its_first_use(notebook):
    problems = first_use_problems(markdown_cells(notebook), TERMS)
    assert not problems, f"{notebook.name}:\n" + "\n".join(problems)


def glossary_links() -> list[tuple[str, str]]:
    """(file, anchor) of every link to a glossary entry in the lessons, solutions, README and docs."""
    found = []
    sources = {path: "\n".join(markdown_cells(path)) for path in (ROOT / "notebooks").rglob("*.ipynb")
               if ".ipynb_checkpoints" not in path.parts}
    sources.update({path: path.read_text(encoding="utf-8") for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]})
    for path, text in sources.items():
        for match in LINK.finditer(text):
            target = match.group(2)
            if path == GLOSSARY and target.startswith("#"):
                found.append((path.name, target[1:]))
            elif anchor := GLOSSARY_TARGET.search(target):
                found.append((path.name, anchor.group(1)))
    return found


def test_every_link_to_the_glossary_lands_on_an_entry():
    anchors = {term.anchor for term in TERMS}
    links = glossary_links()
    assert len(links) > 100, "the lessons link hardly any glossary term"
    broken = sorted({f"{name}: #{anchor}" for name, anchor in links if anchor not in anchors})
    assert not broken, f"links to glossary entries that do not exist: {broken}"


def test_the_app_page_links_no_repository_page():
    # the Voila app shows only the notebook: a link to ../docs/glossary.md there is a dead end
    app = ROOT / "notebooks" / "90_calculators_app.ipynb"
    assert not [target for text in markdown_cells(app) for _, target in LINK.findall(text) if "glossary.md" in target]


def test_lesson_links_to_the_glossary_resolve_from_the_notebooks_folder():
    for notebook in LESSONS:
        for text in markdown_cells(notebook):
            for match in LINK.finditer(text):
                if "glossary.md" in match.group(2):
                    path = match.group(2).split("#", 1)[0]
                    assert (notebook.parent / path).resolve() == GLOSSARY, f"{notebook.name}: {match.group(2)}"


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda path: path.stem)
def test_each_lesson_header_says_what_it_assumes(notebook):
    header = markdown_cells(notebook)[0]
    match = re.search(r"^\*\*Assumes:\*\* (.+)$", header, re.M)
    assert match, f"{notebook.name}: the first cell has no '**Assumes:** ...' line"
    assumes = match.group(1)
    assert "basic Python" in assumes, f"{notebook.name}: say that the lesson assumes basic Python ({assumes})"
    number = int(notebook.name[:2])
    earlier = [int(n) for n in re.findall(r"\d+", re.sub(r"^.*?lessons? ", "", assumes))] if "lesson" in assumes else []
    assert all(n < number for n in earlier), f"{notebook.name} assumes a later lesson: {assumes}"


def test_readme_for_whom_says_what_the_course_assumes_and_points_to_the_glossary():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for_whom = readme.split("**For whom:**", 1)[1].split("\n\n", 1)[0]
    assert "basic Python" in for_whom and "docs/glossary.md" in for_whom
    assert "no machine-learning background" not in for_whom  # the lessons do use ML words: the glossary explains them
