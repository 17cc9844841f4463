"""Widget helpers shared by every lesson's widgets (qwen_lessons.widgets.*): one-line messages and the wiring.

Every widget follows one pattern: a pure function returns what is shown (HTML, PNG bytes), and ``wire``
connects the controls to an ``update`` that assigns that result, so the observe/update code exists once.
Every table a notebook or widget shows is laid out here too, by ``data_table`` (``table_html`` for a widget).
"""

from __future__ import annotations

import html
import numbers
from collections.abc import Callable, Iterable

from qwen_lessons.language import translate as _
from qwen_lessons.plotting import ERROR_TEXT_COLOUR
from qwen_lessons.validation import outside

ERROR_STYLE = f"color:{ERROR_TEXT_COLOUR};font-weight:bold"


def error_line(message: str) -> str:
    """Format a one-line error message as HTML for an ipywidgets.HTML value."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "invalid input"
    return f'<span class="qwen-error" style="{ERROR_STYLE}">⚠ {html.escape(first_line)}</span>'


def guarded(render: Callable[[], str]) -> str:
    """Call render() and return its HTML; a ValueError becomes a one-line message, as does any other error."""
    try:
        return outside(render)()  # a widget's values come from the learner: checked even inside a package call
    except ValueError as error:
        return error_line(str(error))
    except Exception as error:  # a widget must never show a traceback wall or kill the kernel
        return error_line(f"unexpected {type(error).__name__}: {error}")


CHAR_PX = 8.5  # width of one character of a control's text at JupyterLab's 13 px UI font, rounded up
DESCRIPTION_PX = 100  # ipywidgets' default width of a control's description


def fit_to_options(control) -> None:
    """Size a dropdown so its longest option shows whole (never wider than its cell); other controls unchanged."""
    options = getattr(control, "_options_labels", None)
    if not options or type(control).__name__ != "Dropdown":
        return
    description = control.style.description_width or ""
    label_px = int(description[:-2]) if description.endswith("px") else DESCRIPTION_PX
    control.layout.width = f"{label_px + int(CHAR_PX * max(len(str(o)) for o in options)) + 48}px"
    control.layout.max_width = "100%"


def wire(controls: Iterable, update: Callable[..., None], *, now: bool = True) -> None:
    """Call ``update`` whenever any control's value changes, and (unless now=False) once now, so the widget
    opens filled in. Dropdowns are sized to show their longest option."""
    update = outside(update)  # the controls' values come from the learner: checked even inside a package call
    for control in controls:
        if getattr(control, "description", ""):  # every lesson's control labels pass here: the language's labels
            control.description = _(control.description)
        _speak_option_labels(control)
        fit_to_options(control)
        control.observe(update, names="value")
    if now:
        update()


def _speak_option_labels(control) -> None:
    """A choice's option labels in the language (the values stay: code reads them); untouched when nothing changes."""
    labels = tuple(getattr(control, "_options_labels", ()))
    spoken = tuple(_(label) if isinstance(label, str) and label else label for label in labels)
    if spoken != labels:
        index = control.index  # a new options list would reset the choice
        control.options = list(zip(spoken, control._options_values, strict=True))
        control.index = index


PREVIEW_MAX_PX = 600  # no picture in a widget is taller than this: a tall receipt must not push its result off screen


def picture(css_class: str, width_px: int | None = None, *, alt: str):
    """An ipywidgets.Image that never grows past its cell or PREVIEW_MAX_PX in height and keeps its aspect ratio.

    width_px gives the natural width of the PNGs it will show, so a plot is not upscaled (and blurred) to the
    cell's width. `alt` says what the picture shows, for a screen reader: ipywidgets has no alt attribute, but it
    writes a widget's tooltip as the element's title, which is an image's accessible name. It starts hidden;
    ``show`` makes it visible once it has a picture."""
    import ipywidgets as widgets
    from traitlets import Unicode

    if not alt.strip():
        raise ValueError("alt: say what the picture shows (a screen reader reads it); got an empty text")
    layout = widgets.Layout(width=f"{width_px}px" if width_px else "auto", height="auto", max_width="100%",
                            max_height=f"{PREVIEW_MAX_PX}px", object_fit="contain", display="none")
    image = widgets.Image(format="png", layout=layout, tooltip=_(alt)).add_class(css_class)
    # The browser side of ipywidgets 8 (DOMWidgetView.updateTooltip) reads `description.length` before it writes
    # the title, and an Image has no description: without this empty one the view fails to draw at all.
    image.add_traits(description=Unicode("").tag(sync=True))
    return image


