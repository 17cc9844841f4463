"""Lesson 8 (08_local_inference): memory and speed of llama.cpp / Ollama on a laptop or desktop, and the laptop wizard.

Runtime memory is physical: the GGUF weights (qwen_lessons.local_formats) split between the GPU and system RAM by
-ngl (n_gpu_layers), the KV cache at the chosen context and cache type, the fixed Gated DeltaNet state of the
hybrid checkpoints, and the compute buffer llama.cpp reserves for one micro-batch. The decode speed bound reads
every byte a token needs once: time = bytes on the GPU / GPU bandwidth + bytes in RAM / RAM bandwidth.
Layer placement follows llama.cpp's load_tensors (repo:ggml-org/llama.cpp, src/llama-model.cpp; read in public
excerpts of recent versions, not at one pinned commit): i_gpu_start = max(n_layer + 1 - ngl, 0), the output layer
counts as layer n_layer, the input embedding always stays on the CPU.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import asdict, dataclass

import pandas as pd

from qwen_lessons import local_formats, memory, models
from qwen_lessons.catalog import context_limit, general_chat_lines
from qwen_lessons.catalog_view import CatalogEntry, CatalogView, catalog_view
from qwen_lessons.data import DataFileError, built_from, cached, read_table
from qwen_lessons.hardware import HOST_CPU, machine_row, machine_rule
from qwen_lessons.language import translate as _
from qwen_lessons.speed import expected_from_bound
from qwen_lessons.units import GB, GIB
from qwen_lessons.validation import checked, flag, instance, integer, key, number, optional

MEASUREMENTS_FILE = "llama_cpp_measurements.csv"
DOWNLOADS_FILE = "local_downloads.csv"
# Course choice: checkpoints within 2% of each other's parameter count are the same size (Qwen2.5-14B and Qwen3-14B
# differ by 0.01%), and the wizard then prefers the newer release.
SAME_SIZE_TOLERANCE = 0.02
N_UBATCH = 512  # llama.cpp's default physical batch (-ub): the compute buffer is reserved for this many tokens
HOST_ID = "cpu-ddr5-32gb"  # the RAM beside a consumer GPU when layers stay on the CPU
# Course choices, not vendor facts: what the operating system, the display and other programs keep
SYSTEM_SHARE = {"apple": 0.25, "cpu": 0.25, "consumer": 0.10, "datacenter": 0.10}
ADVISED_MIN_BITS = 4  # course choice: the answer stays at 4 bits or more; 3-bit options are listed, not advised
N_GPU_LAYERS = optional(integer(0, 100_000, "layers"))

# the rule of a llama.cpp cache type (--cache-type-k/-v): one of data/gguf_types.csv's kv_cache types
KV_CACHE_TYPE = local_formats.KV_CACHE_TYPE


@dataclass(frozen=True)
class LocalMemory:
    """llama.cpp's memory for one model, context and offload, in GiB, split between the GPU and system RAM."""

    model_id: str
    quantization: str
    context_tokens: int
    kv_cache_dtype: str
    n_gpu_layers: int  # as llama.cpp counts them: the output layer is one (n_layer + 1 = everything)
    gpu_weights_gib: float
    cpu_weights_gib: float
    gpu_kv_gib: float
    cpu_kv_gib: float
    state_gib: float
    compute_gib: float
    metadata_gib: float
    gpu_total_gib: float
    cpu_total_gib: float

    def as_dict(self) -> dict:
        """All fields as a plain dict."""
        return asdict(self)

    def terms(self) -> pd.DataFrame:
        """The breakdown as a table: term, where it lives, GiB and what it is."""
        rows = [
            ("weights", "GPU", self.gpu_weights_gib, "the GGUF tensors of the offloaded layers (and the output layer)"),
            ("weights", "RAM", self.cpu_weights_gib, "the rest: layers not offloaded and the token embedding"),
            ("KV cache", "GPU", self.gpu_kv_gib, "K and V of the offloaded attention layers for the whole context"),
            ("KV cache", "RAM", self.cpu_kv_gib, "K and V of the layers left on the CPU"),
            ("linear state", "GPU", self.state_gib, "Gated DeltaNet state (Qwen3-Next, 3.5, 3.6): fixed, any context"),
            ("compute buffer", "GPU", self.compute_gib, f"one micro-batch of {N_UBATCH} tokens through one layer or the output head"),
            ("tokenizer", "RAM", self.metadata_gib, "token strings and merges read from the file's metadata"),
        ]
        return pd.DataFrame(rows, columns=["term", "where", "gib", "meaning"])


