"""Lesson 6 (06_audio_token_budgets): what an audio second costs in each generation, long audio against the
processor's window, a one-minute clip against a one-minute video, and the figure of tokens against length."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from qwen_lessons import audio, plotting, vision
from qwen_lessons.validation import checked
from qwen_lessons.language import figure_text

MINUTE = 60.0


@checked
def generation_summary() -> pd.DataFrame:
    """One row per generation: its steady rate, what it keeps of a long clip, and a few clip lengths counted."""
    rows = []
    for key in audio.generation_keys():
        info = audio.generation_info(key)
        kept = audio.max_seconds(key)
        rows.append({
            "generation": info.name,
            "tokens per second": audio.tokens_per_second(key),
            "partial hop": "counts as a frame" if info.frame_rule == "ceil" else "dropped",
            "keeps (s)": "all" if kept is None else f"{kept:g}",
            "1 s": audio.audio_tokens_for_seconds(1.0, key),
            "30 s": audio.audio_tokens_for_seconds(30.0, key),
            "1 min": audio.audio_tokens_for_seconds(MINUTE, key),
            "10 min": audio.audio_tokens_for_seconds(600.0, key),
        })
    return pd.DataFrame(rows)


@checked
def long_audio_plan(seconds: float = 600.0) -> pd.DataFrame:
    """Sending a long recording whole: what each generation keeps, and the pieces (and tokens) to send all of it."""
    rows = []
    for key in audio.generation_keys():
        window = audio.max_seconds(key)
        pieces = 1 if window is None else math.ceil(round(seconds / window, 9))
        last = seconds if window is None else seconds - (pieces - 1) * window
        whole = (pieces - 1) * audio.audio_tokens_for_seconds(window or seconds, key) + audio.audio_tokens_for_seconds(
            last, key)
        rows.append({
            "generation": audio.generation_info(key).name,
            "tokens if sent whole": audio.audio_tokens_for_seconds(seconds, key),
            "seconds heard": min(seconds, window or seconds),
            "pieces to hear it all": pieces,
            "tokens for all pieces": whole,
            "start/end tokens": pieces * audio.generation_info(key).wrapper_tokens,
        })
    return pd.DataFrame(rows)


@checked
def tiny_clip_table(sample_counts=(1, 100, 159, 160, 161, 320, 321, 480, 481, 16000, 16001)) -> pd.DataFrame:
    """Frames and tokens of very short clips and of lengths just past a hop, per generation ('raises' where the
    processor refuses the clip)."""
    rows = []
    for samples in sample_counts:
        row = {"samples": int(samples), "ms": round(int(samples) / 16, 2)}
        for key in audio.generation_keys():
            try:
                row[audio.generation_info(key).name] = (f"{audio.audio_frames(samples, key)} frames -> "
                                                         f"{audio.audio_tokens(samples, key)}")
            except ValueError:
                row[audio.generation_info(key).name] = "raises"
        rows.append(row)
    return pd.DataFrame(rows)


@checked
def minute_comparison(height: int = 720, width: int = 1280, fps: float = 2.0) -> pd.DataFrame:
    """A one-minute audio clip against a one-minute video of height x width (sampled at fps) in the Omni models:
    tokens of each, the seconds of audio the processor keeps, and each one's rate per second (the audio's steady
    rate, not the minute's tokens over 60 s, which a 30-second cut would halve)."""
    rows = []
    for key in audio.generation_keys():
        if key not in vision.generation_keys():
            continue  # the audio-only generations take no video
        plan = vision.video_plan(height, width, MINUTE, fps, key)
        sound = audio.audio_tokens_for_seconds(MINUTE, key)
        info = audio.generation_info(key)
        rows.append({
            "generation": info.name,
            "1 min of audio": sound,
            # the cut is its own fact: a processor that keeps 30 s hears half the minute, at its steady rate
            "audio heard (s)": min(MINUTE, audio.max_seconds(key) or MINUTE),
            f"1 min of {height}p video": plan.visual_tokens,
            "video per second": round(plan.visual_tokens / MINUTE, 1),
            "audio per second": audio.tokens_per_second(key),
            "video + sound track (with start/end tokens)": plan.visual_tokens + plan.wrapper_tokens + sound
            + info.video_audio_wrapper_tokens,
        })
    return pd.DataFrame(rows)


@checked
def tokens_figure(ax=None):
    """Audio tokens against clip length for every generation: the figure of section 2."""
    import matplotlib.pyplot as plt

    plotting.use_course_style()
    if ax is None:
        _, ax = plt.subplots()
    seconds = np.geomspace(0.5, 600, 400)
    samples = np.array([audio.samples_for_seconds(float(value)) for value in seconds], dtype=np.int64)
    styles = ("-", "--", "-.", ":")
    for index, key in enumerate(audio.generation_keys()):
        ax.plot(seconds, audio.audio_tokens_many(samples, key), styles[index % 4],
                color=plotting.OKABE_ITO[index], label=audio.generation_info(key).name, linewidth=2)
    plotting.log_scale(ax, "x")
    plotting.log_scale(ax, "y")
    ax.set_xlabel(figure_text("clip length (s)"))
    ax.set_ylabel(figure_text("audio tokens"))
    ax.set_title(figure_text("25 tokens a second (13 in Qwen3-Omni) until the window cuts the clip"))
    ax.legend(loc="upper left")
    return ax.figure
