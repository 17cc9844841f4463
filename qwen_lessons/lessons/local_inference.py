"""Lesson 8 (08_local_inference): running Qwen on your own machine. File sizes by format, the advice checked with
GGUF numbers, what the KV-cache type and offloading do, and the path from "my machine has 16 GB" to a command."""

from __future__ import annotations

import pandas as pd

from qwen_lessons import local_formats, local_runtime, models
from qwen_lessons.catalog import context_limit
from qwen_lessons.data import read_table
from qwen_lessons.hardware import get_gpu
from qwen_lessons.units import GIB
from qwen_lessons.validation import checked
from qwen_lessons.language import figure_text

SEVEN_B = "Qwen/Qwen2.5-7B-Instruct"
CARD_16GB = "rtx-4060-ti-16gb"


@checked
def sizes_by_format(model_id) -> pd.DataFrame:
    """One checkpoint in every local format: file size, bits per weight over all parameters, and the size the
    format's nominal bits alone would give."""
    ckpt = models.resolve(model_id)
    total = models.count_parameters(ckpt)[0]
    rows = []
    for quant in local_formats.local_quantizations():
        size = local_formats.file_bytes(ckpt, quant)
        bits = local_formats.local_format(quant)["bits"]
        rows.append({"format": quant, "file_gb": size / 1e9, "bits_per_weight": size * 8 / total,
                     "nominal_gb": total * bits / 8 / 1e9})
    return pd.DataFrame(rows)


@checked
def type_mix(model_id, quantization: str = "q4_k_m") -> pd.DataFrame:
    """Which ggml types a GGUF file is made of: tensors and GB per type."""
    tensors = local_formats.gguf_tensor_types(model_id, quantization)
    grouped = tensors.groupby("ggml_type").agg(tensors=("tensors", "sum"), bytes=("bytes", "sum"))
    grouped["gb"] = grouped.pop("bytes") / 1e9
    return grouped.sort_values("gb", ascending=False).reset_index()


@checked(kv_cache_dtype=local_runtime.KV_CACHE_TYPE)
def max_context_on(model_id, quantization: str, gpu_id: str, kv_cache_dtype: str = "f16") -> int:
    """Longest context (a multiple of 256, as llama.cpp pads it) whose whole model fits the machine's usable memory."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    kind = get_gpu(gpu_id)["kind"]
    budget = local_runtime.usable_gib(gpu_id)

    def need(tokens: int) -> float:
        est = local_runtime.llama_cpp_memory(ckpt, quantization, tokens, kv_cache_dtype)
        return est.gpu_total_gib + (est.cpu_total_gib if kind in ("apple", "cpu") else 0.0)

    limit = context_limit(ckpt.model_id) or ckpt["max_position_embeddings"] or 32768
    low, high = 0, limit // 256
    if need(256) > budget:
        return 0
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if need(mid * 256) <= budget else (low, mid - 1)
    return low * 256


@checked
def check_seven_b_advice() -> pd.DataFrame:
    """"A 7B instruct fits a 16 GB GPU at 4-bit", checked with GGUF numbers on a 16 GB card and a 16 GB Mac."""
    rows = []
    for gpu_id in (CARD_16GB, "apple-m4-16gb"):
        for quant, cache in (("q4_k_m", "f16"), ("q4_k_m", "q8_0")):
            tokens = max_context_on(SEVEN_B, quant, gpu_id, cache)
            limit = context_limit(SEVEN_B)
            verdict = "holds at its full context" if tokens >= limit else (
                "holds" if tokens >= 8192 else "holds only for short context")
            rows.append({"machine": get_gpu(gpu_id)["name"], "format": quant, "kv_cache": cache,
                         "longest_context": tokens, "verdict": verdict})
    return pd.DataFrame(rows)


@checked
def kv_cache_choices(model_id, context_tokens: int = 32768) -> pd.DataFrame:
    """The KV cache at one context in f16, q8_0 and q4_0 (llama.cpp --cache-type-k/-v), in GiB."""
    rows = []
    for cache in local_formats.kv_cache_types():
        est = local_runtime.llama_cpp_memory(model_id, "q4_k_m", context_tokens, cache)
        rows.append({"kv_cache": cache, "kv_gib": est.gpu_kv_gib + est.cpu_kv_gib,
                     "total_gib": est.gpu_total_gib + est.cpu_total_gib})
    return pd.DataFrame(rows)


@checked
def offload_curve(model_id, quantization: str = "q4_k_m", gpu_id: str = "rtx-3060-12gb",
                  context_tokens: int = 8192) -> pd.DataFrame:
    """Decode bound and GPU memory as -ngl grows from 0 (all in RAM) to every layer and the output on the GPU."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    rows = []
    for ngl in range(0, len(ckpt.layers) + 2):
        est = local_runtime.llama_cpp_memory(ckpt, quantization, context_tokens, "f16", ngl)
        rows.append({"n_gpu_layers": ngl, "gpu_gib": est.gpu_total_gib, "ram_gib": est.cpu_total_gib,
                     "tokens_per_s_bound": local_runtime.decode_tokens_per_s_bound(
                         ckpt, quantization, gpu_id, context_tokens, "f16", ngl)})
    return pd.DataFrame(rows)


