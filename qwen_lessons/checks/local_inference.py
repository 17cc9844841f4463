"""Self-checks for notebook 08 (local inference). They hint at the method and never print the answer."""

from __future__ import annotations

from qwen_lessons import hardware, local_formats, local_runtime, memory, models
from qwen_lessons.checks import answer_check, check_formula, close_enough, report
from qwen_lessons.lessons import local_inference
from qwen_lessons.units import GIB

MAC_MODEL = "Qwen/Qwen2.5-14B-Instruct"  # exercise 4: too large for its full context on a 16 GB Mac


def q4_k_m_size_answer() -> float:
    return local_formats.file_bytes("Qwen/Qwen3-8B", "q4_k_m") / 1e9


@answer_check(accepts=q4_k_m_size_answer)
def check_q4_k_m_size(answer_gb) -> bool:
    """Exercise 1: the size in GB (10^9 bytes) of Qwen3-8B in Q4_K_M."""
    expected = q4_k_m_size_answer()
    nominal = local_inference.sizes_by_format("Qwen/Qwen3-8B").set_index("format").at["q4_k_m", "nominal_gb"]
    if close_enough(answer_gb, nominal, 0.01):
        return report(False, "4 bits x parameters leaves out the block scales (4.5 bits per weight for Q4_K) and "
                             "the tensors the mix keeps in Q6_K.")
    if close_enough(answer_gb, expected * 1e9 / 2**30, 0.005):
        return report(False, "that is GiB; the question asks for GB (10^9 bytes).")
    return report(close_enough(answer_gb, expected, 0.005), "sum the bytes of gguf_tensor_types(...), or use file_bytes.")


def kv_q8_0_answer() -> float:
    return memory.kv_bytes_per_token("Qwen/Qwen3-8B", "q8_0") * 32768 / 2**30


@answer_check(accepts=kv_q8_0_answer)
def check_kv_q8_0(answer_gib) -> bool:
    """Exercise 2: the KV cache of Qwen3-8B at 32,768 tokens with --cache-type-k/-v q8_0, in GiB."""
    expected = kv_q8_0_answer()
    if close_enough(answer_gib, expected * 32 / 34, 0.005):
        return report(False, "q8_0 blocks keep a 2-byte scale per 32 values: 34 bytes, not 32.")
    if close_enough(answer_gib, expected * 64 / 34, 0.005):
        return report(False, "that is the f16 cache; q8_0 takes 34 bytes per 32 values.")
    return report(close_enough(answer_gib, expected, 0.005), "2 x layers x KV heads x head_dim x 34/32 bytes per token.")


def half_offload_answer() -> float:
    return local_runtime.decode_tokens_per_s_bound("Qwen/Qwen3-14B", "q4_k_m", "rtx-3060-12gb", 8192,
                                                   n_gpu_layers=21)


@answer_check(accepts=half_offload_answer)
def check_half_offload(answer_tokens_per_s) -> bool:
    """Exercise 3: decode bound of Qwen3-14B Q4_K_M on an RTX 3060 12 GB with -ngl 21, 8,192 tokens."""
    expected = half_offload_answer()
    full = local_runtime.decode_tokens_per_s_bound("Qwen/Qwen3-14B", "q4_k_m", "rtx-3060-12gb", 8192)
    if close_enough(answer_tokens_per_s, full, 0.01):
        return report(False, "that is every layer on the card; with -ngl 21 the other layers are read from RAM.")
    return report(close_enough(answer_tokens_per_s, expected, 0.01),
                  "time per token = GPU bytes / GPU bandwidth + RAM bytes / RAM bandwidth.")


def mac_context_answer() -> int:
    return local_inference.max_context_on(MAC_MODEL, "q4_k_m", "apple-m4-16gb", "q8_0")


