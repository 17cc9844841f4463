"""Lessons 7 and 8 (07_choosing_a_tier, 08_local_inference): the questions learners ask the other way round.

The largest context, the best format and the most concurrent sequences that fit a machine (a hardware id or a
hardware.Machine typed in by the learner), and a mixture-of-experts model with its experts in system RAM and the rest
on the GPU (llama.cpp's --n-cpu-moe), with its memory, bound, expected speed and command line. Memory comes from
qwen_lessons.memory (GPU runtimes) and qwen_lessons.local_runtime (llama.cpp), speed from qwen_lessons.speed.
"""

from __future__ import annotations

from qwen_lessons import local_formats, local_runtime, memory, models, speed, tiers
from qwen_lessons.catalog import context_limit
from qwen_lessons.hardware import machine_row, machine_rule
from qwen_lessons.units import GB, GIB
from qwen_lessons.validation import checked, integer, key, number

DEFAULT_HEADROOM = 0.10  # as lesson 7's wizard: 10% kept free
MAX_SEQUENCES = 4096
HEADROOM = number(0, 0.9, "share of memory kept free")
SEQUENCES = integer(1, MAX_SEQUENCES, "sequences")


def _usable_gib(machine, headroom: float) -> float:
    row = machine_row(machine)
    return row["memory_gb"] * GB / GIB * (1 - headroom)


def _need_gib(ckpt, quant: str, context_tokens: int, sequences: int) -> float:
    """Peak memory of `sequences` sequences of context_tokens each (prompt = context less a quarter for the answer)."""
    answer = max(context_tokens // 4, 1)
    prompt = max(context_tokens - answer, 1)
    return memory.inference_memory(ckpt, quant, prompt, answer, sequences).total_gib


def _bisect(fits, low: int, high: int) -> int:
    """The largest n in [low, high] with fits(n), fits being monotone (False above some n); low - 1 when none."""
    if not fits(low):
        return low - 1
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


@checked(machine=machine_rule, headroom=HEADROOM, sequences=SEQUENCES)
def largest_context(model_id, quantization: str, machine, sequences: int = 1,
                    headroom: float = DEFAULT_HEADROOM) -> int:
    """The longest context (tokens per sequence) that fits the machine; 0 when not even a short one does."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    quant = memory.normalize_quantization(quantization)
    usable = _usable_gib(machine, headroom)
    limit = context_limit(model_id) if isinstance(model_id, str) else None
    limit = limit or ckpt["max_position_embeddings"] or 32768
    return max(_bisect(lambda n: _need_gib(ckpt, quant, n, sequences) <= usable, 16, int(limit)), 0)


@checked(machine=machine_rule, headroom=HEADROOM, sequences=SEQUENCES)
def best_quantization(model_id, machine, context_tokens: int = 8192, sequences: int = 1,
                      headroom: float = DEFAULT_HEADROOM) -> str | None:
    """The most faithful format with kernels on this kind of machine that fits (the tier wizard's formats,
    data/wizard_formats.csv, highest precision first); None when none does."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    usable = _usable_gib(machine, headroom)
    for quant in tiers.wizard_formats(machine):
        if _need_gib(ckpt, quant, context_tokens, sequences) <= usable:
            return quant
    return None


@checked(machine=machine_rule, headroom=HEADROOM)
def most_sequences(model_id, quantization: str, machine, context_tokens: int = 8192,
                   headroom: float = DEFAULT_HEADROOM) -> int:
    """How many sequences of context_tokens each can be served at once (their KV caches side by side); 0 if none."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    quant = memory.normalize_quantization(quantization)
    usable = _usable_gib(machine, headroom)
    return max(_bisect(lambda n: _need_gib(ckpt, quant, context_tokens, n) <= usable, 1, MAX_SEQUENCES), 0)


def _expert_bytes_by_layer(ckpt, quant: str) -> list[float]:
    tensors = local_formats.gguf_tensor_types(ckpt, quant)
    experts = tensors[tensors["tensor"].str.endswith("_exps")]
    by_layer = experts.groupby("layer")["bytes"].sum()
    return [float(by_layer.get(i, 0.0)) for i in range(len(ckpt.layers))]


@checked(machine=machine_rule, host=key, kv_cache_dtype=local_runtime.KV_CACHE_TYPE)
def moe_offload(model_id, quantization: str, machine, context_tokens: int = 8192, kv_cache_dtype: str = "f16",
                host: str = local_runtime.HOST_ID) -> dict:
    """A MoE model on a GPU too small for it: llama.cpp keeps the routed experts of the first n_cpu_moe layers in
    system RAM (host: the RAM's hardware row) and everything else on the GPU. The smallest n_cpu_moe whose GPU part
    fits; GPU and RAM GiB; the decode bound (GPU bytes at the GPU's bandwidth, the active experts in RAM at the
    RAM's) and the expected speed under it; the llama-server line."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    quant = memory.normalize_quantization(quantization)
    if not ckpt.is_moe:
        raise ValueError(f"model_id must be a mixture-of-experts checkpoint; {ckpt.model_id} is dense")
    gpu = machine_row(machine)
    if gpu["kind"] not in ("consumer", "datacenter"):
        raise ValueError(f"machine must be a GPU: on a {gpu['kind']} machine the experts already share one memory")
    whole = local_runtime.llama_cpp_memory(ckpt, quant, context_tokens, kv_cache_dtype)
    experts = _expert_bytes_by_layer(ckpt, quant)
    budget = gpu["memory_gb"] * GB / GIB * (1 - local_runtime.SYSTEM_SHARE[gpu["kind"]])
    n_layers = len(ckpt.layers)
    n_cpu = next((n for n in range(n_layers + 1) if whole.gpu_total_gib - sum(experts[:n]) / GIB <= budget), None)
    share = ckpt["num_experts_per_tok"] / ckpt["num_experts"]
    result = {"model": ckpt.model_id, "quantization": quant, "context_tokens": int(context_tokens),
              "n_cpu_moe": n_cpu, "usable_gpu_gib": budget}
    if n_cpu is None:
        result["why"] = "even with every expert in RAM the attention, shared weights and KV cache exceed the GPU"
        return result
    in_ram = sum(experts[:n_cpu])
    gpu_gib = whole.gpu_total_gib - in_ram / GIB
    ram_gib = whole.cpu_total_gib + in_ram / GIB
    ram_active = in_ram * share
    # every other byte one token reads (attention, router, shared experts, output head, KV) stays on the GPU
    gpu_bytes = speed.decode_bytes_per_token(ckpt, quant, context_tokens, 1, kv_cache_dtype) - ram_active
    gpu_bandwidth = gpu["memory_bandwidth_gbs"] * 1e9
    host_bandwidth = machine_row(host)["memory_bandwidth_gbs"] * 1e9
    bound = 1 / (gpu_bytes / gpu_bandwidth + ram_active / host_bandwidth)
    name = ckpt.model_id.split("/")[-1]
    result.update({"gpu_gib": gpu_gib, "ram_gib": ram_gib, "tokens_per_s_bound": bound,
                   "tokens_per_s_expected": speed.expected_from_bound(bound, "llama.cpp", n_layers, quant),
                   "command": f"llama-server -m {name}-{quant.upper()}.gguf -ngl 99 --n-cpu-moe {n_cpu} "
                              f"-c {context_tokens}",
                   "command_all_experts": f"llama-server -m {name}-{quant.upper()}.gguf -ngl 99 -ot \"exps=CPU\" "
                                          f"-c {context_tokens}"})
    return result
