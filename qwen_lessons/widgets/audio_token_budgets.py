"""Lesson 6 (06_audio_token_budgets): an audio token counter, an upload that reads only the file's header, and
the layout of a video with its sound track.

Each builder returns a SimpleNamespace of its widgets (controls, result HTML widgets and ``.box``), so tests
can set ``.value`` on a control and read the result without a browser. The arithmetic is in ``audio``.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

import pandas as pd

from qwen_lessons import audio, ui, vision
from qwen_lessons.ui import guarded, wire
from qwen_lessons.validation import checked, instance

PLACEHOLDER = ("Choose a WAV, FLAC, MP3 or OGG file. Only its header is read, in this notebook's kernel on your "
               "machine; nothing is decoded or sent anywhere.")
VIDEO_KEYS_NOTE = "Only the Omni generations take a video with its sound track."
LAYOUT_RUNS_SHOWN = 12  # runs listed before the rest is summed up


@checked
def generation_options() -> list[tuple[str, str]]:
    """(label, key) pairs for an audio generation dropdown."""
    return [(audio.generation_info(key).name, key) for key in audio.generation_keys()]


@checked
def omni_options() -> list[tuple[str, str]]:
    """(label, key) pairs of the generations that take a video with its sound track."""
    return [(label, key) for label, key in generation_options() if audio.generation_info(key).interleave]


def _lines_html(lines: list[str]) -> str:
    return "<ol style='margin:4px 0 0 0'>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ol>"


@checked
def clip_report_html(seconds: float, generation: str) -> str:
    """A clip's count in one generation (the arithmetic) and in every generation (one table row each)."""
    samples = audio.samples_for_seconds(seconds)
    tokens = audio.audio_tokens(samples, generation)
    name = audio.generation_info(generation).name
    return (f"<b>{seconds:g} s = {samples:,} samples at 16 kHz: {tokens:,} audio tokens in {html.escape(name)} "
            f"(+ {audio.generation_info(generation).wrapper_tokens} start/end).</b>"
            + _lines_html(audio.explain_audio(samples, generation)) + _every_generation_table(samples))


def _count_or_none(samples: int, generation: str) -> int | None:
    try:
        return audio.audio_tokens(samples, generation)
    except ValueError:
        return None


def _every_generation_table(samples: int) -> str:
    """The same clip in every generation: one row each, "—" where the processor refuses a clip this short."""
    counts = pd.DataFrame([{"generation": label, "audio tokens": _count_or_none(samples, key)}
                           for label, key in generation_options()])
    return ui.table_html(counts, caption=f"The same {samples:,} samples in every generation",
                         missing="the processor refuses a clip this short")


@checked
def audio_counter_widget(generation: str = audio.DEFAULT_GENERATION):
    """Clip length + generation -> audio tokens, the arithmetic, and the same clip in every generation."""
    audio.generation_info(generation)  # an unknown generation is refused here, with the known ones listed
    import ipywidgets as widgets

    seconds = widgets.FloatText(value=20.0, description="Seconds")  # no exercise asks about 20 s
    generation_box = widgets.Dropdown(options=generation_options(), value=generation, description="Generation")
    result = ui.html_output("qwen-audio-count")

    def update(_change=None):
        result.value = guarded(lambda: clip_report_html(seconds.value, generation_box.value))

    wire((seconds, generation_box), update)
    return SimpleNamespace(seconds=seconds, generation=generation_box, result=result,
                           box=widgets.VBox([ui.row([seconds, generation_box]), result]))


@checked(header=instance(audio.AudioHeader, what="an AudioHeader (from audio.read_audio_header)"))
def header_report_html(name: str, header: audio.AudioHeader) -> str:
    """What the header says and what the clip costs in every generation."""
    samples = header.samples_16k
    return (f"<b>{html.escape(name)}</b>: {html.escape(header.format)}, {header.seconds:,.2f} s, "
            f"{header.sample_rate:,} Hz, {header.channels} channel(s) (from the header; resampled to 16 kHz: "
            f"{samples:,} samples)" + _every_generation_table(samples))


