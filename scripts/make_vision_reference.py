"""Record what the reference implementations return, so tests can compare qwen_lessons.vision with them.

Not part of the course runtime. It reads the released wheels (downloaded once, by pip, into a folder you
name), pulls the pure-arithmetic functions out of them with ``ast`` (their modules import torch at the top,
so they cannot be imported here), runs those functions on a fixed set of inputs and writes two tables:

- data/vision_reference_resizes.csv: smart_resize(height, width, factor, min_pixels, max_pixels)
- data/vision_reference_frames.csv: smart_nframes(total_frames, video_fps, fps)
- data/vision_reference_video_resizes.csv: the transformers 5.x video smart_resize(num_frames, height, width, ...)

The first two also hold two sweeps around the counts a learner reads as nonsense (lesson 5 explains them): a
266-px-high picture from 2800 to 5600 px wide under the transformers class budget, and 720p clips of 10 to 600 s
at 2 fps with the per-frame cap qwen-vl-utils' fetch_video computes.

Qwen3.5 and Qwen3.6 are counted through the transformers 5.x processors (Qwen3VLProcessor with the Qwen2-VL
image processor and the Qwen3-VL video processor): their rows come from the 5.24.0 and 5.25.0 wheels, run with the budgets
of the released Qwen3.5 preprocessor configs; the frame sampler is a method, so it is run with a stand-in for
``self`` that carries the class defaults.

Usage:
    pip download --no-deps -d WHEELS qwen-vl-utils==0.0.8 qwen-vl-utils==0.0.10 qwen-vl-utils==0.0.11 \
        qwen-vl-utils==0.0.14 qwen-omni-utils==0.0.9 transformers==4.57.6 transformers==5.24.0 \
        transformers==5.25.0
    python scripts/make_vision_reference.py WHEELS
"""

from __future__ import annotations

import argparse
import ast
import csv
import math
import random
import zipfile
from pathlib import Path
from types import SimpleNamespace

HERE = Path(__file__).resolve().parent.parent / "data"  # the tables are written into data/

# wheel file name -> path of the module inside it; the first helper wheel is the one cited per row
HELPER_WHEELS = {
    "qwen_vl_utils-0.0.14-py3-none-any.whl": "qwen_vl_utils/vision_process.py",
    "qwen_vl_utils-0.0.11-py3-none-any.whl": "qwen_vl_utils/vision_process.py",
    "qwen_vl_utils-0.0.10-py3-none-any.whl": "qwen_vl_utils/vision_process.py",
    "qwen_vl_utils-0.0.8-py3-none-any.whl": "qwen_vl_utils/vision_process.py",
    "qwen_omni_utils-0.0.9-py3-none-any.whl": "qwen_omni_utils/v2_5/vision_process.py",
}
TRANSFORMERS_WHEEL = ("transformers-4.57.6-py3-none-any.whl", "transformers/models/qwen2_vl/image_processing_qwen2_vl.py")
TRANSFORMERS_5 = ("5.24.0", "5.25.0")  # the release first recorded and the current one (data/transformers_versions.csv)
TF5_IMAGE = "transformers/models/qwen2_vl/image_processing_qwen2_vl.py"
TF5_VIDEO = "transformers/models/qwen3_vl/video_processing_qwen3_vl.py"
# Qwen/Qwen3.5-*/preprocessor_config.json and video_preprocessor_config.json "size" (see data/vision_pixel_budgets.csv)
QWEN35_IMAGE_BUDGET = ("qwen3.5-checkpoint", 65536, 16777216)
QWEN35_VIDEO_BUDGET = ("qwen3.5-checkpoint", 4096, 25165824)
FRAME_WHEELS = {  # the two frame-count rules: round to even (Qwen2-VL era) and floor to even (0.0.10 on)
    "qwen-vl-utils 0.0.8": "qwen_vl_utils-0.0.8-py3-none-any.whl",
    "qwen-vl-utils 0.0.14": "qwen_vl_utils-0.0.14-py3-none-any.whl",
}
FUNCTIONS = {"round_by_factor", "ceil_by_factor", "floor_by_factor", "smart_resize", "smart_nframes"}
CONSTANTS = {
    "MAX_RATIO", "IMAGE_FACTOR", "MIN_PIXELS", "MAX_PIXELS", "SPATIAL_MERGE_SIZE", "IMAGE_MIN_TOKEN_NUM",
    "IMAGE_MAX_TOKEN_NUM", "FRAME_FACTOR", "FPS", "FPS_MIN_FRAMES", "FPS_MAX_FRAMES",
}
PRELUDE = "import math, logging\nfrom typing import Any, Dict, List, Optional, Tuple, Union\nlogger = logging.getLogger('ref')\n"


