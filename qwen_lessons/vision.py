"""Lesson 5 (05_vision_token_budgets): exact image and video token counts of the Qwen vision-language generations.

The counting follows the resize rule the Qwen preprocessing helper (qwen-vl-utils) and the transformers
processors apply before the vision encoder (data/vision_generations.csv and data/vision_pixel_budgets.csv
say which constants each generation uses, with sources). Public names used in the exercises:
``smart_resize``, ``image_tokens``, ``video_tokens``. A whole prompt's budget is in ``qwen_lessons.prompts``,
pictures (headers, previews, the overlay) in ``qwen_lessons.pictures``, the widgets in
``qwen_lessons.widgets.vision_token_budgets``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qwen_lessons.data import cached, read_table, row_as_dict
from qwen_lessons.language import translate as _
from qwen_lessons import validation
from qwen_lessons.validation import checked

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
    vocabulary: str | None = None  # the language model's tokenizer vocabulary (lesson 2); counts timestamp text


@checked
def generations_table() -> pd.DataFrame:
    """Return data/vision_generations.csv with explicit dtypes: one row per vision-language generation."""
    return read_table(GENERATIONS_FILE)


@checked
def budgets_table() -> pd.DataFrame:
    """Return data/vision_pixel_budgets.csv: the named min_pixels/max_pixels settings."""
    return read_table(BUDGETS_FILE)


@checked
def samples_table() -> pd.DataFrame:
    """Return data/vision_samples.csv: the course's sample pictures with their sizes."""
    return read_table(SAMPLES_FILE)


@checked
def generation_keys() -> list[str]:
    """The generation names accepted by the counting functions, oldest first."""
    return list(generations_table()["generation"])


@checked
def budget_keys() -> list[str]:
    """The budget names accepted by the counting functions."""
    return list(budgets_table()["budget"])


@checked
@cached
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
        video_timestamps=bool(row["video_timestamps"]), vocabulary=row["vocabulary"],
    )


@checked
@cached  # a dict: each call gets its own copy
def budget_row(budget: str) -> dict:
    table = budgets_table()
    match = table[table["budget"] == budget]
    if match.empty:
        raise ValueError(f"budget must be one of {list(table['budget'])}, got {budget!r}")
    return row_as_dict(match.iloc[0])


@checked
def pixel_bounds(generation: str = DEFAULT_GENERATION, budget: str = DEFAULT_BUDGET,
                 min_pixels=None, max_pixels=None) -> tuple[int, int, str]:
    """(min_pixels, max_pixels, rules) of a named budget for a generation; explicit pixels override the budget."""
    return _bounds(generation_info(generation), budget, min_pixels, max_pixels)


def _bounds(info: Generation, budget: str, min_pixels, max_pixels) -> tuple[int, int, str]:
    """pixel_bounds for a generation already looked up (the counting functions look it up once, then pass it on)."""
    if info.fixed_input:
        raise ValueError(f"generation {info.key!r} resizes every image to {info.fixed_side}x{info.fixed_side}; "
                         "it has no pixel budget")
    row = budget_row(budget)
    if row["applies_to"] not in ("all", info.key):
        raise ValueError(f"budget {budget!r} is the setting of generation {row['applies_to']!r}; "
                         f"use it with generation={row['applies_to']!r}")
    factor = info.factor
    low = row["min_pixels"] if row["min_tokens"] is None else row["min_tokens"] * factor * factor
    high = row["max_pixels"] if row["max_tokens"] is None else row["max_tokens"] * factor * factor
    low = low if min_pixels is None else min_pixels
    high = high if max_pixels is None else max_pixels
    validation.in_order("min_pixels", low, "max_pixels", high)
    return low, high, row["rules"]


# ---------------------------------------------------------------- input checks


@checked
def check_side(name: str, value) -> int:
    """A side length as int; ValueError unless it is a whole number from 1 to MAX_SIDE (the layer's pixel rule)."""
    return validation.SIDE(name, value)


def _check_ratio(height: int, width: int) -> None:
    # integer test: equivalent to the reference's float division for sides up to MAX_SIDE
    if max(height, width) > MAX_RATIO * min(height, width):
        raise ValueError(f"height and width: the long side may be at most {MAX_RATIO} times the short side, "
                         f"got {height}x{width} (ratio {max(height, width) / min(height, width):.1f})")


