"""qwen_lessons.audio (lesson 6): counts equal the released processors' on every recorded row, boundaries,
the sound-track layout of the Omni models, and header-only reading of uploaded files."""

from __future__ import annotations

import datetime
import tracemalloc
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qwen_lessons import audio
from qwen_lessons.data import read_table

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "audio"
GENERATIONS = ["qwen-audio", "qwen2-audio", "qwen2.5-omni", "qwen3-omni"]
REFERENCE = read_table("audio_reference_counts.csv")
LAYOUTS = read_table("audio_reference_interleave.csv")


def test_every_generation_the_issue_names_is_in_the_table():
    assert audio.generation_keys() == GENERATIONS


# (generation, transformers release) pairs the reference rows hold; Qwen-Audio is counted with its own code
CASES = sorted({(row.generation, None if pd.isna(row.transformers_version) else row.transformers_version)
                for row in REFERENCE.itertuples()},
               key=lambda case: (GENERATIONS.index(case[0]), case[1] or ""))


def test_reference_rows_cover_the_boundaries_and_both_releases():
    for generation, version in CASES:
        rows = REFERENCE[(REFERENCE["generation"] == generation)
                         & (REFERENCE["transformers_version"].fillna("") == (version or ""))]
        lengths = set(rows["samples"])
        assert {1, 2, 159, 160, 161, 479999, 480000, 480001, 4800001} <= lengths
        assert any(length % 160 for length in lengths if length > 16000)
    # every transformers generation is recorded from the last 4.x release and from the current one
    current = audio.current_transformers_version()
    assert {case for case in CASES if case[1]} == {(g, v) for g in GENERATIONS[1:] for v in ("4.57.6", current)}


def _rows(generation, version):
    return REFERENCE[(REFERENCE["generation"] == generation)
                     & (REFERENCE["transformers_version"].fillna("") == (version or ""))]


@pytest.mark.parametrize(("generation", "version"), CASES)
def test_counts_equal_the_released_processors_on_every_row(generation, version):
    rows = _rows(generation, version)
    assert len(rows) == 80  # every length of scripts/make_audio_reference.py
    for row in rows.itertuples():
        if pd.isna(row.tokens):  # the processor raised: so must we, naming the clip length
            with pytest.raises(ValueError, match="samples"):
                audio.audio_tokens(int(row.samples), generation, transformers_version=version)
            continue
        assert audio.audio_frames(int(row.samples), generation, transformers_version=version) == row.frames, row
        assert audio.audio_tokens(int(row.samples), generation, transformers_version=version) == row.tokens, row


@pytest.mark.parametrize(("generation", "version"), CASES)
def test_vectorised_counts_equal_the_scalar_ones(generation, version):
    rows = _rows(generation, version)
    rows = rows[rows["tokens"].notna()]
    many = audio.audio_tokens_many(rows["samples"].to_numpy(dtype=np.int64), generation, transformers_version=version)
    assert many.tolist() == rows["tokens"].astype(int).tolist()


def test_counts_follow_the_current_release_and_any_known_one_on_request():
    # issue 31: today's transformers by default; Qwen3-Omni's 30-second cut only where the release made it
    current = audio.current_transformers_version()
    assert current == "5.25.0" and audio.transformers_versions() == ("4.57.6", "5.24.0", "5.25.0")
    ten_minutes = 600 * 16000
    assert audio.audio_tokens(ten_minutes, "qwen3-omni") == audio.audio_tokens(ten_minutes, "qwen3-omni", current)
    assert audio.audio_tokens(ten_minutes, "qwen3-omni") == 7800 and audio.max_seconds("qwen3-omni") is None
    assert audio.audio_tokens(ten_minutes, "qwen3-omni", transformers_version="4.57.6") == 390
    assert audio.max_seconds("qwen3-omni", "4.57.6") == 30.0
    # the other processors cut in every release (their padding to max_length keeps truncation on)
    for version in audio.transformers_versions():
        assert audio.max_seconds("qwen2-audio", version) == 30.0 and audio.max_seconds("qwen2.5-omni", version) == 300.0
    for bad in ("4.58.0", "latest", "", 4.57, "5.25"):
        with pytest.raises(ValueError, match="transformers_version") as caught:
            audio.audio_tokens(16000, "qwen3-omni", transformers_version=bad)
        assert "\n" not in str(caught.value)