@answer_check(accepts=mac_context_answer)
def check_mac_context(answer_tokens) -> bool:
    """Exercise 4: the longest context for Qwen2.5-14B-Instruct Q4_K_M with a q8_0 cache on a 16 GB Mac."""
    expected = mac_context_answer()
    with_f16 = local_inference.max_context_on(MAC_MODEL, "q4_k_m", "apple-m4-16gb", "f16")
    if with_f16 != expected and close_enough(answer_tokens, with_f16, 0.001):
        return report(False, "that is with an f16 cache; the question uses q8_0.")
    return report(close_enough(answer_tokens, expected, 0.001), "use max_context_on(...) or search with llama_cpp_memory.")


# ---------------------------------------------------------------- the formula cells (not exercises)


def _gguf_files():
    """(checkpoint, GGUF file type) pairs: every checkpoint, the file types taken in turn so each one is tried."""
    types = local_formats.local_quantizations("llama.cpp")
    return [(model_id, types[i % len(types)]) for i, model_id in enumerate(models.model_ids(memory_modelled=True))]


def check_formula_gguf_tensor_bytes(formula) -> bool:
    """Section 1's formula cell against every tensor of a GGUF file of every checkpoint."""
    blocks = {row.ggml_type: (int(row.block_weights), int(row.block_bytes))
              for row in local_formats.gguf_type_table().itertuples(index=False)}

    def cases():
        for model_id, quantization in _gguf_files():
            for row in local_formats.gguf_tensor_types(model_id, quantization).itertuples(index=False):
                yield (f"{row.tensor} of {model_id} in {quantization} ({row.ggml_type})",
                       (row.row_width * row.rows * row.copies, *blocks[row.ggml_type]), int(row.bytes))

    return check_formula(formula, cases(), "GGUF-bytes")


def check_formula_kv_bytes_per_token(formula) -> bool:
    """Section 2's formula cell against memory.kv_bytes_per_token: every checkpoint, every cache type."""
    def cases():
        for model_id in models.model_ids(memory_modelled=True):
            ckpt = models.resolve(model_id, memory_modelled=True)
            for cache_type, size in memory.KV_CACHE_BYTES.items():
                yield (f"{model_id} with a {cache_type} cache",
                       (ckpt.kv_layers, ckpt["num_key_value_heads"], ckpt["head_dim"], size),
                       memory.kv_bytes_per_token(model_id, cache_type))

    return check_formula(formula, cases(), "KV-bytes")


def check_formula_decode_bound(formula) -> bool:
    """Section 4's formula cell against local_runtime.decode_tokens_per_s_bound on machines with one memory (a Mac,
    a CPU): every checkpoint, file types, machines, contexts and cache types taken in turn."""
    machines = [row.gpu_id for row in hardware.load_hardware().itertuples() if row.kind in ("apple", "cpu")]
    contexts = (1, 4096, 32768)
    cache_types = local_formats.kv_cache_types()  # data/gguf_types.csv's llama.cpp cache types

    def cases():
        for i, (model_id, quantization) in enumerate(_gguf_files()):
            ckpt = models.resolve(model_id, memory_modelled=True)
            context = min(contexts[i % len(contexts)], models.longest_context(ckpt) or contexts[-1])
            cache_type, machine = cache_types[i % len(cache_types)], machines[i % len(machines)]
            decoder = ckpt.decoder_matrices
            share = sum(m.active_weights for m in decoder) / sum(m.weights for m in decoder)  # a MoE: routed experts
            tensors = local_formats.gguf_tensor_types(model_id, quantization)
            layers = len(ckpt.layers)
            read = (share * tensors.loc[tensors["layer"].between(0, layers - 1), "bytes"].sum()
                    + tensors.loc[tensors["layer"] == layers, "bytes"].sum())
            used = local_runtime.llama_cpp_memory(model_id, quantization, context, cache_type)
            cache = (used.gpu_kv_gib + used.cpu_kv_gib + 2 * used.state_gib) * GIB  # a state is read and written
            yield (f"{model_id} in {quantization} on {machine} at {context:,} tokens ({cache_type} cache)",
                   (hardware.get_gpu(machine)["memory_bandwidth_gbs"], float(read), cache),
                   local_runtime.decode_tokens_per_s_bound(model_id, quantization, machine, context, cache_type))

    return check_formula(formula, cases(), "decode-bound", rel_tol=1e-9)
