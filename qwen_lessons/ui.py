"""Widget helpers shared by every lesson's widgets (qwen_lessons.widgets.*): one-line messages and the wiring.

Every widget follows one pattern: a pure function returns what is shown (HTML, PNG bytes), and ``wire``
connects the controls to an ``update`` that assigns that result, so the observe/update code exists once.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable

from qwen_lessons.plotting import ERROR_TEXT_COLOUR

ERROR_STYLE = f"color:{ERROR_TEXT_COLOUR};font-weight:bold"


def error_line(message: str) -> str:
    """Format a one-line error message as HTML for an ipywidgets.HTML value."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "invalid input"
    return f'<span class="qwen-error" style="{ERROR_STYLE}">⚠ {html.escape(first_line)}</span>'


def guarded(render: Callable[[], str]) -> str:
    """Call render() and return its HTML; a ValueError becomes a one-line message, as does any other error."""
    try:
        return render()
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
    for control in controls:
        fit_to_options(control)
        control.observe(update, names="value")
    if now:
        update()


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
    image = widgets.Image(format="png", layout=layout, tooltip=alt).add_class(css_class)
    # The browser side of ipywidgets 8 (DOMWidgetView.updateTooltip) reads `description.length` before it writes
    # the title, and an Image has no description: without this empty one the view fails to draw at all.
    image.add_traits(description=Unicode("").tag(sync=True))
    return image


def show(widget, visible: bool) -> None:
    """Show or remove a widget; a removed widget takes no space, so a message below it stays next to its control."""
    widget.layout.display = None if visible else "none"


TABLE_TOP_ROWS = 10  # a long table shows this many rows, a count, and the rest behind "Show all"


def table_html(frame, *, top: int = TABLE_TOP_ROWS, css_class: str = "qwen-table") -> str:
    """A DataFrame as a compact HTML table that never widens its cell: no wrapped cells (it scrolls sideways
    instead), the first ``top`` rows shown and the whole table one click away."""

    def table(rows) -> str:
        body = rows.to_html(index=False, classes=css_class, na_rep="–", border=0, escape=True)
        body = body.replace("<table", '<table style="border-collapse:collapse;font-size:90%;white-space:nowrap"', 1)
        return f'<div style="max-width:100%;overflow-x:auto">{body}</div>'

    if len(frame) <= top:
        return table(frame)
    return (table(frame.head(top)) + f'<details class="qwen-table-all"><summary>Show all {len(frame)} rows</summary>'
            f"{table(frame)}</details>")


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
