"""Every table a learner sees, read as a learner reads it: each notebook (lessons, app, solutions) is executed, and
every HTML table it shows, in a cell's output or inside a widget (the HTML values in the kernel's widget state at
the end of the run), is parsed cell by cell.

A table fails when a cell shows a missing value as `NaN`, `<NA>`, `NaT` or `None`; when text is cut ("…", "...");
when a number in a column of a unit (a header such as "size (GB)", or a unit after the number) is in e-notation
(9.37533e+08); when a "—" (missing) has no footnote saying why; and when pandas' own repr reaches the learner: a
DataFrame or Series printed as text, or displayed with pandas' default HTML (class "dataframe" without the course's
"qwen-table"). Every table goes through qwen_lessons.ui.table instead.

The notebooks run once for this and the other checks that read what cells show (tests/notebook_runs.py, which marks
pandas' raw reprs); tests/test_notebook_runs.py applies run_problems to each run. This file holds the rules and the
tests that show each rule catches its defect.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

import notebook_runs

# In the kernel, text made by pandas' own repr of a DataFrame or Series carries this mark, wherever it goes (a bare
# Series as a cell's result, print(frame), an f-string; tests/notebook_runs.py). The course's own output never has it.
RAW_MARK = notebook_runs.RAW_MARK

MISSING = re.compile(r"^(NaN|nan|NaT|<NA>|None|null)$|\bNaN\b|<NA>")
CUT = re.compile(r"…|\.\.\.")
E_NOTATION = re.compile(r"\d(?:\.\d+)?e[+-]?\d+", re.I)
UNIT_WORDS = r"GB|GiB|MB|MiB|KB|KiB|TB|bytes?|tokens?|s|ms|seconds?|minutes?|hours?|px|W|%|params?|B"
UNIT_HEADER = re.compile(rf"\([^)]*\)|\b({UNIT_WORDS})\b")
NUMBER_WITH_UNIT = re.compile(rf"\d(?:\.\d+)?e[+-]?\d+\s*({UNIT_WORDS})\b", re.I)
COURSE_CLASS = "qwen-table"


class Tables(HTMLParser):
    """The tables of an HTML fragment: for each, its class, header texts, body rows (cell texts) and footer text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self._stack: list[dict] = []
        self._cell: list[str] | None = None
        self._section = "body"

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._stack.append({"class": attrs.get("class") or "", "header": [], "rows": [], "foot": ""})
        elif not self._stack:
            return
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag[1:]
        elif tag == "tr" and self._section != "foot":
            self._stack[-1]["rows" if self._section == "body" else "header"].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if not self._stack:
            return
        table = self._stack[-1]
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join("".join(self._cell).split())
            if self._section == "foot":
                table["foot"] += " " + text
            else:
                rows = table["rows" if self._section == "body" else "header"]
                if not rows:
                    rows.append([])
                rows[-1].append(text)
            self._cell = None
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = "body"
        elif tag == "table":
            table = self._stack.pop()
            if not table["header"] and table["rows"]:  # no <thead>: the first row is the header
                table["header"] = [table["rows"].pop(0)]
            self.tables.append(table)
            self._section = "body"

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_problems(html: str) -> list[str]:
    """What a learner trips over in the tables of one HTML fragment (empty when they read cleanly)."""
    parser = Tables()
    parser.feed(html)
    problems = []
    for table in parser.tables:
        classes = table["class"].split()
        if "dataframe" in classes and COURSE_CLASS not in classes:
            problems.append("pandas' default table HTML (class 'dataframe'), not the course's table")
        header = table["header"][-1] if table["header"] else []
        for row in table["rows"]:
            for column, text in enumerate(row):
                name = header[column] if column < len(header) else ""
                where = f"column {name!r}" if name else f"column {column + 1}"
                if MISSING.search(text):
                    problems.append(f"{where} shows a missing value as {text!r}")
                if CUT.search(text):
                    problems.append(f"{where} cuts its text: {text!r}")
                if E_NOTATION.search(text) and (UNIT_HEADER.search(name) or NUMBER_WITH_UNIT.search(text)):
                    problems.append(f"{where} shows a number in e-notation: {text!r}")
        for text in (cell for line in table["header"] for cell in line):
            if MISSING.fullmatch(text) or CUT.search(text):
                problems.append(f"header {text!r} is a missing value or cut")
        if any(text == "—" for row in table["rows"] for text in row) and "—" not in table["foot"]:
            problems.append("a missing value (—) without a footnote saying why")
    return problems


