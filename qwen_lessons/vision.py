"""Lesson 4: exact image and video token counts of the Qwen vision-language generations, and a prompt planner.

The counting follows the resize rule the Qwen preprocessing helper (qwen-vl-utils) and the transformers
processors apply before the vision encoder (data/vision_generations.csv and data/vision_pixel_budgets.csv
say which constants each generation uses, with sources). Public names used in the exercises:
``smart_resize``, ``image_tokens``, ``video_tokens``. Widgets live in ``qwen_lessons.vision_ui``.
"""

from __future__ import annotations

import io
import math
import numbers
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from qwen_lessons.data import DataFileError, data_path, read_table, row_as_dict

GENERATIONS_FILE = "vision_generations.csv"
BUDGETS_FILE = "vision_pixel_budgets.csv"
SAMPLES_FILE = "vision_samples.csv"

MAX_RATIO = 200  # both implementations refuse a long side more than 200x the short one
MAX_SIDE = 100_000  # a larger side is a typo, not a picture; it also keeps height*width exact in float64
MAX_DURATION_S = 24 * 3600
RULES = ("qwen-vl-utils", "transformers")
DEFAULT_GENERATION = "qwen2.5-vl"
DEFAULT_BUDGET = "qwen-vl-utils"
DEFAULT_SOURCE_FPS = 30.0  # the frame rate of the clip before sampling; a model of a typical phone video
CONTEXT_WINDOWS = {"32K": 32_768, "128K": 131_072, "256K": 262_144}
MAX_CONTEXT = 10_000_000

PREVIEW_SIDE = 1120  # decoded previews are reduced to this long side: twice the overlay's display size
DISPLAY_SIDE = 560
MAX_DECODE_PIXELS = 50_000_000  # above this the overlay is drawn without the picture (PNG cannot decode partially)
MIN_GRID_STEP_PX = 4  # thinner cells than this on screen would turn the grid into a grey wash

_INT_COLUMNS = (
    "patch_size", "spatial_merge_size", "resize_factor", "temporal_patch_size", "fixed_image_side",
    "fixed_image_tokens", "wrapper_tokens", "video_min_tokens", "video_max_tokens", "video_min_frames",
    "video_max_frames", "frame_factor",
)
GENERATION_DTYPES = {
    **{column: "Int64" for column in _INT_COLUMNS},
    "video_total_pixels": "Float64",
    "video_fps": "Float64",
    "video_timestamps": "boolean",
    **{column: "string" for column in ("generation", "name", "image_input", "helper", "frame_rounding", "source", "notes")},
}
BUDGET_DTYPES = {
    **{column: "Int64" for column in ("min_tokens", "max_tokens", "min_pixels", "max_pixels")},
    **{column: "string" for column in ("budget", "label", "applies_to", "rules", "source", "notes")},
}
SAMPLE_DTYPES = {"file": "string", "height": "Int64", "width": "Int64", "description": "string", "source": "string"}


# ---------------------------------------------------------------- the sourced constants


@dataclass(frozen=True)
class Generation:
    """One vision-language generation's constants (a row of data/vision_generations.csv)."""

    key: str
    name: str
    fixed_input: bool
    patch_size: int
    merge_size: int | None
    factor: int | None
    temporal_patch_size: int | None
    fixed_side: int | None
    fixed_tokens: int | None
    wrapper_tokens: int
    helper: str | None
    frame_rounding: str | None
    video_min_tokens: int | None
    video_max_tokens: int | None
    video_total_pixels: float | None
    video_fps: float | None
    video_min_frames: int | None
    video_max_frames: int | None
    frame_factor: int | None
    video_timestamps: bool


def generations_table() -> pd.DataFrame:
    """Return data/vision_generations.csv with explicit dtypes: one row per vision-language generation."""
    return read_table(GENERATIONS_FILE, dtypes=GENERATION_DTYPES, required=tuple(GENERATION_DTYPES))


def budgets_table() -> pd.DataFrame:
    """Return data/vision_pixel_budgets.csv: the named min_pixels/max_pixels settings."""
    return read_table(BUDGETS_FILE, dtypes=BUDGET_DTYPES, required=tuple(BUDGET_DTYPES))


def samples_table() -> pd.DataFrame:
    """Return data/vision_samples.csv: the course's sample pictures with their sizes."""
    return read_table(SAMPLES_FILE, dtypes=SAMPLE_DTYPES, required=tuple(SAMPLE_DTYPES))


def generation_keys() -> list[str]:
    """The generation names accepted by the counting functions, oldest first."""
    return list(generations_table()["generation"])


def budget_keys() -> list[str]:
    """The budget names accepted by the counting functions."""
    return list(budgets_table()["budget"])


@cache
def generation_info(generation: str) -> Generation:
    """The constants of one generation; ValueError lists the valid names."""
    table = generations_table()
    match = table[table["generation"] == generation]
    if match.empty:
        raise ValueError(f"generation must be one of {list(table['generation'])}, got {generation!r}")
    row = row_as_dict(match.iloc[0])
    return Generation(
        key=row["generation"], name=row["name"], fixed_input=row["image_input"] == "fixed",
        patch_size=row["patch_size"], merge_size=row["spatial_merge_size"], factor=row["resize_factor"],
        temporal_patch_size=row["temporal_patch_size"], fixed_side=row["fixed_image_side"],
        fixed_tokens=row["fixed_image_tokens"], wrapper_tokens=row["wrapper_tokens"], helper=row["helper"],
        frame_rounding=row["frame_rounding"], video_min_tokens=row["video_min_tokens"],
        video_max_tokens=row["video_max_tokens"], video_total_pixels=row["video_total_pixels"],
        video_fps=row["video_fps"], video_min_frames=row["video_min_frames"],
        video_max_frames=row["video_max_frames"], frame_factor=row["frame_factor"],
        video_timestamps=bool(row["video_timestamps"]),
    )


