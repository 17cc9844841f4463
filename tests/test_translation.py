"""The Chinese edition (issue 26): generated from English, so no number, code cell or term can drift.

scripts/translate_notebooks.py builds notebooks/zh_CN/ from the English notebooks and the catalogs in locales/;
scripts/translation_status.py measures completeness. Every check here also runs on a planted fault (the tests named
..._catches_...), so none of them can pass by checking nothing.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import shutil
import sys
import warnings
from collections import Counter
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


tn = load_script("translate_notebooks")
status = load_script("translation_status")
CATALOGS = sorted((ROOT / "locales" / LANGUAGE / "LC_MESSAGES" / "notebooks").glob("*.po"))
PACKAGE_CATALOG = tn.package_catalog_path(LANGUAGE)


def translated_entries(path: Path) -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(path)) if e.msgstr and not e.fuzzy and not e.obsolete]


# --- 1. Generated, never stale -------------------------------------------------------------------------------------

def test_generated_notebooks_catalogs_and_compiled_catalog_are_current():
    stale, _counts = tn.run(LANGUAGE, update=False, check=True)
    assert not stale, f"stale: {stale[:5]}; run python scripts/translate_notebooks.py --update"


def small_course(tmp_path: Path, paragraphs: list[str]) -> tuple[Path, Path, Path]:
    """A one-notebook course in tmp_path: (notebooks, locales, package)."""
    notebooks, locales, package = tmp_path / "notebooks", tmp_path / "locales", tmp_path / "pkg"
    (notebooks / "solutions").mkdir(parents=True)
    package.mkdir()
    (package / "m.py").write_text('_("Hello")\n', encoding="utf-8")
    write_lesson(notebooks, paragraphs)
    return notebooks, locales, package


def write_lesson(notebooks: Path, paragraphs: list[str]) -> None:
    cells = [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": "\n\n".join(paragraphs)},
             {"cell_type": "code", "id": "code1", "metadata": {}, "execution_count": 3, "source": "x = 1  # 1 GiB\n",
              "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}]}]
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (notebooks / "01_demo.ipynb").write_text(json.dumps(notebook, indent=1) + "\n", encoding="utf-8")


def translate_all(locales: Path, translations: dict[str, str]) -> None:
    path = locales / LANGUAGE / "LC_MESSAGES" / "notebooks" / "01_demo.po"
    catalog = polib.pofile(str(path), wrapwidth=tn.WRAP)
    for entry in catalog:
        entry.msgstr = translations.get(entry.msgid, entry.msgstr)
    path.write_text(tn.catalog_text(catalog), encoding="utf-8")


def test_check_catches_an_english_change_and_update_keeps_old_translations_as_fuzzy(tmp_path):
    notebooks, locales, package = small_course(tmp_path, ["# Title", "It has 7 layers.", "See [x](../docs/g.md)."])
    where = {"notebook_dir": notebooks, "locales": locales, "package": package}
    tn.run(LANGUAGE, update=True, check=False, **where)
    translate_all(locales, {"# Title": "# 标题", "It has 7 layers.": "它有 7 层。"})
    tn.run(LANGUAGE, update=True, check=False, **where)
    assert tn.run(LANGUAGE, update=False, check=True, **where)[0] == []
    generated = json.loads((notebooks / LANGUAGE / "01_demo.ipynb").read_text(encoding="utf-8"))
    assert "".join(generated["cells"][0]["source"]) == "# 标题\n\n它有 7 层。\n\nSee [x](../../docs/g.md)."
    assert generated["cells"][1]["id"] == tn.LANGUAGE_CELL_ID
    assert generated["cells"][2]["source"] == "x = 1  # 1 GiB\n" and generated["cells"][2]["outputs"] == []

    write_lesson(notebooks, ["# Title", "It has 8 layers.", "A new paragraph.", "See [x](../docs/g.md)."])
    stale, _ = tn.run(LANGUAGE, update=False, check=True, **where)
    assert any(path.endswith("01_demo.po") for path in stale) and any(path.endswith("01_demo.ipynb") for path in stale)
    _stale, counts = tn.run(LANGUAGE, update=True, check=False, **where)
    entries = {e.msgid: e for e in polib.pofile(str(locales / LANGUAGE / "LC_MESSAGES" / "notebooks" / "01_demo.po"))}
    assert entries["It has 8 layers."].fuzzy and entries["It has 8 layers."].msgstr == "它有 7 层。"
    assert entries["It has 8 layers."].previous_msgid == "It has 7 layers."
    assert entries["# Title"].msgstr == "# 标题" and not entries["# Title"].fuzzy
    assert counts["01_demo"] == {"translated": 1, "fuzzy": 1, "untranslated": 2}
    generated = json.loads((notebooks / LANGUAGE / "01_demo.ipynb").read_text(encoding="utf-8"))
    assert "It has 8 layers." in "".join(generated["cells"][0]["source"]), "a fuzzy translation must not be shown"


def test_a_moved_paragraph_keeps_its_translation_and_a_removed_one_is_kept_as_obsolete(tmp_path):
    notebooks, locales, package = small_course(tmp_path, ["# Title", "First.", "Second."])
    where = {"notebook_dir": notebooks, "locales": locales, "package": package}
    tn.run(LANGUAGE, update=True, check=False, **where)
    translate_all(locales, {"First.": "第一。", "Second.": "第二。"})
    write_lesson(notebooks, ["# Title", "Second."])  # "First." removed, "Second." moved up one paragraph
    _stale, counts = tn.run(LANGUAGE, update=True, check=False, **where)
    catalog = polib.pofile(str(locales / LANGUAGE / "LC_MESSAGES" / "notebooks" / "01_demo.po"))
    live = {e.msgid: e for e in catalog if not e.obsolete}
    assert live["Second."].msgstr == "第二。" and not live["Second."].fuzzy
    assert [e.msgid for e in catalog if e.obsolete] == ["First."]
    assert counts["01_demo"] == {"translated": 1, "fuzzy": 0, "untranslated": 1}


def test_check_catches_a_hand_edited_generated_notebook(tmp_path):
    notebooks, locales, package = small_course(tmp_path, ["# Title"])
    where = {"notebook_dir": notebooks, "locales": locales, "package": package}
    tn.run(LANGUAGE, update=True, check=False, **where)
    generated = notebooks / LANGUAGE / "01_demo.ipynb"
    generated.write_text(generated.read_text(encoding="utf-8").replace("x = 1", "x = 2"), encoding="utf-8")
    assert tn.run(LANGUAGE, update=False, check=True, **where)[0] == [str(generated)]


def test_a_fenced_block_with_blank_lines_stays_one_paragraph():
    text = "Intro.\n\n```bash\nline one\n\nline two\n```\n\nAfter."
    parts = tn.split_paragraphs(text)
    assert "".join(parts) == text
    assert parts[::2] == ["Intro.", "```bash\nline one\n\nline two\n```", "After."]


# --- 2. Code cells identical ---------------------------------------------------------------------------------------

def code_cells_differ(english: dict, translated: dict) -> list[str]:
    """Why the translated notebook's code is not the English code (empty when it is, but for the language cell)."""
    problems = []
    code = [c for c in translated["cells"] if c["cell_type"] == "code"]
    if not code or code[0].get("id") != tn.LANGUAGE_CELL_ID:
        problems.append("the first code cell does not set the language")
    pairs = zip([c for c in english["cells"] if c["cell_type"] == "code"], code[1:], strict=False)
    for before, after in pairs:
        if "".join(before["source"]) != "".join(after["source"]) or before["id"] != after["id"]:
            problems.append(f"code cell {before['id']} differs")
        if after.get("outputs"):
            problems.append(f"code cell {after['id']} has stored outputs")
    if len(code) - 1 != sum(c["cell_type"] == "code" for c in english["cells"]):
        problems.append("a different number of code cells")
    return problems


