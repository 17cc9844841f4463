"""Lesson 5: image and video token counts, the planner, the claim check, pictures and widgets."""

from __future__ import annotations

import datetime
import io
import math
import struct
import tracemalloc
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qwen_lessons import vision
from qwen_lessons.checks import vision_token_budgets as checks
from qwen_lessons.data import data_path
from qwen_lessons.lessons import family_map as family_map_lessons
from qwen_lessons import pictures
from qwen_lessons import prompts
from qwen_lessons.lessons import vision_token_budgets as vision_token_budgets_lessons

F28, F32 = 28, 32
HELPER_28 = (4 * 28 * 28, 16384 * 28 * 28)  # qwen-vl-utils defaults at factor 28: 3,136 .. 12,845,056 px
HF_CLASS = (56 * 56, 28 * 28 * 1280)  # transformers Qwen2VLImageProcessor class default: 3,136 .. 1,003,520 px

# ---------------------------------------------------------------- worked examples (shared/reference/vision_tokens.md §3)

# input (H, W) -> (resized H, resized W, tokens) per column of the reference table
WORKED = {
    (1080, 1920): [(1092, 1932, 2691), (728, 1316, 1222), (1088, 1920, 2040), (1088, 1920, 2040)],
    (480, 640): [(476, 644, 391), (476, 644, 391), (480, 640, 300), (480, 640, 300)],
    (2048, 2048): [(2044, 2044, 5329), (980, 980, 1225), (2048, 2048, 4096), (2048, 2048, 4096)],
    (100, 100): [(112, 112, 16), (112, 112, 16), (96, 96, 9), (256, 256, 64)],
    (4000, 3000): [(4004, 2996, 15301), (1148, 840, 1230), (4000, 3008, 11750), (4000, 3008, 11750)],
}
COLUMNS = [("qwen2.5-vl", "qwen-vl-utils"), ("qwen2.5-vl", "transformers-class"),
           ("qwen3-vl", "qwen-vl-utils"), ("qwen3-vl", "qwen3-vl-checkpoint")]


@pytest.mark.parametrize("size", list(WORKED), ids=lambda size: f"{size[0]}x{size[1]}")
def test_worked_examples_of_the_reference(size):
    for (generation, budget), (height, width, tokens) in zip(COLUMNS, WORKED[size], strict=True):
        assert vision.resized_size(*size, generation, budget=budget) == (height, width)
        assert vision.image_tokens(*size, generation, budget=budget) == tokens


def test_worked_examples_table_shows_the_same_numbers():
    table = vision_token_budgets_lessons.worked_examples()
    assert table.iloc[0, 1] == "1092 x 1932 -> 2,691"
    assert table.iloc[4, 4] == "4000 x 3008 -> 11,750"


def test_smart_resize_public_defaults_are_the_helper_defaults():
    # the signature: factor=28, min_pixels=4*28*28, max_pixels=16384*28*28
    assert vision.smart_resize(1080, 1920) == (1092, 1932)
    assert vision.smart_resize(4000, 3000) == (4004, 2996)
    assert vision.smart_resize(2048, 2048, 28, *HF_CLASS, rules="transformers") == (980, 980)


def test_qwen3_vl_worked_example_by_hand():
    # 1080/32 = 33.75 -> 34 -> 1088; 1920/32 = 60 -> 1920; 34 * 60 = 2040 tokens
    assert vision.smart_resize(1080, 1920, 32, 4 * 32 * 32, 16384 * 32 * 32) == (34 * 32, 60 * 32)
    assert vision.image_tokens(1080, 1920, "qwen3-vl") == 34 * 60


# ---------------------------------------------------------------- equal to the reference implementations


def _number(text: str):
    return float(text) if "." in text else int(text)


@pytest.fixture(scope="module")
def reference_resizes() -> pd.DataFrame:
    return pd.read_csv(data_path("vision_reference_resizes.csv"), dtype=str, keep_default_na=False)


def _rules(implementation: str) -> str:
    """The resize rule of a reference implementation: 'transformers 5.24.0' keeps the transformers rule."""
    return implementation.split()[0]


def test_reference_table_covers_both_implementations_and_factors(reference_resizes):
    assert set(reference_resizes["implementation"]) == {"qwen-vl-utils", "transformers", "transformers 5.24.0",
                                                       "transformers 5.25.0"}
    assert set(reference_resizes["factor"]) == {"28", "32"}
    assert len(reference_resizes) > 1500
    assert (reference_resizes["source"].str.len() > 0).all()


def test_scalar_smart_resize_equals_reference_on_every_row(reference_resizes):
    mismatches = []
    for row in reference_resizes.itertuples():
        arguments = (int(row.height), int(row.width), int(row.factor), _number(row.min_pixels), _number(row.max_pixels))
        if 0 in (int(row.resized_height), int(row.resized_width)):  # the helper's zero side: refused (issue 29)
            with pytest.raises(ValueError, match="^max_pixels is too small"):
                vision.smart_resize(*arguments, rules=_rules(row.implementation))
            continue
        got = vision.smart_resize(*arguments, rules=_rules(row.implementation))
        if got != (int(row.resized_height), int(row.resized_width)):
            mismatches.append((row.Index, got))
    assert not mismatches


def test_vectorised_smart_resize_equals_reference_on_every_row(reference_resizes):
    groups = reference_resizes.groupby(["implementation", "factor", "min_pixels", "max_pixels"])
    for (implementation, factor, low, high), rows in groups:
        zero = (rows["resized_height"].astype(int) == 0) | (rows["resized_width"].astype(int) == 0)
        for _, row in rows[zero].iterrows():  # the helper's zero side: refused (issue 29)
            with pytest.raises(ValueError, match="^max_pixels is too small"):
                vision.smart_resize_many([int(row.height)], [int(row.width)], int(factor), _number(low), _number(high),
                                         rules=_rules(implementation))
        rows = rows[~zero]
        if rows.empty:
            continue
        heights, widths = vision.smart_resize_many(rows["height"].astype(int), rows["width"].astype(int), int(factor),
                                                   _number(low), _number(high), rules=_rules(implementation))
        np.testing.assert_array_equal(heights, rows["resized_height"].astype(int).to_numpy())
        np.testing.assert_array_equal(widths, rows["resized_width"].astype(int).to_numpy())


def test_the_two_implementations_really_differ_somewhere(reference_resizes):
    # otherwise the rules argument would be untested
    pivot = reference_resizes.pivot_table(index=["budget", "factor", "height", "width"], columns="implementation",
                                          values="resized_height", aggfunc="first")
    assert (pivot["qwen-vl-utils"] != pivot["transformers"]).any()


def test_frame_counts_equal_reference_on_every_row():
    table = pd.read_csv(data_path("vision_reference_frames.csv"), dtype=str)
    generation = {"qwen-vl-utils 0.0.8": "qwen2-vl", "qwen-vl-utils 0.0.14": "qwen2.5-vl",
                  "transformers 5.24.0": "qwen3.5", "transformers 5.25.0": "qwen3.5"}
    for row in table.itertuples():
        got = vision.sampled_frames(int(row.total_frames), float(row.video_fps), float(row.fps),
                                    generation[row.implementation])
        assert got == int(row.nframes), row
    assert set(table["implementation"]) == set(generation)