def load_functions(wheel: Path, member: str) -> dict:
    """Execute only the arithmetic functions and constants of one module from a wheel; return its namespace."""
    with zipfile.ZipFile(wheel) as archive:
        tree = ast.parse(archive.read(member).decode("utf-8"))
    keep = [
        node
        for node in tree.body
        if (isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS)
        or (isinstance(node, ast.Assign) and any(getattr(t, "id", None) in CONSTANTS for t in node.targets))
    ]
    namespace: dict = {}
    exec(PRELUDE, namespace)
    exec(compile(ast.Module(body=keep, type_ignores=[]), f"{wheel.name}:{member}", "exec"), namespace)
    return namespace


def sizes_for(factor: int, rng: random.Random) -> list[tuple[int, int]]:
    """Edge cases (half-way roundings, tiny sides, ratio exactly 200, huge images) plus random sizes."""
    half = [factor * k + factor // 2 for k in range(1, 6)]
    edges = [
        (1, 1), (1, 200), (200, 1), (3, 600), (600, 3), (10, 10), (13, 2000), (14, 14), (15, 15), (16, 16),
        (factor - 1, factor - 1), (factor, factor), (factor + 1, 5 * factor), (42, 42), (70, 70), (1022, 1022),
        (38, 38), (448, 448), (1080, 1920), (1920, 1080), (720, 1280), (480, 640), (2048, 2048), (100, 100), (4000, 3000),
        (3000, 4000), (20000, 20000), (500, 100000), (100000, 500), (99999, 99999), (7, 1400), (1400, 7),
    ]
    edges += [(h, w) for h in half for w in half[::2]]
    randoms = []
    while len(randoms) < 40:
        height = int(round(math.exp(rng.uniform(0, math.log(30000)))))
        width = int(round(math.exp(rng.uniform(0, math.log(30000)))))
        if max(height, width) <= 200 * min(height, width):
            randoms.append((height, width))
    return edges + randoms


def budgets_for(factor: int) -> list[tuple[str, float, float]]:
    """(label, min_pixels, max_pixels) pairs covering every named budget plus a video-style float cap."""
    budgets = [
        ("helper", 4 * factor**2, 16384 * factor**2),  # qwen-vl-utils default, 4-16384 tokens
        ("hf-class", 56 * 56, 28 * 28 * 1280),  # Qwen2VLImageProcessor class default
        ("readme", 256 * factor**2, 1280 * factor**2),  # README example, 256-1280 tokens
        ("video-cap", 128 * factor**2, 128000 * factor**2 * 0.9 / 766 * 2),  # per-frame cap of a 766-frame video
        ("tiny", factor**2, 50 * factor**2),  # 1-50 tokens: where the clamps differ
    ]
    if factor == 32:
        budgets.append(("qwen3-checkpoint", 65536, 16777216))  # Qwen3-VL preprocessor_config.json
    return budgets


def make_resizes(wheels: Path) -> list[dict]:
    """Run every helper smart_resize and the transformers one on the same inputs; helpers must agree."""
    helpers = {name: load_functions(wheels / name, member)["smart_resize"] for name, member in HELPER_WHEELS.items()}
    hf = load_functions(wheels / TRANSFORMERS_WHEEL[0], TRANSFORMERS_WHEEL[1])["smart_resize"]
    # every helper wheel gave the same output (checked below); the row cites the newest
    helper_source = "pypi:qwen-vl-utils==0.0.14:qwen_vl_utils/vision_process.py smart_resize"
    hf_source = f"pypi:transformers==4.57.6:{TRANSFORMERS_WHEEL[1]} smart_resize"
    rng = random.Random(20240829)
    rows = []
    grid = []  # the factor-32 inputs of the Qwen3-VL checkpoint budget, reused for Qwen3.5 below
    for factor in (28, 32):
        for label, min_pixels, max_pixels in budgets_for(factor):
            sizes = sizes_for(factor, rng)
            if label == "qwen3-checkpoint":
                grid = sizes
            for height, width in sizes:
                outputs = {name: fn(height, width, factor, min_pixels, max_pixels) for name, fn in helpers.items()}
                if len(set(outputs.values())) != 1:
                    raise SystemExit(f"helpers disagree at {height}x{width} {factor} {label}: {outputs}")
                for implementation, result, source in (
                    ("qwen-vl-utils", next(iter(outputs.values())), helper_source),
                    ("transformers", hf(height, width, factor, min_pixels, max_pixels), hf_source),
                ):
                    rows.append({
                        "implementation": implementation, "budget": label, "factor": factor,
                        "min_pixels": repr(float(min_pixels)) if isinstance(min_pixels, float) else min_pixels,
                        "max_pixels": repr(float(max_pixels)) if isinstance(max_pixels, float) else max_pixels,
                        "height": height, "width": width,
                        "resized_height": result[0], "resized_width": result[1], "source": source,
                    })
    return rows + make_qwen35_resizes(wheels, grid) + make_dip_resizes(wheels, helpers, hf, helper_source, hf_source)


# The two counts a learner reads as nonsense (issue 31): a 266-px-high picture costs fewer tokens at 5321 px wide
# than at 3151 px under the transformers class budget, and a 720p clip at 2 fps costs fewer tokens at 264 s than at
# 192 s. The sweeps below record what the references return around them, so the lesson's figure is pinned to them.
DIP_HEIGHT = 266
DIP_WIDTHS = sorted({*range(2800, 5601, 7), 3151, 5321})
DIP_CLIP = (720, 1280, 30.0, 2.0)  # frame height, width, clip frame rate, sampling fps
DIP_SECONDS = sorted({*range(10, 601, 6), 192, 264})


def dip_video_cap(nframes: int, factor: int = 28) -> float:
    """The per-frame max_pixels qwen-vl-utils' fetch_video passes to smart_resize for nframes sampled frames:
    max(min(VIDEO_MAX_PIXELS, VIDEO_TOTAL_PIXELS / nframes * FRAME_FACTOR), int(VIDEO_MIN_PIXELS * 1.05)),
    with the 0.0.11 constants (768 and 128 tokens of factor^2, total int(128000 x 28 x 28 x 0.9), factor 2)."""
    return max(min(768 * factor**2, int(128000 * factor**2 * 0.9) / nframes * 2), int(128 * factor**2 * 1.05))


def make_dip_resizes(wheels: Path, helpers: dict, hf, helper_source: str, hf_source: str) -> list[dict]:
    """The width sweep (transformers class budget) and the per-frame caps of the duration sweep, both references."""
    wheel = FRAME_WHEELS["qwen-vl-utils 0.0.14"]
    smart_nframes = load_functions(wheels / wheel, HELPER_WHEELS[wheel])["smart_nframes"]
    rows = []
    for width in DIP_WIDTHS:
        for implementation, fn, source in (("qwen-vl-utils", next(iter(helpers.values())), helper_source),
                                           ("transformers", hf, hf_source)):
            result = fn(DIP_HEIGHT, width, 28, 56 * 56, 28 * 28 * 1280)
            rows.append({"implementation": implementation, "budget": "hf-class", "factor": 28, "min_pixels": 3136,
                         "max_pixels": 1003520, "height": DIP_HEIGHT, "width": width,
                         "resized_height": result[0], "resized_width": result[1], "source": source})
    height, width, clip_fps, fps = DIP_CLIP
    for seconds in DIP_SECONDS:
        nframes = smart_nframes({"fps": fps}, total_frames=int(seconds * clip_fps), video_fps=clip_fps)
        cap = dip_video_cap(nframes)
        outputs = {name: fn(height, width, 28, 128 * 28 * 28, cap) for name, fn in helpers.items()
                   if "0.0.8" not in name}
        if len(set(outputs.values())) != 1:
            raise SystemExit(f"helpers disagree on the {seconds} s clip: {outputs}")
        result = next(iter(outputs.values()))
        rows.append({"implementation": "qwen-vl-utils", "budget": "video-sweep", "factor": 28,
                     "min_pixels": 128 * 28 * 28, "max_pixels": repr(float(cap)), "height": height, "width": width,
                     "resized_height": result[0], "resized_width": result[1], "source": helper_source})
    return rows


def make_qwen35_resizes(wheels: Path, grid: list[tuple[int, int]]) -> list[dict]:
    """The transformers 5.x image smart_resize at factor 32 with the Qwen3.5 checkpoint budget, per release."""
    label, min_pixels, max_pixels = QWEN35_IMAGE_BUDGET
    rows = []
    for version in TRANSFORMERS_5:
        smart_resize = load_functions(wheels / f"transformers-{version}-py3-none-any.whl", TF5_IMAGE)["smart_resize"]
        source = f"pypi:transformers=={version}:{TF5_IMAGE} smart_resize"
        for height, width in grid:
            resized_height, resized_width = smart_resize(height, width, 32, min_pixels, max_pixels)
            rows.append({"implementation": f"transformers {version}", "budget": label, "factor": 32,
                         "min_pixels": min_pixels, "max_pixels": max_pixels, "height": height, "width": width,
                         "resized_height": resized_height, "resized_width": resized_width, "source": source})
    return rows


def load_method(wheel: Path, member: str, class_name: str, method: str):
    """One method of a class in a wheel's module, as a plain function (numpy and logger provided)."""
    import numpy as np  # the sampler uses np.linspace; the script needs numpy, the course has it anyway

    with zipfile.ZipFile(wheel) as archive:
        tree = ast.parse(archive.read(member).decode("utf-8"))
    owner = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == class_name)
    function = next(node for node in owner.body if isinstance(node, ast.FunctionDef) and node.name == method)
    namespace: dict = {"np": np, "VideoMetadata": object}  # names the signature mentions
    exec(PRELUDE, namespace)
    exec(compile(ast.Module(body=[function], type_ignores=[]), f"{wheel.name}:{member}", "exec"), namespace)
    return namespace[method]