@pytest.mark.parametrize("english_path", tn.english_notebooks(), ids=lambda p: p.stem)
def test_code_cells_are_the_english_ones_byte_for_byte(english_path):
    english = json.loads(english_path.read_text(encoding="utf-8"))
    translated = json.loads(tn.translated_path(LANGUAGE, english_path).read_text(encoding="utf-8"))
    assert code_cells_differ(english, translated) == []


def test_code_check_catches_an_edited_code_cell():
    english_path = ROOT / "notebooks" / "00_start_here.ipynb"
    english = json.loads(english_path.read_text(encoding="utf-8"))
    translated = json.loads(tn.translated_path(LANGUAGE, english_path).read_text(encoding="utf-8"))
    edited = next(c for c in translated["cells"] if c["cell_type"] == "code" and c["id"] != tn.LANGUAGE_CELL_ID)
    edited["source"] = ["# 翻译过的注释\n", *edited["source"]]
    assert code_cells_differ(english, translated) == [f"code cell {edited['id']} differs"]


# --- 3. Numbers match, message by message --------------------------------------------------------------------------

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# The one table of spellings a translation may use for the same number (English spelling -> accepted ones).
# Thousands separators: "1,024" may be written "1,024" or "1024"; Chinese full-width digits and percent are the same
# (a full-width comma separates list items, never thousands);
# an English month name is its number in Chinese ("March 2024" is "2024 年 3 月").
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
          "December")
