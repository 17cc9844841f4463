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


def wire(controls: Iterable, update: Callable[..., None], *, now: bool = True) -> None:
    """Call ``update`` whenever any control's value changes, and (unless now=False) once now, so the widget
    opens filled in."""
    for control in controls:
        control.observe(update, names="value")
    if now:
        update()
