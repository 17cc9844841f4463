"""Lesson 0 (00_start_here): the weights memory of a real Qwen checkpoint at a chosen precision, in one sentence."""

from __future__ import annotations

from qwen_lessons.catalog import load_catalog
from qwen_lessons.units import weights_gib
from qwen_lessons.validation import checked

PRECISION_BITS = {"bf16 (16-bit)": 16, "int8 (8-bit)": 8, "int4 (4-bit)": 4}
SLIDER_GENERATION = "Qwen3"  # one generation keeps the slider short; its post-trained checkpoints span 0.6B-235B


@checked
def weights_sentence(params_billion: float, precision: str) -> str:
    """One sentence: how many GiB the weights of a model of this size take at this precision."""
    if precision not in PRECISION_BITS:
        raise ValueError(f"precision must be one of {sorted(PRECISION_BITS)}, got {precision!r}")
    gib = weights_gib(params_billion, PRECISION_BITS[precision])
    return f"{params_billion:g}B parameters at {precision}: {gib:.2f} GiB of weights"


@checked
def checkpoint_sizes(generation: str = SLIDER_GENERATION) -> list[tuple[str, float]]:
    """(label, total parameters in billions) of a generation's post-trained text checkpoints, smallest first."""
    table = load_catalog()
    chosen = table[(table["generation"] == generation) & (table["line"] == "text") & (table["variant"] != "base")]
    chosen = chosen.dropna(subset=["params_b"]).sort_values("params_b")
    if chosen.empty:
        raise ValueError(f"generation {generation!r} has no text checkpoints with a known size in the catalog")
    return [(f"{model_id.split('/')[-1]} ({params:g}B)", float(params)) for model_id, params in zip(chosen["model_id"], chosen["params_b"], strict=True)]