SPELLINGS = {"，": ", ", "％": "%", **{chr(0xFF10 + digit): str(digit) for digit in range(10)},
             **{month: f" {number} " for number, month in enumerate(MONTHS, start=1)}}


def numbers(text: str) -> Counter:
    for spelled, plain in SPELLINGS.items():
        text = text.replace(spelled, plain)
    found = (re.sub(r",(?=\d{3}(?!\d))", "", match).rstrip(".,") for match in NUMBER.findall(text))
    return Counter(found)


def number_mismatches(entries) -> list[str]:
    return [f"{e.msgctxt}: English {sorted(numbers(e.msgid).elements())} vs {sorted(numbers(e.msgstr).elements())}"
            for e in entries if numbers(e.msgid) != numbers(e.msgstr)]


@pytest.mark.parametrize("path", [*CATALOGS, PACKAGE_CATALOG], ids=lambda p: p.stem)
def test_every_number_in_a_paragraph_appears_in_its_translation(path):
    assert number_mismatches(translated_entries(path)) == []


def test_number_check_catches_a_changed_or_dropped_number():
    entry = polib.POEntry(msgctxt="x:0", msgid="Qwen2.5-7B needs 15.2 GiB, 1,024 tokens", msgstr="")
    entry.msgstr = "Qwen2.5-7B 需要 15.2 GiB，1024 个 token"
    assert number_mismatches([entry]) == []
    entry.msgstr = "Qwen2.5-7B 需要 15.3 GiB，1024 个 token"
    assert number_mismatches([entry]) != []
    entry.msgstr = "Qwen2.5-7B 需要 15.2 GiB"
    assert number_mismatches([entry]) != []


# --- Markup and placeholders survive translation ------------------------------------------------------------------

MARKUP = re.compile(r"<(strong|em|code|a|li|h\d|table|blockquote|pre)\b")


def markup_mismatches(entries) -> list[str]:
    """Messages whose translation renders with other emphasis, code, links, list items or headings than the English.
    Chinese needs care here: CommonMark does not close **粗体：**后 (punctuation inside, a letter after)."""
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py comes with the site extra (myst-nb)")
    renderer = markdown_it.MarkdownIt("commonmark").enable("table")

    def markup(text: str) -> Counter:
        return Counter(MARKUP.findall(renderer.render(text)))

    return [f"{e.msgctxt}: English {dict(markup(e.msgid))} vs {dict(markup(e.msgstr))}"
            for e in entries if markup(e.msgid) != markup(e.msgstr)]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.stem)
def test_a_translation_keeps_the_markup_of_its_paragraph(path):
    assert markup_mismatches(translated_entries(path)) == []


def test_markup_check_catches_bold_that_commonmark_does_not_close():
    entry = polib.POEntry(msgctxt="x:0", msgid="**Time:** about 10 minutes.", msgstr="**时间**：约 10 分钟。")
    assert markup_mismatches([entry]) == []
    entry.msgstr = "**时间：**约 10 分钟。"
    assert markup_mismatches([entry]) == ["x:0: English {'strong': 1} vs {}"]