# The arguments of the resize rule itself (each by its one rule in qwen_lessons.validation)
_RESIZE_RULES = {"factor": validation.FACTOR, "min_pixels": validation.PIXELS, "max_pixels": validation.PIXELS,
                 "rules": validation.one_of(*RULES)}


# ---------------------------------------------------------------- resizing and image tokens


@checked(**_RESIZE_RULES)
def smart_resize(height, width, factor=28, min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28, *,
                 rules="qwen-vl-utils") -> tuple[int, int]:
    """The (height, width) a native-resolution Qwen VL model resizes an image to: multiples of factor, within the budget."""
    validation.in_order("min_pixels", min_pixels, "max_pixels", max_pixels)
    _check_ratio(height, width)
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
    if not resized_h or not resized_w:  # the reference helper would hand the model an image without pixels
        raise ValueError(f"max_pixels is too small for a {height}x{width} image: the {rules} rules would resize it to "
                         f"{resized_h}x{resized_w} pixels, which cannot be encoded; raise max_pixels")
    return resized_h, resized_w


@checked
def resized_size(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                 budget=DEFAULT_BUDGET) -> tuple[int, int]:
    """The (height, width) the model of this generation sees for an image of this size."""
    return _resized(height, width, generation_info(generation), min_pixels, max_pixels, budget)


def _resized(height: int, width: int, info: Generation, min_pixels, max_pixels, budget: str) -> tuple[int, int]:
    if info.fixed_input:
        if min_pixels is not None or max_pixels is not None:
            raise ValueError(f"min_pixels/max_pixels do not apply to {info.key!r}: it resizes every image "
                             f"to {info.fixed_side}x{info.fixed_side}")
        return info.fixed_side, info.fixed_side
    low, high, rules = _bounds(info, budget, min_pixels, max_pixels)
    return smart_resize(height, width, info.factor, low, high, rules=rules)


@checked
def image_tokens(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                 budget=DEFAULT_BUDGET) -> int:
    """Visual tokens of one image (without the two wrapper tokens); None pixels = the generation's helper default."""
    return _image_tokens(height, width, generation_info(generation), min_pixels, max_pixels, budget)


