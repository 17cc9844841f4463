"""Lesson 6 (06_audio_token_budgets): exact audio token counts of the Qwen audio and omni generations.

A clip goes through the same steps in every generation: resampled to 16 kHz, cut into log-mel frames of one
hop (160 samples, 10 ms), cut at the processor's window, then shortened by the encoder's stride-2 steps (and,
in Qwen3-Omni, counted per 100-frame window). data/audio_generations.csv holds each generation's constants with
their sources; every function here reads them. A video with its sound track (the Omni models'
``use_audio_in_video``) is laid out by ``sound_track_layout``; a whole prompt's budget is in
``qwen_lessons.prompts``, the widgets in ``qwen_lessons.widgets.audio_token_budgets``.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from qwen_lessons import validation
from qwen_lessons.data import cached, read_table, row_as_dict
from qwen_lessons.language import translate as _
from qwen_lessons.validation import checked

GENERATIONS_FILE = "audio_generations.csv"
VERSIONS_FILE = "transformers_versions.csv"
DEFAULT_GENERATION = "qwen2-audio"
MAX_SAMPLES = 24 * 3600 * 16_000  # one day at 16 kHz: a longer clip is a typo
SAMPLES = validation.integer(1, MAX_SAMPLES, "samples at 16 kHz")
HEADER_FORMATS = {"WAVE": "WAV", "FLAC": "FLAC", "MP3": "MP3", "OggVorbis": "OGG Vorbis", "OggOpus": "OGG Opus",
                  "OggFLAC": "OGG FLAC", "OggSpeex": "OGG Speex"}


@dataclass(frozen=True)
class AudioGeneration:
    """One generation's audio constants (a row of data/audio_generations.csv)."""

    key: str
    name: str
    sampling_rate: int
    hop_length: int
    max_samples: int | None
    min_samples: int | None
    frame_rule: str
    window_frames: int | None
    ceil_halvings: int
    floor_halvings: int
    wrapper_tokens: int
    video_audio_wrapper_tokens: int | None
    position_ids_per_second: float | None
    seconds_per_chunk: float | None
    interleave: str | None
    processor: str


@checked
def versions_table() -> pd.DataFrame:
    """Return data/transformers_versions.csv: the transformers releases whose published code the counts follow."""
    return read_table(VERSIONS_FILE)


@cached
def transformers_versions() -> tuple[str, ...]:
    """The transformers versions a learner may name (transformers_version=...), oldest first."""
    return tuple(versions_table()["version"])


@cached
def current_transformers_version() -> str:
    """The release the counts follow by default: the table's current one."""
    return versions_table().set_index("version")["current"].idxmax()


# a version string from the table, or None for the current release (the one rule for the parameter)
TRANSFORMERS_VERSION = validation.optional(validation.one_of_listed(transformers_versions))


@checked(transformers_version=TRANSFORMERS_VERSION)
def generations_table(transformers_version=None) -> pd.DataFrame:
    """Return data/audio_generations.csv as counted with one transformers release (None: the current one): a
    transformers processor that does not cut long audio in that release has an empty max_samples."""
    return _generations_table(transformers_version or current_transformers_version())


@cached
def _generations_table(version: str) -> pd.DataFrame:
    table = read_table(GENERATIONS_FILE)
    cutting = set(str(versions_table().set_index("version").at[version, "truncating_audio"] or "").split())
    uncut = table["processor"].str.startswith("transformers") & ~table["generation"].isin(cutting)
    return table.assign(max_samples=table["max_samples"].mask(uncut))


@checked
def generation_keys() -> list[str]:
    """The generation names accepted by the audio functions, oldest first."""
    return list(read_table(GENERATIONS_FILE)["generation"])