def test_tokens_per_second_and_where_the_generations_differ():
    assert {key: audio.tokens_per_second(key) for key in GENERATIONS} == {
        "qwen-audio": 25.0, "qwen2-audio": 25.0, "qwen2.5-omni": 25.0, "qwen3-omni": 13.0}
    # a partial hop: Qwen2-Audio pads to 30 s and counts it, Qwen-Audio floors it away
    assert audio.audio_frames(161, "qwen2-audio") == 2 and audio.audio_frames(161, "qwen-audio") == 1
    # the window: 30 s in Qwen(2)-Audio, 300 s in Qwen2.5-Omni
    minute = 60 * 16000
    assert audio.audio_tokens(minute, "qwen2-audio") == 750 == audio.audio_tokens(30 * 16000, "qwen2-audio")
    assert audio.audio_tokens(minute, "qwen2.5-omni") == 1500
    assert audio.audio_tokens(400 * 16000, "qwen2.5-omni") == 7500
    assert audio.max_seconds("qwen2.5-omni") == 300.0 and audio.max_seconds("qwen2-audio") == 30.0


@given(st.integers(1, 5_000_000))
@settings(max_examples=300, deadline=None)
def test_properties_of_the_count(samples):
    for generation in GENERATIONS:
        info = audio.generation_info(generation)
        if samples < 160 and info.min_samples:
            continue
        tokens = audio.audio_tokens(samples, generation)
        longer = audio.audio_tokens(min(samples + 160, audio.MAX_SAMPLES), generation)
        # never negative, never fewer for a longer clip, and one more hop adds at most one token
        assert 0 <= tokens <= longer <= tokens + 1
        if info.max_samples and samples >= info.max_samples:
            assert tokens == audio.audio_tokens(info.max_samples, generation)  # nothing past the window counts
        assert audio.audio_tokens_many([samples], generation)[0] == tokens


def test_seconds_are_resampled_like_the_loader():
    assert audio.samples_for_seconds(0.1) == 1600  # not 1601 from 1600.0000000000002
    assert audio.samples_for_seconds(1 / 16000 / 2) == 1
    assert audio.audio_tokens_for_seconds(30.0, "qwen2-audio") == 750
    assert audio.audio_tokens_for_seconds(60.0, "qwen3-omni", "4.57.6") == 390  # cut at 30 s by transformers 4.57.6
    assert audio.audio_tokens_for_seconds(60.0, "qwen3-omni") == 780  # the current release keeps the whole minute


def test_explain_gives_the_same_numbers():
    lines = audio.explain_audio(16000 * 45 + 7, "qwen2-audio")
    assert "cut off" in lines[1] and lines[-1].endswith("= 752")
    lines = audio.explain_audio(16000 * 10 + 50, "qwen3-omni")
    assert "10 full windows x 13" in lines[-2] and lines[-1].endswith(f"= {audio.audio_tokens(160050, 'qwen3-omni') + 2}")


def test_bad_input_is_refused_by_name():
    for bad in (0, -5, 1.5, True, "10", float("nan")):
        with pytest.raises(ValueError, match="samples"):
            audio.audio_tokens(bad, "qwen2-audio")
    with pytest.raises(ValueError, match="generation"):
        audio.audio_tokens(100, "no-such-audio")
    with pytest.raises(ValueError, match=r"sample_counts\[1\]"):
        audio.audio_tokens_many([10, 0], "qwen2-audio")
    with pytest.raises(ValueError, match="sample_counts"):
        audio.audio_tokens_many([1.5], "qwen2-audio")


# ---------------------------------------------------------------- a video with its sound track


def parse(layout: str) -> list[tuple[str, int]]:
    return [("video" if run[0] == "V" else "audio", int(run[1:])) for run in layout.split()]


