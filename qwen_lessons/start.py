"""The start-here lesson: a first widget (weights memory from size and precision)."""

from __future__ import annotations

from types import SimpleNamespace

from qwen_lessons.ui import guarded
from qwen_lessons.units import weights_gib

PRECISION_BITS = {"bf16 (16-bit)": 16, "int8 (8-bit)": 8, "int4 (4-bit)": 4}


def weights_sentence(params_billion: float, precision: str) -> str:
    """One sentence: how many GiB the weights of a model of this size take at this precision."""
    if precision not in PRECISION_BITS:
        raise ValueError(f"precision must be one of {sorted(PRECISION_BITS)}, got {precision!r}")
    gib = weights_gib(params_billion, PRECISION_BITS[precision])
    return f"{params_billion:g}B parameters at {precision}: {gib:.2f} GiB of weights"


def weights_widget():
    """A slider and a dropdown whose label shows weights_sentence(); returns the widgets as a namespace."""
    import ipywidgets as widgets

    size = widgets.FloatLogSlider(value=7, base=10, min=-0.5, max=2.9, step=0.01, description="Billions")
    precision = widgets.Dropdown(options=list(PRECISION_BITS), value="bf16 (16-bit)", description="Precision")
    result = widgets.HTML()

    def update(_change=None):
        result.value = guarded(lambda: weights_sentence(round(size.value, 2), precision.value))

    size.observe(update, names="value")
    precision.observe(update, names="value")
    update()
    return SimpleNamespace(size=size, precision=precision, result=result, box=widgets.VBox([size, precision, result]))
