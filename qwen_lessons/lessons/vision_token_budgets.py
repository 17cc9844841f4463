"""Lesson 5 (05_vision_token_budgets): the worked examples and the popular "a 448 x 448 tile costs 256-512 tokens"
claim, decided per generation with the arithmetic shown."""

from __future__ import annotations

import pandas as pd

from qwen_lessons.vision import (
    band_verdict,
    budget_keys,
    budget_row,
    generation_info,
    generation_keys,
    image_tokens,
    resized_size,
    video_plan,
)
from qwen_lessons import validation
from qwen_lessons.validation import checked

WORKED_SIZES = ((1080, 1920), (480, 640), (2048, 2048), (100, 100), (4000, 3000))
WORKED_SETTINGS = (
    ("Qwen2.5-VL, helper default", "qwen2.5-vl", "qwen-vl-utils"),
    ("Qwen2.5-VL, transformers class default", "qwen2.5-vl", "transformers-class"),
    ("Qwen3-VL, helper default", "qwen3-vl", "qwen-vl-utils"),
    ("Qwen3-VL, checkpoint config", "qwen3-vl", "qwen3-vl-checkpoint"),
)


@checked
def worked_examples(sizes=WORKED_SIZES, settings=WORKED_SETTINGS) -> pd.DataFrame:
    """Resized size and tokens of a few typical images under four common settings (one column per setting)."""
    rows = []
    for height, width in sizes:
        row = {"input (H x W)": f"{height} x {width}"}
        for label, generation, budget in settings:
            resized_h, resized_w = resized_size(height, width, generation, budget=budget)
            tokens = image_tokens(height, width, generation, budget=budget)
            row[label] = f"{resized_h} x {resized_w} -> {tokens:,}"
        rows.append(row)
    return pd.DataFrame(rows)



# ---------------------------------------------------------------- the claim check


@checked(low=validation.TOKENS, high=validation.TOKENS)
def tile_claim(side: int = 448, low: int = 256, high: int = 512) -> pd.DataFrame:
    """Decide 'a side x side tile costs roughly low-high tokens' per generation, with the arithmetic shown."""
    validation.in_order("low", low, "high", high)
    rows = []
    for generation in generation_keys():
        info = generation_info(generation)
        tokens = image_tokens(side, side, generation)
        if info.fixed_input:
            arithmetic = (f"any image -> {info.fixed_side} x {info.fixed_side} px -> {info.fixed_tokens} "
                          "resampler queries")
            spread = str(tokens)
        else:
            resized_h, resized_w = resized_size(side, side, generation)
            arithmetic = (f"{side}/{info.factor} = {side / info.factor:g} -> {resized_h // info.factor} per side; "
                          f"{resized_h // info.factor} x {resized_w // info.factor} = {tokens}")
            counts = [image_tokens(side, side, generation, budget=budget)
                      for budget in budget_keys() if budget_row(budget)["applies_to"] in ("all", generation)]
            spread = str(tokens) if min(counts) == max(counts) else f"{min(counts)} to {max(counts)}"
        if tokens < low:
            verdict = f"false: {tokens} is below {low}"
        elif tokens > high:
            verdict = f"false: {tokens} is above {high}"
        elif tokens == low:
            verdict = f"only at the bottom: exactly {tokens}, never more"
        else:
            verdict = f"true: {tokens}"
        rows.append({"generation": info.name, "factor (px)": info.factor, "arithmetic": arithmetic,
                     "visual tokens": tokens, "with wrappers": tokens + info.wrapper_tokens,
                     "over the named budgets": spread, "verdict": verdict})
    table = pd.DataFrame(rows)
    table["factor (px)"] = table["factor (px)"].astype("Int64")
    return table


@checked(low=validation.TOKENS, high=validation.TOKENS)
def tile_claim_summary(side: int = 448, low: int = 256, high: int = 512) -> str:
    """One paragraph deciding the claim over all generations, from tile_claim() and vision.band_verdict (the rule
    lesson 1 uses for the same claim)."""
    table = tile_claim(side, low, high)
    by_tokens = table.groupby("visual tokens", sort=True)["generation"].apply(list)
    verdict, reading = band_verdict(dict(zip(table["generation"], table["visual tokens"], strict=True)), low, high)
    parts = [f"Verdict: {verdict}. Default budgets, {side} x {side} px: " + "; ".join(
        f"{', '.join(names)} -> {tokens}" for tokens, names in by_tokens.items()) + " visual tokens (+2 wrappers).",
        reading[0].upper() + reading[1:]]
    fixed = table.loc[table["factor (px)"].isna(), "generation"]
    if len(fixed):
        parts.append(f"Only {', '.join(fixed)} squeezes images to one fixed square; the others keep size and "
                     "aspect ratio, so there are no tiles to count.")
    return " ".join(parts)


# ---------------------------------------------------------------- two counts that go down as the input grows


# the two cases of issue 31 inside the sweeps the reference rows record (scripts/make_vision_reference.py)
SWEEP_WIDTHS = tuple(sorted({*range(2800, 5601, 7), 3151, 5321}))
SWEEP_SECONDS = tuple(sorted({*range(10, 601, 6), 192, 264}))


@checked(widths=validation.sequence(validation.SIDE, 100_000))
def width_sweep(height=266, widths=SWEEP_WIDTHS, generation="qwen2-vl",
                budget="transformers-class") -> pd.DataFrame:
    """Tokens of a picture of fixed height as it gets wider: the count jumps DOWN where rounding first pushes the
    area over max_pixels, because the rescale then floors both sides (a whole row of cells can go). Column
    'falls' marks a width that costs fewer tokens than the one before it."""
    tokens = [image_tokens(height, width, generation, budget=budget) for width in widths]
    return _with_falls(pd.DataFrame({"width": list(widths), "tokens": tokens}))


@checked(seconds=validation.sequence(validation.SECONDS, 10_000))
def duration_sweep(seconds=SWEEP_SECONDS, height=720, width=1280, fps=2.0,
                   generation="qwen2.5-vl") -> pd.DataFrame:
    """Visual tokens of a clip as it gets longer: once the total budget is shared, every frame is resized anew and
    floored, so a longer clip can cost fewer tokens than a shorter one. Column 'falls' as in width_sweep."""
    plans = [video_plan(height, width, duration, fps, generation) for duration in seconds]
    return _with_falls(pd.DataFrame({"seconds": list(seconds), "frames": [plan.frames for plan in plans],
                                     "tokens": [plan.visual_tokens for plan in plans]}))


def _with_falls(sweep: pd.DataFrame) -> pd.DataFrame:
    """Mark the rows whose token count is lower than the row before it (the input grew, the count fell)."""
    return sweep.assign(falls=sweep["tokens"].diff() < 0)