@checked(transformers_version=TRANSFORMERS_VERSION)
@cached
def generation_info(generation: str, transformers_version=None) -> AudioGeneration:
    """The audio constants of one generation with one transformers release (None: the current one); ValueError
    lists the valid names. Qwen-Audio is counted with its own code, so the version does not change it."""
    table = generations_table(transformers_version)
    match = table[table["generation"] == generation]
    if match.empty:
        raise ValueError(f"generation must be one of {list(table['generation'])}, got {generation!r}")
    row = row_as_dict(match.iloc[0])
    return AudioGeneration(
        key=row["generation"], name=row["name"], sampling_rate=row["sampling_rate"], hop_length=row["hop_length"],
        max_samples=row["max_samples"], min_samples=row["min_samples"], frame_rule=row["frame_rule"], window_frames=row["window_frames"],
        ceil_halvings=row["ceil_halvings"], floor_halvings=row["floor_halvings"], wrapper_tokens=row["wrapper_tokens"],
        video_audio_wrapper_tokens=row["video_audio_wrapper_tokens"],
        position_ids_per_second=row["position_ids_per_second"], seconds_per_chunk=row["seconds_per_chunk"],
        interleave=row["interleave"], processor=row["processor"],
    )


# ---------------------------------------------------------------- the count, step by step (arrays or numbers)


def _frames(samples, info: AudioGeneration):
    """Log-mel frames the processor keeps: cut at its window, then one frame per hop (partial hop: see frame_rule)."""
    kept = samples if info.max_samples is None else np.minimum(samples, info.max_samples)
    if info.frame_rule == "ceil":  # the mask of a clip padded to a whole number of hops counts a partial hop
        return -(-kept // info.hop_length)
    return kept // info.hop_length  # the partial hop is dropped


def _encoder(frames, info: AudioGeneration):
    """Tokens the encoder leaves from this many frames: stride-2 steps (n - 1) // 2 + 1, then n // 2 pooling."""
    for _step in range(info.ceil_halvings):
        frames = (frames - 1) // 2 + 1
    for _step in range(info.floor_halvings):
        frames = frames // 2
    return frames


def _too_short(samples, info: AudioGeneration) -> None:
    if info.min_samples is not None and np.any(np.asarray(samples) < info.min_samples):
        shortest = int(np.min(samples))
        raise ValueError(f"samples: {info.processor} raises for a clip shorter than {info.min_samples} samples "
                         f"(one hop, 10 ms): it has no log-mel frame; got {shortest}")


def _tokens(samples, info: AudioGeneration):
    _too_short(samples, info)
    frames = _frames(samples, info)
    if info.window_frames is None:
        return _encoder(frames, info)
    # windowed encoder (Qwen3-Omni): every full window gives the same count, the rest is counted on its own
    full, rest = frames // info.window_frames, frames % info.window_frames
    return full * _encoder(info.window_frames, info) + _encoder(rest, info)


@checked(samples=SAMPLES, transformers_version=TRANSFORMERS_VERSION)
def audio_frames(samples, generation=DEFAULT_GENERATION, transformers_version=None) -> int:
    """Log-mel frames (10 ms each at hop 160) the processor keeps for a clip of `samples` samples at 16 kHz."""
    info = generation_info(generation, transformers_version)
    _too_short(int(samples), info)
    return int(_frames(int(samples), info))


@checked(samples=SAMPLES, transformers_version=TRANSFORMERS_VERSION)
def audio_tokens(samples, generation=DEFAULT_GENERATION, transformers_version=None) -> int:
    """Audio placeholder tokens of one clip of `samples` samples at 16 kHz (without its two wrapper tokens), as the
    named transformers release counts them (None: the current one; see versions_table)."""
    return int(_tokens(int(samples), generation_info(generation, transformers_version)))


@checked(samples=SAMPLES, transformers_version=TRANSFORMERS_VERSION)
def audio_sequence_tokens(samples, generation=DEFAULT_GENERATION, transformers_version=None) -> int:
    """Tokens one clip takes in the prompt: placeholders plus the wrapper tokens around them."""
    return audio_tokens(samples, generation, transformers_version) + generation_info(generation).wrapper_tokens


@checked
def samples_for_seconds(seconds) -> int:
    """Samples a clip of this length has after resampling to 16 kHz (the resampler rounds a partial sample up)."""
    # round first: 0.1 s x 16000 is 1600.0000000000002 in floating point, which is 1600 samples, not 1601
    return max(1, math.ceil(round(seconds * 16_000, 6)))


@checked(transformers_version=TRANSFORMERS_VERSION)
def audio_tokens_for_seconds(seconds, generation=DEFAULT_GENERATION, transformers_version=None) -> int:
    """Audio placeholder tokens of a clip `seconds` long (resampled to 16 kHz first)."""
    return audio_tokens(samples_for_seconds(seconds), generation, transformers_version)


@checked(transformers_version=TRANSFORMERS_VERSION)
def audio_tokens_many(sample_counts, generation=DEFAULT_GENERATION, transformers_version=None) -> np.ndarray:
    """audio_tokens for an array of clip lengths (samples at 16 kHz) at once: an int64 array, equal to the scalar."""
    info = generation_info(generation, transformers_version)
    return _tokens(_sample_array(sample_counts), info)


def _sample_array(values) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values))
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValueError(f"sample_counts must be a one-dimensional array of whole numbers of samples, got "
                         f"dtype {array.dtype} and shape {array.shape}")
    bad = (array < 1) | (array > MAX_SAMPLES)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"sample_counts[{index}] must be from 1 to {MAX_SAMPLES:,} samples, got {array[index]}")
    return array.astype(np.int64)


