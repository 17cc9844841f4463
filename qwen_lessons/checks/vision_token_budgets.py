"""Self-checks for notebook 05 (vision token budgets). They hint at the method, never print the answer."""

from __future__ import annotations

import numpy as np

from qwen_lessons import vision
from qwen_lessons.checks import answer_check, check_formula, close_enough, report
from qwen_lessons import prompts

SCREENSHOT = (720, 1280)  # exercise 1: a 1280 x 720 screenshot, height first
HALF_SIDE = 1078  # exercise 2: 1078 / 28 = 38.5 exactly
PHOTO = (768, 1024)  # exercise 3
TEXT_TOKENS, ANSWER_TOKENS = 2000, 1024
CLIP = (1080, 1920, 90)  # exercise 4: 90 seconds of full HD
CLIP_FPS = 1.0


def _is_number(answer) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


def screenshot_tokens_answer() -> int:
    return vision.image_tokens(*SCREENSHOT, "qwen2.5-vl")


@answer_check(accepts=screenshot_tokens_answer)
def check_screenshot_tokens(answer) -> bool:
    """Exercise 1: visual tokens of a 1280 x 720 screenshot in Qwen2.5-VL with the helper's default budget."""
    expected = screenshot_tokens_answer()
    if not _is_number(answer):
        return report(False, "answer with a number of tokens, for example the result of image_tokens(...).")
    if answer == expected + 2:
        return report(False, "that includes the two wrapper tokens; the question asks for visual tokens only.")
    if answer == vision.image_tokens(*SCREENSHOT, "qwen3-vl"):
        return report(False, "that is Qwen3-VL's 32-px cell; Qwen2.5-VL's cell is 14 px x 2 = 28 px.")
    if close_enough(answer, SCREENSHOT[0] * SCREENSHOT[1] / 28**2, 0.001) and answer != expected:
        return report(False, "round each side to a whole number of 28-px cells first, then multiply the counts.")
    return report(answer == expected, "divide each side by 28, round to the nearest whole number, multiply.")


def rounded_side_answer() -> int:
    return vision.resized_size(HALF_SIDE, HALF_SIDE, "qwen2.5-vl")[0]


@answer_check(accepts=rounded_side_answer)
def check_rounded_side(answer) -> bool:
    """Exercise 2: the side a 1078 x 1078 image gets in Qwen2.5-VL."""
    expected = rounded_side_answer()
    if not _is_number(answer):
        return report(False, "answer with a number of pixels.")
    if answer == expected + 28:
        return report(False, f"{HALF_SIDE} / 28 is exactly halfway between two whole numbers; which way does Python's "
                             "round() go for halves? Try round(0.5), round(1.5), round(2.5).")
    if answer % 28:
        return report(False, "the resized side is always a multiple of the 28-px cell.")
    return report(answer == expected, "step 2 only: divide the side by the 28-px cell, round to whole cells as "
                                      "Python's round() does, and multiply back.")


def images_fit_answer() -> int:
    return prompts.images_that_fit(*PHOTO, "32K", TEXT_TOKENS + ANSWER_TOKENS, "qwen2.5-vl")


@answer_check(accepts=images_fit_answer)
def check_images_fit(answer) -> bool:
    """Exercise 3: how many 1024 x 768 photos fit in 32K with 2,000 text tokens and 1,024 reserved for the answer."""
    expected = images_fit_answer()
    if not _is_number(answer):
        return report(False, "answer with a whole number of images.")
    per_image = vision.image_sequence_tokens(*PHOTO, "qwen2.5-vl")
    if answer == prompts.CONTEXT_WINDOWS["32K"] // per_image:
        return report(False, "the text and the reserved answer use part of the window too: subtract them first.")
    if answer == expected + 1:
        return report(False, "a part of an image does not fit: round the division down.")
    return report(answer == expected, "room = 32,768 - text - answer; divide by the tokens of one image "
                                      "(visual tokens + 2 wrappers) and round down.")


def video_tokens_answer() -> int:
    return vision.video_tokens(*CLIP, CLIP_FPS, "qwen2.5-vl")