def output_problems(output) -> list[str]:
    """Problems of one cell output: raw pandas text, and every table in its HTML."""
    if output.output_type == "stream":
        return ["prints pandas' raw repr of a DataFrame or Series"] if RAW_MARK in output.text else []
    if output.output_type not in ("display_data", "execute_result"):
        return []
    data = output.get("data", {})
    html = data.get("text/html", "")
    problems = table_problems(html) if "<table" in html else []
    if RAW_MARK in data.get("text/plain", "") and not (html and COURSE_CLASS in html):
        problems.append("shows pandas' raw repr of a DataFrame or Series" + ("" if html else " (no HTML at all)"))
    return problems


def widget_problems(state: dict[str, dict]) -> list[str]:
    """Problems of every table inside a widget's HTML value, as the widget state holds them at the end of a run
    (comm id -> the widget's last synced state, closed widgets included)."""
    problems = []
    for model in state.values():
        value = model.get("value")
        if isinstance(value, str) and "<table" in value:
            name = " ".join(model.get("_dom_classes", [])) or model.get("_model_name") or "widget"
            problems += [f"widget {name}: {problem}" for problem in table_problems(value)]
    return problems


def run_problems(run: notebook_runs.Run) -> list[str]:
    """Every table problem of one notebook's run: each cell's outputs, then the widgets' HTML at the end."""
    problems = []
    for cell in run.cells:
        for output in cell.notebook_outputs():
            problems += [f"code cell {cell.number}: {problem}" for problem in output_problems(output)]
    return problems + widget_problems(run.widget_state)


# ------------------------------------------------------------------ the checks themselves catch what they must

@pytest.mark.parametrize("html, expected", [
    ('<table class="qwen-table"><thead><tr><th>a</th></tr></thead><tbody><tr><td>NaN</td></tr></tbody></table>', "NaN"),
    ('<table class="qwen-table"><tr><th>a</th></tr><tr><td>&lt;NA&gt;</td></tr></table>', "<NA>"),
    ('<table class="qwen-table"><tr><th>a</th></tr><tr><td>None</td></tr></table>', "None"),
    ('<table class="qwen-table"><tr><th>reply</th></tr><tr><td>The model said…</td></tr></table>', "cuts"),
    ('<table class="qwen-table"><tr><th>reply</th></tr><tr><td>The model said...</td></tr></table>', "cuts"),
    ('<table class="qwen-table"><tr><th>size (GB)</th></tr><tr><td>9.37533e+08</td></tr></table>', "e-notation"),
    ('<table class="qwen-table"><tr><th>size</th></tr><tr><td>9.37533e+08 bytes</td></tr></table>', "e-notation"),
    ('<table border="1" class="dataframe"><tr><th>a</th></tr><tr><td>1</td></tr></table>', "default table HTML"),
    ('<table class="qwen-table"><tr><th>a</th></tr><tr><td>—</td></tr></table>', "without a footnote"),
])
def test_table_problems_catch_each_defect(html, expected):
    assert any(expected in problem for problem in table_problems(html)), table_problems(html)


def test_a_clean_table_and_a_learning_rate_pass():
    html = ('<table class="qwen-table"><thead><tr><th>learning rate</th><th>size (GB)</th></tr></thead>'
            '<tbody><tr><td>2e-4</td><td>1,234.5</td></tr><tr><td>—</td><td>0.94</td></tr></tbody>'
            '<tfoot><tr><td colspan="2">— no source publishes it</td></tr></tfoot></table>')
    assert table_problems(html) == []


def test_raw_series_output_is_caught():
    series = nbformat.v4.new_output("execute_result", data={"text/plain": RAW_MARK + "a    1\ndtype: int64"})
    styled = nbformat.v4.new_output("display_data", data={"text/plain": RAW_MARK + "x", "text/html": (
        '<table border="1" class="dataframe"><tr><th>a</th></tr><tr><td>1</td></tr></table>')})
    assert output_problems(series) and output_problems(styled)


def test_a_run_is_read_output_by_output_and_widget_by_widget():
    # a mark split over two stream messages is still found (a notebook stores consecutive stream text as one);
    # a widget's table is read from its last synced state, and named by its classes or its model
    split = [("stream", {"name": "stdout", "text": "x" + RAW_MARK[:5]}), ("stream", {"name": "stdout", "text": RAW_MARK[5:]})]
    default_html = '<table border="1" class="dataframe"><tr><th>a</th></tr><tr><td>1</td></tr></table>'
    run = notebook_runs.Run(Path("x.ipynb"), [notebook_runs.Cell(2, split)], widget_state={
        "c1": {"_model_name": "HTMLModel", "value": default_html},
        "c2": {"_model_name": "HTMLModel", "_dom_classes": ["qwen-memory"], "value": default_html.replace("1", "NaN")},
        "c3": {"_model_name": "IntSliderModel", "value": 3}})
    problems = run_problems(run)
    assert problems[0] == "code cell 2: prints pandas' raw repr of a DataFrame or Series"
    assert "widget HTMLModel: pandas' default table HTML (class 'dataframe'), not the course's table" in problems
    assert "widget qwen-memory: column 'a' shows a missing value as 'NaN'" in problems


