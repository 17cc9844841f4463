"""Lesson 0 (00_start_here): the first widget, a checkpoint slider and a precision menu whose line shows
``weights_sentence``."""

from __future__ import annotations

from types import SimpleNamespace

from qwen_lessons.lessons.start_here import (
    PRECISION_BITS,
    checkpoint_sizes,
    weights_sentence,
)


def weights_widget():
    """A checkpoint slider and a precision dropdown whose label shows weights_sentence(); returns the widgets."""
    import ipywidgets as widgets

    from qwen_lessons.ui import guarded, wire

    sizes = checkpoint_sizes()
    default = next((params for label, params in sizes if label.startswith("Qwen3-8B")), sizes[0][1])
    size = widgets.SelectionSlider(options=sizes, value=default, description="Model",
                                   continuous_update=True, layout=widgets.Layout(width="520px"),
                                   style={"description_width": "initial"})
    precision = widgets.Dropdown(options=list(PRECISION_BITS), value="bf16 (16-bit)", description="Precision")
    result = widgets.HTML().add_class("qwen-weights")

    def update(_change=None):
        result.value = guarded(lambda: weights_sentence(size.value, precision.value))

    wire((size, precision), update)
    return SimpleNamespace(size=size, precision=precision, result=result, box=widgets.VBox([size, precision, result]))