def placeholder_mismatches(entries) -> list[str]:
    fields = re.compile(r"\{[a-z_]*\}")
    return [e.msgid for e in entries if sorted(fields.findall(e.msgid)) != sorted(fields.findall(e.msgstr))]


def test_package_translations_keep_every_format_field():
    assert placeholder_mismatches(translated_entries(PACKAGE_CATALOG)) == []
    assert placeholder_mismatches([polib.POEntry(msgid="{said}: exactly right.", msgstr="完全正确。")]) != []


# --- 4. Terms translated one way -----------------------------------------------------------------------------------

TERMS = list(csv.DictReader((ROOT / "locales" / LANGUAGE / "terms.csv").open(encoding="utf-8")))
CODE_OR_LINK_TARGET = re.compile(r"```.*?```|`[^`]*`|\]\([^)]*\)|<[^>]*>", re.DOTALL)  # code stays English


def term_mismatches(entries, terms=TERMS) -> list[str]:
    problems = []
    for entry in entries:
        english, chinese = (CODE_OR_LINK_TARGET.sub(" ", text) for text in (entry.msgid, entry.msgstr))
        for term in terms:
            if re.search(rf"(?<![\w-]){re.escape(term['english'])}s?(?![\w-])", english, re.IGNORECASE) \
                    and term["chinese"].lower() not in chinese.lower():
                problems.append(f"{entry.msgctxt or entry.msgid[:30]}: '{term['english']}' must be '{term['chinese']}'")
    return problems


def test_glossary_has_a_source_for_every_term_and_one_translation_each():
    assert TERMS and all(term["english"] and term["chinese"] and term["source"] for term in TERMS)
    assert len({term["english"].lower() for term in TERMS}) == len(TERMS)


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.stem)
def test_glossary_terms_are_translated_the_same_way_in_every_catalog(path):
    assert term_mismatches(translated_entries(path)) == []


def test_glossary_check_catches_another_translation_of_a_term():
    entry = polib.POEntry(msgctxt="x:0", msgid="Quantization shrinks the weights.", msgstr="量化让权重变小。")
    assert term_mismatches([entry]) == []
    entry.msgstr = "量化让参数变小。"
    assert term_mismatches([entry]) == ["x:0: 'weights' must be '权重'"]


# --- 5. Completeness -----------------------------------------------------------------------------------------------

def test_status_passes_while_the_language_is_marked_incomplete_and_fails_when_marked_complete(tmp_path, capsys):
    assert status.main([]) == 0
    planted = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", planted)
    text = (planted / "languages.toml").read_text(encoding="utf-8")
    (planted / "languages.toml").write_text(text.replace("complete = false", "complete = true"), encoding="utf-8")
    po = planted / LANGUAGE / "LC_MESSAGES" / "notebooks" / "00_start_here.po"
    catalog = polib.pofile(str(po), wrapwidth=tn.WRAP)
    catalog[0].msgstr, catalog[0].flags = "", []
    po.write_text(tn.catalog_text(catalog), encoding="utf-8")
    assert status.main(["--languages-file", str(planted / "languages.toml")]) == 1
    assert "untranslated or fuzzy" in capsys.readouterr().out



# --- 6. The package speaks the language ----------------------------------------------------------------------------

@pytest.fixture
def chinese():
    import qwen_lessons

    qwen_lessons.set_language(LANGUAGE)
    yield
    qwen_lessons.set_language(None)


def test_set_language_knows_english_and_chinese_and_refuses_others_in_one_line(monkeypatch):
    import qwen_lessons
    from qwen_lessons import language

    monkeypatch.delenv(language.ENVIRONMENT_VARIABLE, raising=False)
    assert language.available_languages() == ("en", LANGUAGE)
    qwen_lessons.set_language("zh-CN")
    assert language.current_language() == LANGUAGE
    qwen_lessons.set_language(None)
    assert language.current_language() == "en"
    with pytest.raises(ValueError) as refused:
        qwen_lessons.set_language("klingon")
    assert str(refused.value) == "language must be one of ['en', 'zh_CN']; got 'klingon'"
    monkeypatch.setenv(language.ENVIRONMENT_VARIABLE, "zh_CN")
    assert language.current_language() == LANGUAGE
    monkeypatch.setenv(language.ENVIRONMENT_VARIABLE, "fr")
    with pytest.raises(ValueError, match="QWEN_LESSONS_LANG must be one of"):
        language.current_language()


