"""Record what the released audio preprocessing returns, so tests can compare qwen_lessons.audio with it.

Not part of the course runtime. Run it with a throwaway interpreter that has the transformers wheel and numpy
installed (no torch: the Whisper feature extractor then computes its log-mel frames with numpy):

    python -m venv /tmp/ref && /tmp/ref/bin/pip install transformers==4.57.6 numpy
    pip download --no-deps -d WHEELS transformers==4.57.6
    git clone https://github.com/QwenLM/Qwen-Audio QWEN_AUDIO && git -C QWEN_AUDIO checkout b50fb95
    /tmp/ref/bin/python scripts/make_audio_reference.py WHEELS QWEN_AUDIO

For every clip length it runs the real ``WhisperFeatureExtractor`` with the keyword arguments each processor
passes (padding, the checkpoint's chunk_length) on a silent clip, reads the attention mask it returns, and
applies the token-count lines taken with ``ast`` from each processor's source (the processors themselves need
a tokenizer and torch). Qwen-Audio's tokenizer is not a wheel: its ``process_audio`` lines and
``get_T_after_cnn`` are taken from the repository at the commit given. It writes two tables:

- data/audio_reference_counts.csv: (generation, transformers_version, samples) -> mel frames and audio
  placeholder tokens

The counts of another transformers release are recorded with an interpreter that has that release installed,
replacing only that release's rows (the audio counts follow data/transformers_versions.csv):

    python -m venv /tmp/ref5 && /tmp/ref5/bin/pip install transformers==5.25.0 numpy
    pip download --no-deps -d WHEELS transformers==5.25.0
    /tmp/ref5/bin/python scripts/make_audio_reference.py WHEELS --only-transformers 5.25.0
- data/audio_reference_interleave.csv: the token layout of a video with its sound track (Omni models)
"""

from __future__ import annotations

import argparse
import ast
import csv
import re
import subprocess
import zipfile
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import numpy as np

HERE = Path(__file__).resolve().parent.parent / "data"
TRANSFORMERS = "transformers-4.57.6-py3-none-any.whl"
QWEN_AUDIO_COMMIT = "b50fb958438081d36e1a14e93dbbc2f329c7f10e"
PROCESSORS = {  # generation -> (file in the wheel, chunk_length of the checkpoint's preprocessor_config, padding)
    "qwen2-audio": ("transformers/models/qwen2_audio/processing_qwen2_audio.py", 30, "max_length"),
    "qwen2.5-omni": ("transformers/models/qwen2_5_omni/processing_qwen2_5_omni.py", 300, "max_length"),
    "qwen3-omni": ("transformers/models/qwen3_omni_moe/processing_qwen3_omni_moe.py", 30, True),
}
OMNI_CLASSES = {"qwen2.5-omni": "Qwen2_5OmniProcessor", "qwen3-omni": "Qwen3OmniMoeProcessor"}


def lengths() -> list[int]:
    """Clip lengths in samples: a few samples, around one hop, not multiples of the hop, 1 s, 30 s, 300 s and past."""
    few = [1, 2, 50, 100, 159, 160, 161, 200, 319, 320, 321, 399, 400, 401, 479, 480, 481, 640, 641, 960, 1000]
    hops = [160 * k + r for k in (5, 17, 99, 100, 101, 199, 200, 201, 999) for r in (0, 1, 80, 159)]
    seconds = [16000 * s for s in (1, 2, 3, 10, 29)] + [12345, 99999, 123457, 257123]
    boundary = [480000 - 161, 480000 - 160, 480000 - 159, 480000 - 1, 480000, 480001, 480159, 480160, 480161]
    long = [16000 * 45, 16000 * 60 + 7, 16000 * 120, 4800000 - 1, 4800000, 4800001, 16000 * 400]
    return sorted(set(few + hops + seconds + boundary + long))