def frame_cases() -> list[tuple[int, float, float]]:
    """(total_frames, video_fps, fps): fixed clip lengths plus random ones, the same list for every sampler."""
    rng = random.Random(7)
    cases = [(n, f, s) for n in (2, 3, 4, 5, 7, 8, 9, 60, 61, 120, 121, 1799, 1800, 23040, 86400)
             for f in (24.0, 29.97, 30.0) for s in (0.5, 1.0, 2.0)]
    while len(cases) < 240:
        video_fps = rng.choice((23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0))
        seconds = math.exp(rng.uniform(math.log(0.2), math.log(7200)))
        cases.append((max(2, int(round(seconds * video_fps))), video_fps, rng.choice((0.25, 0.5, 1.0, 2.0, 4.0))))
    return cases


def make_frames(wheels: Path) -> list[dict]:
    """Run both smart_nframes rules on clip lengths from a fraction of a second to two hours."""
    cases = frame_cases()
    rows = []
    for implementation, wheel in FRAME_WHEELS.items():
        smart_nframes = load_functions(wheels / wheel, HELPER_WHEELS[wheel])["smart_nframes"]
        source = f"pypi:{implementation.replace(' ', '==')}:qwen_vl_utils/vision_process.py smart_nframes"
        for total_frames, video_fps, fps in cases:
            try:
                nframes = smart_nframes({"fps": fps}, total_frames=total_frames, video_fps=video_fps)
            except ValueError:
                continue  # the error cases are tested by hand in tests/test_vision.py
            rows.append({"implementation": implementation, "total_frames": total_frames, "video_fps": video_fps,
                         "fps": fps, "nframes": nframes, "source": source})
    # the duration sweep of make_dip_resizes: 720p clips at 30 fps sampled at 2 fps
    height, width, clip_fps, fps = DIP_CLIP
    wheel = FRAME_WHEELS["qwen-vl-utils 0.0.14"]
    smart_nframes = load_functions(wheels / wheel, HELPER_WHEELS[wheel])["smart_nframes"]
    for seconds in DIP_SECONDS:
        total_frames = int(seconds * clip_fps)
        rows.append({"implementation": "qwen-vl-utils 0.0.14", "total_frames": total_frames, "video_fps": clip_fps,
                     "fps": fps, "nframes": smart_nframes({"fps": fps}, total_frames=total_frames, video_fps=clip_fps),
                     "source": "pypi:qwen-vl-utils==0.0.14:qwen_vl_utils/vision_process.py smart_nframes"})
    # transformers 5.x Qwen3VLVideoProcessor.sample_frames with its class defaults (fps 2, 4 to 768 frames)
    processor = SimpleNamespace(fps=2, min_frames=4, max_frames=768)
    for version in TRANSFORMERS_5:
        sample_frames = load_method(wheels / f"transformers-{version}-py3-none-any.whl", TF5_VIDEO,
                                    "Qwen3VLVideoProcessor", "sample_frames")
        source = f"pypi:transformers=={version}:{TF5_VIDEO} Qwen3VLVideoProcessor.sample_frames"
        for total_frames, video_fps, fps in cases:
            indices = sample_frames(processor, SimpleNamespace(total_num_frames=total_frames, fps=video_fps), fps=fps)
            rows.append({"implementation": f"transformers {version}", "total_frames": total_frames,
                         "video_fps": video_fps, "fps": fps, "nframes": len(indices), "source": source})
    return rows