def show(widget, visible: bool) -> None:
    """Show or remove a widget; a removed widget takes no space, so a message below it stays next to its control."""
    widget.layout.display = None if visible else "none"


# ------------------------------------------------------------------------------------------------ tables
# Every table a lesson or widget shows goes through data_table: pandas' Styler formats and lays it out, and the
# rules below (units in headers, rounding, "—" with a footnote, wrapping, padding, "show all") hold everywhere.

TABLE_TOP_ROWS = 10  # a long table shows this many rows, a count, and the rest behind "Show all"
MISSING_MARK = "—"
MISSING_NOTE = "no value: the source gives none, or it does not apply to this row"
SIGNIFICANT_DIGITS = 3  # numbers keep three significant digits (44,704 keeps all its whole digits)
MAX_DECIMALS = 4
# A column name's last word that is a unit becomes the header's unit in parentheses: memory_gb -> memory (GB).
UNIT_SUFFIXES = {"gib": "GiB", "gb": "GB", "mib": "MiB", "mb": "MB", "kib": "KiB", "gbs": "GB/s", "tflops": "TFLOPS",
                 "pct": "%", "ms": "ms", "s": "s", "b": "B", "nats": "nats", "px": "px", "w": "W", "tokens": "tokens"}
# Styles of one table, scoped to it by pandas' Styler (an id per table), so that they hold inside a widget, in a
# notebook output and on the website alike: header cells never run together (8 px padding on each side).
CELL_PADDING = "4px 8px"
TABLE_STYLES = [
    {"selector": "", "props": "border-collapse:collapse;font-size:90%;margin:0.4em 0;width:auto"},
    # the caption takes the table's own text colour: a theme's muted caption grey fails contrast on the light output
    # area a dark-mode site draws behind a table (axe-core's color-contrast rule)
    {"selector": "caption", "props": "caption-side:top;text-align:left;font-weight:600;padding:4px 0 6px 0;"
                                     "color:inherit"},
    {"selector": "th", "props": f"padding:{CELL_PADDING};text-align:left;vertical-align:bottom;line-height:1.35;"
                                "border-bottom:1px solid #888;white-space:normal;font-weight:600"},
    {"selector": "td", "props": f"padding:{CELL_PADDING};text-align:left;vertical-align:top;line-height:1.35;"
                                "white-space:normal;"
                                "overflow-wrap:break-word;max-width:36em;border-bottom:1px solid #e4e4e4"},
    {"selector": "tfoot td", "props": "font-size:90%;color:#444;border-bottom:none;max-width:none"},
]
NUMBER_STYLES = [{"selector": "td", "props": "text-align:right;white-space:nowrap"},
                 {"selector": "th", "props": "text-align:right"}]
SHORT_TEXT_CHARS = 12  # a text column no longer than this (a date, a license id, a state) never breaks a line
SHORT_TEXT_STYLES = [{"selector": "td", "props": "white-space:nowrap"}]


def header_text(name) -> str:
    """A column name as a header a learner reads: words spaced, a unit suffix in parentheses (memory_gb -> memory
    (GB), tokens_per_s -> tokens/s), a whole number with thousands separators, a tuple joined by commas."""
    if isinstance(name, tuple):
        return ", ".join(header_text(part) for part in name if str(part) != "")
    if isinstance(name, numbers.Real) and not isinstance(name, bool):
        return format_number(name)
    if not isinstance(name, str):
        return str(name)
    words = name.split("_")
    if len(words) > 2 and words[-2] == "per":
        return " ".join(words[:-2]) + "/" + words[-1]
    unit = UNIT_SUFFIXES.get(words[-1].lower()) if len(words) > 1 else None
    return " ".join(words[:-1]) + f" ({unit})" if unit else " ".join(words)


def _decimals_for(magnitude: float) -> int:
    """Decimals that give a number of this size SIGNIFICANT_DIGITS significant digits (none past the point for
    numbers of SIGNIFICANT_DIGITS whole digits or more)."""
    import math

    if not magnitude or not math.isfinite(magnitude):
        return 0
    return int(min(MAX_DECIMALS, max(0, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(magnitude))))))