@checked
def tokens_per_second(generation=DEFAULT_GENERATION) -> float:
    """The steady rate: tokens of a 10-second clip divided by 10 (every generation's window fits 10 s)."""
    return audio_tokens_for_seconds(10.0, generation) / 10.0


@checked(transformers_version=TRANSFORMERS_VERSION)
def max_seconds(generation=DEFAULT_GENERATION, transformers_version=None) -> float | None:
    """Seconds of audio the processor keeps (the rest is cut off), or None when it keeps everything."""
    info = generation_info(generation, transformers_version)
    return None if info.max_samples is None else info.max_samples / info.sampling_rate


@checked(samples=SAMPLES, transformers_version=TRANSFORMERS_VERSION)
def explain_audio(samples, generation=DEFAULT_GENERATION, transformers_version=None) -> list[str]:
    """The arithmetic of one clip's count, step by step, as lines of text (same numbers as audio_tokens)."""
    info = generation_info(generation, transformers_version)
    samples = int(samples)
    kept = samples if info.max_samples is None else min(samples, info.max_samples)
    lines = [_("{samples} samples at 16 kHz = {seconds} s").format(samples=f"{samples:,}",
                                                                   seconds=f"{samples / 16_000:.4g}")]
    if kept < samples:
        lines.append(_("the processor keeps the first {kept} samples ({seconds} s); the rest is cut off").format(
            kept=f"{kept:,}", seconds=f"{kept / 16_000:g}"))
    frames = int(_frames(samples, info))
    rounding = _("a partial hop counts as a frame") if info.frame_rule == "ceil" else _("a partial hop is dropped")
    lines.append(_("log-mel frames = {kept} / {hop} = {ratio} -> {frames} ({rounding})").format(
        kept=f"{kept:,}", hop=info.hop_length, ratio=f"{kept / info.hop_length:.2f}", frames=f"{frames:,}",
        rounding=rounding))
    steps = _(" then ").join(["(n - 1) // 2 + 1"] * info.ceil_halvings + ["n // 2"] * info.floor_halvings)
    tokens = int(_tokens(samples, info))
    if info.window_frames is None:
        lines.append(_("encoder: {steps} -> {tokens} tokens").format(steps=steps, tokens=f"{tokens:,}"))
    else:
        window = int(_encoder(info.window_frames, info))
        full, rest = divmod(frames, info.window_frames)
        lines.append(_("encoder, per {frames}-frame window ({steps}): {full} full windows x {window} + {rest} frames "
                       "left -> {last} = {tokens} tokens").format(
            frames=info.window_frames, steps=steps, full=f"{full:,}", window=window, rest=rest,
            last=int(_encoder(rest, info)), tokens=f"{tokens:,}"))
    lines.append(_("in the prompt: {tokens} + {wrappers} wrapper tokens = {total}").format(
        tokens=f"{tokens:,}", wrappers=info.wrapper_tokens, total=f"{tokens + info.wrapper_tokens:,}"))
    return lines


# ---------------------------------------------------------------- a video with its sound track (Omni)


