"""Lesson 5 (05_vision_token_budgets): a whole prompt's token budget (text, images, videos and the reserved
answer) against a context window, and which knob saves the most tokens."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import pandas as pd

from qwen_lessons import audio
from qwen_lessons.data import DataFileError
from qwen_lessons.vision import DEFAULT_BUDGET, DEFAULT_GENERATION, DEFAULT_SOURCE_FPS, count_text_tokens, generation_info, generation_keys, image_sequence_tokens, image_tokens, pixel_bounds, video_plan
from qwen_lessons import validation
from qwen_lessons.validation import checked

CONTEXT_WINDOWS = {"32K": 32_768, "128K": 131_072, "256K": 262_144}
MAX_CONTEXT = 10_000_000

# ---------------------------------------------------------------- text tokens and context windows


def _catalog():
    """The lesson-1 catalog, or None when it cannot be loaded (the planner then offers the fixed windows only)."""
    try:
        from qwen_lessons import catalog

        return catalog.load_catalog()
    except (ImportError, AttributeError, DataFileError):
        return None


@checked
def generation_for_series(series: str) -> str | None:
    """The generation key for a catalog series name such as 'Qwen2.5-VL', or None if it has no vision rules here.
    A generation row that covers several series names them all ('Qwen3.5 / Qwen3.6')."""
    key = str(series).strip().lower()
    if key in generation_keys():
        return key
    return next((generation for generation in generation_keys()
                 if key in [part.strip().lower() for part in generation_info(generation).name.split("/")]), None)


@checked
def model_contexts() -> pd.DataFrame:
    """Vision-language and omni checkpoints of the catalog with a known context length, and their generation."""
    table = _catalog()
    columns = ["model_id", "series", "generation", "context_length"]
    if table is None or not {"model_id", "context_length"} <= set(table.columns):
        return pd.DataFrame(columns=columns)
    series = table["series"] if "series" in table.columns else table["model_id"].str.split("/").str[-1]
    rows = table.assign(series=series)
    rows = rows.assign(generation=[generation_for_series(value) for value in rows["series"]])
    rows = rows[rows["generation"].notna() & rows["context_length"].notna()]
    return rows[columns].reset_index(drop=True)


@checked
def context_tokens(context) -> int:
    """Tokens in a context window given as '32K'/'128K'/'256K', a catalog model id, or a number."""
    if isinstance(context, str):
        if context in CONTEXT_WINDOWS:
            return CONTEXT_WINDOWS[context]
        models = model_contexts()
        match = models[models["model_id"] == context]
        if not match.empty:
            return int(match["context_length"].iloc[0])
        raise ValueError(f"context must be one of {list(CONTEXT_WINDOWS)}, a number of tokens, or a vision "
                         f"model id with a known context in the catalog, got {context[:60]!r}")
    return validation.integer(1, MAX_CONTEXT, "tokens")("context", context)


# ---------------------------------------------------------------- the prompt planner


@dataclass(frozen=True)
class PromptPlan:
    """Token budget of one prompt: text + images + videos + reserved output, against a context window."""

    generation: str
    context: int
    text_tokens: int
    image_tokens: int
    image_wrapper_tokens: int
    video_tokens: int
    video_wrapper_tokens: int
    timestamp_tokens: int
    reserved_output: int
    image_count: int
    video_count: int
    audio_tokens: int = 0  # standalone clips and video sound tracks (Omni, lesson 6)
    audio_wrapper_tokens: int = 0
    audio_count: int = 0

    @property
    def total(self) -> int:
        """Every token the prompt and the reserved answer need."""
        return (self.text_tokens + self.image_tokens + self.image_wrapper_tokens + self.video_tokens
                + self.video_wrapper_tokens + self.timestamp_tokens + self.audio_tokens + self.audio_wrapper_tokens
                + self.reserved_output)

    @property
    def remaining(self) -> int:
        """Context tokens left over (negative when the prompt does not fit)."""
        return self.context - self.total

    @property
    def fits(self) -> bool:
        """True when the prompt and the reserved output fit in the context window."""
        return self.remaining >= 0

    def parts(self) -> pd.DataFrame:
        """The budget as a table: one row per part, its tokens and its percentage of the context window."""
        rows = [
            ("text", self.text_tokens),
            (f"images ({self.image_count}): visual tokens", self.image_tokens),
            ("images: <|vision_start|>/<|vision_end|>", self.image_wrapper_tokens),
            (f"videos ({self.video_count}): visual tokens", self.video_tokens),
            ("videos: wrapper tokens", self.video_wrapper_tokens),
            ("videos: timestamp text (Qwen3-VL)", self.timestamp_tokens),
            (f"audio ({self.audio_count} clips or sound tracks): audio tokens", self.audio_tokens),
            ("audio: start/end tokens", self.audio_wrapper_tokens),
            ("reserved for the answer", self.reserved_output),
            ("total", self.total),
        ]
        table = pd.DataFrame(rows, columns=["part", "tokens"])
        table["% of context"] = (100 * table["tokens"] / self.context).round(1)
        return table


@checked
def plan_prompt(text="", images=(), videos=(), *, generation=DEFAULT_GENERATION, budget=DEFAULT_BUDGET,
                min_pixels=None, max_pixels=None, video_fps=2.0, video_max_pixels=None, reserved_output=1024,
                context="32K", source_fps=DEFAULT_SOURCE_FPS, audios=(), use_audio_in_video=False) -> PromptPlan:
    """Count a whole prompt: images as (height, width), videos as (height, width, duration_s), audio clips as
    seconds; use_audio_in_video also counts each video's sound track (Omni generations, lesson 6)."""
    if isinstance(reserved_output, bool) or not isinstance(reserved_output, numbers.Integral) \
            or not 0 <= reserved_output <= MAX_CONTEXT:
        raise ValueError(f"reserved_output must be a whole number of tokens from 0 to {MAX_CONTEXT:,}, "
                         f"got {reserved_output!r}")
    window = context_tokens(context)
    info = generation_info(generation)
    visual = sum(image_tokens(h, w, generation, min_pixels, max_pixels, budget=budget) for h, w in images)
    plans = [video_plan(h, w, d, video_fps, generation, source_fps=source_fps, max_pixels=video_max_pixels)
             for h, w, d in videos]
    sound, sound_wrappers = _audio_parts(generation, audios, [d for _, _, d in videos] if use_audio_in_video else [])
    return PromptPlan(
        generation=generation, context=window, text_tokens=count_text_tokens(text, info.vocabulary), image_tokens=visual,
        image_wrapper_tokens=info.wrapper_tokens * len(images),
        video_tokens=sum(plan.visual_tokens for plan in plans),
        video_wrapper_tokens=sum(plan.wrapper_tokens for plan in plans),
        timestamp_tokens=sum(plan.timestamp_tokens() for plan in plans),
        reserved_output=int(reserved_output), image_count=len(images), video_count=len(videos),
        audio_tokens=sound, audio_wrapper_tokens=sound_wrappers,
        audio_count=len(audios) + (len(videos) if use_audio_in_video else 0),
    )


