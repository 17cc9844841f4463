"""Generate the translated notebooks (notebooks/<language>/) from the English ones and gettext catalogs (issue 26).

Usage: python scripts/translate_notebooks.py [--update] [--check] [--language zh_CN]

English is the only source. Each markdown paragraph of an English notebook is one message of the catalog
locales/<language>/LC_MESSAGES/notebooks/<stem>.po, with "<cell id>:<paragraph index>" as its context. The
translated notebook is the English one with every paragraph replaced by its translation (an untranslated or fuzzy
one stays English and is counted), relative links one folder deeper, and one code cell that sets the package's
language before the first code cell; every other code cell is copied byte for byte and outputs are never stored.

--update  merges the English paragraphs into the catalogs first (like msgmerge: a new paragraph gets an empty
          entry, a changed one keeps its old translation marked fuzzy, a removed one becomes obsolete), and
          refreshes the package's catalog (qwen_lessons/locale/...: messages in _() calls and self-check hints)
          and its compiled .mo.
--check   writes nothing; exit code 1 when a generated notebook, a catalog or the compiled .mo is stale.
Without --update the catalogs are read as they are; a generated notebook is rewritten only when it changed.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import sys
import tomllib
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LOCALES = ROOT / "locales"
PACKAGE = ROOT / "qwen_lessons"
LANGUAGES_FILE = LOCALES / "languages.toml"
LANGUAGE_CELL_ID = "set-language"
WRAP = 0  # never wrap: one paragraph stays one line in the .po, so diffs show whole paragraphs
SEPARATOR = re.compile(r"(\n[ \t]*(?:\n[ \t]*)*\n)")  # one or more blank lines between paragraphs
RELATIVE_LINK = re.compile(r"(\]\(|src=\")(\.\./)")
TRANSLATABLE = re.compile(r"[A-Za-z]{2}")


def languages() -> dict[str, dict]:
    """The translated languages and whether each is complete (locales/languages.toml: the one place that says)."""
    return tomllib.loads(LANGUAGES_FILE.read_text(encoding="utf-8"))


def english_notebooks(notebook_dir: Path = NOTEBOOKS) -> list[Path]:
    """Lessons, the app and their solutions, in course order."""
    return sorted(notebook_dir.glob("[0-9][0-9]_*.ipynb")) + sorted((notebook_dir / "solutions").glob("*.ipynb"))


def catalog_path(language: str, english: Path, locales: Path = LOCALES) -> Path:
    return locales / language / "LC_MESSAGES" / "notebooks" / f"{english.stem}.po"


def translated_path(language: str, english: Path, notebook_dir: Path = NOTEBOOKS) -> Path:
    return notebook_dir / language / english.relative_to(notebook_dir)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs and the blank-line separators between them, alternating (even indices are paragraphs), so
    "".join(result) == text. A fenced code block with blank lines inside stays one paragraph."""
    parts = SEPARATOR.split(text)
    merged = [parts[0]]
    for index in range(1, len(parts), 2):
        if merged[-1].count("```") % 2:  # inside an open fence: the blank line belongs to the block
            merged[-1] += parts[index] + parts[index + 1]
        else:
            merged += [parts[index], parts[index + 1]]
    return merged


def messages(notebook: dict) -> list[tuple[str, str]]:
    """(context, English paragraph) for every translatable paragraph of the notebook's markdown cells, in order."""
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        paragraphs = [part for part in split_paragraphs("".join(cell["source"]))[::2] if TRANSLATABLE.search(part)]
        found += [(f"{cell['id']}:{index}", paragraph) for index, paragraph in enumerate(paragraphs)]
    return found


def new_catalog(language: str) -> polib.POFile:
    catalog = polib.POFile(wrapwidth=WRAP)
    catalog.metadata = {"Project-Id-Version": "qwen-lessons", "Language": language, "MIME-Version": "1.0",
                        "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit"}
    return catalog


def read_catalog(path: Path, language: str) -> polib.POFile:
    return polib.pofile(str(path), wrapwidth=WRAP) if path.exists() else new_catalog(language)


