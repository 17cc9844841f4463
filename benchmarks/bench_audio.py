"""Benchmarks for lesson 6: the vectorised audio count over 100,000 clip lengths, and the widgets' updates."""

from __future__ import annotations

import datetime
import itertools

from run import Case

CLIPS = 100_000


def _wav_header(seconds: int, rate: int = 48_000) -> bytes:
    """The 44-byte header of a 16-bit mono WAV of this length, without its samples: what the reader sees first."""
    data = rate * seconds * 2
    return (b"RIFF" + (36 + data).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
            + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
            + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
            + b"data" + data.to_bytes(4, "little"))


def _file(name: str, data: bytes) -> dict:
    return {"name": name, "type": "audio/wav", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.UTC)}


def cases() -> list[Case]:
    import numpy as np

    from qwen_lessons import audio
    from qwen_lessons.widgets import audio_token_budgets as audio_widgets
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    lengths = np.random.default_rng(0).integers(160, 16_000 * 600, CLIPS)  # 10 ms to 10 minutes

    def count(generation):
        def run():
            tokens = audio.audio_tokens_many(lengths, generation)
            return {"clips": f"{len(tokens):,}", "mean tokens": f"{tokens.mean():,.0f}"}
        return run

    scalar = lengths[:10_000].tolist()

    def count_scalar():
        for samples in scalar:
            audio.audio_tokens(samples, "qwen2-audio")

    counter = audio_widgets.audio_counter_widget()
    seconds = itertools.cycle(np.linspace(0.5, 400, 97).tolist())

    def counter_update():
        counter.seconds.value = next(seconds)

    upload = audio_widgets.audio_upload_widget()
    two_hours = _wav_header(2 * 3600)

    def upload_two_hours():
        upload.upload.value = (_file("two_hours.wav", two_hours),)  # a new file each time: header read + table
        upload.upload.value = ()

    track = audio_widgets.sound_track_widget()
    durations = itertools.cycle(range(10, 600, 13))

    def track_update():
        track.duration.value = float(next(durations))

    planner = vision_widgets.prompt_planner_widget("qwen2.5-omni")
    planner.sound_track.value = True
    planner_durations = itertools.cycle(range(30, 300, 7))

    def planner_sound():
        planner.duration.value = float(next(planner_durations))

    return [
        Case("06 audio_tokens_many, 100,000 clip lengths (Qwen2.5-Omni)", 1.0, count("qwen2.5-omni"), repeats=7),
        Case("06 audio_tokens_many, 100,000 clip lengths (Qwen3-Omni, windows)", 1.0, count("qwen3-omni"), repeats=7),
        Case("06 audio_tokens, 10,000 scalar calls (for comparison)", None, count_scalar, repeats=3),
        Case("06 audio counter widget update (seconds)", 0.1, counter_update, repeats=30),
        Case("06 upload of a two-hour WAV (header only)", 0.1, upload_two_hours, repeats=20),
        Case("06 sound-track widget update (video length)", 0.1, track_update, repeats=30),
        Case("05 planner widget update (Qwen2.5-Omni video with its sound track)", 0.1, planner_sound, repeats=30),
    ]