@checked
def audio_upload_widget():
    """Upload an audio file: its length is read from the header only (a two-hour file costs no memory)."""
    import ipywidgets as widgets

    upload = widgets.FileUpload(accept=".wav,.flac,.mp3,.ogg,.oga,.opus,audio/*", multiple=False,
                                description="Upload audio")
    result = ui.html_output("qwen-audio-upload", html.escape(PLACEHOLDER))

    def render() -> str:
        if not upload.value:
            return html.escape(PLACEHOLDER)
        entry = upload.value[0]
        header = audio.read_audio_header(entry["content"])  # a view of the bytes the browser sent, not a copy
        return header_report_html(str(entry.get("name", "upload")), header)

    def update(_change=None):
        result.value = guarded(render)

    wire((upload,), update, now=False)  # nothing to show before a file arrives
    return SimpleNamespace(upload=upload, result=result, box=widgets.VBox([upload, result]))


def _layout_html(runs: list, video_tokens: int, audio_token_count: int) -> str:
    """The order of a video's tokens and its sound track's, as a list of runs (the first few, then a sum)."""
    shown = runs[:LAYOUT_RUNS_SHOWN]
    items = "".join(f"<li>{count:,} {kind} tokens</li>" for kind, count in shown)
    rest = runs[LAYOUT_RUNS_SHOWN:]
    if rest:
        items += f"<li>... {len(rest)} more runs ({sum(count for _, count in rest):,} tokens)</li>"
    return (f"<b>{video_tokens:,} video + {audio_token_count:,} audio tokens in {len(runs)} runs, in this order:</b>"
            f"<ol style='margin:4px 0 0 0'>{items}</ol>")


@checked
def sound_track_report_html(height: int, width: int, duration_s: float, fps: float, generation: str) -> str:
    """A video with its sound track in an Omni generation: the token layout and the total."""
    plan = vision.video_plan(height, width, duration_s, fps, generation)
    sound = audio.audio_tokens_for_seconds(duration_s, generation)
    runs = audio.sound_track_layout(plan.groups, plan.tokens_per_group, fps, sound, generation)
    info = audio.generation_info(generation)
    wrappers = plan.wrapper_tokens + info.video_audio_wrapper_tokens
    total = plan.visual_tokens + sound + wrappers
    rule = (f"in {info.seconds_per_chunk:g}-second chunks: each chunk's video tokens, then its audio tokens"
            if info.interleave == "chunks" else "token by token, whichever comes first in time")
    return (f"<b>Total {total:,} tokens: {plan.visual_tokens:,} video ({plan.groups} groups of "
            f"{plan.tokens_per_group:,}) + {sound:,} audio + {wrappers} start/end.</b><br>"
            f"{html.escape(info.name)} interleaves them {html.escape(rule)}.<br>"
            + _layout_html(runs, plan.visual_tokens, sound))


@checked
def sound_track_widget(generation: str = "qwen2.5-omni"):
    """Video size, length and fps + an Omni generation -> how its frames and sound track are interleaved."""
    if generation not in dict((key, label) for label, key in omni_options()):
        raise ValueError(f"generation must be one of {[key for _, key in omni_options()]}, got {generation!r}")
    import ipywidgets as widgets

    height = widgets.IntText(value=720, description="Height (px)")
    width = widgets.IntText(value=1280, description="Width (px)")
    duration = widgets.FloatText(value=10.0, description="Video (s)")
    fps = widgets.FloatText(value=2.0, description="Sample fps")
    generation_box = widgets.Dropdown(options=omni_options(), value=generation, description="Generation")
    result = ui.html_output("qwen-audio-sound-track")

    def update(_change=None):
        result.value = guarded(lambda: sound_track_report_html(height.value, width.value, duration.value, fps.value,
                                                               generation_box.value))

    wire((height, width, duration, fps, generation_box), update)
    box = widgets.VBox([ui.row([height, width]), ui.row([duration, fps]), generation_box,
                        widgets.HTML(f"<i>{html.escape(VIDEO_KEYS_NOTE)}</i>"), result])
    return SimpleNamespace(height=height, width=width, duration=duration, fps=fps, generation=generation_box,
                           result=result, box=box)