def merge(old: polib.POFile, found: list[tuple[str, str]], language: str, *, keep_unused: bool = False) -> polib.POFile:
    """The catalog for the English messages `found`, carrying over old translations (msgmerge's rules)."""
    merged = new_catalog(language)
    merged.metadata = dict(old.metadata) or merged.metadata
    by_context = {entry.msgctxt or entry.msgid: entry for entry in old if not entry.obsolete}  # no context: the text
    by_text = {}
    for entry in old:  # a paragraph that moved (or came back) keeps its translation as it is
        if entry.msgstr and not entry.fuzzy:
            by_text.setdefault(entry.msgid, entry)
    used = set()
    for context, english in found:
        before = by_context.get(context)
        entry = polib.POEntry(msgctxt=context, msgid=english, msgstr="")
        if before is not None and before.msgid == english:
            entry = copy.deepcopy(before)
            entry.obsolete = False
            used.add(id(before))
        elif english in by_text:
            entry.msgstr, entry.tcomment = by_text[english].msgstr, by_text[english].tcomment
            used.add(id(by_text[english]))
        elif before is not None and before.msgstr:  # the English changed: the old translation is a fuzzy start
            entry.msgstr, entry.tcomment, entry.previous_msgid = before.msgstr, before.tcomment, before.msgid
            entry.flags = ["fuzzy"]
            used.add(id(before))
        merged.append(entry)
    texts = {english for _context, english in found}
    for entry in old:  # a translated paragraph no longer in English is kept as obsolete (#~), once
        if id(entry) in used or not entry.msgstr or entry.msgid in texts:
            continue
        kept = copy.deepcopy(entry)
        kept.obsolete = not keep_unused
        merged.append(kept)
    return merged


def catalog_text(catalog: polib.POFile) -> str:
    return str(catalog) + "\n"


def translate_notebook(english: dict, catalog: polib.POFile, language: str) -> tuple[dict, dict[str, int]]:
    """The translated notebook and its counts of translated / fuzzy / untranslated paragraphs."""
    entries = {entry.msgctxt: entry for entry in catalog if not entry.obsolete}
    counts = {"translated": 0, "fuzzy": 0, "untranslated": 0}
    notebook = copy.deepcopy(english)
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            if not any(c.get("id") == LANGUAGE_CELL_ID for c in cells):
                cells.append(language_cell(language))
            cell["outputs"], cell["execution_count"] = [], None
        elif cell["cell_type"] == "markdown":
            parts, index = split_paragraphs("".join(cell["source"])), 0
            for position in range(0, len(parts), 2):
                if not TRANSLATABLE.search(parts[position]):
                    continue
                entry = entries.get(f"{cell['id']}:{index}")
                index += 1
                if entry is None or entry.msgid != parts[position] or not entry.msgstr:
                    counts["untranslated"] += 1
                elif entry.fuzzy:
                    counts["fuzzy"] += 1
                else:
                    parts[position] = entry.msgstr
                    counts["translated"] += 1
            text = RELATIVE_LINK.sub(r"\1../\2", "".join(parts))  # the notebook sits one folder deeper
            cell["source"] = text.splitlines(keepends=True)
        cells.append(cell)
    notebook["cells"] = cells
    return notebook, counts


def language_cell(language: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": LANGUAGE_CELL_ID, "metadata": {}, "outputs": [],
            "source": ["import qwen_lessons\n", "\n",
                       f'qwen_lessons.set_language("{language}")  # messages, self-checks and figures in this language']}


def notebook_text(notebook: dict) -> str:
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


# --- The package's own catalog: messages the code passes to _() and the self-checks' hints ------------------------

def package_catalog_path(language: str, package: Path = PACKAGE) -> Path:
    return package / "locale" / language / "LC_MESSAGES" / "qwen_lessons.po"


def package_messages(package: Path = PACKAGE) -> list[str]:
    """String literals given to _() or figure_text(), the literal hint and praise of checks' report() calls, the
    literal description= (label) of every widget control and alt= of a picture, and a table's literal caption=, missing=
    and headers= values."""
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in ("_", "figure_text"):
                literals = node.args[:1]
            elif name == "report":
                literals = node.args[1:3] + [keyword.value for keyword in node.keywords]
            else:  # a widget control's label (widgets.Dropdown(description=...)): ui.wire translates it; a table's
                # caption, footnote and renamed headers (ui.data_table(caption=, missing=, headers={...})) likewise
                literals = [keyword.value for keyword in node.keywords if keyword.arg in ("description", "caption",
                                                                                          "missing", "alt")]
                literals += [value for keyword in node.keywords if keyword.arg == "headers"
                             and isinstance(keyword.value, ast.Dict) for value in keyword.value.values]
            found += [value.value for value in literals
                      if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value.strip()
                      and value.value not in found]
    return found


