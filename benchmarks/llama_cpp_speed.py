"""This machine beside the course (lesson 8): measured memory bandwidth, a real llama.cpp run on random-weight
Qwen-shaped GGUF files, and the course's expected decode speed and bound for this machine, in one table.

Needs the [runtime] extra. Nothing is downloaded: the files are written here with random weights.
Usage: python benchmarks/llama_cpp_speed.py [--threads 1] [--record]
--record writes the runs to data/llama_cpp_speed.csv (fit rows: Qwen2.5-0.5B; judge rows: Qwen3-0.6B), which
scripts/fit_speed_constants.py fits llama.cpp's read efficiency on.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

from qwen_lessons import data, hardware, real_llama_cpp, speed

RUNS = (  # (model, format, role): files larger than the caches (a few-MB file runs from the caches, beating the
    # bandwidth bound); fit on Qwen2.5-0.5B, judge on Qwen3-0.6B, which no constant sees
    ("Qwen/Qwen2.5-0.5B-Instruct", "q8_0", "fit"), ("Qwen/Qwen2.5-0.5B-Instruct", "q4_k_m", "fit"),
    ("Qwen/Qwen3-0.6B", "q8_0", "judge"), ("Qwen/Qwen3-0.6B", "q4_k_m", "judge"),
)
PROMPT_TOKENS, GENERATE_TOKENS, CONTEXT = 64, 32, 512


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()
    reason = real_llama_cpp.available()
    if reason:
        raise SystemExit(f"skipped: {reason}")
    import llama_cpp

    bandwidth = real_llama_cpp.measure_bandwidth_gbs()
    machine = hardware.Machine("this machine", os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9,
                               round(bandwidth, 1), "cpu")
    print(f"memory bandwidth (numpy copy): {bandwidth:.1f} GB/s on {cpu_name()}, load {os.getloadavg()[0]:.1f}")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        written = {}
        for model, quant, role in RUNS:
            if model not in written:
                written[model] = real_llama_cpp.write_random_gguf(
                    real_llama_cpp.SHAPES.get(model, model), Path(folder) / f"{model.replace('/', '_')}-f16.gguf")
            path = real_llama_cpp.quantize(written[model], Path(folder) / f"{model.replace('/', '_')}-{quant}.gguf",
                                           quant)
            run = real_llama_cpp.run(path, CONTEXT, PROMPT_TOKENS, GENERATE_TOKENS, args.threads)
            ckpt = real_llama_cpp.shape(model)
            # the real-size file's tensors against the course's, to the byte (the tests check the tiny shapes)
            written_bytes = int(real_llama_cpp.file_tensors(path)["bytes"].sum())
            course_bytes = real_llama_cpp.course_tensor_bytes(ckpt, quant)
            print(f"{model:28} {quant:7} tensor bytes: file {written_bytes:,}, course {course_bytes:,} "
                  f"({'equal' if written_bytes == course_bytes else 'DIFFERENT'})")
            context = PROMPT_TOKENS + GENERATE_TOKENS / 2
            bound = speed.decode_tokens_per_s_bound(ckpt, quant, machine, context)
            expected = (speed.expected_decode_tokens_per_s(ckpt, quant, machine, "llama.cpp", context)
                        if "llama.cpp" in set(speed.speed_constants()["runtime"]) else float("nan"))
            rows.append({"role": role, "model": model, "quantization": quant,
                         "engine_version": f"llama-cpp-python {llama_cpp.__version__}", "cpu": cpu_name(),
                         "threads": args.threads, "bandwidth_gbs": round(bandwidth, 1),
                         "prompt_tokens": PROMPT_TOKENS, "generate_tokens": GENERATE_TOKENS,
                         "decode_tokens_per_s": round(run["decode_tokens_per_s"], 2),
                         "prompt_tokens_per_s": round(run["prompt_tokens_per_s"], 2),
                         "load_average": round(os.getloadavg()[0], 1), "measured_on": date.today().isoformat(),
                         "source": "benchmarks/llama_cpp_speed.py --record (random-weight file written by "
                                   "qwen_lessons.real_llama_cpp, quantized by llama_model_quantize)",
                         "expected": expected, "bound": bound})
            print(f"{model:28} {quant:7} measured {run['decode_tokens_per_s']:8.1f} tokens/s   expected "
                  f"{expected:8.1f}   bound {bound:8.1f}   prompt {run['prompt_tokens_per_s']:8.1f} tokens/s")
    table = pd.DataFrame(rows)
    if args.record:
        out = data.data_dir() / real_llama_cpp.LOCAL_SPEED_FILE
        table.drop(columns=["expected", "bound"]).to_csv(out, index=False, lineterminator="\n")
        print(f"recorded {len(table)} runs in {out}")


if __name__ == "__main__":
    main()
