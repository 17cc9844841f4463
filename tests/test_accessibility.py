"""Accessibility: a colour-blind-safe palette that also works in grey, alt text for every figure, and widgets
whose controls are labelled and operable with the keyboard.

Colour science used here (the formulas, not any library): sRGB <-> linear light and relative luminance from
WCAG 2.x; CIE L*a*b* (D65) for perceptual differences; colour-vision-deficiency simulation with the matrices
of Machado, Oliveira & Fernandes (2009), severity 1.0, applied in linear RGB.
"""

from __future__ import annotations

import html.parser
import importlib
import inspect
import itertools
import json
import pkgutil
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

import qwen_lessons
from qwen_lessons import plotting, ui

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

CVD = {
    "normal vision": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
WHITE = "#FFFFFF"


def rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    r, g, b = (linear(c) for c in rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def lab_from_linear(r: float, g: float, b: float) -> tuple[float, float, float]:
    r, g, b = (min(max(c, 0.0), 1.0) for c in (r, g, b))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def seen_as(hex_colour: str, vision: str) -> tuple[float, float, float]:
    """L*a*b* of a colour as a reader with this kind of colour vision sees it."""
    lin = [linear(c) for c in rgb(hex_colour)]
    return lab_from_linear(*(sum(m * c for m, c in zip(row, lin, strict=True)) for row in CVD[vision]))


def delta_e(a, b) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


# ------------------------------------------------------------------------------------------- the helpers

def test_colour_helpers_against_known_values():
    # WCAG: black on white is 21:1, a colour against itself 1:1; mid grey #777777 is about 4.48:1 (AA fails).
    assert contrast("#000000", WHITE) == pytest.approx(21.0)
    assert contrast("#0072B2", "#0072B2") == pytest.approx(1.0)
    assert contrast("#777777", WHITE) == pytest.approx(4.48, abs=0.01)
    # CIE L* of white is 100 and of black 0; sRGB mid grey #777777 is about L* 50.
    assert seen_as(WHITE, "normal vision")[0] == pytest.approx(100, abs=0.01)
    assert seen_as("#000000", "protanopia")[0] == pytest.approx(0, abs=0.01)
    assert seen_as("#777777", "normal vision")[0] == pytest.approx(50.0, abs=0.5)
    # Each simulation matrix leaves white white (its rows sum to 1): greys are not changed by it.
    for matrix in CVD.values():
        assert all(sum(row) == pytest.approx(1, abs=1e-4) for row in matrix)
    # Red and green, far apart in normal vision, nearly collapse for deuteranopes: the simulation does something.
    normal = delta_e(seen_as("#D00000", "normal vision"), seen_as("#00A000", "normal vision"))
    deutan = delta_e(seen_as("#D00000", "deuteranopia"), seen_as("#00A000", "deuteranopia"))
    assert deutan < normal / 3


# ------------------------------------------------------------------------------------------- the palette

def test_palette_is_the_published_okabe_ito_set():
    # Okabe & Ito (2008), "Color Universal Design": the eight colours, in sRGB hex.
    published = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
    assert {c.upper() for c in plotting.OKABE_ITO} == published
    assert len(plotting.OKABE_ITO) == len(published)


@pytest.mark.parametrize("vision", list(CVD))
def test_every_pair_of_palette_colours_stays_distinct(vision):
    # Delta E 2.3 is about one just-noticeable difference; 10 keeps categories apart at a glance.
    pairs = itertools.combinations(plotting.OKABE_ITO, 2)
    too_close = [(a, b, round(d, 1)) for a, b in pairs if (d := delta_e(seen_as(a, vision), seen_as(b, vision))) < 10]
    assert not too_close, f"{vision}: these pairs look alike: {too_close}"


def test_first_three_series_colours_differ_in_grey():
    # Printed in grey, only lightness is left: the first three lines of any plot must differ by 10 L* or more.
    first = plotting.OKABE_ITO[:3]
    lightness = {c: seen_as(c, "normal vision")[0] for c in first}
    for a, b in itertools.combinations(first, 2):
        assert abs(lightness[a] - lightness[b]) >= 10, f"{a} and {b} look alike in grey: {lightness}"


def test_single_series_colour_reads_as_text_on_white():
    # A plot with one line uses the first colour; it should pass WCAG AA even for text (4.5:1).
    assert contrast(plotting.OKABE_ITO[0], WHITE) >= 4.5


def test_course_style_uses_the_palette_on_white(monkeypatch):
    import matplotlib as mpl

    with mpl.rc_context():
        plotting.use_course_style()
        assert [c.upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]] == list(plotting.OKABE_ITO)
        assert mpl.colors.to_hex(mpl.rcParams["axes.facecolor"]).upper() == WHITE


# ------------------------------------------------------------------------------------------- alt text

FIGURE_CODE = re.compile(r"plt\.show\(\)|\bplot_\w+\(|\bdraw_\w+\(|plt\.subplots\(|\.plot\(")


def missing_alt_text(cells: list[dict]) -> list[int]:
    """1-based numbers of figure cells with no '*Figure: ...*' markdown right before or right after them."""
    def says_figure(index: int) -> bool:
        return (0 <= index < len(cells) and cells[index]["cell_type"] == "markdown"
                and any(mark in "".join(cells[index]["source"]) for mark in ("*Figure:", "*图：")))  # zh_CN: 图

    return [number for number, cell in enumerate(cells, start=1)
            if cell["cell_type"] == "code" and FIGURE_CODE.search("".join(cell["source"]))
            and not (says_figure(number - 2) or says_figure(number))]


def test_alt_text_rule_catches_a_bare_figure():
    figure = {"cell_type": "code", "source": ["fig, ax = plt.subplots()\n", "plt.show()"]}
    alt = {"cell_type": "markdown", "source": ["*Figure: two rising lines.*"]}
    prose = {"cell_type": "markdown", "source": ["Some text."]}
    assert missing_alt_text([prose, figure, prose]) == [2]
    assert missing_alt_text([alt, figure, prose]) == []
    assert missing_alt_text([prose, figure, alt]) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_figure_has_alt_text(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    missing = missing_alt_text(cells)
    assert not missing, f"{path.name}: figure cells {missing} have no '*Figure: ...*' alt text beside them"


# ------------------------------------------------------------------------------------------- widgets

BUILDER_NAME = re.compile(r"(_widget|_viewer|_calculator|_wizard)$|^build_")
# Controls that render as native, focusable HTML controls (select, input, button, textarea) or, for sliders,
# a handle with tabindex=0 and arrow/Home/End keys: all operable without a mouse.
KEYBOARD_OPERABLE = {
    "Dropdown", "Select", "SelectMultiple", "RadioButtons", "ToggleButtons", "ToggleButton", "Button", "Checkbox",
    "Text", "Textarea", "Password", "Combobox", "IntText", "FloatText", "BoundedIntText", "BoundedFloatText",
    "IntSlider", "FloatSlider", "FloatLogSlider", "IntRangeSlider", "FloatRangeSlider", "SelectionSlider",
    "SelectionRangeSlider", "FileUpload", "DatePicker", "ColorPicker",
}
DISPLAY_ONLY = {"HTML", "HTMLMath", "Label", "Image", "Output", "IntProgress", "FloatProgress", "Valid"}


def widget_builders() -> list[tuple[str, object]]:
    """Every public widget builder of the package: a function named like a builder, callable with no argument."""
    found = []
    for info in pkgutil.walk_packages(qwen_lessons.__path__, prefix="qwen_lessons."):
        module = importlib.import_module(info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_") or not BUILDER_NAME.search(name):
                continue
            if all(p.default is not p.empty for p in inspect.signature(function).parameters.values()):
                found.append((f"{info.name.removeprefix('qwen_lessons.')}.{name}", function))
    return found


BUILDERS = widget_builders()


def leaves(widget):
    """Every widget inside a box, depth first."""
    children = getattr(widget, "children", None)
    if children is None:
        yield widget
        return
    for child in children:
        yield from leaves(child)


def test_every_widget_a_notebook_displays_is_checked():
    names = {name.rsplit(".", 1)[1] for name, _ in BUILDERS}  # notebooks import the widget modules under aliases
    displayed = set()
    for path in NOTEBOOKS:
        code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
                         if c["cell_type"] == "code")
        for variable, _module, function in re.findall(r"^(\w+)\s*=\s*(\w+)\.(\w+)\(", code, re.M):
            if re.search(rf"^{variable}\.box\s*$", code, re.M):
                displayed.add(function)
    assert "weights_widget" in displayed
    assert displayed <= names, f"widgets shown in notebooks but not found as builders: {displayed - names}"


@pytest.mark.parametrize("name,builder", BUILDERS, ids=[name for name, _ in BUILDERS])
def test_widget_controls_are_labelled_and_keyboard_operable(name, builder):
    built = builder()
    assert isinstance(built, SimpleNamespace) and hasattr(built, "box"), f"{name} should return a namespace with .box"
    for widget in leaves(built.box):
        kind = type(widget).__name__
        if kind == "Image":  # issue 25: axe found the vision overlay unnamed (ipywidgets writes the tooltip as title)
            assert (widget.tooltip or "").strip(), f"{name}: a picture has no tooltip, so it has no alt text"
            assert getattr(widget, "description", None) == "", f"{name}: ipywidgets draws no titled Image without one"
        if kind in DISPLAY_ONLY:
            continue
        assert kind in KEYBOARD_OPERABLE, f"{name}: {kind} is not a control known to work from the keyboard"
        label = widget.description.strip()
        assert label, f"{name}: a {kind} has no description, so screen readers announce it unnamed"


# ------------------------------------------------------------------------------------------- text colours

class _Colours(html.parser.HTMLParser):
    """Collect (text colour, background) of every text run, from inline styles; the page is white."""

    VOID = {"br", "img", "hr", "input", "meta", "link", "wbr", "col"}

    def __init__(self):
        super().__init__()
        self.stack = [(None, WHITE)]
        self.found = set()

    def handle_starttag(self, tag, attrs):
        style = dict(attrs).get("style") or ""
        colour, background = self.stack[-1]
        if m := re.search(r"(?<![-\w])color\s*:\s*(#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3})\b", style):
            colour = m.group(1)
        if m := re.search(r"background(?:-color)?\s*:\s*(#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{3})\b", style):
            background = m.group(1)
        if tag not in self.VOID:
            self.stack.append((colour, background))

    def handle_endtag(self, tag):
        if len(self.stack) > 1 and tag not in self.VOID:
            self.stack.pop()

    def handle_data(self, data):
        colour, background = self.stack[-1]
        if data.strip() and colour is not None:
            self.found.add((colour.upper(), background.upper()))


def text_colours(markup: str) -> set[tuple[str, str]]:
    parser = _Colours()
    parser.feed(markup)
    return parser.found


def test_text_colour_parser_on_a_known_snippet():
    snippet = ('<b style="color:#009E73">Fits</b><span style="background:#4D4D4D;color:#FFFFFF">tok</span>'
               '<div style="background:#0072B2"></div><i>plain</i>')
    assert text_colours(snippet) == {("#009E73", WHITE), ("#FFFFFF", "#4D4D4D")}


@pytest.mark.parametrize("name,builder", BUILDERS, ids=[name for name, _ in BUILDERS])
def test_coloured_widget_text_reaches_aa_contrast(name, builder):
    # WCAG 2.x asks 4.5:1 for body text (3:1 only for large text and graphics); widget text is body-sized,
    # so every coloured text run a widget shows in its starting state must reach 4.5:1.
    built = builder()
    shown = [w.value for w in leaves(built.box) if type(w).__name__ in ("HTML", "HTMLMath")]
    low = {(c, bg, round(contrast(c, bg), 2)) for markup in shown for c, bg in text_colours(markup) if contrast(c, bg) < 4.5}
    assert not low, f"{name}: text below 4.5:1 contrast: {sorted(low)}"


def test_a_widget_picture_needs_its_alt_text():
    picture = ui.picture("qwen-x", alt="a grid over a photo")
    assert picture.tooltip == "a grid over a photo" and "description" in picture.get_state()
    with pytest.raises(ValueError, match="alt"):
        ui.picture("qwen-x", alt=" ")


def test_a_result_that_may_scroll_is_reachable_with_the_keyboard():
    # issue 25: axe-core (serious, scrollable-region-focusable) on lesson 03's stage table: it scrolled sideways,
    # but a keyboard could not reach it to scroll
    assert ui.html_output("qwen-x").tabbable is True


def test_error_line_reaches_aa_contrast():
    colours = text_colours(ui.error_line("x must be positive"))
    assert colours and all(contrast(c, bg) >= 4.5 for c, bg in colours), colours
