"""Thin helpers shared by every widget: show a bad input as one line, never as a traceback."""

from __future__ import annotations

import html
from collections.abc import Callable

ERROR_STYLE = "color:#B00020;font-weight:bold"
# Darkened Okabe-Ito green and vermillion: the palette's own shades are below 4.5:1 contrast on white as text
GOOD_TEXT_COLOUR = "#007A5A"
BAD_TEXT_COLOUR = "#B34700"


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