def test_layout_equals_the_released_processors_on_every_row():
    assert set(LAYOUTS["generation"]) == {"qwen2.5-omni", "qwen3-omni"}
    for row in LAYOUTS.itertuples():
        per_group = row.grid_h * row.grid_w // 4
        runs = audio.sound_track_layout(row.grid_t, per_group, row.fps, row.audio_tokens, row.generation)
        assert runs == parse(row.layout), row
        assert sum(count for _, count in runs) == row.video_tokens + row.audio_tokens
        info = audio.generation_info(row.generation)
        assert row.wrapper_tokens == 2 + info.video_audio_wrapper_tokens


def test_audio_only_generations_take_no_video():
    with pytest.raises(ValueError, match="generation"):
        audio.sound_track_layout(2, 4, 2.0, 10, "qwen2-audio")


# ---------------------------------------------------------------- header-only upload


def write_wav(path: Path, seconds: float, rate: int = 22050, channels: int = 1) -> None:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(b"\0\0" * channels * round(seconds * rate))


def test_wav_header_from_bytes_and_path(tmp_path):
    path = tmp_path / "clip.wav"
    write_wav(path, 2.5, 22050, 2)
    for source in (path, str(path), path.read_bytes(), memoryview(path.read_bytes())):
        header = audio.read_audio_header(source)
        assert (header.format, header.sample_rate, header.channels) == ("WAV", 22050, 2)
        assert header.seconds == pytest.approx(2.5) and header.samples_16k == 40000


@pytest.mark.parametrize(("name", "kind", "rate"), [("tone_8000.flac", "FLAC", 8000),
                                                    ("tone_44100.mp3", "MP3", 44100),
                                                    ("tone_48000.ogg", "OGG Vorbis", 48000)])
def test_compressed_headers(name, kind, rate):
    data = (FIXTURES / name).read_bytes()
    assert len(data) < 16_000  # tiny fixtures from scripts/make_audio_fixtures.py
    header = audio.read_audio_header(data)
    assert (header.format, header.sample_rate, header.channels) == (kind, rate, 1)
    # half a second; MP3 headers give the encoder's padded length (one or two frames more)
    assert 0.5 <= header.seconds < 0.56