def test_self_checks_guesses_and_refusals_speak_chinese(chinese, capsys):
    from qwen_lessons.checks import report
    from qwen_lessons.ui import guess_verdict
    from qwen_lessons.validation import integer

    report(False, "answer with a number of tokens, for example the result of audio_tokens_for_seconds(...).")
    assert capsys.readouterr().out.startswith("✗ 还不对。提示：")
    assert guess_verdict(300, 312, what="the count", unit="tokens") == "你猜的是 300 个 token；实际数量是 312 个 token：低了 4 %。"
    with pytest.raises(ValueError, match="必须是"):
        integer(1, 10)("layers", 0)


def test_widget_labels_speak_chinese_through_the_wiring(chinese):
    import ipywidgets as widgets

    from qwen_lessons.ui import wire

    model, custom = widgets.Dropdown(description="Model", options=["a"]), widgets.IntText(description="Not in catalog")
    wire([model, custom], lambda *_: None)
    assert (model.description, custom.description) == ("模型", "Not in catalog")


def test_english_stays_the_default(capsys):
    from qwen_lessons.checks import report
    from qwen_lessons.ui import guess_verdict

    report(False, "a hint")
    assert capsys.readouterr().out == "✗ Not yet. Hint: a hint\n"
    assert guess_verdict(300, 312, what="the count", unit="tokens") == \
        "You guessed 300 tokens; the count is 312 tokens: 4 % low."


# --- 7. Chinese figures have every glyph ---------------------------------------------------------------------------

def missing_glyphs(draw) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = draw(plt)
        figure.canvas.draw()
        plt.close(figure)
    # matplotlib 3.8 says "missing from current font", later releases "missing from font(s) DejaVu Sans"
    return [str(w.message) for w in caught if re.match(r"Glyph \d+ .*missing from", str(w.message))]


def chinese_title(plt):
    from qwen_lessons.language import figure_text
    from qwen_lessons.plotting import use_course_style

    use_course_style()
    figure, ax = plt.subplots()
    ax.set_title(figure_text("Weights memory (GiB)"))
    ax.set_xlabel("参数量（十亿）")
    return figure


def test_chinese_figure_text_draws_with_a_cjk_font(chinese):
    from qwen_lessons.language import cjk_font

    if cjk_font() is None:
        pytest.skip("no CJK font installed (Debian: apt install fonts-noto-cjk); the English fallback is tested below")
    assert missing_glyphs(chinese_title) == []


def test_glyph_check_catches_a_font_without_chinese(chinese):
    import matplotlib

    def without_cjk(plt):
        figure = chinese_title(plt)
        matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
        for text in figure.findobj(matplotlib.text.Text):
            text.set_fontfamily("DejaVu Sans")
        return figure

    try:
        assert missing_glyphs(without_cjk) != []
    finally:
        matplotlib.rcParams["font.family"] = __import__("qwen_lessons.language").language.figure_fonts()


def test_without_a_cjk_font_figures_fall_back_to_english_with_one_hint(chinese, monkeypatch, capsys):
    from qwen_lessons import language

    monkeypatch.setattr(language, "cjk_font", lambda: None)
    monkeypatch.setattr(language, "_hinted", False)
    assert language.figure_text("Weights memory (GiB)") == "Weights memory (GiB)"
    assert language.figure_text("Weights memory (GiB)") == "Weights memory (GiB)"
    assert capsys.readouterr().out.count("Figures stay in English") == 1


@pytest.mark.slow
def test_the_wheel_carries_the_compiled_catalogs(course_wheel):
    import zipfile

    names = set(zipfile.ZipFile(course_wheel).namelist())
    assert f"qwen_lessons/locale/{LANGUAGE}/LC_MESSAGES/qwen_lessons.mo" in names