def format_number(value, decimals: int | None = None) -> str:
    """A number as a learner reads it: thousands separators, whole numbers without decimals, others rounded to
    ``decimals`` (by default to SIGNIFICANT_DIGITS significant digits); never e-notation."""
    import math

    if isinstance(value, bool):
        return _("yes") if value else _("no")
    value = float(value)
    if not math.isfinite(value):
        return MISSING_MARK if math.isnan(value) else ("∞" if value > 0 else "−∞")
    if decimals is None:  # rounded by its own size, as sizes are written: 0.5, 1.5, 7.61, 235
        text = f"{value:,.{0 if value == int(value) else _decimals_for(value)}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
    else:
        text = f"{value:,.{decimals}f}"
    return text.lstrip("-") if float(text.replace(",", "")) == 0 else text  # no "-0.00"


def natural_key(value):
    """Sort key that orders text by the numbers in it (0.5B, 1.5B, 3B, 14B, 32B; not 14B before 3B); numbers come
    before text and a missing value comes last. Every key has the same shape, so any two compare."""
    import re

    import pandas as pd

    if not isinstance(value, str) and pd.isna(value):
        return (2, 0.0, ())
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return (0, float(value), ())
    parts = re.split(r"(\d+(?:\.\d+)?)", str(value))  # text, number, text, ...: the types alternate alike
    return (1, 0.0, tuple(float(part) if index % 2 else part.lower() for index, part in enumerate(parts)))


SAME_DECIMALS = "same"  # a numeric column's numbers share their decimals unless `decimals` says otherwise


def _column_formatter(column, decimals: int | str | None):
    """How one column's values are written: numbers of a numeric column share their decimals (set from the column's
    median size, unless given; None rounds each number by its own size, as for sizes 0.5, 7 and 235); numbers in a
    mixed column are rounded one by one; text is kept whole."""
    import pandas as pd

    values = column.dropna()
    if pd.api.types.is_bool_dtype(column) or (len(values) and all(isinstance(v, bool) for v in values)):
        return lambda value: format_number(bool(value))
    if pd.api.types.is_numeric_dtype(column) and len(values) and decimals is not None:
        decimals = None if decimals == SAME_DECIMALS else decimals
        numbers = values.astype(float)
        if decimals is None:
            whole = bool(((numbers - numbers.round()).abs() < 1e-9).all())
            nonzero = numbers[numbers != 0].abs()
            decimals = 0 if whole or nonzero.empty else _decimals_for(float(nonzero.median()))
        return lambda value: format_number(value, decimals)

    def mixed(value):
        if isinstance(value, (int, float)) and not isinstance(value, bool) or hasattr(value, "dtype"):
            try:
                return format_number(value, None if decimals == SAME_DECIMALS else decimals)
            except (TypeError, ValueError):
                return str(value)
        return str(value)

    return mixed


def _shown_frame(frame, headers: dict | None, index: bool | None):
    """The frame as shown: a meaningful index (named, or text such as the rows of a transposed table) becomes the
    first column, a plain row number is dropped; every header made readable."""
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame(name=frame.name if frame.name is not None else "value")
    shown = frame.copy()
    if index is None:
        named = any(name is not None for name in shown.index.names)
        index = named or not pd.api.types.is_integer_dtype(shown.index.dtype)
    if index:
        if shown.index.nlevels == 1 and shown.index.name is None:  # row labels, such as a transposed table's
            shown.index = shown.index.map(lambda label: header_text(label) if isinstance(label, str) else label)
        names = [name if name is not None else "" for name in shown.index.names]
        shown.index = shown.index.set_names(names)
        if len(names) == 1 and names[0] == "":
            shown.index = shown.index.rename("\u2009")  # a column with no header (the row labels)
        shown = shown.reset_index()
    labels = [headers[c] if headers and c in headers else header_text(c) for c in shown.columns]
    shown.columns = pd.Index(labels, dtype=object)
    shown.columns.name = None
    return shown.reset_index(drop=True)