@cache
def _budget_row(budget: str) -> dict:
    table = budgets_table()
    match = table[table["budget"] == budget]
    if match.empty:
        raise ValueError(f"budget must be one of {list(table['budget'])}, got {budget!r}")
    return row_as_dict(match.iloc[0])


def pixel_bounds(generation: str = DEFAULT_GENERATION, budget: str = DEFAULT_BUDGET,
                 min_pixels=None, max_pixels=None) -> tuple[int, int, str]:
    """(min_pixels, max_pixels, rules) of a named budget for a generation; explicit pixels override the budget."""
    info = generation_info(generation)
    if info.fixed_input:
        raise ValueError(f"generation {generation!r} resizes every image to {info.fixed_side}x{info.fixed_side}; "
                         "it has no pixel budget")
    row = _budget_row(budget)
    if row["applies_to"] not in ("all", generation):
        raise ValueError(f"budget {budget!r} is the setting of generation {row['applies_to']!r}; "
                         f"use it with generation={row['applies_to']!r}")
    factor = info.factor
    low = row["min_pixels"] if row["min_tokens"] is None else row["min_tokens"] * factor * factor
    high = row["max_pixels"] if row["max_tokens"] is None else row["max_tokens"] * factor * factor
    low = low if min_pixels is None else _pixels("min_pixels", min_pixels)
    high = high if max_pixels is None else _pixels("max_pixels", max_pixels)
    _check_order(low, high)
    return low, high, row["rules"]


# ---------------------------------------------------------------- input checks


def _side(name: str, value) -> int:
    """A side length as int; ValueError unless it is a whole number from 1 to MAX_SIDE."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a whole number of pixels from 1 to {MAX_SIDE:,}, got {value!r}")
    if not isinstance(value, numbers.Integral):
        if not float(value).is_integer():
            raise ValueError(f"{name} must be a whole number of pixels from 1 to {MAX_SIDE:,}, got {value!r}")
        value = int(value)
    if not 1 <= value <= MAX_SIDE:
        raise ValueError(f"{name} must be a whole number of pixels from 1 to {MAX_SIDE:,}, got {value!r}")
    return int(value)


def _pixels(name: str, value):
    """A pixel budget: a positive finite number (int or float) no larger than MAX_SIDE squared."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a positive number of pixels, got {value!r}")
    if not 0 < value <= MAX_SIDE * MAX_SIDE:
        raise ValueError(f"{name} must be between 1 and {MAX_SIDE * MAX_SIDE:,} pixels, got {value!r}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _check_order(min_pixels, max_pixels) -> None:
    if min_pixels > max_pixels:
        raise ValueError(f"min_pixels ({min_pixels:,}) must not exceed max_pixels ({max_pixels:,})")


def _check_ratio(height: int, width: int) -> None:
    # integer test: equivalent to the reference's float division for sides up to MAX_SIDE
    if max(height, width) > MAX_RATIO * min(height, width):
        raise ValueError(f"height and width: the long side may be at most {MAX_RATIO} times the short side, "
                         f"got {height}x{width} (ratio {max(height, width) / min(height, width):.1f})")


def _check_rules(rules: str) -> None:
    if rules not in RULES:
        raise ValueError(f"rules must be one of {list(RULES)}, got {rules!r}")


def _positive(name: str, value, upper: float) -> float:
    """A positive finite number no larger than upper, as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number above 0 and at most {upper:,g}, got {value!r}")
    if not 0 < value <= upper:
        raise ValueError(f"{name} must be above 0 and at most {upper:,g}, got {value!r}")
    return float(value)


# ---------------------------------------------------------------- resizing and image tokens


def smart_resize(height, width, factor=28, min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28, *,
                 rules="qwen-vl-utils") -> tuple[int, int]:
    """The (height, width) a native-resolution Qwen VL model resizes an image to: multiples of factor, within the budget."""
    height, width = _side("height", height), _side("width", width)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Integral) or not 1 <= factor <= 1024:
        raise ValueError(f"factor must be a whole number of pixels from 1 to 1024 (28 or 32 in Qwen), got {factor!r}")
    min_pixels, max_pixels = _pixels("min_pixels", min_pixels), _pixels("max_pixels", max_pixels)
    _check_order(min_pixels, max_pixels)
    _check_ratio(height, width)
    _check_rules(rules)
    factor = int(factor)
    # Python's round() sends halves to the even neighbour (70/28 = 2.5 -> 2), exactly like the reference
    resized_h, resized_w = round(height / factor) * factor, round(width / factor) * factor
    if rules == "qwen-vl-utils":  # the helper never lets rounding produce a zero side
        resized_h, resized_w = max(factor, resized_h), max(factor, resized_w)
    if resized_h * resized_w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        resized_h = math.floor(height / beta / factor) * factor
        resized_w = math.floor(width / beta / factor) * factor
        if rules == "transformers":  # only transformers guards this branch against a zero side
            resized_h, resized_w = max(factor, resized_h), max(factor, resized_w)
    elif resized_h * resized_w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        resized_h = math.ceil(height * beta / factor) * factor
        resized_w = math.ceil(width * beta / factor) * factor
    return resized_h, resized_w


def resized_size(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                 budget=DEFAULT_BUDGET) -> tuple[int, int]:
    """The (height, width) the model of this generation sees for an image of this size."""
    info = generation_info(generation)
    if info.fixed_input:
        _side("height", height), _side("width", width)
        if min_pixels is not None or max_pixels is not None:
            raise ValueError(f"min_pixels/max_pixels do not apply to {generation!r}: it resizes every image "
                             f"to {info.fixed_side}x{info.fixed_side}")
        return info.fixed_side, info.fixed_side
    low, high, rules = pixel_bounds(generation, budget, min_pixels, max_pixels)
    return smart_resize(height, width, info.factor, low, high, rules=rules)


def image_tokens(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                 budget=DEFAULT_BUDGET) -> int:
    """Visual tokens of one image (without the two wrapper tokens); None pixels = the generation's helper default."""
    info = generation_info(generation)
    resized_h, resized_w = resized_size(height, width, generation, min_pixels, max_pixels, budget=budget)
    if info.fixed_input:
        return info.fixed_tokens
    if resized_h == 0 or resized_w == 0:
        raise ValueError(f"max_pixels is too small for a {height}x{width} image: the helper would resize it to "
                         f"{resized_h}x{resized_w} pixels, which cannot be encoded; raise max_pixels")
    return (resized_h // info.factor) * (resized_w // info.factor)


def image_sequence_tokens(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                          budget=DEFAULT_BUDGET) -> int:
    """Tokens one image takes in the prompt: visual tokens plus its two wrapper tokens."""
    tokens = image_tokens(height, width, generation, min_pixels, max_pixels, budget=budget)
    return tokens + generation_info(generation).wrapper_tokens


# ---------------------------------------------------------------- the same, vectorised


def _sides(name: str, values) -> np.ndarray:
    """A 1-D int64 array of side lengths; ValueError names the first bad entry."""
    array = np.atleast_1d(np.asarray(values))
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional list of sizes, got shape {array.shape}")
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold whole numbers of pixels, got dtype {array.dtype}")
    if array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(array) | (array != np.round(array))
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}[{index}] must be a whole number of pixels, got {array[index]!r}")
    ints = array.astype(np.int64)
    bad = (ints < 1) | (ints > MAX_SIDE)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{index}] must be from 1 to {MAX_SIDE:,} pixels, got {array[index]!r}")
    return ints


