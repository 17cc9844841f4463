"""Lesson 0 (00_start_here): the first widget, a checkpoint slider and a precision menu whose line shows
``weights_sentence``."""

from __future__ import annotations

from types import SimpleNamespace

from qwen_lessons import ui
from qwen_lessons.lessons.start_here import (
    PRECISION_BITS,
    checkpoint_sizes,
    weights_sentence,
)
from qwen_lessons.ui import guarded, wire
from qwen_lessons.validation import checked


@checked
def weights_html(label: str, params_billion: float, precision: str) -> str:
    """The widget's line: the checkpoint's name (the slider shows no readout, which would cut long names off)
    and weights_sentence()."""
    import html

    return f"<b>{html.escape(label)}</b>: {html.escape(weights_sentence(params_billion, precision))}"


@checked
def weights_widget():
    """A checkpoint slider and a precision dropdown whose line shows weights_html(); returns the widgets."""
    import ipywidgets as widgets


    sizes = checkpoint_sizes()
    default = next((params for label, params in sizes if label.startswith("Qwen3-8B")), sizes[0][1])
    size = widgets.SelectionSlider(options=sizes, value=default, description="Model", readout=False,
                                   continuous_update=True, layout=widgets.Layout(width="520px", max_width="100%"),
                                   style={"description_width": "initial"})
    precision = widgets.Dropdown(options=list(PRECISION_BITS), value="bf16 (16-bit)", description="Precision")
    result = ui.html_output("qwen-weights")

    def update(_change=None):
        result.value = guarded(lambda: weights_html(size.label, size.value, precision.value))

    wire((size, precision), update)
    return SimpleNamespace(size=size, precision=precision, result=result, box=widgets.VBox([size, precision, result]))