def _styled_table(shown, caption: str, formatters: dict, notes: list[str], css_class: str) -> str:
    """One <table> of the rows given: pandas' Styler formats the cells, hides the index, adds the caption and the
    styles; a footnote row says why a value is missing and carries the notes."""
    import hashlib

    import pandas as pd

    numeric = [column for column in shown.columns if pd.api.types.is_numeric_dtype(shown[column])
               and not pd.api.types.is_bool_dtype(shown[column])]
    body = shown.to_csv(index=False)
    uuid = "qwen" + hashlib.sha1((caption + "\n" + body).encode()).hexdigest()[:10]  # same table, same HTML
    from pandas.io.formats.style import Styler  # needs jinja2 (a declared dependency)

    styler = Styler(shown, uuid=uuid, cell_ids=False)
    styler = styler.format(formatters, na_rep=MISSING_MARK, escape="html").format_index(escape="html", axis=1)
    styler = styler.hide(axis="index").set_table_styles(TABLE_STYLES)
    short = [column for column in shown.columns if column not in numeric
             and shown[column].dropna().astype(str).str.len().max() <= SHORT_TEXT_CHARS]
    if numeric or short:
        styles = {column: NUMBER_STYLES for column in numeric} | {column: SHORT_TEXT_STYLES for column in short}
        styler = styler.set_table_styles(styles, overwrite=False)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    styler = styler.set_table_attributes(f'class="{css_class}"')
    rendered = styler.to_html()
    missing = shown.isna().to_numpy().any() or (shown.astype(str) == MISSING_MARK).to_numpy().any()
    footnotes = ([f"{MISSING_MARK} {notes[0]}"] if missing else []) + notes[1:]
    if footnotes:
        cells = "".join(f'<tr><td colspan="{len(shown.columns)}">{html.escape(line)}</td></tr>' for line in footnotes)
        head, _, tail = rendered.rpartition("</table>")
        rendered = f"{head}<tfoot>{cells}</tfoot></table>{tail}"
    # a box that may scroll sideways is reachable by the keyboard and named (axe-core: scrollable-region-focusable)
    name = html.escape(caption or "table", quote=True)
    return (f'<div class="qwen-table-box" role="region" tabindex="0" aria-label="{name}" '
            f'style="max-width:100%;overflow-x:auto">{rendered}</div>')


class Table(str):
    """A table's HTML: a str, so a widget can show it as its HTML value, that a notebook displays as the table."""

    caption: str = ""

    def __new__(cls, markup: str, caption: str = ""):
        made = super().__new__(cls, markup)
        made.caption = caption
        return made

    def _repr_html_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(f"[table] {self.caption}".strip())


def data_table(frame, caption: str = "", *, headers: dict | None = None, decimals: dict | None = None,
               sort=None, missing: str = MISSING_NOTE, notes=(), top: int = TABLE_TOP_ROWS, index: bool | None = None,
               css_class: str = "qwen-table") -> Table:
    """The one way the course shows a table (a DataFrame or Series), in a notebook or inside a widget.

    Headers are readable, with their unit (``memory_gb`` -> "memory (GB)"; ``headers`` renames columns outright),
    numbers keep the digits that matter with thousands separators (``decimals`` fixes a column's decimals, by its
    shown header or column name), ``sort`` orders rows by the numbers in a column's text (0.5B before 14B), a
    missing value shows as "—" with a footnote saying why (``missing``), long text wraps, and a table longer than
    ``top`` rows shows its first rows with the whole table under "Show all". ``notes`` are further footnotes.
    """
    if top < 1:
        raise ValueError(f"top must be a whole number of rows of at least 1, got {top!r}")
    if sort is not None:
        columns = [sort] if isinstance(sort, str) else list(sort)
        flat = frame.reset_index() if any(c not in frame.columns for c in columns) else frame
        unknown = [c for c in columns if c not in flat.columns]
        if unknown:
            raise ValueError(f"sort must name columns of the table, got {unknown}")
        order = sorted(range(len(flat)), key=lambda i: tuple(natural_key(flat[c].iloc[i]) for c in columns))
        frame = frame.iloc[order]
    shown = _shown_frame(frame, headers, index)
    decimals = {k if k in shown.columns else (headers or {}).get(k, header_text(k)): v for k, v in (decimals or {}).items()}
    if shown.columns.duplicated().any():
        raise ValueError(f"frame must have distinct column headers, got {list(shown.columns)}")
    # one formatter per column, from all its rows, so the first rows and "Show all" write numbers alike
    formatters = {column: _column_formatter(shown[column], decimals.get(column, SAME_DECIMALS))
                  for column in shown.columns}
    # the language's words, after the English headers have keyed the decimals: caption, headers and footnotes
    spoken = {column: _(column) if isinstance(column, str) else column for column in shown.columns}
    shown, formatters = shown.rename(columns=spoken), {spoken[column]: how for column, how in formatters.items()}
    caption, missing, notes = _(caption), _(missing), [_(note) for note in notes]
    classes = " ".join(dict.fromkeys(["qwen-table", *css_class.split()]))
    footnotes = [missing, *notes]
    if len(shown) <= top:
        return Table(_styled_table(shown, caption, formatters, footnotes, classes), caption)
    head = _styled_table(shown.head(top), caption, formatters, footnotes, classes)
    whole = _styled_table(shown, caption, formatters, footnotes, classes)
    summary = html.escape(_("Show all {rows} rows").format(rows=f"{len(shown):,}"))
    return Table(head + f'<details class="qwen-table-all"><summary>{summary}</summary>{whole}</details>', caption)