def smart_resize_many(heights, widths, factor=28, min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28, *,
                      rules="qwen-vl-utils") -> tuple[np.ndarray, np.ndarray]:
    """smart_resize over arrays of sizes at once; returns int64 arrays equal to the scalar results."""
    heights, widths = _sides("heights", heights), _sides("widths", widths)
    if heights.shape != widths.shape:
        raise ValueError(f"heights and widths must have the same length, got {len(heights)} and {len(widths)}")
    if isinstance(factor, bool) or not isinstance(factor, numbers.Integral) or not 1 <= factor <= 1024:
        raise ValueError(f"factor must be a whole number of pixels from 1 to 1024, got {factor!r}")
    min_pixels, max_pixels = _pixels("min_pixels", min_pixels), _pixels("max_pixels", max_pixels)
    _check_order(min_pixels, max_pixels)
    _check_rules(rules)
    factor = int(factor)
    too_long = np.maximum(heights, widths) > MAX_RATIO * np.minimum(heights, widths)
    if too_long.any():
        index = int(np.flatnonzero(too_long)[0])
        raise ValueError(f"heights[{index}] x widths[{index}] = {heights[index]}x{widths[index]}: the long side "
                         f"may be at most {MAX_RATIO} times the short side")
    h_float, w_float = heights.astype(np.float64), widths.astype(np.float64)
    # np.round, like Python's round, sends halves to the even neighbour; the divisions are the same IEEE ones
    resized_h = np.round(h_float / factor).astype(np.int64) * factor
    resized_w = np.round(w_float / factor).astype(np.int64) * factor
    if rules == "qwen-vl-utils":
        resized_h, resized_w = np.maximum(resized_h, factor), np.maximum(resized_w, factor)
    area = heights * widths  # exact in int64 and in float64 (below 2**53)
    resized_area = resized_h * resized_w
    shrink = resized_area > max_pixels
    grow = ~shrink & (resized_area < min_pixels)
    if shrink.any():
        # same operation order as the scalar code: sqrt(H*W / max), then H / beta / factor
        beta = np.sqrt(area[shrink] / max_pixels)
        resized_h[shrink] = np.floor(h_float[shrink] / beta / factor).astype(np.int64) * factor
        resized_w[shrink] = np.floor(w_float[shrink] / beta / factor).astype(np.int64) * factor
        if rules == "transformers":
            resized_h[shrink] = np.maximum(resized_h[shrink], factor)
            resized_w[shrink] = np.maximum(resized_w[shrink], factor)
    if grow.any():
        beta = np.sqrt(min_pixels / area[grow])
        resized_h[grow] = np.ceil(h_float[grow] * beta / factor).astype(np.int64) * factor
        resized_w[grow] = np.ceil(w_float[grow] * beta / factor).astype(np.int64) * factor
    return resized_h, resized_w