@answer_check(accepts=video_tokens_answer)
def check_video_tokens(answer) -> bool:
    """Exercise 4: visual tokens of a 90-second 1920 x 1080 clip at 1 frame per second in Qwen2.5-VL."""
    expected = video_tokens_answer()
    if not _is_number(answer):
        return report(False, "answer with a number of tokens, for example the result of video_tokens(...).")
    plan = vision.video_plan(*CLIP, CLIP_FPS, "qwen2.5-vl")
    if answer == 2 * expected:
        return report(False, "two consecutive frames share one temporal patch: count frame pairs, not frames.")
    full_frame = vision.image_tokens(*CLIP[:2], "qwen2.5-vl")
    if answer in (plan.frames * full_frame, plan.groups * full_frame):  # frames counted at the picture budget
        return report(False, "video frames get a much smaller pixel budget than images: look at "
                             "video_plan(...).max_pixels and the resized frame size.")
    return report(answer == expected, "frames = seconds x fps, made even; frames are resized within the per-frame "
                                      "budget; tokens = (frames / 2) x cells per frame.")


CASES = {
    "sizes that only need rounding": [(1080, 1920, 28, 3136, 12845056), (480, 640, 32, 4096, 16777216)],
    "exact halves (1022/28 = 36.5, 720/32 = 22.5)": [(1022, 1022, 28, 3136, 12845056),
                                                     (720, 1280, 32, 4096, 16777216)],
    "images above max_pixels": [(4000, 3000, 28, 3136, 12845056), (2048, 2048, 28, 3136, 1003520)],
    "images below min_pixels": [(100, 100, 32, 65536, 16777216), (20, 30, 28, 3136, 12845056)],
}
HINTS = {
    "sizes that only need rounding": "round each side to the nearest multiple of factor: round(side / factor) * factor.",
    "exact halves (1022/28 = 36.5, 720/32 = 22.5)": "use Python's round(), which sends halves to the even "
                                                    "neighbour; int(x + 0.5) or math.floor(x + 0.5) do not.",
    "images above max_pixels": "when the rounded area exceeds max_pixels, scale the ORIGINAL sides by 1 / beta with "
                               "beta = sqrt(height * width / max_pixels), then round each side DOWN to the factor.",
    "images below min_pixels": "when the rounded area is below min_pixels, scale the ORIGINAL sides by beta = "
                               "sqrt(min_pixels / (height * width)), then round each side UP to the factor.",
}


@answer_check
def check_smart_resize(my_smart_resize) -> bool:
    """Exercise 5: your own smart_resize(height, width, factor, min_pixels, max_pixels) -> (height, width)."""
    if not callable(my_smart_resize):
        return report(False, "pass the function itself: check_smart_resize(my_smart_resize), without parentheses.")
    for group, cases in CASES.items():
        for height, width, factor, min_pixels, max_pixels in cases:
            expected = vision.smart_resize(height, width, factor, min_pixels, max_pixels)
            try:
                got = tuple(my_smart_resize(height, width, factor, min_pixels, max_pixels))
            except Exception as error:  # a learner's function may fail in any way; say how, not where
                return report(False, f"your function raised {type(error).__name__} on {group}: {HINTS[group]}")
            if got != expected:
                return report(False, f"wrong for {group}: {HINTS[group]}")
    return report(True, "", praise="Correct on every kind of size: rounding, halves, shrinking and growing.")


# ---------------------------------------------------------------- the formula cell (not an exercise)


def check_formula_visual_tokens(formula) -> bool:
    """Section 2's formula cell against vision.image_tokens: every native-resolution generation and pixel budget,
    on the sizes of exercise 5's check and 60 more drawn with a fixed seed."""
    rng = np.random.default_rng(0)
    sizes = [(h, w) for group in CASES.values() for h, w, *_ in group] + [
        (int(h), int(w)) for h, w in rng.integers(1, 8000, (60, 2)) if max(h, w) <= vision.MAX_RATIO * min(h, w)]

    def cases():
        for generation in vision.generation_keys():
            info = vision.generation_info(generation)
            if info.fixed_input:
                continue
            for budget in vision.budget_keys():
                for height, width in sizes:
                    try:
                        expected = vision.image_tokens(height, width, generation, budget=budget)
                    except ValueError:  # a budget too small for this picture: nothing to count
                        continue
                    resized = vision.resized_size(height, width, generation, budget=budget)
                    yield (f"{height} × {width} in {info.name} ({budget})",
                           (*resized, info.patch_size, info.merge_size), expected)

    return check_formula(formula, cases(), "visual-token")