def table_html(frame, *, top: int = TABLE_TOP_ROWS, css_class: str = "qwen-table", **options) -> str:
    """A DataFrame as HTML for a widget's result: data_table's rules (its options pass through), as a str."""
    return data_table(frame, top=top, css_class=css_class, **options)


def html_output(css_class: str = "", value: str = ""):
    """An ipywidgets.HTML for a result: never wider than its cell (a wide table scrolls inside it)."""
    import ipywidgets as widgets

    output = widgets.HTML(value=value, layout=widgets.Layout(max_width="100%", overflow="auto"))
    output.tabbable = True  # a result that scrolls must be reachable with the keyboard, to scroll it (WCAG 2.1.1)
    return output.add_class(css_class) if css_class else output


def row(children):
    """Controls side by side that wrap onto the next line instead of running past the cell's edge."""
    import ipywidgets as widgets

    return widgets.HBox(list(children), layout=widgets.Layout(flex_flow="row wrap", max_width="100%"))


# --- Predict, then reveal -------------------------------------------------------------------------------------
# Each lesson asks the learner to commit a guess on its key number (my_guess = ... in a cell) before a cell shows
# the truth, computed by the package, and how far the guess was. One pure function words that comparison.

def _readable_number(value: float) -> str:
    """A number as a learner writes it: whole numbers with thousands separators, others to 3 significant digits."""
    import math  # imported here so this section stays apart from the module's header

    if float(value).is_integer():
        return f"{int(value):,}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}"


def guess_verdict(guess, truth: float, *, what: str = "the answer", unit: str = "") -> str:
    """One line comparing a learner's guess with the true value: "You guessed 300 tokens; the count is 312
    tokens: 4 % low." A missing or unreadable guess gets a line that says so (and still tells the truth, so a
    notebook run top to bottom reads well)."""
    import math

    if isinstance(truth, bool) or not isinstance(truth, int | float) or not math.isfinite(truth):
        raise ValueError(f"truth must be a finite number, got {truth!r}")
    suffix = f" {_(unit)}" if unit else ""
    told = _("{what} is {value}").format(what=_(what), value=_readable_number(truth) + suffix)
    if isinstance(guess, str):
        try:
            guess = float(guess.replace(",", "").replace("_", "").strip())
        except ValueError:
            return _("Your guess {guess} is not a number (write it like my_guess = 300); {told}.").format(guess=repr(guess), told=told)
    if guess is None:
        return _("No guess yet (set my_guess above, then run this cell again); {told}.").format(told=told)
    if isinstance(guess, bool) or not isinstance(guess, int | float) or not math.isfinite(guess):
        return _("Your guess {guess} is not a number (write it like my_guess = 300); {told}.").format(guess=repr(guess), told=told)
    typed = f"{int(guess):,}" if float(guess).is_integer() else f"{guess:,g}"
    said = _("You guessed {typed}; {told}").format(typed=typed + suffix, told=told)
    if guess == truth:
        return _("{said}: exactly right.").format(said=said)
    if truth == 0 or guess == 0 or (guess > 0) != (truth > 0):
        return _("{said}: off by {difference}.").format(said=said, difference=_readable_number(abs(guess - truth)) + suffix)
    ratio = guess / truth
    if ratio >= 2 or ratio <= 0.5:
        factor = ratio if ratio >= 2 else 1 / ratio
        return (_("{said}: {factor} times too high.") if ratio > 1 else _("{said}: {factor} times too low.")).format(said=said, factor=f"{factor:.1f}")
    percent = abs(ratio - 1) * 100
    shown = f"{percent:.0f}" if percent >= 1 else f"{percent:.1f}"
    return (_("{said}: {percent} % high.") if ratio > 1 else _("{said}: {percent} % low.")).format(said=said, percent=shown)