def _resize_table(heights, widths, generation, min_pixels, max_pixels, budget):
    """Resized heights, widths and tokens for arrays of sizes (the shared core of the vectorised functions)."""
    info = generation_info(generation)
    if info.fixed_input:
        heights, widths = _sides("heights", heights), _sides("widths", widths)
        if heights.shape != widths.shape:
            raise ValueError(f"heights and widths must have the same length, got {len(heights)} and {len(widths)}")
        if min_pixels is not None or max_pixels is not None:
            raise ValueError(f"min_pixels/max_pixels do not apply to {generation!r}")
        fixed = np.full(heights.shape, info.fixed_side, dtype=np.int64)
        return fixed, fixed.copy(), np.full(heights.shape, info.fixed_tokens, dtype=np.int64)
    low, high, rules = pixel_bounds(generation, budget, min_pixels, max_pixels)
    resized_h, resized_w = smart_resize_many(heights, widths, info.factor, low, high, rules=rules)
    zero = (resized_h == 0) | (resized_w == 0)
    if zero.any():
        index = int(np.flatnonzero(zero)[0])
        raise ValueError(f"max_pixels is too small: size {index} would be resized to a zero side; raise max_pixels")
    return resized_h, resized_w, (resized_h // info.factor) * (resized_w // info.factor)


def image_tokens_many(heights, widths, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                      budget=DEFAULT_BUDGET) -> np.ndarray:
    """image_tokens for arrays of sizes: an int64 array, equal element by element to the scalar function."""
    return _resize_table(heights, widths, generation, min_pixels, max_pixels, budget)[2]


def image_token_table(sizes: pd.DataFrame, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                      budget=DEFAULT_BUDGET) -> pd.DataFrame:
    """Add resized_height, resized_width and tokens columns to a table with height and width columns."""
    missing = [column for column in ("height", "width") if column not in sizes.columns]
    if missing:
        raise ValueError(f"sizes must have columns 'height' and 'width'; missing {missing}")
    resized_h, resized_w, tokens = _resize_table(sizes["height"], sizes["width"], generation, min_pixels,
                                                 max_pixels, budget)
    return sizes.assign(resized_height=resized_h, resized_width=resized_w, tokens=tokens)


# ---------------------------------------------------------------- explaining one count


def explain_resize(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                   budget=DEFAULT_BUDGET) -> list[str]:
    """The arithmetic of one image count, step by step, as lines of text (same numbers as image_tokens)."""
    info = generation_info(generation)
    height, width = _side("height", height), _side("width", width)
    if info.fixed_input:
        resized_size(height, width, generation, min_pixels, max_pixels)
        return [
            f"{info.name} squeezes every image to {info.fixed_side} x {info.fixed_side} px (aspect ratio not kept).",
            f"A resampler turns it into {info.fixed_tokens} tokens, whatever the input size.",
            f"In the prompt: {info.fixed_tokens} + {info.wrapper_tokens} wrapper tokens = "
            f"{info.fixed_tokens + info.wrapper_tokens}.",
        ]
    low, high, rules = pixel_bounds(generation, budget, min_pixels, max_pixels)
    factor = info.factor
    resized_h, resized_w = smart_resize(height, width, factor, low, high, rules=rules)
    rounded_h, rounded_w = round(height / factor) * factor, round(width / factor) * factor
    if rules == "qwen-vl-utils":
        rounded_h, rounded_w = max(factor, rounded_h), max(factor, rounded_w)
    lines = [
        f"factor = patch {info.patch_size} px x merge {info.merge_size} = {factor} px per token side",
        f"round each side to a multiple of {factor}: {height}/{factor} = {height / factor:.3f} -> "
        f"{rounded_h // factor} -> {rounded_h} px; {width}/{factor} = {width / factor:.3f} -> "
        f"{rounded_w // factor} -> {rounded_w} px",
    ]
    area = rounded_h * rounded_w
    if area > high:
        beta = math.sqrt(height * width / high)
        lines.append(f"{rounded_h} x {rounded_w} = {area:,} px is above max_pixels {high:,.0f}: scale down by "
                     f"beta = sqrt({height}*{width} / {high:,.0f}) = {beta:.4f} and round each side DOWN: "
                     f"{resized_h} x {resized_w} px")
    elif area < low:
        beta = math.sqrt(low / (height * width))
        lines.append(f"{rounded_h} x {rounded_w} = {area:,} px is below min_pixels {low:,.0f}: scale up by "
                     f"beta = sqrt({low:,.0f} / ({height}*{width})) = {beta:.4f} and round each side UP: "
                     f"{resized_h} x {resized_w} px")
    else:
        lines.append(f"{rounded_h} x {rounded_w} = {area:,} px is within [{low:,.0f}, {high:,.0f}]: keep it")
    tokens = (resized_h // factor) * (resized_w // factor)
    lines.append(f"tokens = ({resized_h}/{factor}) x ({resized_w}/{factor}) = {resized_h // factor} x "
                 f"{resized_w // factor} = {tokens:,}; in the prompt {tokens:,} + {info.wrapper_tokens} wrapper "
                 f"tokens = {tokens + info.wrapper_tokens:,}")
    return lines


WORKED_SIZES = ((1080, 1920), (480, 640), (2048, 2048), (100, 100), (4000, 3000))
WORKED_SETTINGS = (
    ("Qwen2.5-VL, helper default", "qwen2.5-vl", "qwen-vl-utils"),
    ("Qwen2.5-VL, transformers class default", "qwen2.5-vl", "transformers-class"),
    ("Qwen3-VL, helper default", "qwen3-vl", "qwen-vl-utils"),
    ("Qwen3-VL, checkpoint config", "qwen3-vl", "qwen3-vl-checkpoint"),
)


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


# ---------------------------------------------------------------- video


@dataclass(frozen=True)
class VideoPlan:
    """How one video is sampled, resized and counted (the helper's rules for one generation)."""

    generation: str
    height: int
    width: int
    duration_s: float
    source_fps: float
    total_frames: int
    fps: float
    frames: int
    min_pixels: int
    max_pixels: float
    resized_height: int
    resized_width: int
    tokens_per_group: int
    groups: int
    visual_tokens: int
    wrapper_tokens: int
    timestamps: tuple[str, ...]

    def timestamp_tokens(self) -> int:
        """Text tokens of the per-group timestamps (Qwen3-VL only), counted with the real Qwen tokenizer."""
        return sum(count_text_tokens(stamp) for stamp in self.timestamps)

    def total_tokens(self) -> int:
        """All tokens the video takes in the prompt: visual + wrapper + timestamp text."""
        return self.visual_tokens + self.wrapper_tokens + self.timestamp_tokens()


def sampled_frames(total_frames: int, source_fps: float, fps: float = 2.0, generation=DEFAULT_GENERATION) -> int:
    """How many frames the helper samples from a clip: about fps per second, even, within its frame limits."""
    info = _video_info(generation)
    if isinstance(total_frames, bool) or not isinstance(total_frames, numbers.Integral) or total_frames < 2:
        raise ValueError(f"total_frames must be a whole number of at least 2 (a video needs two frames), "
                         f"got {total_frames!r}")
    source_fps = _positive("source_fps", source_fps, 1000)
    fps = _positive("fps", fps, 1000)
    step = info.frame_factor
    min_frames = math.ceil(info.video_min_frames / step) * step
    max_frames = math.floor(min(info.video_max_frames, total_frames) / step) * step
    frames = total_frames / source_fps * fps
    if info.frame_rounding == "round":  # Qwen2-VL-era helper: round to even, no cap at total_frames first
        frames = round(min(max(frames, min_frames), max_frames) / step) * step
    else:
        frames = math.floor(min(min(max(frames, min_frames), max_frames), total_frames) / step) * step
    if not step <= frames <= total_frames:
        raise ValueError(f"the clip has {total_frames} frames; the helper would sample {frames}, which is not between "
                         f"{step} and {total_frames}")
    return int(frames)


def _video_info(generation: str) -> Generation:
    info = generation_info(generation)
    if info.fixed_input or info.frame_factor is None:
        raise ValueError(f"generation {generation!r} takes no video input; choose one of "
                         f"{[key for key in generation_keys() if not generation_info(key).fixed_input]}")
    return info


def video_plan(height, width, duration_s, fps=2.0, generation=DEFAULT_GENERATION, *,
               source_fps=DEFAULT_SOURCE_FPS, min_pixels=None, max_pixels=None, total_pixels=None) -> VideoPlan:
    """Sample, resize and count one video the way the generation's preprocessing helper does."""
    info = _video_info(generation)
    height, width = _side("height", height), _side("width", width)
    duration_s = _positive("duration_s", duration_s, MAX_DURATION_S)
    fps = _positive("fps", fps, 1000)
    source_fps = _positive("source_fps", source_fps, 1000)
    total_frames = round(duration_s * source_fps)
    if total_frames < 2:
        raise ValueError(f"duration_s: {duration_s:g} s at {source_fps:g} fps is {total_frames} frame(s); "
                         "a video needs at least two frames")
    frames = sampled_frames(total_frames, source_fps, fps, generation)
    factor = info.factor
    low = info.video_min_tokens * factor * factor if min_pixels is None else _pixels("min_pixels", min_pixels)
    total = info.video_total_pixels if total_pixels is None else _pixels("total_pixels", total_pixels)
    # the helper's per-frame cap: share the total budget over the frames, but never below 1.05 x min_pixels
    cap = max(min(info.video_max_tokens * factor * factor, total / frames * info.frame_factor), int(low * 1.05))
    high = cap if max_pixels is None else min(_pixels("max_pixels", max_pixels), cap)
    _check_order(low, high)
    resized_h, resized_w = smart_resize(height, width, factor, low, high, rules="qwen-vl-utils")
    if resized_h == 0 or resized_w == 0:
        raise ValueError(f"max_pixels is too small for {height}x{width} frames; raise max_pixels")
    per_group = (resized_h // factor) * (resized_w // factor)
    groups = math.ceil(frames / info.temporal_patch_size)
    stamps = _timestamps(total_frames, frames, source_fps, info.temporal_patch_size) if info.video_timestamps else ()
    wrappers = info.wrapper_tokens * (groups if info.video_timestamps else 1)
    return VideoPlan(generation, height, width, duration_s, source_fps, total_frames, fps, frames, low, high,
                     resized_h, resized_w, per_group, groups, groups * per_group, wrappers, stamps)


def _timestamps(total_frames: int, frames: int, source_fps: float, group: int) -> tuple[str, ...]:
    """Qwen3-VL's '<t seconds>' text per temporal group: mean time of the group's first and last frame."""
    # the helper picks linspace(0, total-1, n).round() in float32 torch; float64 here can differ by one frame
    # at exact halves, which changes a timestamp by 1/fps and its token count only if a digit is added
    indices = np.round(np.linspace(0, total_frames - 1, frames)).astype(np.int64)
    if len(indices) % group:
        indices = np.concatenate([indices, np.repeat(indices[-1], group - len(indices) % group)])
    seconds = indices / source_fps
    means = (seconds[0::group] + seconds[group - 1::group]) / 2
    return tuple(f"<{value:.1f} seconds>" for value in means)


def video_tokens(height, width, duration_s, fps=2.0, generation=DEFAULT_GENERATION) -> int:
    """Visual tokens of one video (the <|video_pad|> count, without wrapper or timestamp tokens)."""
    return video_plan(height, width, duration_s, fps, generation).visual_tokens


# ---------------------------------------------------------------- text tokens and context windows


def count_text_tokens(text: str) -> int:
    """Tokens of plain text with the real Qwen tokenizer of lesson 2 (qwen_lessons.tokens.encode)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return _count_text_tokens(text)


@lru_cache(maxsize=8192)
def _count_text_tokens(text: str) -> int:
    if not text:
        return 0
    from qwen_lessons import tokens  # lesson 2's tokenizer; loaded only when text is counted

    return len(tokens.encode(text))


def _catalog():
    """The lesson-1 catalog, or None when it cannot be loaded (the planner then offers the fixed windows only)."""
    try:
        from qwen_lessons import catalog

        return catalog.load_catalog()
    except (ImportError, AttributeError, DataFileError):
        return None


def generation_for_series(series: str) -> str | None:
    """The generation key for a catalog series name such as 'Qwen2.5-VL', or None if it has no vision rules here."""
    key = str(series).strip().lower()
    return key if key in generation_keys() else None


def model_contexts() -> pd.DataFrame:
    """Vision-language and omni checkpoints of the catalog with a known context length, and their generation."""
    table = _catalog()
    columns = ["model_id", "series", "generation", "context_length"]
    if table is None or not {"model_id", "context_length"} <= set(table.columns):
        return pd.DataFrame(columns=columns)
    series = table["series"] if "series" in table.columns else table["model_id"].str.split("/").str[-1]
    rows = table.assign(series=series)
    rows = rows.assign(generation=[generation_for_series(value) for value in rows["series"]])
    rows = rows[rows["generation"].notna() & rows["context_length"].notna()]
    return rows[columns].reset_index(drop=True)


def context_tokens(context) -> int:
    """Tokens in a context window given as '32K'/'128K'/'256K', a catalog model id, or a number."""
    if isinstance(context, str):
        if context in CONTEXT_WINDOWS:
            return CONTEXT_WINDOWS[context]
        models = model_contexts()
        match = models[models["model_id"] == context]
        if not match.empty:
            return int(match["context_length"].iloc[0])
        raise ValueError(f"context must be one of {list(CONTEXT_WINDOWS)}, a number of tokens, or a vision "
                         f"model id with a known context in the catalog, got {context!r}")
    if isinstance(context, bool) or not isinstance(context, numbers.Integral) or not 1 <= context <= MAX_CONTEXT:
        raise ValueError(f"context must be a whole number of tokens from 1 to {MAX_CONTEXT:,}, got {context!r}")
    return int(context)


# ---------------------------------------------------------------- the prompt planner


@dataclass(frozen=True)
class PromptPlan:
    """Token budget of one prompt: text + images + videos + reserved output, against a context window."""

    generation: str
    context: int
    text_tokens: int
    image_tokens: int
    image_wrapper_tokens: int
    video_tokens: int
    video_wrapper_tokens: int
    timestamp_tokens: int
    reserved_output: int
    image_count: int
    video_count: int

    @property
    def total(self) -> int:
        """Every token the prompt and the reserved answer need."""
        return (self.text_tokens + self.image_tokens + self.image_wrapper_tokens + self.video_tokens
                + self.video_wrapper_tokens + self.timestamp_tokens + self.reserved_output)

    @property
    def remaining(self) -> int:
        """Context tokens left over (negative when the prompt does not fit)."""
        return self.context - self.total

    @property
    def fits(self) -> bool:
        """True when the prompt and the reserved output fit in the context window."""
        return self.remaining >= 0

    def parts(self) -> pd.DataFrame:
        """The budget as a table: one row per part, its tokens and its percentage of the context window."""
        rows = [
            ("text", self.text_tokens),
            (f"images ({self.image_count}): visual tokens", self.image_tokens),
            ("images: <|vision_start|>/<|vision_end|>", self.image_wrapper_tokens),
            (f"videos ({self.video_count}): visual tokens", self.video_tokens),
            ("videos: wrapper tokens", self.video_wrapper_tokens),
            ("videos: timestamp text (Qwen3-VL)", self.timestamp_tokens),
            ("reserved for the answer", self.reserved_output),
            ("total", self.total),
        ]
        table = pd.DataFrame(rows, columns=["part", "tokens"])
        table["% of context"] = (100 * table["tokens"] / self.context).round(1)
        return table


def _image_list(images) -> list[tuple[int, int]]:
    result = []
    for index, item in enumerate(images):
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise ValueError(f"images[{index}] must be a (height, width) pair, got {item!r}")
        result.append((_side(f"images[{index}] height", item[0]), _side(f"images[{index}] width", item[1])))
    return result


def _video_list(videos) -> list[tuple[int, int, float]]:
    result = []
    for index, item in enumerate(videos):
        if not isinstance(item, (tuple, list)) or len(item) != 3:
            raise ValueError(f"videos[{index}] must be a (height, width, duration_s) triple, got {item!r}")
        result.append((_side(f"videos[{index}] height", item[0]), _side(f"videos[{index}] width", item[1]),
                       _positive(f"videos[{index}] duration_s", item[2], MAX_DURATION_S)))
    return result


def plan_prompt(text="", images=(), videos=(), *, generation=DEFAULT_GENERATION, budget=DEFAULT_BUDGET,
                min_pixels=None, max_pixels=None, video_fps=2.0, video_max_pixels=None, reserved_output=1024,
                context="32K", source_fps=DEFAULT_SOURCE_FPS) -> PromptPlan:
    """Count a whole prompt: images as (height, width), videos as (height, width, duration_s)."""
    if isinstance(reserved_output, bool) or not isinstance(reserved_output, numbers.Integral) \
            or not 0 <= reserved_output <= MAX_CONTEXT:
        raise ValueError(f"reserved_output must be a whole number of tokens from 0 to {MAX_CONTEXT:,}, "
                         f"got {reserved_output!r}")
    window = context_tokens(context)
    images, videos = _image_list(images), _video_list(videos)
    info = generation_info(generation)
    visual = sum(image_tokens(h, w, generation, min_pixels, max_pixels, budget=budget) for h, w in images)
    plans = [video_plan(h, w, d, video_fps, generation, source_fps=source_fps, max_pixels=video_max_pixels)
             for h, w, d in videos]
    return PromptPlan(
        generation=generation, context=window, text_tokens=count_text_tokens(text), image_tokens=visual,
        image_wrapper_tokens=info.wrapper_tokens * len(images),
        video_tokens=sum(plan.visual_tokens for plan in plans),
        video_wrapper_tokens=sum(plan.wrapper_tokens for plan in plans),
        timestamp_tokens=sum(plan.timestamp_tokens() for plan in plans),
        reserved_output=int(reserved_output), image_count=len(images), video_count=len(videos),
    )


def images_that_fit(height, width, context="32K", used_tokens=0, generation=DEFAULT_GENERATION,
                    min_pixels=None, max_pixels=None, *, budget=DEFAULT_BUDGET) -> int:
    """How many more images of this size fit in the context after used_tokens (wrapper tokens included)."""
    window = context_tokens(context)
    if isinstance(used_tokens, bool) or not isinstance(used_tokens, numbers.Integral) or used_tokens < 0:
        raise ValueError(f"used_tokens must be a whole number of tokens, 0 or more, got {used_tokens!r}")
    per_image = image_sequence_tokens(height, width, generation, min_pixels, max_pixels, budget=budget)
    return max(0, (window - int(used_tokens)) // per_image)


def knob_savings(text="", images=(), videos=(), **settings) -> pd.DataFrame:
    """Tokens saved by halving each knob in turn (max_pixels, video fps, resolution), biggest saving first."""
    base = plan_prompt(text, images, videos, **settings)
    generation = settings.get("generation", DEFAULT_GENERATION)
    info = generation_info(generation)
    images, videos = _image_list(images), _video_list(videos)
    rows = []
    if not info.fixed_input:
        low, high, _ = pixel_bounds(generation, settings.get("budget", DEFAULT_BUDGET),
                                    settings.get("min_pixels"), settings.get("max_pixels"))
        halved = dict(settings, max_pixels=max(low, high / 2))
        if videos:
            probe = video_plan(*videos[0], settings.get("video_fps", 2.0), generation,
                               source_fps=settings.get("source_fps", DEFAULT_SOURCE_FPS),
                               max_pixels=settings.get("video_max_pixels"))
            halved["video_max_pixels"] = max(probe.min_pixels, probe.max_pixels / 2)
        rows.append(("max_pixels / 2", "halve the pixel budget of every image and video frame",
                     plan_prompt(text, images, videos, **halved).total))
    if videos:
        slower = dict(settings, video_fps=settings.get("video_fps", 2.0) / 2)
        rows.append(("fps / 2", "sample half as many video frames per second",
                     plan_prompt(text, images, videos, **slower).total))
    smaller_images = [(max(1, h // 2), max(1, w // 2)) for h, w in images]
    smaller_videos = [(max(1, h // 2), max(1, w // 2), d) for h, w, d in videos]
    rows.append(("resolution / 2", "send every image and video at half its width and height",
                 plan_prompt(text, smaller_images, smaller_videos, **settings).total))
    table = pd.DataFrame(rows, columns=["knob", "what it does", "total tokens"])
    table["tokens saved"] = base.total - table["total tokens"]
    return table.sort_values("tokens saved", ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- the claim check


def tile_claim(side: int = 448, low: int = 256, high: int = 512) -> pd.DataFrame:
    """Decide 'a side x side tile costs roughly low-high tokens' per generation, with the arithmetic shown."""
    side = _side("side", side)
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a whole number of tokens, 1 or more, got {value!r}")
    if low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
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
                      for budget in budget_keys() if _budget_row(budget)["applies_to"] in ("all", generation)]
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


def tile_claim_summary(side: int = 448, low: int = 256, high: int = 512) -> str:
    """One paragraph deciding the claim over all generations, from tile_claim()."""
    table = tile_claim(side, low, high)
    by_tokens = table.groupby("visual tokens", sort=True)["generation"].apply(list)
    parts = [f"Default budgets, {side} x {side} px: " + "; ".join(
        f"{', '.join(names)} -> {tokens}" for tokens, names in by_tokens.items()) + " visual tokens (+2 wrappers)."]
    top, bottom = int(table["visual tokens"].max()), int(table["visual tokens"].min())
    if top < high:
        parts.append(f"No generation reaches {high}; the most is {top}.")
    below = table.loc[table["visual tokens"] < low, "generation"]
    if len(below):
        parts.append(f"{', '.join(below)} fall below {low} (down to {bottom}).")
    fixed = table.loc[table["factor (px)"].isna(), "generation"]
    if len(fixed):
        parts.append(f"Only {', '.join(fixed)} squeezes images to one fixed square; the others keep size and "
                     "aspect ratio, so there are no tiles to count.")
    return " ".join(parts)


# ---------------------------------------------------------------- pictures: header, preview, overlay


def read_image_size(data: bytes) -> tuple[int, int]:
    """(height, width) from an image file's header, without decoding the pixels (safe for huge images)."""
    from PIL import UnidentifiedImageError

    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise ValueError("the file is empty or not bytes; upload an image file (PNG, JPEG, GIF, WebP, BMP, TIFF)")
    try:
        with _opened(data) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"this file is not an image Pillow can read (PNG, JPEG, GIF, WebP, BMP, TIFF ...): "
                         f"{type(error).__name__}") from None
    if width < 1 or height < 1:
        raise ValueError(f"the image header gives an empty size {width}x{height}")
    return height, width


class _opened:
    """Image.open without the decompression-bomb guard: only the header is read, so a huge size is harmless."""

    def __init__(self, data: bytes):
        self.data = bytes(data)

    def __enter__(self):
        from PIL import Image

        limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None  # the guard protects decoding; opening reads the header only
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self.image = Image.open(io.BytesIO(self.data))
        finally:
            Image.MAX_IMAGE_PIXELS = limit
        return self.image

    def __exit__(self, *exc):
        self.image.close()
        return False


def decode_preview(data: bytes, max_side: int = PREVIEW_SIDE):
    """A reduced RGB copy of the picture (long side <= max_side), or None when it cannot be decoded safely."""
    return decode_preview_with_reason(data, max_side)[0]


def decode_preview_with_reason(data: bytes, max_side: int = PREVIEW_SIDE):
    """(preview or None, reason): the reduced RGB copy, or None and a one-line reason why there is none."""
    from PIL import Image

    height, width = read_image_size(data)
    with _opened(data) as image:
        if image.format == "JPEG":
            image.draft("RGB", (max_side, max_side))  # JPEG decodes at 1/2, 1/4 or 1/8 scale directly
        if image.size[0] * image.size[1] > MAX_DECODE_PIXELS:
            return None, f"{height:,} x {width:,} px is too large to preview safely"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image.load()
            rgb = _to_rgb(image)
        except (OSError, SyntaxError, ValueError) as error:  # truncated or damaged pixel data, odd modes
            return None, f"the pixels could not be decoded ({type(error).__name__}); the header is fine"
    rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return rgb, ""


def _to_rgb(image):
    """RGB copy; transparent areas become white, as the Qwen helper does."""
    from PIL import Image

    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


@lru_cache(maxsize=16)
def sample_preview(file: str):
    """The reduced preview of one of the course's sample pictures (cached: decoded once per session)."""
    return decode_preview(data_path(file).read_bytes())


def sample_bytes(file: str) -> bytes:
    """The raw bytes of a sample picture in data/."""
    return data_path(file).read_bytes()


def grid_step(factor: int, scale: float) -> int:
    """Draw every n-th grid line so that drawn cells are at least MIN_GRID_STEP_PX wide on screen."""
    return max(1, math.ceil(MIN_GRID_STEP_PX / (factor * scale)))


def overlay_image(picture, resized_height: int, resized_width: int, factor: int | None,
                  display_side: int = DISPLAY_SIDE):
    """The picture as the model sees it (resized), scaled to fit display_side, with its merged-patch grid.

    picture may be None (no pixels available): the grid is then drawn on a plain background.
    Returns (PIL image, n) where n says every n-th grid line is drawn.
    """
    from PIL import Image, ImageDraw

    if resized_height < 1 or resized_width < 1:
        raise ValueError(f"resized size must be positive, got {resized_height}x{resized_width}")
    scale = display_side / max(resized_height, resized_width)
    shown = (max(1, round(resized_width * scale)), max(1, round(resized_height * scale)))
    if picture is None:
        view = Image.new("RGB", shown, (235, 235, 235))
    elif scale >= 1:  # small model view: resize to it, then enlarge with visible pixels
        view = picture.resize((resized_width, resized_height), Image.Resampling.BICUBIC)
        view = view.resize(shown, Image.Resampling.NEAREST)
    else:
        view = picture.resize(shown, Image.Resampling.BICUBIC, reducing_gap=2.0)
    every = 1
    if factor:
        every = grid_step(factor, scale)
        layer = Image.new("RGBA", shown, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        colour = (0, 0, 0, 130)
        for column in range(0, resized_width // factor + 1, every):
            x = min(shown[0] - 1, round(column * factor * scale))
            draw.line([(x, 0), (x, shown[1] - 1)], fill=colour)
        for row in range(0, resized_height // factor + 1, every):
            y = min(shown[1] - 1, round(row * factor * scale))
            draw.line([(0, y), (shown[0] - 1, y)], fill=colour)
        view = Image.alpha_composite(view.convert("RGBA"), layer).convert("RGB")
    return view, every


def png_bytes(image) -> bytes:
    """Encode a PIL image as PNG bytes (for an ipywidgets.Image)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)  # speed over size: it only travels to the browser
    return buffer.getvalue()


def describe_image(height: int, width: int, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                   budget=DEFAULT_BUDGET) -> str:
    """One sentence: what the model sees of an image of this size and what it costs."""
    info = generation_info(generation)
    resized_h, resized_w = resized_size(height, width, generation, min_pixels, max_pixels, budget=budget)
    tokens = image_tokens(height, width, generation, min_pixels, max_pixels, budget=budget)
    if info.fixed_input:
        return (f"{info.name} sees {resized_h} x {resized_w} px (squeezed) and spends {tokens:,} tokens "
                f"(+{info.wrapper_tokens} wrappers = {tokens + info.wrapper_tokens:,}).")
    return (f"{info.name} sees {height} x {width} px as {resized_h} x {resized_w} px = "
            f"{resized_h // info.factor} x {resized_w // info.factor} cells of {info.factor} px: {tokens:,} tokens "
            f"(+{info.wrapper_tokens} wrappers = {tokens + info.wrapper_tokens:,}).")