@checked
def sound_track_layout(grid_t, tokens_per_group, fps, audio_token_count, generation="qwen2.5-omni") -> list[tuple[str, int]]:
    """The order of video and audio tokens when a video brings its sound track: runs of ('video'|'audio', count).

    grid_t temporal groups of tokens_per_group video tokens each, sampled at fps frames per second (one group
    spans 2 / fps seconds), and audio_token_count audio tokens (one per 1 / position_ids_per_second seconds)."""
    info = generation_info(generation)
    if info.interleave is None:
        raise ValueError(f"generation {generation!r} takes no video; choose one of "
                         f"{[key for key in generation_keys() if generation_info(key).interleave]}")
    # the time index of each group, computed as the processor does: group x (2 / fps) x positions per second
    group_index = np.arange(int(grid_t)) * (2 / fps) * info.position_ids_per_second
    n_audio = int(audio_token_count)
    if info.interleave == "merge":  # Qwen3-Omni: a video token goes first when its index is <= the audio one
        runs, emitted = [], 0
        for index in group_index:
            before = min(n_audio, math.ceil(index)) - emitted
            if before > 0:
                runs.append(("audio", before))
                emitted += before
            runs.append(("video", int(tokens_per_group)))
        if n_audio > emitted:
            runs.append(("audio", n_audio - emitted))
        return _joined(runs)
    per_chunk = int(info.position_ids_per_second * info.seconds_per_chunk)
    video_chunks = _chunks([(value, int(tokens_per_group)) for value in group_index], per_chunk)
    audio_chunks = _chunks([(value, 1) for value in range(n_audio)], per_chunk)
    runs = []
    for j in range(max(len(video_chunks), len(audio_chunks))):
        runs += [("video", video_chunks[j])] if j < len(video_chunks) else []
        runs += [("audio", audio_chunks[j])] if j < len(audio_chunks) else []
    return _joined(runs)


def _chunks(runs: list[tuple[float, int]], per_chunk: int) -> list[int]:
    """Chunk sizes of a rising list of time indices given as (value, repeat) runs: a new chunk starts at the first
    index >= chunk x per_chunk, and the chunk counter moves on by one per token (Qwen2.5-Omni's rule)."""
    sizes, size, current = [], 0, 1
    for value, repeat in runs:
        while repeat and value >= current * per_chunk:
            sizes.append(size)
            size, repeat, current = 1, repeat - 1, current + 1
        size += repeat
    return sizes + [size]


def _joined(runs: list[tuple[str, int]]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for kind, count in runs:
        if count <= 0:
            continue
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + count)
        else:
            out.append((kind, count))
    return out


# ---------------------------------------------------------------- an upload: the duration from the header only


@dataclass(frozen=True)
class AudioHeader:
    """What a file's header says: its format, length, sample rate and channels (nothing is decoded)."""

    format: str
    seconds: float
    sample_rate: int
    channels: int

    @property
    def samples_16k(self) -> int:
        """Samples after resampling to 16 kHz (what the processors count)."""
        return samples_for_seconds(self.seconds)


@checked(source=validation.instance(bytes, bytearray, memoryview, str, os.PathLike,
                                    what="the bytes of an audio file or a path to one"))
def read_audio_header(source) -> AudioHeader:
    """Length, rate and channels of a WAV, FLAC, MP3 or OGG file from its header; ValueError for anything else.

    A path is read in place and bytes through a view, so a two-hour file costs the header, not the file."""
    import mutagen  # read only when a file arrives; the rest of the course never needs it

    try:
        handle = open(source, "rb") if isinstance(source, (str, os.PathLike)) else io.BytesIO(memoryview(source))
        with handle:
            parsed = mutagen.File(handle)
    except (mutagen.MutagenError, OSError, ValueError, EOFError) as error:
        raise ValueError(f"source: not a WAV, FLAC, MP3 or OGG file this course can read ({str(error)[:120]})") from None
    kind = type(parsed).__name__ if parsed is not None else ""
    if kind not in HEADER_FORMATS:
        raise ValueError(f"source: not a WAV, FLAC, MP3 or OGG file (found {kind or 'an unknown format'})")
    info = parsed.info
    seconds = float(getattr(info, "length", 0.0) or 0.0)
    if not seconds > 0 or not math.isfinite(seconds):
        raise ValueError(f"source: the {HEADER_FORMATS[kind]} header gives no length")
    return AudioHeader(HEADER_FORMATS[kind], seconds, int(getattr(info, "sample_rate", 0) or 0),
                       int(getattr(info, "channels", 0) or 0))