def test_two_hour_wav_costs_no_memory(tmp_path):
    path = tmp_path / "two_hours.wav"
    rate, seconds = 48000, 2 * 3600
    data_bytes = rate * seconds * 2  # 16-bit mono: 691 MB of samples the reader must not load
    write_wav(path, 0.0, rate)
    with open(path, "r+b") as handle:  # rewrite the sizes and make the file sparse: no disk, no memory
        handle.seek(4)
        handle.write((36 + data_bytes).to_bytes(4, "little"))
        handle.seek(40)
        handle.write(data_bytes.to_bytes(4, "little"))
        handle.truncate(44 + data_bytes)
    assert path.stat().st_size > 600_000_000
    tracemalloc.start()
    header = audio.read_audio_header(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert header.seconds == pytest.approx(seconds)
    assert peak < 2_000_000, f"reading the header used {peak:,} bytes"
    assert audio.audio_tokens(header.samples_16k, "qwen2.5-omni") == 7500


@pytest.mark.parametrize("data", [b"", b"not audio at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, b"RIFF\0\0\0\0WAVE"])
def test_anything_else_gets_one_line(data):
    with pytest.raises(ValueError, match="source") as error:
        audio.read_audio_header(data)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- the prompt planner, the lesson, the widgets


def test_plan_prompt_counts_sound_tracks_and_clips():
    from qwen_lessons import prompts

    video = (720, 1280, 60.0)
    silent = prompts.plan_prompt("", (), [video], generation="qwen2.5-omni", reserved_output=0)
    loud = prompts.plan_prompt("", (), [video], generation="qwen2.5-omni", reserved_output=0, use_audio_in_video=True)
    assert loud.audio_tokens == audio.audio_tokens_for_seconds(60.0, "qwen2.5-omni") == 1500
    assert loud.audio_wrapper_tokens == 2 and loud.total == silent.total + 1502
    clips = prompts.plan_prompt("", (), (), generation="qwen3-omni", reserved_output=0, audios=[12.5, 40.0])
    # the current release keeps the whole 40 s (520 tokens); 4.57.6 would cut it to 30 s (390)
    assert clips.total == audio.audio_tokens_for_seconds(12.5, "qwen3-omni") + 520 + 4 and clips.audio_count == 2
    parts = loud.parts().set_index("part")["tokens"]
    assert parts.filter(like="audio").sum() == 1502 and parts["total"] == loud.total
    with pytest.raises(ValueError, match="generation"):
        prompts.plan_prompt("", (), [video], generation="qwen2.5-vl", use_audio_in_video=True)


def test_planner_widget_counts_the_sound_track():
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    planner = vision_widgets.prompt_planner_widget("qwen2.5-omni")
    before = planner.result.value
    planner.sound_track.value = True
    assert planner.result.value != before and "audio (1 clips or sound tracks)" in planner.result.value
    planner.audio_seconds.value = 30.0
    assert "audio (2 clips or sound tracks)" in planner.result.value
    planner.generation.value = "qwen2.5-vl"
    assert "qwen-error" in planner.result.value and "takes no audio" in planner.result.value


def test_sound_track_widget_total_equals_the_planner():
    from qwen_lessons import prompts
    from qwen_lessons.widgets import audio_token_budgets as audio_widgets

    for generation in ("qwen2.5-omni", "qwen3-omni"):
        track = audio_widgets.sound_track_widget(generation)
        track.duration.value = 37.0
        plan = prompts.plan_prompt("", (), [(720, 1280, 37.0)], generation=generation, reserved_output=0,
                                   use_audio_in_video=True)
        assert f"Total {plan.total:,} tokens" in track.result.value


def test_lesson_tables_follow_from_the_counts():
    from qwen_lessons import vision
    from qwen_lessons.lessons import audio_token_budgets as lesson

    long = lesson.long_audio_plan(600.0).set_index("generation")
    assert long.loc["Qwen2-Audio", "pieces to hear it all"] == 20
    assert long.loc["Qwen2-Audio", "tokens for all pieces"] == 20 * 750
    assert long.loc["Qwen2.5-Omni", "pieces to hear it all"] == 2
    assert long.loc["Qwen2.5-Omni", "tokens for all pieces"] == 2 * 7500
    minute = lesson.minute_comparison().set_index("generation")
    plan = vision.video_plan(720, 1280, 60.0, 2.0, "qwen3-omni")
    assert minute.loc["Qwen3-Omni", "1 min of 720p video"] == plan.visual_tokens
    assert minute.loc["Qwen3-Omni", "1 min of audio"] == 780  # today's release hears the whole minute
    # the rate a second is the steady rate; the 30-second cut is its own column, not folded into the rate (6.5)
    for key in ("qwen2.5-omni", "qwen3-omni"):
        row = minute.loc[audio.generation_info(key).name]
        assert row["audio per second"] == audio.tokens_per_second(key)
        assert row["audio heard (s)"] == min(60, audio.max_seconds(key) or 60)
    assert minute.loc["Qwen3-Omni", "audio per second"] == 13
    assert minute.loc["Qwen3-Omni", "audio heard (s)"] == 60
    tiny = lesson.tiny_clip_table().set_index("samples")
    assert tiny.loc[159, "Qwen3-Omni"] == "raises" and tiny.loc[161, "Qwen2-Audio"] == "2 frames -> 0"


def test_upload_widget_reads_the_header():
    from qwen_lessons.widgets import audio_token_budgets as audio_widgets

    widget = audio_widgets.audio_upload_widget()
    data = (FIXTURES / "tone_48000.ogg").read_bytes()
    widget.upload.value = ({"name": "tone.ogg", "type": "audio/ogg", "size": len(data), "content": memoryview(data),
                            "last_modified": datetime.datetime.now(datetime.UTC)},)
    assert "OGG Vorbis, 0.50 s, 48,000 Hz" in widget.result.value
    widget.upload.value = ({"name": "notes.txt", "type": "text/plain", "size": 5, "content": memoryview(b"hello"),
                            "last_modified": datetime.datetime.now(datetime.UTC)},)
    assert "qwen-error" in widget.result.value and "not a WAV, FLAC, MP3 or OGG" in widget.result.value
