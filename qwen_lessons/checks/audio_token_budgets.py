"""Self-checks for notebook 06 (audio token budgets). They hint at the method, never print the answer."""

from __future__ import annotations

import numpy as np

from qwen_lessons import audio, prompts
from qwen_lessons.checks import answer_check, check_formula, close_enough, report

CLIP_S = 12.5  # exercise 1: a 12.5-second voice note in Qwen2-Audio
LONG_S = 100.0  # exercise 2: a 100-second recording sent to Qwen2-Audio in pieces it hears whole
SHORT_S = 2.5  # exercise 3: a 2.5-second clip in Qwen3-Omni
VIDEO = (720, 1280, 90.0)  # exercise 4: 90 seconds of 720p with its sound track in Qwen2.5-Omni
CHECK_LENGTHS = (1, 159, 160, 161, 320, 321, 15999, 16000, 16001, 32000, 123457, 479999, 480000, 480001,
                 1_000_000)


def _is_number(answer) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


def voice_note_answer() -> int:
    return audio.audio_tokens_for_seconds(CLIP_S, "qwen2-audio")


@answer_check(accepts=voice_note_answer)
def check_voice_note(answer) -> bool:
    """Exercise 1: audio tokens (wrappers excluded) of a 12.5-second clip in Qwen2-Audio."""
    expected = voice_note_answer()
    if not _is_number(answer):
        return report(False, "answer with a number of tokens, for example the result of audio_tokens_for_seconds(...).")
    if answer == expected + 2:
        return report(False, "that includes <|audio_bos|> and <|audio_eos|>; count the audio tokens only.")
    if answer == audio.audio_tokens_for_seconds(CLIP_S, "qwen3-omni"):
        return report(False, "that is Qwen3-Omni's rate (13 a second); Qwen2-Audio keeps 25 a second.")
    if close_enough(answer, CLIP_S * 25, 0.01) and answer != expected:
        return report(False, "tokens are whole: follow the steps (frames, then (n - 1) // 2 + 1, then // 2).")
    return report(answer == expected, "12.5 s is 1,250 frames of 10 ms; apply the encoder's two halvings.")


def long_clip_answer() -> int:
    window = audio.max_seconds("qwen2-audio")
    full_pieces, rest = divmod(LONG_S, window)
    return int(full_pieces) * audio.audio_tokens_for_seconds(window, "qwen2-audio") + (
        audio.audio_tokens_for_seconds(rest, "qwen2-audio") if rest else 0)


@answer_check(accepts=long_clip_answer)
def check_long_clip(answer) -> bool:
    """Exercise 2: audio tokens (wrappers excluded) of a 100-second recording sent to Qwen2-Audio in pieces short
    enough to be heard whole."""
    expected = long_clip_answer()
    if not _is_number(answer):
        return report(False, "answer with a number of tokens.")
    if answer == audio.audio_tokens_for_seconds(LONG_S, "qwen2-audio"):
        return report(False, "that is one piece: sent whole, the model hears only the start of it. Cut it into pieces.")
    pieces = -(-LONG_S // audio.max_seconds("qwen2-audio"))
    if answer == expected + 2 * pieces:
        return report(False, "that includes each piece's <|audio_bos|> and <|audio_eos|>; count the audio tokens only.")
    return report(answer == expected, "cut the recording at the processor's window (the 'keeps (s)' column of the "
                                      "summary table), count each piece, add them up.")


def window_rest_answer() -> int:
    return audio.audio_tokens_for_seconds(SHORT_S, "qwen3-omni")


@answer_check(accepts=window_rest_answer)
def check_window_rest(answer) -> bool:
    """Exercise 3: audio tokens of a 2.5-second clip in Qwen3-Omni."""
    expected = window_rest_answer()
    if not _is_number(answer):
        return report(False, "answer with a whole number of tokens.")
    if close_enough(answer, SHORT_S * 13, 0.02) and answer != expected:
        return report(False, "13 a second holds for whole 100-frame windows only; count the 50 frames left on "
                             "their own with three (n - 1) // 2 + 1 steps.")
    return report(answer == expected, "2.5 s is 250 frames: two full windows and 50 frames left.")


def _video_with_sound_plan():
    return prompts.plan_prompt("", (), [VIDEO], generation="qwen2.5-omni", reserved_output=0, use_audio_in_video=True)


def video_with_sound_answer() -> int:
    return _video_with_sound_plan().total


@answer_check(accepts=video_with_sound_answer)
def check_video_with_sound(answer) -> bool:
    """Exercise 4: tokens of a one-minute 720p video with its sound track in Qwen2.5-Omni (no text, no answer)."""
    plan = _video_with_sound_plan()
    expected = plan.total
    if not _is_number(answer):
        return report(False, "answer with a number of tokens, for example plan_prompt(...).total.")
    silent = prompts.plan_prompt("", (), [VIDEO], generation="qwen2.5-omni", reserved_output=0).total
    if answer == silent:
        return report(False, "that is the video without its sound: pass use_audio_in_video=True.")
    if answer == expected - plan.audio_wrapper_tokens:
        return report(False, "the sound track brings its own <|audio_bos|> and <|audio_eos|> inside the video's.")
    if answer == expected + 1024:
        return report(False, "reserve no answer here: reserved_output=0.")
    return report(answer == expected, "video tokens + their two start/end tokens + a minute of audio + its two.")


@answer_check
def check_my_audio_tokens(my_audio_tokens) -> bool:
    """Exercise 5: a function samples -> Qwen3-Omni tokens, checked on lengths around the hop, the 100-frame window
    and past 30 seconds, which the current transformers release no longer cuts (from one hop on: the processor
    refuses a shorter clip)."""
    if not callable(my_audio_tokens):
        return report(False, "pass the function itself (my_audio_tokens), without calling it.")
    for samples in CHECK_LENGTHS:
        if samples < 160:
            continue
        try:
            got = my_audio_tokens(samples)
        except Exception as error:  # a learner's function may fail in any way; say where, do not crash
            return report(False, f"your function raised {type(error).__name__} for {samples} samples.")
        if got != audio.audio_tokens(samples, "qwen3-omni"):
            hint = ("Qwen3-Omni drops a partial hop (round the frames down)" if samples % 160
                    else "keep the whole clip: the current transformers release does not cut Qwen3-Omni audio"
                    if samples > 480000 and audio.max_seconds("qwen3-omni") is None
                    else "cut the clip at 480,000 samples first" if samples > 480000
                    else "count every full window of 100 frames alike, then the rest on its own: three times "
                         "(n - 1) // 2 + 1 each, and no pooling")
            return report(False, f"{samples} samples gives {got!r}; {hint}.")
    return report(True, "")


# ---------------------------------------------------------------- the formula cell (not an exercise)


def check_formula_qwen2_audio_tokens(formula) -> bool:
    """Section 1's formula cell against audio.audio_tokens for Qwen2-Audio: the edges of every step (a hop, the
    stride-2 steps, the 30-second window) and 200 lengths drawn with a fixed seed, up to two minutes."""
    edges = [1, 2, 159, 160, 161, 319, 320, 321, 479, 480, 481, 639, 640, 641, 16_000, 479_999, 480_000, 480_001,
             960_000]
    lengths = edges + [int(n) for n in np.random.default_rng(0).integers(1, 1_920_000, 200)]
    return check_formula(formula, ((f"{n:,} samples", (n,), audio.audio_tokens(n, "qwen2-audio")) for n in lengths),
                         "Qwen2-Audio token")