def _image_tokens(height: int, width: int, info: Generation, min_pixels, max_pixels, budget: str) -> int:
    resized_h, resized_w = _resized(height, width, info, min_pixels, max_pixels, budget)
    if info.fixed_input:
        return info.fixed_tokens
    if resized_h == 0 or resized_w == 0:
        raise ValueError(f"max_pixels is too small for a {height}x{width} image: the helper would resize it to "
                         f"{resized_h}x{resized_w} pixels, which cannot be encoded; raise max_pixels")
    return (resized_h // info.factor) * (resized_w // info.factor)


@checked
def image_sequence_tokens(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                          budget=DEFAULT_BUDGET) -> int:
    """Tokens one image takes in the prompt: visual tokens plus its two wrapper tokens."""
    info = generation_info(generation)
    return _image_tokens(height, width, info, min_pixels, max_pixels, budget) + info.wrapper_tokens


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


@checked(**_RESIZE_RULES)
def smart_resize_many(heights, widths, factor=28, min_pixels=4 * 28 * 28, max_pixels=16384 * 28 * 28, *,
                      rules="qwen-vl-utils") -> tuple[np.ndarray, np.ndarray]:
    """smart_resize over arrays of sizes at once; returns int64 arrays equal to the scalar results."""
    heights, widths = _sides("heights", heights), _sides("widths", widths)
    if heights.shape != widths.shape:
        raise ValueError(f"heights and widths must have the same length, got {len(heights)} and {len(widths)}")
    validation.in_order("min_pixels", min_pixels, "max_pixels", max_pixels)
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
    empty = (resized_h == 0) | (resized_w == 0)
    if empty.any():  # the reference helper would hand the model an image without pixels
        index = int(np.flatnonzero(empty)[0])
        raise ValueError(f"max_pixels is too small for heights[{index}] x widths[{index}] = "
                         f"{heights[index]}x{widths[index]}: the {rules} rules would resize it to a zero side; "
                         f"raise max_pixels")
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
    low, high, rules = _bounds(info, budget, min_pixels, max_pixels)
    resized_h, resized_w = smart_resize_many(heights, widths, info.factor, low, high, rules=rules)
    zero = (resized_h == 0) | (resized_w == 0)
    if zero.any():
        index = int(np.flatnonzero(zero)[0])
        raise ValueError(f"max_pixels is too small: size {index} would be resized to a zero side; raise max_pixels")
    return resized_h, resized_w, (resized_h // info.factor) * (resized_w // info.factor)


@checked
def image_tokens_many(heights, widths, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                      budget=DEFAULT_BUDGET) -> np.ndarray:
    """image_tokens for arrays of sizes: an int64 array, equal element by element to the scalar function."""
    return _resize_table(heights, widths, generation, min_pixels, max_pixels, budget)[2]


@checked
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


@checked
def explain_resize(height, width, generation=DEFAULT_GENERATION, min_pixels=None, max_pixels=None, *,
                   budget=DEFAULT_BUDGET) -> list[str]:
    """The arithmetic of one image count, step by step, as lines of text (same numbers as image_tokens)."""
    info = generation_info(generation)
    if info.fixed_input:
        _resized(height, width, info, min_pixels, max_pixels, budget)
        said = {"name": info.name, "side": info.fixed_side, "tokens": info.fixed_tokens, "wrappers": info.wrapper_tokens,
                "total": info.fixed_tokens + info.wrapper_tokens}
        return [_("{name} squeezes every image to {side} x {side} px (aspect ratio not kept).").format(**said),
                _("A resampler turns it into {tokens} tokens, whatever the input size.").format(**said),
                _("In the prompt: {tokens} + {wrappers} wrapper tokens = {total}.").format(**said)]
    low, high, rules = _bounds(info, budget, min_pixels, max_pixels)
    factor = info.factor
    resized_h, resized_w = smart_resize(height, width, factor, low, high, rules=rules)
    rounded_h, rounded_w = round(height / factor) * factor, round(width / factor) * factor
    if rules == "qwen-vl-utils":
        rounded_h, rounded_w = max(factor, rounded_h), max(factor, rounded_w)
    lines = [
        _("factor = patch {patch} px x merge {merge} = {factor} px per token side").format(
            patch=info.patch_size, merge=info.merge_size, factor=factor),
        _("round each side to a multiple of {factor}: ").format(factor=factor)
        + f"{height}/{factor} = {height / factor:.3f} -> {rounded_h // factor} -> {rounded_h} px; {width}/{factor} = "
        f"{width / factor:.3f} -> {rounded_w // factor} -> {rounded_w} px",
    ]
    area = rounded_h * rounded_w
    if area > high:
        beta = math.sqrt(height * width / high)
        lines.append(f"{rounded_h} x {rounded_w} = {area:,} px" + _(" is above max_pixels {high}: scale down by beta = "
                     "{formula} = {beta} and round each side DOWN: ").format(
            high=f"{high:,.0f}", formula=f"sqrt({height}*{width} / {high:,.0f})", beta=f"{beta:.4f}")
                     + f"{resized_h} x {resized_w} px")
    elif area < low:
        beta = math.sqrt(low / (height * width))
        lines.append(f"{rounded_h} x {rounded_w} = {area:,} px" + _(" is below min_pixels {low}: scale up by beta = "
                     "{formula} = {beta} and round each side UP: ").format(
            low=f"{low:,.0f}", formula=f"sqrt({low:,.0f} / ({height}*{width}))", beta=f"{beta:.4f}")
                     + f"{resized_h} x {resized_w} px")
    else:
        lines.append(f"{rounded_h} x {rounded_w} = {area:,} px" + _(" is within [{low}, {high}]: keep it").format(
            low=f"{low:,.0f}", high=f"{high:,.0f}"))
    tokens = (resized_h // factor) * (resized_w // factor)
    lines.append(f"tokens = ({resized_h}/{factor}) x ({resized_w}/{factor}) = {resized_h // factor} x "
                 f"{resized_w // factor} = {tokens:,}" + _("; in the prompt {tokens} + {wrappers} wrapper tokens = "
                                                           "{total}").format(tokens=f"{tokens:,}",
                                                                             wrappers=info.wrapper_tokens,
                                                                             total=f"{tokens + info.wrapper_tokens:,}"))
    return lines


# ---------------------------------------------------------------- video


@dataclass(frozen=True)
class VideoPlan:
    """How one video is sampled, resized and counted (the rules of one generation's preprocessing).

    min_pixels and max_pixels are per frame; where the budget covers all frames together (Qwen3.5/3.6) they are
    that budget divided by the sampled frames."""

    generation: str
    height: int
    width: int
    duration_s: float
    source_fps: float
    total_frames: int
    fps: float
    frames: int
    min_pixels: float
    max_pixels: float
    resized_height: int
    resized_width: int
    tokens_per_group: int
    groups: int
    visual_tokens: int
    wrapper_tokens: int
    timestamps: tuple[str, ...]

    def timestamp_tokens(self) -> int:
        """Text tokens of the per-group timestamps (Qwen3-VL, Qwen3.5/3.6), counted with the generation's tokenizer."""
        vocabulary = generation_info(self.generation).vocabulary
        return sum(_count_text_tokens(stamp, vocabulary) for stamp in self.timestamps)

    def total_tokens(self) -> int:
        """All tokens the video takes in the prompt: visual + wrapper + timestamp text."""
        return self.visual_tokens + self.wrapper_tokens + self.timestamp_tokens()


@checked(total_frames=validation.integer(2, 100_000_000, "frames: a video needs two"))
def sampled_frames(total_frames: int, source_fps: float, fps: float = 2.0, generation=DEFAULT_GENERATION) -> int:
    """How many frames the helper samples from a clip: about fps per second, even, within its frame limits."""
    info = _video_info(generation)
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


@checked
def video_plan(height, width, duration_s, fps=2.0, generation=DEFAULT_GENERATION, *,
               source_fps=DEFAULT_SOURCE_FPS, min_pixels=None, max_pixels=None, total_pixels=None) -> VideoPlan:
    """Sample, resize and count one video the way the generation's preprocessing helper does."""
    info = _video_info(generation)
    total_frames = round(duration_s * source_fps)
    if total_frames < 2:
        raise ValueError(f"duration_s: {duration_s:g} s at {source_fps:g} fps is {total_frames} frame(s); "
                         "a video needs at least two frames")
    frames = sampled_frames(total_frames, source_fps, fps, generation)
    factor = info.factor
    low = info.video_min_tokens * factor * factor if min_pixels is None else min_pixels
    total = info.video_total_pixels if total_pixels is None else total_pixels
    if info.video_max_tokens is None:
        # no per-frame cap (transformers' Qwen3-VL video processor, used by Qwen3.5/3.6): the row's minimum and
        # total bound the pixels of all frames together; min_pixels/max_pixels, if given, are per frame
        low = low if min_pixels is None else low * frames
        high = total if max_pixels is None else min(max_pixels * frames, total)
        validation.in_order("min_pixels", low, "max_pixels", high)
        resized_h, resized_w = _video_smart_resize(frames, height, width, factor, low, high,
                                                   temporal_factor=info.temporal_patch_size)
        low, high = low / frames, high / frames  # reported per frame, like the helper's budget
    else:
        # the helper's per-frame cap: share the total budget over the frames, but never below 1.05 x min_pixels
        cap = max(min(info.video_max_tokens * factor * factor, total / frames * info.frame_factor), int(low * 1.05))
        high = cap if max_pixels is None else min(max_pixels, cap)
        validation.in_order("min_pixels", low, "max_pixels", high)
        resized_h, resized_w = smart_resize(height, width, factor, low, high, rules="qwen-vl-utils")
    if resized_h == 0 or resized_w == 0:
        raise ValueError(f"max_pixels is too small for {height}x{width} frames; raise max_pixels")
    per_group = (resized_h // factor) * (resized_w // factor)
    groups = math.ceil(frames / info.temporal_patch_size)
    stamps = _timestamps(total_frames, frames, source_fps, info.temporal_patch_size) if info.video_timestamps else ()
    wrappers = info.wrapper_tokens * (groups if info.video_timestamps else 1)
    return VideoPlan(generation, height, width, duration_s, source_fps, total_frames, fps, frames, low, high,
                     resized_h, resized_w, per_group, groups, groups * per_group, wrappers, stamps)


def _video_smart_resize(frames: int, height: int, width: int, factor: int, min_pixels, max_pixels, *,
                        temporal_factor: int = 2) -> tuple[int, int]:
    """The transformers 5.x Qwen3-VL video resize: like smart_resize, but min_pixels and max_pixels bound the
    pixels of all frames (frames x height x width), and a side under one factor is first scaled up to it."""
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    _check_ratio(height, width)
    resized_h, resized_w = round(height / factor) * factor, round(width / factor) * factor
    # the comparison uses the frame count rounded to the temporal patch, the scale the frame count itself
    rounded_frames = round(frames / temporal_factor) * temporal_factor
    if rounded_frames * resized_h * resized_w > max_pixels:
        beta = math.sqrt(frames * height * width / max_pixels)
        resized_h = max(factor, math.floor(height / beta / factor) * factor)
        resized_w = max(factor, math.floor(width / beta / factor) * factor)
    elif rounded_frames * resized_h * resized_w < min_pixels:
        beta = math.sqrt(min_pixels / (frames * height * width))
        resized_h = math.ceil(height * beta / factor) * factor
        resized_w = math.ceil(width * beta / factor) * factor
    return resized_h, resized_w


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


@checked
def video_tokens(height, width, duration_s, fps=2.0, generation=DEFAULT_GENERATION) -> int:
    """Visual tokens of one video (the <|video_pad|> count, without wrapper or timestamp tokens)."""
    return video_plan(height, width, duration_s, fps, generation).visual_tokens


# ---------------------------------------------------------------- text tokens (video timestamps)


@checked
def count_text_tokens(text: str, vocabulary: str | None = None) -> int:
    """Tokens of plain text with the real Qwen tokenizer of lesson 2 (qwen_lessons.tokens.encode); vocabulary
    None is its default (Qwen2 to Qwen3), "qwen3.5" the Qwen3.5/3.6 one."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    return _count_text_tokens(text, vocabulary)


@cached(maxsize=8192)
def _count_text_tokens(text: str, vocabulary: str | None = None) -> int:
    if not text:
        return 0
    from qwen_lessons import tokens  # lesson 2's tokenizer; loaded only when text is counted

    return len(tokens.encode(text, vocabulary=vocabulary))  # None: the default vocabulary


# ---------------------------------------------------------------- one rule for a claimed token band (lessons 1 and 5)


@checked(low=validation.TOKENS, high=validation.TOKENS)
def band_verdict(counts: dict[str, int], low: int, high: int) -> tuple[str, str]:
    """Decide "an image costs low-high tokens" from each generation's count: 'true' when every count is inside
    the band (its edges included), 'partly true' when some are, 'false' when none is; and one sentence that
    says which generations give what. Lessons 1 and 5 both decide the 448 x 448 claim with it."""
    if not counts:
        raise ValueError("counts must name at least one generation and its token count")
    validation.in_order("low", low, "high", high)
    inside = [name for name, tokens in counts.items() if low <= tokens <= high]
    below = [name for name, tokens in counts.items() if tokens < low]
    above = [name for name, tokens in counts.items() if tokens > high]
    verdict = "true" if len(inside) == len(counts) else ("partly true" if inside else "false")
    parts = [f"{len(inside)} of {len(counts)} generations fall inside {low}-{high}"]
    if inside and all(counts[name] == low for name in inside):
        parts[0] += f", all of them at exactly {low}, its bottom edge"
    if below:
        parts.append(f"{', '.join(below)} give fewer (down to {min(counts[name] for name in below)})")
    if above:
        parts.append(f"{', '.join(above)} give more (up to {max(counts[name] for name in above)})")
    if not above:
        parts.append(f"none reaches {high}; the most is {max(counts.values())}")
    return verdict, "; ".join(parts) + "."