def make_video_resizes(wheels: Path) -> list[dict]:
    """The transformers 5.x video smart_resize (budget over all frames) with the Qwen3.5 video budget, per release."""
    label, min_pixels, max_pixels = QWEN35_VIDEO_BUDGET
    sizes = [(1, 1), (10, 10), (16, 500), (31, 31), (32, 32), (48, 48), (100, 100), (240, 320), (360, 640), (480, 640),
             (720, 1280), (1080, 1920), (1920, 1080), (2160, 3840), (4000, 3000), (7, 1400), (1400, 7), (50, 10000)]
    rows = []
    for version in TRANSFORMERS_5:
        smart_resize = load_functions(wheels / f"transformers-{version}-py3-none-any.whl", TF5_VIDEO)["smart_resize"]
        source = f"pypi:transformers=={version}:{TF5_VIDEO} smart_resize"
        for num_frames in (2, 3, 4, 5, 8, 9, 16, 60, 61, 120, 240, 600, 767, 768):
            for height, width in sizes:
                try:
                    resized_height, resized_width = smart_resize(num_frames, height, width, 2, 32, min_pixels,
                                                                 max_pixels)
                except ValueError:
                    continue  # aspect ratio over 200 after the small-side upscale
                rows.append({"implementation": f"transformers {version}", "budget": label, "num_frames": num_frames,
                             "factor": 32, "temporal_factor": 2, "min_pixels": min_pixels, "max_pixels": max_pixels,
                             "height": height, "width": width, "resized_height": resized_height,
                             "resized_width": resized_width, "source": source})
    return rows


def write(rows: list[dict], name: str) -> None:
    """Write rows as data/<name> with the header taken from the first row."""
    with open(HERE / name, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        # the input sets repeat a few cases; a repeated row adds nothing and the table's key refuses it
        writer.writerows({tuple(row.items()): row for row in rows}.values())
    print(f"wrote {len(rows)} rows to data/{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", type=Path, help="folder holding the downloaded wheels")
    args = parser.parse_args()
    write(make_resizes(args.wheels), "vision_reference_resizes.csv")
    write(make_frames(args.wheels), "vision_reference_frames.csv")
    write(make_video_resizes(args.wheels), "vision_reference_video_resizes.csv")


if __name__ == "__main__":
    main()