def statements(source: str, function: str, targets: set[str], inputs: set[str]) -> list[ast.stmt]:
    """The assignments to `targets` inside function `function` that compute from `inputs` (or from each other)
    and from nothing else but builtins, in source order: the arithmetic lines, not the bookkeeping around them."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for inner in ast.walk(node):
                if isinstance(inner, ast.Assign) and any(getattr(t, "id", None) in targets for t in inner.targets):
                    names = {n.id for n in ast.walk(inner.value) if isinstance(n, ast.Name)}
                    if names & (inputs | targets) and names <= inputs | targets | {"iter", "min", "max"}:
                        found.append(inner)
    return sorted(found, key=lambda stmt: stmt.lineno)


def run(stmts: list[ast.stmt], namespace: dict, label: str) -> dict:
    exec(compile(ast.Module(body=stmts, type_ignores=[]), label, "exec"), namespace)
    return namespace


def module_function(source: str, name: str, label: str):
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return run([node], {"np": np}, label)[name]


def class_functions(source: str, class_name: str, names: set[str], label: str) -> dict:
    tree = ast.parse(source)
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name)
    nodes = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name in names]
    return run(nodes, {"np": np, "re": re}, label)


def token_count(source: str, path: str):
    """frames -> placeholder tokens, by the lines of the processor's source (their shape differs by release)."""
    tree = ast.parse(source)
    if any(isinstance(n, ast.FunctionDef) and n.name == "_get_feat_extract_output_lengths" for n in tree.body):
        output_lengths = module_function(source, "_get_feat_extract_output_lengths", path)
        return lambda frames: output_lengths(np.int64(frames))
    for node in ast.walk(tree):  # 5.x Qwen2-Audio: audio_inputs["num_audio_tokens"] = [... for l in audio_lengths]
        if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript)
                and getattr(node.targets[0].slice, "value", None) == "num_audio_tokens"):
            expression = compile(ast.Expression(node.value), path, "eval")
            return lambda frames: eval(expression, {"audio_lengths": [frames]})[0]
    if "num_audio_tokens" in {getattr(t, "id", None) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                              for t in n.targets}:  # 4.57.6 Qwen2-Audio: plain assignments in __call__
        lines = statements(source, "__call__", {"input_length", "num_audio_tokens"}, {"audio_length"})
        return lambda frames: run(lines, {"audio_length": frames}, path)["num_audio_tokens"]
    # 4.57.6 Qwen2.5-Omni: the lengths from the feature attention mask, in __call__
    lines = statements(source, "__call__", {"input_lengths", "audio_lengths"}, {"audio_inputs"})
    return lambda frames: next(run(lines, {"audio_inputs": {"feature_attention_mask": np.array([[1] * frames])},
                                           "iter": iter}, path)["audio_lengths"])


def hf_counts(wheels: Path, version: str = "4.57.6") -> list[dict]:
    import transformers
    from transformers import WhisperFeatureExtractor  # the throwaway interpreter's copy, the same release

    if transformers.__version__ != version:
        raise SystemExit(f"this interpreter has transformers {transformers.__version__}, not {version}")
    rows = []
    with zipfile.ZipFile(wheels / f"transformers-{version}-py3-none-any.whl") as archive:
        sources = {gen: archive.read(path).decode("utf-8") for gen, (path, _, _) in PROCESSORS.items()}
    for generation, (path, chunk_length, padding) in PROCESSORS.items():
        extractor = WhisperFeatureExtractor(feature_size=128, chunk_length=chunk_length)
        # 5.x processors that stop cutting say so in their audio defaults; the extractor's own default is to cut
        truncation = '"truncation": False' not in sources[generation]
        source = (f"pypi:transformers=={version}:{path} + models/whisper/feature_extraction_whisper.py "
                  f"(chunk_length {chunk_length}{'' if truncation else ', truncation False'})")
        count = token_count(sources[generation], path)
        for samples in lengths():
            try:
                out = extractor(np.zeros(samples, dtype=np.float32), sampling_rate=16000, padding=padding,
                                truncation=truncation, return_attention_mask=True)
            except ValueError as error:  # no frame at all: the extractor cannot take the log-mel maximum
                rows.append({"generation": generation, "transformers_version": version, "samples": samples,
                             "frames": "", "tokens": "",
                             "source": f"{source}: raised ValueError ({error})"})
                continue
            frames = int(out["attention_mask"].sum(-1)[0])
            tokens = int(count(frames))
            rows.append({"generation": generation, "transformers_version": version, "samples": samples,
                         "frames": frames, "tokens": tokens, "source": source})
        print(generation, "done")
    return rows


def qwen_audio_counts(checkout: Path) -> list[dict]:
    def show(path: str) -> str:
        return subprocess.run(["git", "-C", str(checkout), "show", f"{QWEN_AUDIO_COMMIT}:{path}"],
                              capture_output=True, text=True, check=True).stdout

    get_t = module_function(show("audio.py"), "get_T_after_cnn", "audio.py")
    lines = statements(show("tokenization_qwen.py"), "process_audio",
                       {"L", "mel_len", "audio_len_after_cnn", "audio_token_num"}, {"audio", "get_T_after_cnn"})
    source = f"repo:QwenLM/Qwen-Audio@{QWEN_AUDIO_COMMIT[:7]}:tokenization_qwen.py process_audio + audio.py get_T_after_cnn"
    rows = []
    for samples in lengths():
        ns = run(lines, {"audio": np.zeros(samples, dtype=np.float32), "get_T_after_cnn": get_t}, "process_audio")
        rows.append({"generation": "qwen-audio", "transformers_version": "", "samples": samples,
                     "frames": int(ns["mel_len"]),
                     "tokens": int(ns["audio_token_num"]), "source": source})
    return rows


