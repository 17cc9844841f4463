"""Lessons 7 and 8: the inverse questions (largest context, best format, most sequences) and MoE expert offload."""

from __future__ import annotations

import pytest

from qwen_lessons import capacity, hardware, memory, tiers
from qwen_lessons.units import GB, GIB

Q8 = "Qwen/Qwen3-8B"


def _usable(gpu_id: str) -> float:
    return hardware.get_gpu(gpu_id)["memory_gb"] * GB / GIB * (1 - capacity.DEFAULT_HEADROOM)


def test_largest_context_is_the_edge_of_what_fits():
    tokens = capacity.largest_context(Q8, "bf16", "rtx-4090")
    assert 1_000 < tokens < 40_960
    assert capacity._need_gib(memory.models.resolve(Q8), "bf16", tokens, 1) <= _usable("rtx-4090")
    assert capacity._need_gib(memory.models.resolve(Q8), "bf16", tokens + 1, 1) > _usable("rtx-4090")


def test_best_quantization_is_the_most_faithful_that_fits_and_none_when_nothing_does():
    assert capacity.best_quantization(Q8, "h100-sxm", 8192) == "bf16"
    small = capacity.best_quantization(Q8, "rtx-4060-ti-8gb", 8192)
    order = tiers.wizard_formats("rtx-4060-ti-8gb")
    assert small is not None and order.index(small) > order.index("bf16")
    assert capacity.best_quantization("Qwen/Qwen2.5-72B-Instruct", "rtx-4060-ti-8gb", 8192) is None


def test_most_sequences_fill_the_memory_and_one_more_does_not_fit():
    n = capacity.most_sequences(Q8, "bf16", "h100-sxm", 8192)
    ckpt = memory.models.resolve(Q8)
    assert n >= 2
    assert capacity._need_gib(ckpt, "bf16", 8192, n) <= _usable("h100-sxm") < capacity._need_gib(ckpt, "bf16", 8192,
                                                                                                  n + 1)


def test_a_typed_in_machine_answers_like_its_table_row():
    row = hardware.get_gpu("apple-m4-pro-64gb")
    typed = hardware.Machine("my Mac", row["memory_gb"], row["memory_bandwidth_gbs"], "apple")
    assert capacity.best_quantization(Q8, typed, 32768) == capacity.best_quantization(Q8, "apple-m4-pro-64gb", 32768)


def test_moe_offload_puts_the_fewest_experts_in_ram_and_stays_under_both_bounds():
    answer = capacity.moe_offload("Qwen/Qwen3-30B-A3B", "q4_k_m", "rtx-4060-ti-16gb", 8192)
    assert 0 < answer["n_cpu_moe"] <= 48
    assert answer["gpu_gib"] <= answer["usable_gpu_gib"]
    assert f"--n-cpu-moe {answer['n_cpu_moe']}" in answer["command"] and "exps=CPU" in answer["command_all_experts"]
    assert 0 < answer["tokens_per_s_expected"] <= answer["tokens_per_s_bound"]
    # one layer fewer in RAM would not fit
    experts = capacity._expert_bytes_by_layer(memory.models.resolve("Qwen/Qwen3-30B-A3B"), "q4_k_m")
    assert answer["gpu_gib"] + experts[answer["n_cpu_moe"] - 1] / GIB > answer["usable_gpu_gib"]
    fewer = capacity.moe_offload("Qwen/Qwen3-30B-A3B", "q4_k_m", "h100-sxm", 8192)
    assert fewer["n_cpu_moe"] == 0 and fewer["tokens_per_s_bound"] > answer["tokens_per_s_bound"]
    with pytest.raises(ValueError, match="mixture-of-experts"):
        capacity.moe_offload(Q8, "q4_k_m", "rtx-4090")
    with pytest.raises(ValueError, match="machine must be a GPU"):
        capacity.moe_offload("Qwen/Qwen3-30B-A3B", "q4_k_m", "apple-m4-max-128gb")