@checked
def weights_gib(model_id, quantization: str) -> float:
    """The GGUF or MLX file's size in GiB (what the download and the weights in memory take)."""
    return local_formats.file_bytes(model_id, quantization) / GIB


@checked
def offload_figure(model_id="Qwen/Qwen3-14B", quantization: str = "q8_0", gpu_id: str = "rtx-3060-12gb",
                   context_tokens: int = 8192, ax=None):
    """Decode bound against -ngl, with the largest -ngl that fits the card marked: the figure of section 4."""
    import matplotlib.pyplot as plt

    from qwen_lessons import plotting

    plotting.use_course_style()
    if ax is None:
        _, ax = plt.subplots()
    curve = offload_curve(model_id, quantization, gpu_id, context_tokens)
    fits = local_runtime.max_gpu_layers(model_id, quantization, gpu_id, context_tokens)
    ax.plot(curve["n_gpu_layers"], curve["tokens_per_s_bound"], color=plotting.OKABE_ITO[0], linewidth=2)
    ax.axvline(fits, color=plotting.OKABE_ITO[1], linestyle="--", label=figure_text("largest -ngl that fits: {layers}").format(layers=fits))
    ax.set_xlabel(figure_text("layers on the GPU (-ngl)"))
    ax.set_ylabel(figure_text("decode bound (tokens/s)"))
    ax.set_title(figure_text("The layers left in RAM set the speed"))
    ax.legend(loc="upper left")
    return ax.figure


MEASURED_SHAPE = "tiny-qwen2"  # a few-MB random-weight Qwen2-shaped file: seconds to write, quantize and run


@checked
def measure_your_machine(quantization: str = "q8_0") -> tuple[str, pd.DataFrame]:
    """Prediction against measurement on this machine: with the [runtime] extra, write a random-weight Qwen-shaped
    GGUF, quantize it with llama.cpp, run it, and set the course's tensor bytes, KV cache, expected speed and bound
    beside what llama.cpp reports; without it, the runs recorded in data/llama_cpp_speed.csv (their CPU and date).
    Returns (one line saying which, the table)."""
    import tempfile
    from pathlib import Path

    from qwen_lessons import hardware, memory, real_llama_cpp, speed

    if memory.normalize_quantization(quantization) not in local_formats.local_quantizations("llama.cpp"):
        raise ValueError(f"quantization must be one of {local_formats.local_quantizations('llama.cpp')}; got "
                         f"{quantization!r}")
    reason = real_llama_cpp.available()
    if reason:
        runs = real_llama_cpp.local_speed_errors()
        recorded = read_table(real_llama_cpp.LOCAL_SPEED_FILE)
        where = f"{recorded['cpu'].iloc[0]}, {recorded['measured_on'].iloc[0]}"
        return (f"Recorded runs of this course's CI machine ({where}); {reason}.",
                runs[["model", "quantization", "measured_tokens_per_s", "expected_tokens_per_s",
                      "bound_tokens_per_s"]])
    bandwidth = real_llama_cpp.measure_bandwidth_gbs()
    machine = hardware.Machine("this machine", 16, round(max(bandwidth, 5.0), 1), "cpu")
    ckpt = real_llama_cpp.shape(MEASURED_SHAPE)
    with tempfile.TemporaryDirectory() as folder:
        source = real_llama_cpp.write_random_gguf(MEASURED_SHAPE, Path(folder) / "f16.gguf")
        target = real_llama_cpp.quantize(source, Path(folder) / f"{quantization}.gguf", quantization)
        file_bytes = int(real_llama_cpp.file_tensors(target)["bytes"].sum())
        run = real_llama_cpp.run(target, 512, 64, 32)
    context = 64 + 32 / 2
    rows = [
        ("tensor bytes in the file", real_llama_cpp.course_tensor_bytes(ckpt, quantization), file_bytes),
        ("KV cache at 512 tokens (MiB)", real_llama_cpp.course_kv_mib(ckpt, 512), run["kv_buffer_mib"]),
        ("decode tokens/s: expected", speed.expected_decode_tokens_per_s(ckpt, quantization, machine, "llama.cpp",
                                                                          context), run["decode_tokens_per_s"]),
        ("decode tokens/s: bound", speed.decode_tokens_per_s_bound(ckpt, quantization, machine, context),
         run["decode_tokens_per_s"]),
    ]
    return (f"Measured here: {bandwidth:.1f} GB/s memory bandwidth (numpy copy), a random-weight {MEASURED_SHAPE} "
            f"file in {quantization} run by llama.cpp.",
            pd.DataFrame(rows, columns=["quantity", "course", "llama.cpp on this machine"]))
