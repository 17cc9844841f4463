"""Issue 14: every checkpoint with a published config runs through every calculator, and the catalog knows it.

One parametrised test per configured checkpoint, so a new row of data/architectures.csv is tried everywhere the
moment it is added: lesson 1's parameter count, lesson 4's LoRA count and training memory, lesson 7's inference
memory, cache, speed bounds and fit table."""

from __future__ import annotations

import math

import pytest

from qwen_lessons import catalog, finetune, local_formats, local_runtime, memory, models, tiers
from qwen_lessons.lessons import choosing_a_tier

CONFIGURED = models.model_ids()


def test_every_configured_checkpoint_is_a_catalog_row_and_every_calculator_offers_it():
    table = catalog.load_catalog().set_index("model_id")
    assert set(CONFIGURED) <= set(table.index)
    assert models.model_ids(memory_modelled=True) == CONFIGURED  # no layer kind is left out of the memory models
    generations = set(table.loc[CONFIGURED, "generation"])
    assert {"Qwen1", "Qwen1.5", "Qwen2", "Qwen2.5", "Qwen3", "Qwen3-2507", "Qwen3-Next", "Qwen3.5",
            "Qwen3.6"} <= generations


@pytest.mark.parametrize("model_id", CONFIGURED)
def test_every_calculator_sizes_the_checkpoint(model_id):
    ckpt = models.resolve(model_id, memory_modelled=True)
    total, active = models.count_parameters(ckpt)
    assert 0 < active <= total
    lora = finetune.lora_trainable_params(ckpt, 8, "all-linear")
    assert 0 < lora < total / 20
    trained = finetune.training_memory(ckpt, "lora", target_modules="all-linear", seq_len=1024)
    full = finetune.training_memory(ckpt, "full", seq_len=1024)
    assert 0 < trained.total_gib < full.total_gib
    serve = memory.inference_memory(ckpt, "bf16", 1024, 256)
    int4 = memory.inference_memory(ckpt, "gptq-int4", 1024, 256)
    assert 0 < int4.total_gib < serve.total_gib
    assert serve.weights_gib == pytest.approx(sum(memory.weights_bytes(ckpt, "bf16").values()) / 2**30)
    assert memory.kv_bytes_per_token(ckpt) > 0
    decode = tiers.decode_tokens_per_s_bound(ckpt, "bf16", "h100-sxm", 1024)
    prefill = tiers.prefill_seconds_bound(ckpt, "h100-sxm", 1024)
    assert decode > 0 and prefill > 0 and math.isfinite(decode)
    cache = choosing_a_tier.cache_by_context([model_id], [1024])
    assert cache.iloc[0, -1] > 0


@pytest.mark.parametrize("model_id", CONFIGURED)
def test_every_local_format_sizes_the_checkpoint(model_id):
    """Lesson 8: every GGUF and MLX format of data/local_formats.csv, on every configured checkpoint."""
    ckpt = models.resolve(model_id, memory_modelled=True)
    total = models.count_parameters(ckpt)[0]
    sizes = {}
    for quant in local_formats.local_quantizations():
        size = local_formats.file_bytes(ckpt, quant)
        bits = local_formats.local_format(quant)["bits"]
        assert bits / 8 * total < size < (bits + 4) / 8 * total + 50e6, quant  # scales and mixes add < 4 bits
        sizes[quant] = size
        est = local_runtime.llama_cpp_memory(ckpt, quant, 2048)
        assert est.gpu_total_gib > 0 and est.cpu_total_gib > 0
    assert sizes["q2_k"] < sizes["q4_k_m"] < sizes["q8_0"] and sizes["mlx-4bit"] < sizes["mlx-8bit"]