# ---------------------------------------------------------------- counts that fall as the input grows (issue 31)
# A learner reads these as nonsense; the references return the same, so the package keeps them and lesson 5 shows
# them. Both sweeps are recorded from the released wheels by scripts/make_vision_reference.py.


def _cells(height, width, factor=F28) -> int:
    return (int(height) // factor) * (int(width) // factor)


def test_a_wider_picture_costs_fewer_tokens_in_the_transformers_reference_too(reference_resizes):
    rows = reference_resizes[(reference_resizes["implementation"] == "transformers")
                             & (reference_resizes["budget"] == "hf-class") & (reference_resizes["height"] == "266")]
    reference = {int(row.width): _cells(row.resized_height, row.resized_width) for row in rows.itertuples()}
    assert reference[3151] == 1130 and reference[5321] == 1120  # the wider picture: fewer tokens
    assert {width: vision.image_tokens(266, width, "qwen2-vl", budget="transformers-class")
            for width in (3151, 5321)} == {3151: 1130, 5321: 1120}
    sweep = vision_token_budgets_lessons.width_sweep()
    assert dict(zip(sweep["width"], sweep["tokens"], strict=True)) == {width: reference[width] for width in sweep["width"]}
    falls = sweep[sweep["falls"]]
    assert 5321 in set(falls["width"]) and len(falls) >= 2  # the figure has dips to mark


def test_a_longer_clip_costs_fewer_tokens_in_the_helper_reference_too(reference_resizes):
    frames = pd.read_csv(data_path("vision_reference_frames.csv"), dtype=str)
    frames = frames[(frames["implementation"] == "qwen-vl-utils 0.0.14") & (frames["video_fps"] == "30.0")
                    & (frames["fps"] == "2.0")].set_index("total_frames")["nframes"]
    caps = reference_resizes[(reference_resizes["budget"] == "video-sweep") & (reference_resizes["height"] == "720")]
    by_cap = {float(row.max_pixels): (int(row.resized_height), int(row.resized_width)) for row in caps.itertuples()}
    reference = {}
    for seconds in vision_token_budgets_lessons.SWEEP_SECONDS:
        plan = vision.video_plan(720, 1280, seconds, 2.0, "qwen2.5-vl")
        assert plan.frames == int(frames[str(seconds * 30)]), seconds
        assert (plan.resized_height, plan.resized_width) == by_cap[plan.max_pixels], seconds
        reference[seconds] = plan.frames // 2 * _cells(*by_cap[plan.max_pixels])
        assert plan.visual_tokens == reference[seconds], seconds
    assert reference[192] == 110_592 > reference[264] == 106_920  # the longer clip: fewer tokens
    sweep = vision_token_budgets_lessons.duration_sweep()
    assert dict(zip(sweep["seconds"], sweep["tokens"], strict=True)) == reference
    assert sweep["falls"].sum() >= 2 and not sweep["falls"].iloc[0]


# ---------------------------------------------------------------- Qwen3.5 / Qwen3.6: the transformers 5.x processors


def test_qwen35_image_rows_are_counted_from_the_generation_row(reference_resizes):
    # every transformers 5.x row, through the public path: generation qwen3.5 with its checkpoint budget
    rows = reference_resizes[reference_resizes["implementation"].str.startswith("transformers 5.")]
    assert len(rows) > 160 and set(rows["budget"]) == {"qwen3.5-checkpoint"}
    for row in rows.itertuples():
        height, width = int(row.height), int(row.width)
        expected = (int(row.resized_height), int(row.resized_width))
        assert vision.resized_size(height, width, "qwen3.5", budget="qwen3.5-checkpoint") == expected, row
        assert vision.image_tokens(height, width, "qwen3.5", budget="qwen3.5-checkpoint") == \
            (expected[0] // 32) * (expected[1] // 32)


def test_qwen35_video_resize_equals_reference_on_every_row():
    table = pd.read_csv(data_path("vision_reference_video_resizes.csv"), dtype=str)
    assert set(table["implementation"]) == {"transformers 5.24.0", "transformers 5.25.0"} and len(table) > 400
    for row in table.itertuples():
        frames = int(row.num_frames)
        # at 2 fps from a 2 fps clip the processor keeps every frame, so the plan resizes exactly `frames` frames
        plan = vision.video_plan(int(row.height), int(row.width), frames / 2, 2.0, "qwen3.5", source_fps=2.0)
        assert plan.frames == frames
        assert (plan.resized_height, plan.resized_width) == (int(row.resized_height), int(row.resized_width)), row
        assert plan.visual_tokens == math.ceil(frames / 2) * (plan.resized_height // 32) * (plan.resized_width // 32)


def test_the_vision_rules_are_the_same_in_every_recorded_transformers_release(reference_resizes):
    # issue 31 item 4: the vision counts take no transformers_version because the resize and frame rules did not
    # change; the rows recorded from each release's published code must say so (a change would show up here)
    from qwen_lessons import audio

    releases = [f"transformers {version}" for version in audio.transformers_versions() if version.startswith("5.")]
    assert f"transformers {audio.current_transformers_version()}" in releases and len(releases) == 2
    tables = {
        "image": (reference_resizes, ["budget", "factor", "min_pixels", "max_pixels", "height", "width"],
                  ["resized_height", "resized_width"]),
        "video": (pd.read_csv(data_path("vision_reference_video_resizes.csv"), dtype=str),
                  ["budget", "num_frames", "height", "width"], ["resized_height", "resized_width"]),
        "frames": (pd.read_csv(data_path("vision_reference_frames.csv"), dtype=str),
                   ["total_frames", "video_fps", "fps"], ["nframes"]),
    }
    for name, (table, keys, outputs) in tables.items():
        first, current = (table[table["implementation"] == release].set_index(keys)[outputs] for release in releases)
        assert len(first) > 80 and first.index.equals(current.index), name
        assert first.equals(current), name
    # and the image rule of the last 4.x release gives the same sizes as the current one on the same grid and
    # pixels (the Qwen3-VL checkpoint budget of the 4.57.6 rows is the Qwen3.5 one: 65,536 to 16,777,216 px)
    old = reference_resizes[(reference_resizes["implementation"] == "transformers")
                            & (reference_resizes["budget"] == "qwen3-checkpoint")]
    assert old["source"].str.contains("transformers==4.57.6").all()
    new = reference_resizes[reference_resizes["implementation"] == releases[-1]]
    sizes = ["factor", "min_pixels", "max_pixels", "height", "width"]
    old, new = (rows.set_index(sizes)[["resized_height", "resized_width"]].sort_index() for rows in (old, new))
    assert len(old) > 80 and old.index.equals(new.index) and old.equals(new)


def test_qwen35_video_by_hand():
    # 60 s x 30 fps = 1800 frames -> int(1800 / 30 x 2) = 120 sampled; budget over all frames 25,165,824 px:
    # 720 -> round(22.5) = 22 -> 704, 1280 -> 1280; 120 x 704 x 1280 > budget, so beta = sqrt(120 x 921,600 /
    # 25,165,824) = 2.0963; floor(720 / 2.0963 / 32) = 10 -> 320, floor(1280 / 2.0963 / 32) = 19 -> 608
    plan = vision.video_plan(720, 1280, 60, 2.0, "qwen3.5")
    assert (plan.frames, plan.resized_height, plan.resized_width) == (120, 320, 608)
    assert plan.groups == 60 and plan.visual_tokens == 60 * 10 * 19 == vision.video_tokens(720, 1280, 60, 2.0, "qwen3.5")
    assert plan.wrapper_tokens == 2 * 60 and len(plan.timestamps) == 60  # a timestamp per group, as in Qwen3-VL
    # the helper rule of Qwen3-VL caps each frame instead: the same clip costs more there
    assert vision.video_tokens(720, 1280, 60, 2.0, "qwen3-vl") > plan.visual_tokens


def test_qwen35_keeps_an_odd_frame_count_and_pads_the_last_group():
    # 2.5 s x 30 fps = 75 frames; int(75 / 30 x 2) = 5 frames (qwen-vl-utils would make it 4); ceil(5 / 2) = 3 groups
    plan = vision.video_plan(480, 640, 2.5, 2.0, "qwen3.5")
    assert plan.frames == 5 and plan.groups == 3
    assert vision.video_plan(480, 640, 2.5, 2.0, "qwen3-vl").frames == 4
    # indices linspace(0, 74, 5) = 0, 18.5 -> 18 (half to even), 37, 55.5 -> 56, 74; groups (0, 18), (37, 56) and
    # (74, 74 repeated): (0 + 18) / 2 / 30 = 0.3 s, (37 + 56) / 2 / 30 = 1.55 s, 74 / 30 = 2.47 s
    assert plan.timestamps == ("<0.3 seconds>", "<1.6 seconds>", "<2.5 seconds>")


def test_qwen35_image_budget_belongs_to_qwen35():
    assert vision.pixel_bounds("qwen3.5", "qwen3.5-checkpoint") == (65536, 16777216, "transformers")
    # 224 x 224 is below 65,536 px: upscaled to 256 x 256 = 64 tokens, the checkpoint's minimum
    assert vision.image_tokens(224, 224, "qwen3.5", budget="qwen3.5-checkpoint") == 64
    with pytest.raises(ValueError, match="generation='qwen3.5'"):
        vision.image_tokens(224, 224, "qwen3-vl", budget="qwen3.5-checkpoint")


def test_planner_counts_qwen35():
    plan = prompts.plan_prompt("Describe.", [(1080, 1920)], [(720, 1280, 60)], generation="qwen3.5",
                               budget="qwen3.5-checkpoint", context="256K")
    assert plan.image_tokens == 34 * 60 and plan.video_tokens == 60 * 10 * 19
    assert plan.video_wrapper_tokens == 120


def test_qwen36_catalog_rows_count_as_qwen35():
    # one generation row covers both series: the planner's catalog contexts map Qwen3.6 checkpoints to it
    assert prompts.generation_for_series("Qwen3.5") == "qwen3.5"
    assert prompts.generation_for_series("Qwen3.6") == "qwen3.5"
    assert prompts.generation_for_series("Qwen2.5-VL") == "qwen2.5-vl"
    assert prompts.generation_for_series("Qwen3") is None and prompts.generation_for_series("Qwen") is None


def test_qwen35_text_and_timestamps_use_its_own_vocabulary():
    from qwen_lessons import tokens

    assert vision.generation_info("qwen3.5").vocabulary == "qwen3.5"
    assert vision.generation_info("qwen3-vl").vocabulary == "qwen2"
    text = "Опишите это видео подробно, пожалуйста."  # 15 tokens in the Qwen2 vocabulary, 8 in Qwen3.5's
    assert len(tokens.encode(text)) != len(tokens.encode(text, vocabulary="qwen3.5"))
    assert prompts.plan_prompt(text, generation="qwen3.5").text_tokens == len(tokens.encode(text, vocabulary="qwen3.5"))
    assert prompts.plan_prompt(text, generation="qwen3-vl").text_tokens == len(tokens.encode(text))
    plan = vision.video_plan(480, 640, 4.0, 2.0, "qwen3.5")
    assert plan.timestamp_tokens() == sum(len(tokens.encode(stamp, vocabulary="qwen3.5")) for stamp in plan.timestamps)
    saved = prompts.knob_savings("Describe.", [(1080, 1920)], [(720, 1280, 60)], generation="qwen3.5",
                                 budget="qwen3.5-checkpoint", context="256K").set_index("knob")["tokens saved"]
    # the video budget covers all frames: half the frames get more pixels each, so fps / 2 saves (almost) nothing
    # (here it costs 35 tokens: 60 fewer wrappers and timestamps, 300 more visual tokens), unlike Qwen3-VL
    assert saved["max_pixels / 2"] > 0 and saved["resolution / 2"] > 0 and abs(saved["fps / 2"]) < 100
    assert prompts.knob_savings("Describe.", [], [(720, 1280, 60)], generation="qwen3-vl").set_index("knob").loc[
        "fps / 2", "tokens saved"] > 10_000


def test_qwen2_vl_rounds_frames_where_later_helpers_floor():
    # 90 frames at 30 fps sampled at 2.4 fps: 90 / 30 * 2.4 = 7.2 frames; round(7.2 / 2) * 2 = 8, floor -> 6
    assert vision.sampled_frames(90, 30.0, 2.4, "qwen2-vl") == 8
    assert vision.sampled_frames(90, 30.0, 2.4, "qwen2.5-vl") == 6


# ---------------------------------------------------------------- Python's round-half-to-even


def test_halves_round_to_even_like_python():
    # 1022 / 28 = 36.5 -> 36 (even), not 37; 1050 / 28 = 37.5 -> 38 (even)
    assert vision.smart_resize(1022, 1022) == (36 * 28, 36 * 28)
    assert vision.smart_resize(1050, 1050) == (38 * 28, 38 * 28)
    # 720 / 32 = 22.5 -> 22
    assert vision.resized_size(720, 1280, "qwen3-vl") == (22 * 32, 40 * 32)


@pytest.mark.parametrize("factor", [28, 32])
def test_vectorised_rounding_matches_python_on_every_half(factor):
    # every side of the form factor*k + factor/2 is an exact half; vectorised numpy must agree with Python
    halves = factor * np.arange(1, 3000) + factor // 2
    partner = np.clip(halves // 3 + 1, 1, None)
    for low, high in [(4 * factor**2, 16384 * factor**2), HF_CLASS]:
        heights, widths = vision.smart_resize_many(halves, partner, factor, low, high)
        expected = [vision.smart_resize(int(h), int(w), factor, low, high) for h, w in zip(halves, partner, strict=True)]
        assert list(zip(heights.tolist(), widths.tolist(), strict=True)) == expected


# ---------------------------------------------------------------- property tests

sides = st.integers(min_value=1, max_value=vision.MAX_SIDE)


def _ratio_ok(height: int, width: int) -> bool:
    return max(height, width) <= vision.MAX_RATIO * min(height, width)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(height=sides, width=sides, factor=st.sampled_from([28, 32]), low_tokens=st.integers(1, 2000),
       span=st.integers(0, 20000), as_float=st.booleans(), rules=st.sampled_from(vision.RULES))
def test_vectorised_equals_scalar_for_any_size_and_budget(height, width, factor, low_tokens, span, as_float, rules):
    if not _ratio_ok(height, width):
        return
    low = low_tokens * factor * factor
    high = low + span * factor * factor + (0.37 if as_float else 0)  # float caps occur for video frames
    try:
        heights, widths = vision.smart_resize_many([height], [width], factor, low, high, rules=rules)
    except ValueError as error:  # a zero side is refused by both (issue 29)
        assert str(error).startswith("max_pixels is too small")
        with pytest.raises(ValueError, match="^max_pixels is too small"):
            vision.smart_resize(height, width, factor, low, high, rules=rules)
        return
    assert (int(heights[0]), int(widths[0])) == vision.smart_resize(height, width, factor, low, high, rules=rules)


BUDGETS = [("qwen2.5-vl", "qwen-vl-utils"), ("qwen2.5-vl", "transformers-class"), ("qwen3-vl", "qwen-vl-utils"),
           ("qwen3-vl", "qwen3-vl-checkpoint"), ("qwen3-vl", "readme-example")]


@settings(max_examples=400, deadline=None)
@given(height=sides, width=sides, setting=st.sampled_from(BUDGETS))
def test_resize_properties_for_named_budgets(height, width, setting):
    if not _ratio_ok(height, width):
        return
    generation, budget = setting
    factor = vision.generation_info(generation).factor
    low, high, rules = vision.pixel_bounds(generation, budget)
    resized_h, resized_w = vision.smart_resize(height, width, factor, low, high, rules=rules)
    # dimensions are positive multiples of the factor
    assert resized_h % factor == 0 and resized_w % factor == 0 and resized_h > 0 and resized_w > 0
    # pixels within the bounds
    assert low <= resized_h * resized_w <= high
    # aspect ratio kept within one factor step: each side is within one factor of the uniformly scaled side
    rounded = max(factor, round(height / factor) * factor) * max(factor, round(width / factor) * factor)
    if rules == "transformers":
        rounded = round(height / factor) * factor * round(width / factor) * factor
    scale = 1.0
    if rounded > high:
        scale = 1 / math.sqrt(height * width / high)
    elif rounded < low:
        scale = math.sqrt(low / (height * width))
    assert abs(resized_h - height * scale) <= factor and abs(resized_w - width * scale) <= factor
    # the count is the number of cells, and resizing the output again changes nothing (when the output's own
    # ratio is allowed: near 200:1 the rounding can push it just past 200, and the reference then refuses it)
    assert vision.image_tokens(height, width, generation, budget=budget) == (resized_h // factor) * (resized_w // factor)
    if _ratio_ok(resized_h, resized_w):
        assert vision.smart_resize(resized_h, resized_w, factor, low, high, rules=rules) == (resized_h, resized_w)


@settings(max_examples=200, deadline=None)
@given(heights=st.lists(sides, min_size=1, max_size=50), generation=st.sampled_from(["qwen2-vl", "qwen3-omni"]))
def test_image_token_table_matches_scalar_counts(heights, generation):
    sizes = pd.DataFrame({"height": heights, "width": [max(1, h // 3) for h in heights]})
    table = vision.image_token_table(sizes, generation)
    assert list(table["tokens"]) == [vision.image_tokens(h, w, generation) for h, w in zip(sizes["height"], sizes["width"], strict=True)]


def test_vectorised_random_sizes_match_scalar():
    rng = np.random.default_rng(4)
    heights = np.exp(rng.uniform(0, np.log(50_000), 20_000)).astype(np.int64) + 1
    widths = np.clip((heights * np.exp(rng.uniform(-5, 5, heights.size))).astype(np.int64), 1, vision.MAX_SIDE)
    widths = np.clip(widths, (heights + 199) // 200, heights * 200)
    for generation in ("qwen2.5-vl", "qwen3-vl"):
        fast = vision.image_tokens_many(heights, widths, generation)
        slow = [vision.image_tokens(int(h), int(w), generation) for h, w in zip(heights, widths, strict=True)]
        assert fast.tolist() == slow


def test_hundred_thousand_sizes_vectorised():
    rng = np.random.default_rng(5)
    heights = rng.integers(1, 8000, 100_000)
    widths = np.clip(rng.integers(1, 8000, 100_000), (heights + 199) // 200, heights * 200)
    vision.image_tokens_many(heights[:10], widths[:10])
    tokens = vision.image_tokens_many(heights, widths)  # speed is measured in benchmarks/bench_vision.py
    assert tokens.shape == (100_000,) and (tokens >= 4).all() and (tokens <= 16384).all()


# ---------------------------------------------------------------- aspect ratio, Qwen-VL, wrappers, clamps


def test_aspect_ratio_200_is_allowed_and_201_is_not():
    assert vision.smart_resize(28, 5600) == (28, 5600)  # exactly 200:1
    with pytest.raises(ValueError, match="200 times"):
        vision.smart_resize(28, 5601)
    with pytest.raises(ValueError, match="200 times"):
        vision.image_tokens_many([28, 10], [28, 2011])


def test_qwen_vl_costs_256_whatever_the_size():
    for size in [(1, 1), (448, 448), (3000, 4000), (10, 5000)]:
        assert vision.image_tokens(*size, "qwen-vl") == 256
        assert vision.image_sequence_tokens(*size, "qwen-vl") == 258
    assert vision.image_tokens_many([1, 4000], [1, 3000], "qwen-vl").tolist() == [256, 256]
    with pytest.raises(ValueError, match="min_pixels/max_pixels do not apply"):
        vision.image_tokens(448, 448, "qwen-vl", max_pixels=1000)


def test_floating_point_step_of_the_reference_is_kept():
    # 38 x 38: rounds to 28 x 28 = 784 px < 3,136, so it grows by beta = sqrt(3136 / 1444); 38 x beta is
    # 56.00000000000001 in floating point, and ceil(56.00000000000001 / 28) = 3, not 2: 84 x 84 (the
    # reference does the same, see the 38,38 rows of vision_reference_resizes.csv), while 37 and 39 give 56 x 56
    assert [vision.smart_resize(side, side)[0] for side in (37, 38, 39)] == [56, 84, 56]


def test_wrapper_tokens_are_two_per_image():
    assert vision.image_sequence_tokens(1080, 1920) == 2691 + 2


def test_helper_clamps_rounding_but_transformers_does_not():
    # 10 x 1000, factor 28: helper rounds 10 up to one 28-px cell (28 x 1008 = 28,224 px >= min) and keeps it;
    # transformers rounds 10 to 0, so 0 < min_pixels and it scales up: beta = sqrt(3136 / 10000) = 0.56,
    # ceil(10 * 0.56 / 28) = 1 -> 28, ceil(1000 * 0.56 / 28) = 20 -> 560
    assert vision.smart_resize(10, 1000, 28, *HELPER_28) == (28, 1008)
    assert vision.smart_resize(10, 1000, 28, *HELPER_28, rules="transformers") == (28, 560)


def test_zero_side_of_the_helper_becomes_a_clear_error():
    # 100000 x 500 with max 50 tokens: the helper's shrink branch floors 500 / beta / 28 to 0
    with pytest.raises(ValueError, match="^max_pixels is too small for a 100000x500 image"):  # never (w, 0): issue 29
        vision.smart_resize(100000, 500, 28, 784, 50 * 784)
    with pytest.raises(ValueError, match="max_pixels is too small"):
        vision.image_tokens(100000, 500, "qwen2.5-vl", 784, 50 * 784)
    with pytest.raises(ValueError, match="max_pixels is too small"):
        vision.image_tokens_many([100000], [500], "qwen2.5-vl", 784, 50 * 784)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [0, -5, 480.5, True, "480", None, float("nan"), vision.MAX_SIDE + 1])
def test_bad_sides_name_the_argument(bad):
    with pytest.raises(ValueError, match="height"):
        vision.smart_resize(bad, 640)
    with pytest.raises(ValueError, match="width"):
        vision.image_tokens(480, bad)


def test_integral_floats_and_numpy_ints_are_accepted():
    assert vision.smart_resize(480.0, np.int64(640)) == (476, 644)


@pytest.mark.parametrize("heights", [[0, 10], [10, -1], [10.5, 20], [vision.MAX_SIDE + 1, 20], ["a", "b"]])
def test_bad_vectorised_sides_name_the_entry(heights):
    with pytest.raises(ValueError, match="heights"):
        vision.image_tokens_many(heights, [100, 100])


def test_bad_budgets_and_names():
    with pytest.raises(ValueError, match="min_pixels .* must not exceed max_pixels"):
        vision.smart_resize(480, 640, 28, 10_000, 5_000)
    with pytest.raises(ValueError, match="min_pixels"):
        vision.image_tokens(480, 640, min_pixels=0)
    with pytest.raises(ValueError, match="max_pixels"):
        vision.image_tokens(480, 640, max_pixels=-1)
    with pytest.raises(ValueError, match="factor"):
        vision.smart_resize(480, 640, factor=0)
    with pytest.raises(ValueError, match="rules"):
        vision.smart_resize(480, 640, rules="mine")
    with pytest.raises(ValueError, match="generation must be one of"):
        vision.image_tokens(480, 640, "no-such-vision")
    with pytest.raises(ValueError, match="budget must be one of"):
        vision.image_tokens(480, 640, budget="huge")
    with pytest.raises(ValueError, match="generation='qwen3-vl'"):
        vision.image_tokens(480, 640, "qwen2.5-vl", budget="qwen3-vl-checkpoint")
    with pytest.raises(ValueError, match="same length"):
        vision.image_tokens_many([10, 20], [10])


@pytest.mark.parametrize("kwargs, name", [
    ({"fps": 0}, "fps"), ({"fps": -1.0}, "fps"), ({"duration_s": 0}, "duration_s"),
    ({"duration_s": 0.03}, "duration_s"),  # 0.03 s x 30 fps = 1 frame: shorter than two frames
    ({"duration_s": float("inf")}, "duration_s"), ({"height": 0}, "height"),
])
def test_bad_video_inputs_name_the_argument(kwargs, name):
    arguments = {"height": 720, "width": 1280, "duration_s": 10.0, "fps": 2.0, **kwargs}
    with pytest.raises(ValueError, match=name):
        vision.video_tokens(**arguments)


def test_qwen_vl_takes_no_video():
    with pytest.raises(ValueError, match="no video"):
        vision.video_tokens(720, 1280, 10, generation="qwen-vl")


# ---------------------------------------------------------------- video by hand


def test_one_minute_of_720p_in_qwen25_vl_by_hand():
    # 60 s x 30 fps = 1800 frames; 1800 / 30 x 2 = 120 sampled (within 4..768, even)
    # per-frame cap = max(min(768 x 784 = 602,112, 90,316,800 / 120 x 2 = 1,505,280), int(100,352 x 1.05)) = 602,112
    # round: 720 -> 728, 1280 -> 1288; 728 x 1288 = 937,664 > 602,112: beta = sqrt(921,600 / 602,112) = 1.2372
    # floor(720 / 1.2372 / 28) = 20 -> 560; floor(1280 / 1.2372 / 28) = 36 -> 1008; 20 x 36 = 720 per frame pair
    plan = vision.video_plan(720, 1280, 60, 2.0, "qwen2.5-vl")
    assert (plan.total_frames, plan.frames, plan.max_pixels) == (1800, 120, 602_112)
    assert (plan.resized_height, plan.resized_width, plan.tokens_per_group) == (560, 1008, 720)
    assert plan.groups == 60 and plan.visual_tokens == 60 * 720 == vision.video_tokens(720, 1280, 60)
    assert plan.wrapper_tokens == 2 and plan.timestamps == ()


def test_one_hour_hits_the_frame_limit_and_the_total_budget():
    # 3600 s -> 216,000 frames -> 7200 at 2 fps, capped at 768; cap = 90,316,800 / 768 x 2 = 235,200 px per frame
    # beta = sqrt(921,600 / 235,200) = 1.97949; floor(720 / 1.97949 / 28) = 12 -> 336; floor(1280 / 1.97949 / 28) = 23
    plan = vision.video_plan(720, 1280, 3600, 2.0, "qwen2.5-vl")
    assert plan.frames == 768 and plan.max_pixels == 235_200
    assert (plan.resized_height, plan.resized_width) == (336, 644)
    assert plan.visual_tokens == 384 * 12 * 23


def test_short_clip_is_padded_up_to_the_minimum_frames():
    # 1 s at 30 fps = 30 frames; 1 x 2 = 2 sampled, raised to min_frames 4 -> 2 groups
    assert vision.video_plan(480, 640, 1.0, 2.0, "qwen2.5-vl").frames == 4


def test_qwen3_vl_writes_a_timestamp_per_group():
    # 4 s x 30 fps = 120 frames; 8 sampled at linspace(0, 119, 8) = 0, 17, 34, 51, 68, 85, 102, 119
    # group means: (0 + 17) / 2 / 30 = 0.283 s, (34 + 51) / 2 / 30 = 1.417 s, ..., (102 + 119) / 2 / 30 = 3.683 s
    plan = vision.video_plan(480, 640, 4.0, 2.0, "qwen3-vl")
    assert plan.frames == 8 and plan.groups == 4
    assert plan.timestamps[0] == "<0.3 seconds>" and plan.timestamps[1] == "<1.4 seconds>"
    assert plan.timestamps[3] == "<3.7 seconds>"
    assert plan.wrapper_tokens == 2 * 4
    # 480 x 640 at factor 32 is kept (307,200 px within 131,072 .. 786,432): 15 x 20 = 300 per group
    assert plan.visual_tokens == 4 * 15 * 20


def test_timestamp_text_is_counted_with_the_real_tokenizer():
    from qwen_lessons import tokens

    plan = vision.video_plan(480, 640, 4.0, 2.0, "qwen3-vl")
    assert plan.timestamp_tokens() == sum(len(tokens.encode(stamp)) for stamp in plan.timestamps)
    assert plan.total_tokens() == plan.visual_tokens + plan.wrapper_tokens + plan.timestamp_tokens()
    assert 4 * 4 <= plan.timestamp_tokens() <= 4 * 10  # a few text tokens per group


# ---------------------------------------------------------------- planner


def test_plan_adds_up_and_uses_the_real_tokenizer():
    from qwen_lessons import tokens

    text = "Compare the two photos."
    plan = prompts.plan_prompt(text, [(1080, 1920), (480, 640)], [(720, 1280, 60)], reserved_output=500, context="128K")
    assert plan.text_tokens == len(tokens.encode(text))
    assert plan.image_tokens == 2691 + 391 and plan.image_wrapper_tokens == 4
    assert plan.video_tokens == 43_200 and plan.video_wrapper_tokens == 2
    assert plan.total == plan.text_tokens + 2691 + 391 + 4 + 43_200 + 2 + 500
    assert plan.context == 131_072 and plan.fits and plan.remaining == 131_072 - plan.total
    parts = plan.parts()
    assert parts["tokens"].iloc[-1] == plan.total and parts["tokens"].iloc[:-1].sum() == plan.total


def test_images_that_fit_by_hand():
    # 768 x 1024 -> 756 x 1036 -> 27 x 37 = 999 tokens + 2 = 1001; (32,768 - 2,000 - 1,024) // 1001 = 29
    assert prompts.images_that_fit(768, 1024, "32K", 3024) == 29
    assert prompts.images_that_fit(768, 1024, 1000) == 0


def test_context_choices():
    assert [prompts.context_tokens(name) for name in ("32K", "128K", "256K")] == [32_768, 131_072, 262_144]
    assert prompts.context_tokens(8192) == 8192
    for bad in (0, -1, "64K", 2.5, True):
        with pytest.raises(ValueError, match="context"):
            prompts.context_tokens(bad)


def test_model_context_comes_from_the_catalog():
    models = prompts.model_contexts()
    if models.empty:
        pytest.skip("the lesson-1 catalog has no vision model with a known context")
    row = models.iloc[0]
    assert prompts.context_tokens(row["model_id"]) == int(row["context_length"])
    assert set(models["generation"]) <= set(vision.generation_keys())


def test_knob_savings_rank_the_knobs():
    table = prompts.knob_savings("hi", [(3000, 4000)] * 2, [(720, 1280, 60)], context="32K")
    assert list(table["knob"]) and set(table["knob"]) == {"max_pixels / 2", "fps / 2", "resolution / 2"}
    assert table["tokens saved"].is_monotonic_decreasing and (table["tokens saved"] > 0).all()
    halved = prompts.plan_prompt("hi", [(3000, 4000)] * 2, [(720, 1280, 60)], context="32K", video_fps=1.0)
    base = prompts.plan_prompt("hi", [(3000, 4000)] * 2, [(720, 1280, 60)], context="32K")
    assert table.set_index("knob").loc["fps / 2", "tokens saved"] == base.total - halved.total
    no_video = prompts.knob_savings("", [(480, 640)])
    assert "fps / 2" not in set(no_video["knob"])


def test_planner_bad_input():
    with pytest.raises(ValueError, match="images\\[0\\]"):
        prompts.plan_prompt("", [(480,)])
    with pytest.raises(ValueError, match="videos\\[0\\] duration_s"):
        prompts.plan_prompt("", [], [(480, 640, -1)])
    with pytest.raises(ValueError, match="reserved_output"):
        prompts.plan_prompt("", reserved_output=-5)
    for bad_text in (42, ["a", "list"]):
        with pytest.raises(ValueError, match="text"):
            prompts.plan_prompt(bad_text)


# ---------------------------------------------------------------- claim check


def test_tile_claim_per_generation():
    # 448/28 = 16 -> 256 tokens; 448/32 = 14 -> 196 tokens; Qwen-VL fixed 256 (vision_tokens.md §1, catalog notes (h))
    table = vision_token_budgets_lessons.tile_claim().set_index("generation")
    expected = {"Qwen-VL": 256, "Qwen2-VL": 256, "Qwen2.5-VL": 256, "Qwen3-VL": 196, "Qwen3.5 / Qwen3.6": 196,
                "Qwen2.5-Omni": 256, "Qwen3-Omni": 196}
    assert table["visual tokens"].to_dict() == expected
    assert (table["with wrappers"] == table["visual tokens"] + 2).all()
    assert table.loc["Qwen3-VL", "verdict"].startswith("false")
    assert table.loc["Qwen2.5-VL", "verdict"].startswith("only at the bottom")
    # the README example budget (min 256 tokens) upscales a 448 tile to 256 tokens in Qwen3-VL
    assert table.loc["Qwen3-VL", "over the named budgets"] == "196 to 256"
    assert "none reaches 512; the most is 256" in vision_token_budgets_lessons.tile_claim_summary()
    with pytest.raises(ValueError, match="low must be a whole number from 1 to"):  # one rule, one limit
        vision_token_budgets_lessons.tile_claim(low="256")
    with pytest.raises(ValueError, match="low must be a whole number from 1 to"):
        vision_token_budgets_lessons.tile_claim(low=0)
    with pytest.raises(ValueError, match=r"low \(600\) must not exceed high \(100\)"):
        vision_token_budgets_lessons.tile_claim(low=600, high=100)


def test_tile_claim_agrees_with_lesson_one():
    from qwen_lessons import catalog

    table = catalog.load_catalog()
    vision_rows = table[table["vision_generation"].notna()]
    compared = set()
    for row in vision_rows.itertuples():
        # the catalog names the generation lesson 5 finds for the series by name (Qwen3.6 rows use qwen3.5's rules)
        assert row.vision_generation == prompts.generation_for_series(row.series), row.model_id
        assert family_map_lessons.image_tokens_square(row.model_id, 448, table) == vision.image_tokens(
            448, 448, row.vision_generation)
        compared.add(row.vision_generation)
    # every vision generation has catalog rows that name it
    assert compared == set(vision.generation_keys())


# ---------------------------------------------------------------- data tables


def test_generation_constants_are_consistent():
    table = vision.generations_table()
    native = table[table["image_input"] == "native"]
    assert (native["resize_factor"] == native["patch_size"] * native["spatial_merge_size"]).all()
    totals = dict(zip(native["generation"], native["video_total_pixels"], strict=True))
    assert totals["qwen2-vl"] == 24576 * 28 * 28
    assert totals["qwen2.5-vl"] == totals["qwen2.5-omni"] == int(float(128000 * 28 * 28 * 0.9))
    assert totals["qwen3-vl"] == totals["qwen3-omni"] == 128000 * 32 * 32 * 0.9
    assert set(table.loc[table["video_timestamps"].fillna(False), "generation"]) == {"qwen3-vl", "qwen3.5"}


def test_budgets_are_given_in_tokens_or_pixels_not_both():
    table = vision.budgets_table()
    in_tokens = table["min_tokens"].notna() & table["max_tokens"].notna()
    in_pixels = table["min_pixels"].notna() & table["max_pixels"].notna()
    assert (in_tokens ^ in_pixels).all()
    assert vision.pixel_bounds("qwen3-vl") == (4 * 32 * 32, 16384 * 32 * 32, "qwen-vl-utils")
    assert vision.pixel_bounds("qwen2.5-vl", "transformers-class") == (*HF_CLASS, "transformers")


def test_sample_sizes_match_their_png_headers():
    for row in vision.samples_table().itertuples():
        assert pictures.read_image_size(pictures.sample_bytes(row.file)) == (row.height, row.width)


# ---------------------------------------------------------------- pictures


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says width x height but whose pixel data is a stub: only the header is valid."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 8)) + chunk(b"IEND", b"")


def test_huge_image_is_read_from_its_header_without_memory():
    data = png_header_only(20_000, 20_000)
    tracemalloc.start()
    try:
        assert pictures.read_image_size(data) == (20_000, 20_000)
        assert pictures.decode_preview(data) is None  # 400 MP: not decoded
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20
    assert vision.image_tokens(20_000, 20_000) == 16129  # 12,845,056 / 784 = 16,384 at most; 127 x 127


def test_non_images_get_a_clear_error():
    for data in (b"hello, I am text", b"%PDF-1.4 not a picture", b"\x89PNG\r\n\x1a\nbroken"):
        with pytest.raises(ValueError, match="not an image"):
            pictures.read_image_size(data)
    with pytest.raises(ValueError, match="empty"):
        pictures.read_image_size(b"")


def test_damaged_pixels_still_give_a_count():
    data = png_header_only(1000, 800)  # small enough to decode, but the pixel data is a stub
    assert pictures.read_image_size(data) == (800, 1000)
    preview, reason = pictures.decode_preview_with_reason(data)
    assert preview is None and "could not be decoded" in reason
    assert pictures.decode_preview_with_reason(pictures.sample_bytes("images/icon.png"))[1] == ""


def test_preview_of_a_big_jpeg_is_reduced_while_decoding():
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (6000, 4000), (200, 30, 30)).save(buffer, "JPEG")
    preview = pictures.decode_preview(buffer.getvalue())
    assert max(preview.size) <= pictures.PREVIEW_SIDE and preview.mode == "RGB"


def test_overlay_draws_one_cell_per_token():
    from PIL import Image

    white = Image.new("RGB", (112, 56), "white")
    view, every = pictures.overlay_image(white, 56, 112, 28, display_side=112)  # 2 x 4 cells, 1 screen px per px
    assert view.size == (112, 56) and every == 1
    pixels = view.load()
    assert pixels[28, 10] != (255, 255, 255) and pixels[14, 10] == (255, 255, 255)  # line at x = 28, not at 14
    assert pixels[10, 28] != (255, 255, 255)
    # a 4004 x 2996 model view shown 560 px wide: 28 px -> 3.9 screen px, so every 2nd line is drawn
    assert pictures.grid_step(28, 560 / 4004) == 2
    blank, _ = pictures.overlay_image(None, 448, 448, None)
    assert blank.size == (pictures.DISPLAY_SIDE, pictures.DISPLAY_SIDE)


# ---------------------------------------------------------------- widgets


def _upload(widget, name: str, data: bytes, kind: str = "image/png") -> None:
    widget.upload.value = ({"name": name, "type": kind, "size": len(data), "content": memoryview(data),
                            "last_modified": datetime.datetime.now(datetime.UTC)},)


def test_image_widget_counts_the_chosen_picture():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.image_widget()
    first = vision.samples_table().iloc[0]
    assert f"{vision.image_tokens(first['height'], first['width']):,} tokens" in demo.result.value
    assert demo.overlay.value[:4] == b"\x89PNG"
    demo.generation.value = "qwen3-vl"
    assert f"{vision.image_tokens(first['height'], first['width'], 'qwen3-vl'):,} tokens" in demo.result.value
    demo.generation.value = "qwen2.5-vl"
    demo.picture.value = "images/photo.png"  # 2996 x 4004 px shown 560 px wide: 28 px -> 3.9 px, every 2nd line
    assert "every 2nd line drawn" in demo.result.value
    demo.generation.value = "qwen3-vl"  # 32 px -> 4.5 px on screen: every line
    assert "line drawn" not in demo.result.value
    demo.picture.value = "images/icon.png"
    assert (demo.height.value, demo.width.value) == (100, 100) and demo.height.disabled
    demo.generation.value = "qwen-vl"  # Qwen-VL: 256 resampler queries, whatever the picture (Qwen-VL paper)
    assert "256 tokens do not map to image regions" in demo.result.value
    demo.generation.value = "qwen3-vl"
    demo.picture.value = vision_widgets.CUSTOM
    assert not demo.height.disabled
    demo.height.value, demo.width.value = 720, 1280
    assert f"{vision.image_tokens(720, 1280, 'qwen3-vl'):,} tokens" in demo.result.value
    for class_name, widget in (("qwen-vision-count", demo.result), ("qwen-vision-overlay", demo.overlay)):
        assert class_name in widget._dom_classes


@pytest.mark.parametrize("height, width, message", [(0, 640, "height"), (10, 5000, "200 times"), (-3, 5, "height")])
def test_image_widget_shows_bad_input_in_one_line(height, width, message):
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.image_widget()
    demo.picture.value = vision_widgets.CUSTOM
    demo.height.value, demo.width.value = height, width
    assert "qwen-error" in demo.result.value and message in demo.result.value
    assert "\n" not in demo.result.value and demo.overlay.layout.display == "none"


def test_image_widget_budget_that_does_not_apply():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.image_widget("qwen2.5-vl")
    demo.budget.value = "qwen3-vl-checkpoint"
    assert "qwen-error" in demo.result.value
    demo.generation.value = "qwen3-vl"
    assert "qwen-error" not in demo.result.value


def test_upload_widget_reads_size_and_rejects_non_images():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.upload_widget()
    assert "nothing" not in demo.result.value.lower() or "machine" in demo.result.value
    _upload(demo, "photo.png", pictures.sample_bytes("images/photo.png"))
    assert "3000 x 4000 px" in demo.result.value and "15,301 tokens" in demo.result.value
    assert demo.overlay.layout.display != "none" and demo.overlay.value[:4] == b"\x89PNG"
    demo.generation.value = "qwen3-vl"
    assert f"{vision.image_tokens(3000, 4000, 'qwen3-vl'):,} tokens" in demo.result.value
    _upload(demo, "notes.txt", b"just some text", "text/plain")
    assert "qwen-error" in demo.result.value and "not an image" in demo.result.value
    assert demo.overlay.layout.display == "none"


def test_upload_widget_counts_a_damaged_file_from_its_header():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.upload_widget()
    _upload(demo, "damaged.png", png_header_only(1000, 800))
    assert "qwen-error" not in demo.result.value and "could not be decoded" in demo.result.value
    assert f"{vision.image_tokens(800, 1000):,} tokens" in demo.result.value


def test_upload_widget_handles_a_20000_pixel_square_by_header():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.upload_widget()
    _upload(demo, "huge.png", png_header_only(20_000, 20_000))
    assert "qwen-error" not in demo.result.value
    assert "16,129 tokens" in demo.result.value and "too large to preview" in demo.result.value


def test_planner_widget_updates_and_guards():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.prompt_planner_widget()
    expected = prompts.plan_prompt(demo.text.value, [(3000, 4000)] * 2, [(720, 1280, 60.0)], context="32K")
    assert f"{expected.total:,}" in demo.result.value and "Does not fit" in demo.result.value
    assert "Biggest saving" in demo.knobs.value
    demo.images.value = 0
    demo.videos.value = 0
    assert "Fits" in demo.result.value
    demo.fps.value = 0.0
    demo.videos.value = 1
    assert "qwen-error" in demo.result.value and "fps" in demo.result.value and demo.knobs.value == ""
    demo.fps.value = 2.0
    demo.duration.value = 0.01
    assert "qwen-error" in demo.result.value and "duration_s" in demo.result.value
    demo.images.value = -1
    assert "qwen-error" in demo.result.value and "images" in demo.result.value
    for class_name, widget in (("qwen-vision-plan", demo.result), ("qwen-vision-knobs", demo.knobs)):
        assert class_name in widget._dom_classes


def test_planner_widget_model_context_sets_the_generation():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    models = prompts.model_contexts()
    if models.empty:
        pytest.skip("the catalog has no vision model with a known context")
    demo = vision_widgets.prompt_planner_widget("qwen2.5-vl")
    row = models.iloc[0]
    demo.context.value = row["model_id"]
    assert demo.generation.value == row["generation"]
    assert f"{int(row['context_length']):,}" in demo.result.value


# ---------------------------------------------------------------- self-checks


def test_checks_accept_the_answers_and_hint_otherwise(capsys):
    assert checks.check_screenshot_tokens(vision.image_tokens(720, 1280))
    assert not checks.check_screenshot_tokens(vision.image_tokens(720, 1280) + 2)
    assert not checks.check_screenshot_tokens("many")
    assert checks.check_rounded_side(1064)  # round(1078 / 28) = round(38.5) = 38; 38 x 28
    assert not checks.check_rounded_side(1092)
    assert not checks.check_rounded_side(980)  # a multiple of 28, but not the rounded side: the general hint
    assert checks.check_images_fit(29)  # see test_images_that_fit_by_hand
    assert not checks.check_images_fit(32) and not checks.check_images_fit(30)
    # 90 s x 30 fps = 2700 frames -> 90 at 1 fps; cap min(602,112, 90,316,800 / 90 x 2) = 602,112 px per frame;
    # 1092 x 1932 is above it: beta = sqrt(2,073,600 / 602,112) = 1.8558 -> 20 x 36 cells; 45 pairs x 720
    assert checks.check_video_tokens(45 * 20 * 36)
    assert not checks.check_video_tokens(90 * 20 * 36)
    output = capsys.readouterr().out
    assert "Hint" in output
    for answer in ("1196", "1008", "29", "32400", "32,400", "round(1022"):
        assert answer not in output  # hints never reveal an answer (nor the expression that computes it)


def test_smart_resize_check_names_the_failing_step(capsys):
    assert checks.check_smart_resize(vision.smart_resize)

    def rounds_half_up(height, width, factor, min_pixels, max_pixels):
        return vision.smart_resize(height, width, factor, min_pixels, max_pixels) if (height * 2) % factor else (
            math.floor(height / factor + 0.5) * factor, math.floor(width / factor + 0.5) * factor)

    def never_shrinks(height, width, factor, min_pixels, max_pixels):
        return round(height / factor) * factor, round(width / factor) * factor

    assert not checks.check_smart_resize(rounds_half_up)
    assert "halves" in capsys.readouterr().out
    assert not checks.check_smart_resize(never_shrinks)
    assert "above max_pixels" in capsys.readouterr().out
    assert not checks.check_smart_resize(lambda *args: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not checks.check_smart_resize(42)


def test_a_tall_picture_stays_inside_its_cell_and_a_message_sits_under_the_controls():
    # issue 13: the receipt (3000 x 300) stretched to the cell's width, ~10,000 px tall, and a later bad input showed
    # its message below that blank, still reserved space
    from qwen_lessons.ui import PREVIEW_MAX_PX
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    demo = vision_widgets.image_widget()
    receipt = next(value for label, value in demo.picture.options if "3000 x 300" in label)
    demo.picture.value = receipt
    layout = demo.overlay.layout
    assert layout.max_height == f"{PREVIEW_MAX_PX}px" and layout.max_width == "100%"
    assert layout.object_fit == "contain" and layout.width == "auto" and layout.display != "none"
    demo.picture.value = ""  # custom size, then a bad one
    demo.height.value = 0
    assert "qwen-error" in demo.result.value and demo.overlay.layout.display == "none"  # takes no space


def test_one_generation_lookup_per_count(monkeypatch):
    """image_tokens looks its generation up once and passes the Generation down (as audio does), not once per
    helper it calls."""
    looked_up = []
    real = vision.generation_info

    def counting(generation):
        looked_up.append(generation)
        return real(generation)

    monkeypatch.setattr(vision, "generation_info", counting)
    vision.image_tokens(1080, 1920, "qwen2.5-vl")
    vision.image_sequence_tokens(448, 448, "qwen2-vl", budget="qwen-vl-utils")
    assert looked_up == ["qwen2.5-vl", "qwen2-vl"]


def test_the_resize_rule_has_one_checker_with_one_limit():
    """smart_resize refuses a factor or a pixel budget by the same rules the layer applies to every function (no
    second check with other limits): the limits of validation.FACTOR and validation.PIXELS, word for word."""
    from qwen_lessons import validation

    assert vision.smart_resize(1000, 1000, factor=1_000, min_pixels=1, max_pixels=1e10) == (1000, 1000)
    for argument, value in (("factor", 1_001), ("factor", 1_024), ("min_pixels", 0), ("max_pixels", 1e10 + 1)):
        with pytest.raises(ValueError) as refused:
            vision.smart_resize(100, 100, **{argument: value})
        rule = validation.FACTOR if argument == "factor" else validation.PIXELS
        with pytest.raises(ValueError) as by_rule:
            rule(argument, value)
        assert str(refused.value) == str(by_rule.value)