TOKENS = dict(audio_token="<|AUDIO|>", image_token="<|IMAGE|>", video_token="<|VIDEO|>",
              vision_bos_token="<|vision_bos|>", vision_eos_token="<|vision_eos|>",
              audio_bos_token="<|audio_bos|>", audio_eos_token="<|audio_eos|>")
INTERLEAVE_CASES = [  # (grid_t, grid_h, grid_w, fps, audio_tokens): grids as the video processor returns them
    (1, 4, 4, 2.0, 10), (2, 4, 6, 2.0, 50), (5, 8, 8, 2.0, 250), (10, 26, 46, 2.0, 500), (10, 26, 46, 2.0, 130),
    (15, 16, 28, 1.0, 750), (30, 26, 46, 2.0, 1500), (30, 26, 46, 2.0, 390), (3, 10, 10, 0.5, 300),
    (8, 12, 20, 2.0, 7), (4, 6, 6, 4.0, 13), (60, 20, 36, 2.0, 3000), (60, 20, 36, 2.0, 1560), (2, 2, 2, 2.0, 0),
]


def runs_of(text: str) -> str:
    """'<|vision_bos|><|audio_bos|><|VIDEO|><|VIDEO|><|AUDIO|>...' -> 'V2 A1 ...' (placeholders only)."""
    pieces = re.findall(r"<\|VIDEO\|>|<\|AUDIO\|>", text)
    out: list[list] = []
    for piece in pieces:
        kind = "V" if piece == "<|VIDEO|>" else "A"
        if out and out[-1][0] == kind:
            out[-1][1] += 1
        else:
            out.append([kind, 1])
    return " ".join(f"{kind}{count}" for kind, count in out)


def interleave_rows(wheels: Path) -> list[dict]:
    rows = []
    with zipfile.ZipFile(wheels / TRANSFORMERS) as archive:
        for generation, class_name in OMNI_CLASSES.items():
            path = PROCESSORS[generation][0]
            functions = class_functions(archive.read(path).decode("utf-8"), class_name,
                                        {"replace_multimodal_special_tokens", "get_chunked_index"}, path)
            merge = SimpleNamespace(merge_size=2)
            fake = SimpleNamespace(image_processor=merge, video_processor=merge, **TOKENS)
            fake.get_chunked_index = partial(functions["get_chunked_index"], fake)
            per_second, per_chunk = (25, 2.0) if generation == "qwen2.5-omni" else (13.0, 2.0)  # processor defaults
            for grid_t, grid_h, grid_w, fps, audio in INTERLEAVE_CASES:
                text = TOKENS["vision_bos_token"] + TOKENS["video_token"] + TOKENS["vision_eos_token"]
                out = functions["replace_multimodal_special_tokens"](
                    fake, [text], iter([audio]), iter([]), iter([np.array([grid_t, grid_h, grid_w])]),
                    video_second_per_grid=iter([2 / fps]), use_audio_in_video=True,
                    position_id_per_seconds=per_second, seconds_per_chunk=per_chunk)[0]
                wrappers = len(re.findall(r"<\|(vision|audio)_(bos|eos)\|>", out))
                rows.append({"generation": generation, "grid_t": grid_t, "grid_h": grid_h, "grid_w": grid_w,
                             "fps": fps, "audio_tokens": audio, "video_tokens": out.count("<|VIDEO|>"),
                             "wrapper_tokens": wrappers, "layout": runs_of(out),
                             "source": f"pypi:transformers==4.57.6:{path} {class_name}.replace_multimodal_special_tokens"})
    return rows


def write(rows: list[dict], name: str) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to data/{name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", type=Path, help="folder holding the transformers 4.57.6 wheel")
    parser.add_argument("qwen_audio", type=Path, nargs="?", help="a git clone of QwenLM/Qwen-Audio")
    parser.add_argument("--only-transformers", metavar="VERSION",
                        help="record only this transformers release's counts, replacing its rows")
    args = parser.parse_args()
    if args.only_transformers:
        with open(HERE / "audio_reference_counts.csv", encoding="utf-8") as handle:
            kept = [row for row in csv.DictReader(handle) if row["transformers_version"] != args.only_transformers]
        write(kept + hf_counts(args.wheels, args.only_transformers), "audio_reference_counts.csv")
        return
    write(qwen_audio_counts(args.qwen_audio) + hf_counts(args.wheels), "audio_reference_counts.csv")
    write(interleave_rows(args.wheels), "audio_reference_interleave.csv")


if __name__ == "__main__":
    main()