def _audio_parts(generation: str, clips, tracks) -> tuple[int, int]:
    """(audio tokens, their start/end tokens) of standalone clips and of video sound tracks, all in seconds."""
    if not clips and not tracks:
        return 0, 0
    if generation not in audio.generation_keys():
        raise ValueError(f"generation {generation!r} takes no audio; audio clips and sound tracks need one of "
                         f"{[key for key in audio.generation_keys() if key in generation_keys()]}")
    info = audio.generation_info(generation)
    tokens = sum(audio.audio_tokens_for_seconds(seconds, generation) for seconds in (*clips, *tracks))
    # a clip has its own two; a sound track adds its two inside the video's <|vision_start|> ... <|vision_end|>
    return tokens, info.wrapper_tokens * len(clips) + info.video_audio_wrapper_tokens * len(tracks)


@checked
def images_that_fit(height, width, context="32K", used_tokens=0, generation=DEFAULT_GENERATION,
                    min_pixels=None, max_pixels=None, *, budget=DEFAULT_BUDGET) -> int:
    """How many more images of this size fit in the context after used_tokens (wrapper tokens included)."""
    window = context_tokens(context)
    if isinstance(used_tokens, bool) or not isinstance(used_tokens, numbers.Integral) or used_tokens < 0:
        raise ValueError(f"used_tokens must be a whole number of tokens, 0 or more, got {used_tokens!r}")
    per_image = image_sequence_tokens(height, width, generation, min_pixels, max_pixels, budget=budget)
    return max(0, (window - int(used_tokens)) // per_image)


@checked
def knob_savings(text="", images=(), videos=(), **settings) -> pd.DataFrame:
    """Tokens saved by halving each knob in turn (max_pixels, video fps, resolution), biggest saving first."""
    base = plan_prompt(text, images, videos, **settings)
    generation = settings.get("generation", DEFAULT_GENERATION)
    info = generation_info(generation)
    rows = []
    if not info.fixed_input:
        low, high, _ = pixel_bounds(generation, settings.get("budget", DEFAULT_BUDGET),
                                    settings.get("min_pixels"), settings.get("max_pixels"))
        halved = dict(settings, max_pixels=max(low, high / 2))
        if videos:
            probe = video_plan(*videos[0], settings.get("video_fps", 2.0), generation,
                               source_fps=settings.get("source_fps", DEFAULT_SOURCE_FPS),
                               max_pixels=settings.get("video_max_pixels"))
            halved["video_max_pixels"] = max(probe.min_pixels, probe.max_pixels / 2)
        rows.append(("max_pixels / 2", "halve the pixel budget of every image and video frame",
                     plan_prompt(text, images, videos, **halved).total))
    if videos:
        slower = dict(settings, video_fps=settings.get("video_fps", 2.0) / 2)
        rows.append(("fps / 2", "sample half as many video frames per second",
                     plan_prompt(text, images, videos, **slower).total))
    smaller_images = [(max(1, h // 2), max(1, w // 2)) for h, w in images]
    smaller_videos = [(max(1, h // 2), max(1, w // 2), d) for h, w, d in videos]
    rows.append(("resolution / 2", "send every image and video at half its width and height",
                 plan_prompt(text, smaller_images, smaller_videos, **settings).total))
    table = pd.DataFrame(rows, columns=["knob", "what it does", "total tokens"])
    table["tokens saved"] = base.total - table["total tokens"]
    return table.sort_values("tokens saved", ascending=False, kind="stable").reset_index(drop=True)


