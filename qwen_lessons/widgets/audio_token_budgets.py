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
from qwen_lessons.language import translate as _
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
    return ("<b>" + _("{seconds} s = {samples} samples at 16 kHz: {tokens} audio tokens in {name} (+ {wrappers} "
                      "start/end).").format(seconds=f"{seconds:g}", samples=f"{samples:,}", tokens=f"{tokens:,}",
                                            name=html.escape(name),
                                            wrappers=audio.generation_info(generation).wrapper_tokens) + "</b>"
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
    return ui.table_html(counts, caption=_("The same {samples} samples in every generation").format(samples=f"{samples:,}"),
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
    return (_("<b>{name}</b>: {format}, {seconds} s, {rate} Hz, {channels} channel(s) (from the header; resampled to "
              "16 kHz: {samples} samples)").format(name=html.escape(name), format=html.escape(header.format),
                                                  seconds=f"{header.seconds:,.2f}", rate=f"{header.sample_rate:,}",
                                                  channels=header.channels, samples=f"{samples:,}")
            + _every_generation_table(samples))


@checked
def audio_upload_widget():
    """Upload an audio file: its length is read from the header only (a two-hour file costs no memory)."""
    import ipywidgets as widgets

    upload = widgets.FileUpload(accept=".wav,.flac,.mp3,.ogg,.oga,.opus,audio/*", multiple=False,
                                description="Upload audio")
    result = ui.html_output("qwen-audio-upload", html.escape(_(PLACEHOLDER)))

    def render() -> str:
        if not upload.value:
            return html.escape(_(PLACEHOLDER))
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
    items = "".join("<li>" + (_("{count} video tokens") if kind == "video" else _("{count} audio tokens") if
                              kind == "audio" else f"{{count}} {kind} tokens").format(count=f"{count:,}") + "</li>"
                    for kind, count in shown)
    rest = runs[LAYOUT_RUNS_SHOWN:]
    if rest:
        items += "<li>" + _("... {runs} more runs ({tokens} tokens)").format(
            runs=len(rest), tokens=f"{sum(count for _kind, count in rest):,}") + "</li>"
    return ("<b>" + _("{video} video + {audio} audio tokens in {runs} runs, in this order:").format(
        video=f"{video_tokens:,}", audio=f"{audio_token_count:,}", runs=len(runs)) + "</b>"
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
    rule = (_("{name} interleaves them in {seconds}-second chunks: each chunk's video tokens, then its audio tokens.")
            .format(name=info.name, seconds=f"{info.seconds_per_chunk:g}") if info.interleave == "chunks" else
            _("{name} interleaves them token by token, whichever comes first in time.").format(name=info.name))
    return ("<b>" + _("Total {total} tokens: {video} video ({groups} groups of {per_group}) + {audio} audio + {wrappers} "
                      "start/end.").format(total=f"{total:,}", video=f"{plan.visual_tokens:,}", groups=plan.groups,
                                           per_group=f"{plan.tokens_per_group:,}", audio=f"{sound:,}",
                                           wrappers=wrappers) + "</b><br>"
            f"{html.escape(rule)}<br>"
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
                        widgets.HTML(f"<i>{html.escape(_(VIDEO_KEYS_NOTE))}</i>"), result])
    return SimpleNamespace(height=height, width=width, duration=duration, fps=fps, generation=generation_box,
                           result=result, box=box)