@cached(maxsize=2048)
def _layer_bytes(ckpt: models.Checkpoint, quant: str) -> tuple[tuple[float, ...], float, float]:
    """(bytes per decoder layer, output-layer bytes, CPU-only bytes: token embedding and small tensors)."""
    if local_formats.local_format(quant)["engine"] == "mlx":
        total = sum(local_formats.mlx_weights_bytes(ckpt, quant).values())
        per = total / (len(ckpt.layers) + 1)
        return (per,) * len(ckpt.layers), per, 0.0
    layers, output, outside = local_formats.gguf_layer_bytes(ckpt, quant)
    return tuple(float(b) for b in layers), float(output), float(outside)


def _active_share(ckpt: models.Checkpoint) -> float:
    """The share of a layer's weights one token reads (a MoE reads its routed experts only)."""
    decoder = ckpt.decoder_matrices
    total = sum(m.weights for m in decoder)
    return sum(m.active_weights for m in decoder) / total if total else 1.0


def _compute_bytes(ckpt: models.Checkpoint, context: int, flash_attention: bool) -> float:
    """The largest set of f32 tensors alive for one micro-batch, phase by phase (llama.cpp's graph allocator frees a
    phase's tensors before the next): the output head (the logits beside the hidden state), a layer's MLP (gate, up
    and their product, for a MoE the routed experts' k copies of them) or, without flash attention, its attention
    scores over the whole context and their mask; the MLP and attention phases keep about six hidden-width vectors
    (residual, norm, projections) alive per token. Checked against real llama.cpp runs of the five tiny shapes
    (tests/test_real_llama_cpp.py) and a published log (data/llama_cpp_measurements.csv)."""
    h = ckpt["hidden_size"]
    logits = N_UBATCH * (ckpt["vocab_size"] + h) * 4
    experts = ckpt["num_experts_per_tok"] if ckpt.is_moe else 0
    width = ckpt["moe_intermediate_size"] * experts if experts else ckpt["intermediate_size"]
    mlp = N_UBATCH * (3 * width + 6 * h) * 4
    # Qwen3.5's output gate keeps its half of q_proj (heads x head_dim per token) alive through the attention
    gate = ckpt["num_attention_heads"] * ckpt["head_dim"] if ckpt["attention_output_gate"] else 0
    attention = 0 if flash_attention else N_UBATCH * ((ckpt["num_attention_heads"] + 1) * context + 6 * h + gate) * 4
    return float(max(logits, mlp, attention))


@checked
def llama_cpp_state_bytes(model_id) -> int:
    """The Gated DeltaNet state llama.cpp allocates per sequence (its "RS buffer"): memory.linear_state_bytes, but
    with the convolution's last inputs in f32 as well (llama.cpp's recurrent memory keeps both parts in f32)."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    conv_inputs = ((2 * ckpt["linear_num_key_heads"] * ckpt["linear_key_head_dim"]
                    + ckpt["linear_num_value_heads"] * ckpt["linear_value_head_dim"])
                   * (ckpt["linear_conv_kernel_dim"] - 1) * ckpt.linear_layers) if ckpt.linear_layers else 0
    return memory.linear_state_bytes(ckpt) + conv_inputs * (4 - memory.ACT_BYTES)


@checked(n_gpu_layers=N_GPU_LAYERS, flash_attention=flag, kv_cache_dtype=KV_CACHE_TYPE)
def llama_cpp_memory(model_id, quantization: str = "q4_k_m", context_tokens: int = 4096, kv_cache_dtype: str = "f16",
                     n_gpu_layers: int | None = None, flash_attention: bool = True) -> LocalMemory:
    """Memory of llama-server / Ollama: weights, KV cache, linear state, compute buffer, on the GPU and in RAM.

    n_gpu_layers=None offloads everything (-ngl 99). kv_cache_dtype is --cache-type-k/-v: f16, q8_0 or q4_0."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    quant = memory.normalize_quantization(quantization)
    if quant in memory.QUANTIZATIONS:
        raise ValueError(f"quantization must be a local format {local_formats.local_quantizations()}, got {quantization!r}")
    limit = ckpt["max_position_embeddings"]
    if limit is not None and context_tokens > limit:
        raise ValueError(f"context_tokens = {context_tokens:,} exceeds {ckpt.model_id}'s maximum context of {limit:,}")
    n = len(ckpt.layers)
    ngl = n + 1 if n_gpu_layers is None else min(int(n_gpu_layers), n + 1)
    start = max(n + 1 - ngl, 0)  # layers start..n-1 and the output (il = n) go to the GPU
    layers, output, cpu_only = _layer_bytes(ckpt, quant)
    gpu_w = sum(layers[start:]) + (output if ngl > 0 else 0.0)
    cpu_w = sum(layers[:start]) + (0.0 if ngl > 0 else output) + cpu_only
    kv_layer = memory.kv_bytes_per_token(ckpt, kv_cache_dtype) / max(ckpt.kv_layers, 1) * context_tokens
    kv_gpu = sum(kv_layer for i, (mixer, _) in enumerate(ckpt.layers) if i >= start and mixer != "linear_attention")
    kv_all = kv_layer * ckpt.kv_layers
    state = llama_cpp_state_bytes(ckpt)
    compute = _compute_bytes(ckpt, context_tokens, flash_attention)
    meta = local_formats.gguf_metadata_bytes(ckpt)
    gpu_total = gpu_w + kv_gpu + (state + compute if ngl > 0 else 0.0)
    cpu_total = cpu_w + (kv_all - kv_gpu) + meta + (0.0 if ngl > 0 else state + compute)
    return LocalMemory(ckpt.model_id, quant, int(context_tokens), kv_cache_dtype, ngl, gpu_w / GIB, cpu_w / GIB,
                       kv_gpu / GIB, (kv_all - kv_gpu) / GIB, state / GIB, compute / GIB, meta / GIB,
                       gpu_total / GIB, cpu_total / GIB)