# ------------------------------------------------------------------ the helper itself keeps each rule

def test_data_table_keeps_the_display_rules():
    import math

    import pandas as pd

    from qwen_lessons import ui

    frame = pd.DataFrame({"model": ["Qwen2.5-14B", "Qwen2.5-0.5B", "Qwen2.5-3B", "Qwen2.5-1.5B", "Qwen2.5-32B"],
                          "file_bytes": [9.37533e08, 1.5e9, math.nan, 44704.0, 2.5e10],
                          "memory_gib": [29.51234, 1.0, 6.25, 3.1, 64.0],
                          "note": ["a long sentence that a learner must read to the end " * 3, "", "", "", "<b>"]})
    html = ui.data_table(frame, "Sizes", sort="model", top=3, missing="no file is published")
    parser = Tables()
    parser.feed(html)
    head, whole = parser.tables
    assert head["header"][-1] == ["model", "file bytes", "memory (GiB)", "note"]
    assert [row[0] for row in whole["rows"]] == ["Qwen2.5-0.5B", "Qwen2.5-1.5B", "Qwen2.5-3B", "Qwen2.5-14B",
                                                 "Qwen2.5-32B"]
    assert [row[1] for row in whole["rows"]][:2] == ["1,500,000,000", "44,704"]
    assert "— no file is published" in whole["foot"] and len(head["rows"]) == 3
    assert "Show all 5 rows" in html and "<caption>Sizes</caption>" in html and "&lt;b&gt;" in html
    assert whole["rows"][4][3] == "<b>"  # markup in a cell is escaped: it reads as text
    assert whole["rows"][3][3] == " ".join(frame["note"][0].split())  # long text whole (it wraps), never cut
    assert whole["rows"][2][1] == "—" and whole["rows"][3][2] == "29.51"
    assert table_problems(html) == []
    assert html == ui.data_table(frame, "Sizes", sort="model", top=3, missing="no file is published")  # stable HTML
    assert "padding: 4px 8px" in html and "white-space: normal" in html


def test_data_table_refuses_an_unknown_sort_column():
    import pandas as pd

    from qwen_lessons import ui

    with pytest.raises(ValueError, match="sort"):
        ui.data_table(pd.DataFrame({"a": [1]}), sort="b")


def test_natural_sort_puts_sizes_in_numeric_order_and_missing_values_last():
    import pandas as pd

    from qwen_lessons import ui

    frame = pd.DataFrame({"model": ["Qwen2.5-32B", "Qwen2.5-3B", "Qwen2.5-14B", "Qwen2.5-0.5B", "Qwen2.5-1.5B"],
                          "params_b": pd.array([32.5, None, 14.7, 0.49, 1.54], dtype="Float64")})
    assert sorted(frame["model"], key=ui.natural_key) == ["Qwen2.5-0.5B", "Qwen2.5-1.5B", "Qwen2.5-3B",
                                                         "Qwen2.5-14B", "Qwen2.5-32B"]
    parser = Tables()
    parser.feed(ui.data_table(frame, sort="params_b", decimals={"params_b": None}))
    assert [row[0] for row in parser.tables[0]["rows"]] == ["Qwen2.5-0.5B", "Qwen2.5-1.5B", "Qwen2.5-14B",
                                                            "Qwen2.5-32B", "Qwen2.5-3B"]


def test_a_table_box_is_reachable_by_keyboard_and_its_caption_keeps_the_text_colour():
    # the site's dark mode (axe-core, tests/browser/test_site_browser.py): a wide table's box scrolls sideways, so a
    # keyboard must reach it; the theme's muted caption grey failed contrast on the light output area behind tables
    import pandas as pd

    from qwen_lessons import ui

    shown = str(ui.data_table(pd.DataFrame({"model": ["Qwen3-8B"], "memory_gib": [15.3]}), "Weights & more"))
    assert '<div class="qwen-table-box" role="region" tabindex="0" aria-label="Weights &amp; more"' in shown
    assert re.search(r"caption \{[^}]*color: ?inherit", shown), "the caption must take the table's text colour"
