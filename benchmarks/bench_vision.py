"""Benchmarks for lesson 5: the vectorised image count over 100,000 sizes, and the three widgets' updates."""

from __future__ import annotations

import datetime
import itertools
import struct
import zlib

from run import Case
from qwen_lessons import pictures

SIZES = 100_000


def _sizes():
    """100,000 random sizes from 1 px to 8,000 px, with the aspect ratio kept within the 200:1 limit."""
    import numpy as np

    rng = np.random.default_rng(0)
    heights = rng.integers(1, 8000, SIZES)
    widths = np.clip(rng.integers(1, 8000, SIZES), (heights + 199) // 200, heights * 200)
    return heights, widths


def _png_header(width: int, height: int) -> bytes:
    """A PNG that only has a valid header: what a 20,000 x 20,000 upload looks like to the size reader."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 8)) + chunk(b"IEND", b"")


def _file(name: str, data: bytes) -> dict:
    return {"name": name, "type": "image/png", "size": len(data), "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.UTC)}


def cases() -> list[Case]:
    from qwen_lessons import vision
    from qwen_lessons.widgets import vision_token_budgets as vision_widgets

    heights, widths = _sizes()

    def count_helper():
        tokens = vision.image_tokens_many(heights, widths, "qwen2.5-vl")
        return {"sizes": f"{len(tokens):,}", "mean tokens": f"{tokens.mean():,.0f}"}

    def count_qwen3_hf():
        vision.image_tokens_many(heights, widths, "qwen3-vl", budget="qwen3-vl-checkpoint")

    scalar_heights, scalar_widths = heights[:10_000].tolist(), widths[:10_000].tolist()

    def count_scalar():
        for height, width in zip(scalar_heights, scalar_widths, strict=True):
            vision.image_tokens(height, width)

    image = vision_widgets.image_widget()
    generations = itertools.cycle(vision.generation_keys())
    files = itertools.cycle(list(vision.samples_table()["file"]))
    for file in vision.samples_table()["file"]:  # decode every sample once, as a learner's first look does
        image.picture.value = file

    def image_generation():
        image.generation.value = next(generations)

    def image_picture():
        image.picture.value = next(files)

    upload = vision_widgets.upload_widget()
    upload.upload.value = (_file("photo.png", pictures.sample_bytes("images/photo.png")),)
    upload_generations = itertools.cycle(vision.generation_keys())

    def upload_generation():
        upload.generation.value = next(upload_generations)

    huge = _png_header(20_000, 20_000)

    def upload_huge():
        upload.upload.value = (_file("huge.png", huge),)  # a new file each time: header read + note
        upload.upload.value = ()

    planner = vision_widgets.prompt_planner_widget()
    widths_cycle = itertools.cycle(range(3000, 4000, 7))

    def planner_size():
        planner.image_width.value = next(widths_cycle)

    qwen3 = vision_widgets.prompt_planner_widget("qwen3-vl")
    durations = itertools.cycle(range(30, 600, 11))

    def planner_video():
        qwen3.duration.value = float(next(durations))  # new timestamps to tokenize each time

    return [
        Case("05 image_tokens_many, 100,000 sizes (Qwen2.5-VL)", 1.0, count_helper, repeats=7),
        Case("05 image_tokens_many, 100,000 sizes (Qwen3-VL, checkpoint budget)", 1.0, count_qwen3_hf, repeats=7),
        Case("05 image_tokens, 10,000 scalar calls (for comparison)", None, count_scalar, repeats=3),
        Case("05 image widget update (generation)", 0.1, image_generation, repeats=30),
        Case("05 image widget update (sample picture)", 0.1, image_picture, repeats=30),
        Case("05 upload widget update (12 MP PNG, generation)", 0.1, upload_generation, repeats=30),
        Case("05 upload of a 20,000 x 20,000 PNG (header only)", 0.1, upload_huge, repeats=20),
        Case("05 planner widget update (image size)", 0.1, planner_size, repeats=30),
        Case("05 planner widget update (Qwen3-VL video length)", 0.1, planner_video, repeats=30),
    ]