@checked(n_gpu_layers=N_GPU_LAYERS, host_id=HOST_CPU, kv_cache_dtype=KV_CACHE_TYPE, gpu_id=machine_rule)  # or a Machine
def decode_tokens_per_s_bound(model_id, quantization: str, gpu_id: str, context_tokens: int = 4096,
                              kv_cache_dtype: str = "f16", n_gpu_layers: int | None = None,
                              host_id: str = HOST_ID) -> float:
    """Upper bound on generated tokens/s: each token reads the active weights and the KV cache once, the GPU part
    at the GPU's bandwidth and the CPU part at the RAM's (host_id). On Apple and CPU-only machines one memory
    serves both, so host_id is not used there."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    est = llama_cpp_memory(ckpt, quantization, context_tokens, kv_cache_dtype, n_gpu_layers)
    gpu = machine_row(gpu_id)
    share = _active_share(ckpt)  # a MoE layer reads its routed experts only; the output head is read whole
    layers, output, _ = _layer_bytes(ckpt, est.quantization)  # the token embedding is indexed, not streamed
    start = max(len(layers) + 1 - est.n_gpu_layers, 0)
    on_gpu = est.n_gpu_layers > 0
    state = 2 * est.state_gib * GIB  # read and written every step
    gpu_bytes = sum(layers[start:]) * share + est.gpu_kv_gib * GIB + ((output + state) if on_gpu else 0)
    cpu_bytes = sum(layers[:start]) * share + est.cpu_kv_gib * GIB + (0 if on_gpu else output + state)
    if gpu["kind"] in ("apple", "cpu"):
        return gpu["memory_bandwidth_gbs"] * 1e9 / (gpu_bytes + cpu_bytes)
    host = machine_row(host_id)
    seconds = gpu_bytes / (gpu["memory_bandwidth_gbs"] * 1e9) + cpu_bytes / (host["memory_bandwidth_gbs"] * 1e9)
    return 1 / seconds


@checked(gpu_id=machine_rule)
def usable_gib(gpu_id: str) -> float:
    """Memory the model may use on a machine: memory as sold (GB read as 10**9 bytes) less the system's share."""
    row = machine_row(gpu_id)
    return row["memory_gb"] * GB / GIB * (1 - SYSTEM_SHARE[row["kind"]])