def notebook_table_messages(notebook_dir: Path = NOTEBOOKS) -> list[str]:
    """The literal caption and missing= footnote of every ui.data_table call, and the literal message (a template
    when it is .format()ted) of every figure_text call (a figure's title, axis label, legend entry or box text), in the
    English notebooks' code cells: the code cells are copied byte for byte, so the package catalog says them in the
    language."""
    found = []
    for path in english_notebooks(notebook_dir):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            try:
                tree = ast.parse("".join(cell["source"])) if cell["cell_type"] == "code" else None
            except SyntaxError:  # a cell with IPython syntax (%magic) has no table call to read
                continue
            for node in ast.walk(tree) if tree else ():
                function = getattr(node, "func", None)
                name = getattr(function, "attr", getattr(function, "id", None)) if isinstance(node, ast.Call) else None
                if name == "figure_text":
                    literals = node.args[:1]
                elif name == "data_table":
                    literals = node.args[1:2] + [keyword.value for keyword in node.keywords
                                                 if keyword.arg in ("caption", "missing")]
                else:
                    continue
                found += [value.value for value in literals if isinstance(value, ast.Constant)
                          and isinstance(value.value, str) and value.value.strip() and value.value not in found]
    return found


def package_catalog(language: str, package: Path = PACKAGE) -> polib.POFile:
    """The package catalog with every extracted message; entries added by hand (messages a notebook passes in,
    such as guess_verdict's what= and unit=) are kept."""
    old = read_catalog(package_catalog_path(language, package), language)
    messages = package_messages(package)
    messages += [message for message in notebook_table_messages() if message not in messages]
    found = [(message, message) for message in messages]
    merged = merge(old, found, language, keep_unused=True)
    for entry in merged:
        entry.msgctxt = None
    return merged


# --- Running it -----------------------------------------------------------------------------------------------------

def run(language: str, *, update: bool, check: bool, notebook_dir: Path = NOTEBOOKS, locales: Path = LOCALES,
        package: Path = PACKAGE) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Bring one language's catalogs and notebooks up to date; return the stale files (with check, nothing is
    written) and the counts per notebook."""
    stale, counts = [], {}
    for english_path in english_notebooks(notebook_dir):
        english = json.loads(english_path.read_text(encoding="utf-8"))
        po_path = catalog_path(language, english_path, locales)
        catalog = read_catalog(po_path, language)
        merged = merge(catalog, messages(english), language)
        if (check or update) and catalog_text(merged) != (po_path.read_text(encoding="utf-8") if po_path.exists() else ""):
            stale.append(str(po_path))
            if not check:
                po_path.parent.mkdir(parents=True, exist_ok=True)
                po_path.write_text(catalog_text(merged), encoding="utf-8")
        translated, counts[english_path.stem] = translate_notebook(english, merged if update else catalog, language)
        out = translated_path(language, english_path, notebook_dir)
        if not out.exists() or out.read_text(encoding="utf-8") != notebook_text(translated):
            stale.append(str(out))
            if not check:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_text(notebook_text(translated), encoding="utf-8")
    po_path = package_catalog_path(language, package)
    merged = package_catalog(language, package)
    if (check or update) and catalog_text(merged) != (po_path.read_text(encoding="utf-8") if po_path.exists() else ""):
        stale.append(str(po_path))
        if not check:
            po_path.parent.mkdir(parents=True, exist_ok=True)
            po_path.write_text(catalog_text(merged), encoding="utf-8")
    mo_path = po_path.with_suffix(".mo")
    if po_path.exists():
        source = read_catalog(po_path, language)
        # compared by content, not bytes, so another polib version's byte layout is not "stale"
        if not mo_path.exists() or compiled_messages(polib.mofile(str(mo_path))) != compiled_messages(source):
            stale.append(str(mo_path))
            if not check:
                mo_path.write_bytes(source.to_binary())
    return stale, counts


def compiled_messages(catalog) -> dict:
    """What a compiled catalog answers: (context, English) -> translation, for the translated, non-fuzzy messages."""
    return {(entry.msgctxt, entry.msgid): entry.msgstr for entry in catalog
            if entry.msgid and entry.msgstr and not getattr(entry, "fuzzy", False) and not entry.obsolete}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="merge new English paragraphs into the catalogs first")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when anything is stale")
    parser.add_argument("--language", action="append", help="only this language (default: every language)")
    args = parser.parse_args(argv)
    failed = False
    for language in args.language or sorted(languages()):
        stale, _counts = run(language, update=args.update, check=args.check)
        for path in stale:
            print(f"{'stale' if args.check else 'wrote'}: {Path(path).relative_to(ROOT)}")
        if args.check and stale:
            print(f"{language}: {len(stale)} file(s) out of date; run python scripts/translate_notebooks.py --update")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