@checked(kv_cache_dtype=KV_CACHE_TYPE, gpu_id=machine_rule)
def max_gpu_layers(model_id, quantization: str, gpu_id: str, context_tokens: int = 4096,
                   kv_cache_dtype: str = "f16") -> int:
    """The largest -ngl whose GPU part fits the GPU's usable memory (0 = CPU only)."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    budget = usable_gib(gpu_id)
    best = 0
    for ngl in range(len(ckpt.layers) + 2):
        if llama_cpp_memory(ckpt, quantization, context_tokens, kv_cache_dtype, ngl).gpu_total_gib <= budget:
            best = ngl
        else:
            break
    return best


def _chat_models(view: CatalogView) -> list[CatalogEntry]:
    """The post-trained text and vision-language checkpoints the memory model covers, one per architecture (the
    first the catalog lists), smallest first: the ones a learner chats with."""
    first: dict[str, CatalogEntry] = {}
    lines = general_chat_lines()
    for entry in view:
        if entry.line in lines and entry.variant != "base" and entry.memory_modelled:
            first.setdefault(entry.arch_id, entry)
    return sorted(first.values(), key=lambda entry: entry.parameters[0])


@checked(engine=key, kv_cache_dtype=KV_CACHE_TYPE, gpu_id=machine_rule)
def laptop_options(gpu_id: str, context_tokens: int = 8192, kv_cache_dtype: str = "f16",
                   engine: str = "llama.cpp") -> pd.DataFrame:
    """Every chat checkpoint x format of the ladder on one machine, fully on its GPU or unified memory: GiB
    needed, whether it fits, and the decode bound. MLX formats are offered on Apple machines only."""
    gpu = machine_row(gpu_id)
    if engine not in ("llama.cpp", "mlx"):
        raise ValueError(f"engine must be 'llama.cpp' or 'mlx', got {engine!r}")
    if engine == "mlx" and gpu["kind"] != "apple":
        raise ValueError(f"engine 'mlx' runs on Apple machines only; gpu_id {gpu_id!r} is {gpu['kind']}")
    budget = usable_gib(gpu_id)
    quants = local_formats.laptop_ladder(engine)  # data/local_formats.csv: most faithful first
    rows = []
    for entry in _chat_models(catalog_view()):  # resolved once per table version: no id is looked up below
        ckpt, shown, limit = entry.checkpoint, entry.model_id, entry.context_limit
        if limit is not None and context_tokens > limit:
            continue
        if ckpt["max_position_embeddings"] is not None and context_tokens > ckpt["max_position_embeddings"]:
            continue
        for quant in quants:
            est = llama_cpp_memory(ckpt, quant, context_tokens, kv_cache_dtype)
            need = est.gpu_total_gib + (est.cpu_total_gib if gpu["kind"] in ("apple", "cpu") else 0.0)
            speed = decode_tokens_per_s_bound(ckpt, quant, gpu_id, context_tokens, kv_cache_dtype)
            # the runtime's expected speed under this bound (qwen_lessons.speed): shown first, the bound as ceiling
            expected = expected_from_bound(speed, engine, ckpt["num_hidden_layers"], quant)
            rows.append({"model": shown, "quantization": quant, "params_b": entry.parameters[0] / 1e9,
                         "memory_gib": need, "fits": need <= budget, "tokens_per_s_expected": expected,
                         "tokens_per_s_bound": speed})
    return pd.DataFrame(rows, columns=["model", "quantization", "params_b", "memory_gib", "fits",
                                       "tokens_per_s_expected", "tokens_per_s_bound"])


@checked
def download(model_id, quantization: str) -> dict | None:
    """Where the published file of one checkpoint in one local format is (data/local_downloads.csv): its engine,
    repository and file (None for MLX, whose repository is the model), and the source; None when none is listed."""
    quant = memory.normalize_quantization(quantization)
    model_id = model_id if isinstance(model_id, str) else model_id.model_id
    model_id = model_id if "/" in model_id else f"Qwen/{model_id}"
    found = _downloads().get((model_id.lower(), quant))  # the shared index's row: the caller gets its own copy
    return None if found is None else dict(found)


@built_from(DOWNLOADS_FILE)
def _downloads() -> dict[tuple[str, str], dict]:
    """(model id in lower case, format) -> the first published file listed for it."""
    found: dict = {}
    for row in read_table(DOWNLOADS_FILE).itertuples(index=False):
        found.setdefault((row.model_id.lower(), row.quantization), {
            "engine": row.engine, "repo": row.repo, "file": None if pd.isna(row.file) else row.file,
            "source": row.source})
    return found


@checked(engine=key, min_tokens_per_s=number(0, 10_000, "tokens per second"), published_only=flag,
         kv_cache_dtype=KV_CACHE_TYPE, gpu_id=machine_rule,
         options=optional(instance(pd.DataFrame, what="a table from laptop_options")))
def laptop_answer(gpu_id: str, context_tokens: int = 8192, kv_cache_dtype: str = "f16", engine: str = "llama.cpp",
                  min_tokens_per_s: float = 10.0, published_only: bool = True,
                  options: pd.DataFrame | None = None) -> dict:
    """Which Qwen, which quant, what context on one machine: the largest chat checkpoint that fits in a format of
    4 bits or more (the most faithful that fits) and decodes at least min_tokens_per_s (bound). Checkpoints of the
    same size (within SAME_SIZE_TOLERANCE) go to the newer release. published_only=True keeps the formats a
    learner can download (data/local_downloads.csv), so the answer always comes with the step that gets the file.
    options: the laptop_options frame of the same arguments, when the caller has it already (computed once)."""
    if options is None:  # a caller that shows the options too (the laptop widget) passes the frame it computed
        options = laptop_options(gpu_id, context_tokens, kv_cache_dtype, engine)
    advised = options["quantization"].map(lambda q: local_formats.local_format(q)["bits"] >= ADVISED_MIN_BITS)
    good = options[options["fits"] & advised & (options["tokens_per_s_bound"] >= min_tokens_per_s)]
    if published_only:
        listed = _downloads()  # read once for every option
        good = good[[(model.lower(), quant) in listed
                     for model, quant in zip(good["model"], good["quantization"], strict=True)]]
    if good.empty:
        return {"gpu_id": gpu_id, "model": None, "quantization": None, "context_tokens": int(context_tokens),
                "memory_gib": None, "usable_gib": usable_gib(gpu_id), "tokens_per_s_expected": None,
                "tokens_per_s_bound": None,
                "why": _("nothing fits at this context and speed: shorten the context, quantize the KV cache "
                         "(q8_0) or accept a slower model")}
    # the largest size first (same size: the newest release); among its formats the most faithful (the ladder's
    # order, which laptop_options keeps) that fits
    largest = good[good["params_b"] >= good["params_b"].max() / (1 + SAME_SIZE_TOLERANCE)]
    releases = {entry.model_id: entry.release for entry in catalog_view()}
    newest = max(largest["model"], key=lambda model: releases.get(model, ""))
    best = largest[largest["model"] == newest].iloc[0]

    return {"gpu_id": gpu_id, "model": best["model"], "quantization": best["quantization"],
            "context_tokens": int(context_tokens), "memory_gib": float(best["memory_gib"]),
            "usable_gib": usable_gib(gpu_id), "tokens_per_s_expected": float(best["tokens_per_s_expected"]),
            "tokens_per_s_bound": float(best["tokens_per_s_bound"]),
            "why": (_("the largest Qwen chat model with a published file that fits {usable} GiB with {context} "
                      "tokens of context and decodes >= {speed} tokens/s (bound); of equal sizes, the newest")
                    if published_only else
                    _("the largest Qwen chat model that fits {usable} GiB with {context} tokens of context and "
                      "decodes >= {speed} tokens/s (bound); of equal sizes, the newest")).format(
                usable=f"{usable_gib(gpu_id):.1f}", context=f"{context_tokens:,}", speed=f"{min_tokens_per_s:g}")}


# What a printed command may carry from the tables: a Hugging Face repository and a file name, plain characters only
REPO_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
FILE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}\.gguf")


def _shell(*parts) -> str:
    """One command line a learner pastes into a shell: every part quoted by shlex.quote (plain names stay as they
    are), so no value can end the command or start another."""
    return " ".join(shlex.quote(str(part)) for part in parts)


def _checked_name(what: str, value: str, pattern: re.Pattern) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise DataFileError(f"{DOWNLOADS_FILE}: the {what} {str(value)[:80]!r} is not a plain Hugging Face {what} "
                            "name; the course prints no command with it")
    return value


@checked(kv_cache_dtype=KV_CACHE_TYPE, n_gpu_layers=N_GPU_LAYERS)
def commands(model_id, quantization: str = "q4_k_m", context_tokens: int = 8192, kv_cache_dtype: str = "f16",
             n_gpu_layers: int | None = None) -> dict[str, str]:
    """The command lines to get the file and run it (printed, not run): the download of the published file
    (data/local_downloads.csv), then llama-server, llama-cli and Ollama, or mlx-lm on a pre-quantized repository.
    Every part is validated (a local format of data/local_formats.csv, a KV cache type llama.cpp knows, a context
    within the checkpoint's limit, layers the model has, names from the tables) and shell-quoted."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    quant = memory.normalize_quantization(quantization)
    local = local_formats.local_quantizations()
    if quant not in local:
        raise ValueError(f"quantization must be a local format, one of {local}; got {quantization!r}")
    limit = context_limit(model_id)
    if context_tokens is None or not 1 <= context_tokens <= limit:
        raise ValueError(f"context_tokens must be a whole number from 1 to {limit:,} (the context limit of "
                         f"{ckpt.model_id}); got {context_tokens!r}")
    if n_gpu_layers is not None and n_gpu_layers > len(ckpt.layers) + 1:
        raise ValueError(f"n_gpu_layers must be from 0 to {len(ckpt.layers) + 1} ({ckpt.model_id} has "
                         f"{len(ckpt.layers)} layers and the output layer); got {n_gpu_layers!r}")
    ngl = max(99, len(ckpt.layers) + 1) if n_gpu_layers is None else int(n_gpu_layers)  # 99: llama.cpp's "all"
    name = _checked_name("model", ckpt.model_id, REPO_PATTERN).split("/")[-1]
    published = download(model_id, quant)
    prompt = ("--prompt", "Hello")
    if local_formats.local_format(quant)["engine"] == "mlx":
        if published is not None:  # a pre-quantized repository: nothing to convert on the learner's machine
            repo = _checked_name("repository", published["repo"], REPO_PATTERN)
            return {"get the model": _shell("huggingface-cli", "download", repo),
                    "mlx-lm": _shell("mlx_lm.generate", "--model", repo, "--max-kv-size", context_tokens, *prompt)}
        bits = int(local_formats.local_format(quant)["bits"])
        return {"mlx-lm": _shell("mlx_lm.convert", "--hf-path", ckpt.model_id, "-q", "--q-bits", bits,
                                 "--q-group-size", 64) + " && "
                          + _shell("mlx_lm.generate", "--model", "mlx_model", "--max-kv-size", context_tokens, *prompt)}
    if published is not None:
        file = _checked_name("file", published["file"], FILE_PATTERN)
    else:
        file = _checked_name("file", f"{name}-{quant.upper()}.gguf", FILE_PATTERN)
    # a quantized V cache needs flash attention
    cache = ("-fa", "on", "--cache-type-k", kv_cache_dtype, "--cache-type-v", kv_cache_dtype) \
        if kv_cache_dtype != "f16" else ()
    run = ("-m", file, "-c", context_tokens, "-ngl", ngl, *cache)
    lines = {}
    if published is not None:
        lines["get the file"] = _shell("huggingface-cli", "download",
                                       _checked_name("repository", published["repo"], REPO_PATTERN), file,
                                       "--local-dir", ".")
    ollama_name = f"{name.lower()}-{quant}"
    lines.update({
        "llama-server": _shell("llama-server", *run),
        "llama-cli": _shell("llama-cli", *run, "-cnv"),
        # Ollama runs a local GGUF through a Modelfile; num_ctx is its name for the context (-c). The file name
        # holds no % (FILE_PATTERN), so printf prints it as it is.
        "ollama": _shell("printf", f"FROM ./{file}\\nPARAMETER num_ctx {context_tokens}\\n") + " > Modelfile && "
                  + _shell("ollama", "create", ollama_name, "-f", "Modelfile") + " && "
                  + _shell("ollama", "run", ollama_name),
    })
    return lines


@checked
def runtime_comparison() -> pd.DataFrame:
    """Every llama.cpp buffer a public log printed (data/llama_cpp_measurements.csv) next to this model's figure."""
    rows = []
    for row in read_table(MEASUREMENTS_FILE).itertuples(index=False):
        est = llama_cpp_memory(row.model_id, row.quantization, int(row.context_tokens), row.kv_cache_dtype,
                               flash_attention=False)
        pairs = (("KV buffer", row.kv_buffer_mib, (est.gpu_kv_gib + est.cpu_kv_gib) * 1024),
                 ("compute buffer", row.compute_buffer_mib, est.compute_gib * 1024),
                 ("file size", row.file_size_gib * 1024,
                  local_formats.file_bytes(row.model_id, row.quantization) / 2**20))
        for term, measured, computed in pairs:
            if not pd.isna(measured):
                rows.append({"model_id": row.model_id, "quantization": row.quantization,
                             "context_tokens": int(row.context_tokens), "term": term, "measured_mib": float(measured),
                             "computed_mib": computed, "error": computed / float(measured) - 1})
    return pd.DataFrame(rows)
