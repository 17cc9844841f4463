"""The inference-memory model: parts checked by hand, the whole checked against Qwen's published measurements."""

from __future__ import annotations

import pytest

from qwen_lessons import memory, models

GIB = 2**30
Q7 = "Qwen/Qwen2.5-7B-Instruct"


def test_parameter_counts_match_published():
    # published counts (HF API, quoted in the reference notes)
    assert models.count_parameters(Q7)[0] == 7_615_616_512
    assert models.count_parameters("Qwen/Qwen2.5-3B-Instruct")[0] == 3_085_938_688


def test_the_matrix_list_accounts_for_every_large_matrix_of_lesson_1s_count():
    # count_parameters is lesson 1's count; the decoder matrices (which set the quantized bytes) plus the
    # embeddings must leave only the small vectors, counted here by hand for every checkpoint the model covers
    for model_id in models.model_ids(memory_modelled=True):
        arch = models.resolve(model_id)
        h, layers, hd = arch["hidden_size"], arch["num_hidden_layers"], arch["head_dim"]
        n_q, n_kv, experts = arch["num_attention_heads"], arch["num_key_value_heads"], arch.get("num_experts") or 0
        attention_layers = arch.kv_layers  # hybrids: only every full_attention_interval-th layer is softmax attention
        rest = (2 * layers + 1) * h  # two RMSNorms per layer + the final one
        if arch["attention_bias"]:
            rest += attention_layers * (n_q + 2 * n_kv) * hd  # Qwen2/2.5 (and Qwen-1's fused c_attn): q, k, v biases
        if arch["qk_norm"]:
            rest += attention_layers * 2 * hd  # Qwen3: one RMSNorm over head_dim for q, one for k
        rest += layers * experts * h  # MoE router
        if arch["shared_expert_intermediate_size"]:
            rest += layers * h  # the sigmoid gate of the shared expert (Qwen1.5-MoE, Qwen2-MoE, Qwen3-Next, Qwen3.5)
        if arch.linear_layers:  # Gated DeltaNet: depthwise conv kernel, dt_bias and A_log per value head, gated norm
            n_k, n_v = arch["linear_num_key_heads"], arch["linear_num_value_heads"]
            d_k, d_v = arch["linear_key_head_dim"], arch["linear_value_head_dim"]
            rest += arch.linear_layers * ((2 * n_k * d_k + n_v * d_v) * arch["linear_conv_kernel_dim"] + 2 * n_v + d_v)
        parts = models.parameter_groups(model_id)
        assert parts["other"] == rest, model_id
        # active: a token skips all but num_experts_per_tok experts of each layer
        expert_params = sum(m.weights for m in arch.decoder_matrices if m.part == "experts")
        skipped = expert_params * (experts - arch["num_experts_per_tok"]) // experts if experts else 0
        assert models.count_parameters(model_id)[1] == models.count_parameters(model_id)[0] - skipped, model_id


def test_moe_keeps_all_experts_resident_but_activates_few():
    total = models.count_parameters("Qwen/Qwen3-30B-A3B")[0]
    active = models.count_parameters("Qwen/Qwen3-30B-A3B")[1]
    assert total / 1e9 == pytest.approx(30.5, abs=0.1)  # card: 30.5B total
    assert active / 1e9 == pytest.approx(3.3, abs=0.1)  # card: 3.3B active
    bf16 = memory.inference_memory("Qwen/Qwen3-30B-A3B", "bf16", 1, 1).weights_gib
    assert bf16 == pytest.approx(total * 2 / GIB, rel=1e-3)


def test_kv_cache_worked_example_from_the_reference():
    # 2 x 28 layers x 4 KV heads x 128 head_dim x 2 bytes = 57,344 B/token -> 1.75 GiB at 32,768 tokens
    assert memory.kv_bytes_per_token(Q7) == 57_344
    est = memory.inference_memory(Q7, "bf16", 32768 - 2048, 2048)
    assert est.kv_cache_gib == pytest.approx(1.75)
    assert memory.kv_bytes_per_token(Q7, "fp8") == 57_344 // 2


def test_weights_by_precision_by_hand():
    h, inter, layers, vocab = 3584, 18944, 28, 152064
    linear = layers * (h * (3584 + 512 + 512) + 3584 * h + 3 * h * inter)
    other = 2 * vocab * h + layers * (3584 + 512 + 512) + (2 * layers + 1) * h  # embeddings, q/k/v biases, norms
    assert linear + other == 7_615_616_512
    bf16 = memory.weights_bytes(Q7, "bf16")
    assert sum(bf16.values()) == pytest.approx((linear + other) * 2)
    int4 = memory.weights_bytes(Q7, "gptq-int4")
    groups = layers * ((h // 128) * (3584 + 512 + 512 + 2 * inter) + (3584 // 128) * h + (inter // 128) * h)
    g_idx = layers * (5 * h + 3584 + inter) * 4  # in_features of q, k, v, gate, up (h), o (3584), down
    assert int4["linear_weights"] == pytest.approx(linear / 2)
    assert int4["scales_and_zeros"] == pytest.approx(groups * (2 + 0.5) + g_idx)
    assert int4["unquantized_16bit"] == pytest.approx(other * 2)
    awq = memory.weights_bytes(Q7, "awq")
    assert awq["scales_and_zeros"] == pytest.approx(groups * 2.5)  # AWQ keeps no group index
    fp8 = memory.weights_bytes(Q7, "fp8")
    assert fp8["linear_weights"] == linear and fp8["scales_and_zeros"] < 0.001 * linear


def test_quantized_72b_uses_the_padded_ffn_width_of_the_official_checkpoints():
    # 29568 padded to 29696 in Qwen's GPTQ/AWQ releases: the group-quantized weights grow by the padding, bf16 not
    model = "Qwen/Qwen2.5-72B-Instruct"
    pad = 29696 - 29568
    awq = memory.weights_bytes(model, "awq")["linear_weights"]
    bf16 = memory.weights_bytes(model, "bf16")["linear_weights"]
    assert awq * 4 - bf16 == 3 * 8192 * pad * 80 * 2  # gate, up, down; 80 layers; bytes at 16 bits vs 4


def test_breakdown_adds_up_and_names_the_peak_phase():
    short = memory.inference_memory(Q7, "bf16", 1, 2048)
    assert short.peak_phase == "decode"
    assert short.total_gib == pytest.approx(short.weights_gib + short.kv_cache_gib + short.runtime_gib)
    long = memory.inference_memory(Q7, "bf16", 30720, 2048)
    assert long.peak_phase == "prefill"
    assert long.total_gib == pytest.approx(long.weights_gib + long.prefill_kv_gib + long.prefill_activations_gib)
    # prefill working memory of a dense layer: residual + normed input (2 x hidden) + 3 FFN-wide tensors, 2 bytes each
    assert long.prefill_activations_gib == pytest.approx(30720 * (2 * 3584 * 2 + 3 * 18944 * 2) / GIB)
    terms = long.terms()
    assert terms.loc[terms["at_peak"], "gib"].sum() == pytest.approx(long.total_gib)


def test_batch_and_gpus_scale_the_right_terms():
    one = memory.inference_memory(Q7, "bf16", 4096, 1024, 1)
    four = memory.inference_memory(Q7, "bf16", 4096, 1024, 4)
    assert four.weights_gib == one.weights_gib
    assert four.kv_cache_gib == pytest.approx(4 * one.kv_cache_gib)
    split = memory.inference_memory(Q7, "bf16", 4096, 1024, 1, num_gpus=2)
    assert split.prefill_activations_gib == pytest.approx(2 * one.prefill_activations_gib)


def test_eager_attention_adds_a_quadratic_term():
    flash = memory.inference_memory(Q7, "bf16", 16384, 0)
    eager = memory.inference_memory(Q7, "bf16", 16384, 0, attention="eager")
    # 28 query heads x 16,384^2 scores x (2 + 4 + 2) bytes
    assert eager.prefill_activations_gib - flash.prefill_activations_gib == pytest.approx(28 * 16384**2 * 8 / GIB)


def test_published_peak_memory_is_reproduced_within_the_bounds():
    comparison = memory.published_memory_comparison()
    assert len(comparison) == 112  # every transformers row with a published memory figure
    summary = memory.inference_error_summary(comparison).set_index("estimate")
    model = summary.loc["physical model"]
    assert model["median_abs_error"] <= 0.10
    assert model["worst_abs_error"] <= 0.25
    # both rules of thumb do worse on the same rows
    for rule in ("rule: weights x 1.2", "rule: weights + KV cache"):
        assert summary.loc[rule, "median_abs_error"] > 2 * model["median_abs_error"]
        assert summary.loc[rule, "worst_abs_error"] > 0.25


def test_rules_of_thumb_fail_most_at_long_context():
    comparison = memory.published_memory_comparison()
    by_length = comparison.groupby("input_length")[["rule_weights_kv_error", "model_error"]].median()
    # weights + KV misses the prompt's working memory, which grows with the prompt: the error grows too
    assert by_length["rule_weights_kv_error"].is_monotonic_decreasing
    assert by_length.loc[30720, "rule_weights_kv_error"] < -0.2
    assert by_length["model_error"].abs().max() < 0.1


def test_rules_of_thumb_by_hand():
    params = 7_615_616_512
    assert memory.rule_weights_times_1_2(Q7, "bf16") == pytest.approx(1.2 * params * 2 / GIB)
    assert memory.rule_weights_plus_kv(Q7, "gptq-int4", 30720, 2048) == pytest.approx(
        (params * 0.5 + 57_344 * 32768) / GIB
    )


def test_context_curve_separates_constant_and_linear_terms():
    curve = memory.context_curve(Q7, "bf16")
    assert curve["weights_gib"].nunique() == 1
    assert curve["total_gib"].is_monotonic_increasing
    assert curve["context_tokens"].max() <= 32768


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"model_id": "Qwen/NoSuchModel-7B"}, r"it must be one of \d+ ids, e.g. .*; see models.model_ids\(\)"),
        ({"model_id": None}, r"model_id must be a model id"),
        ({"quantization": "int3"}, r"quantization must be one of \['bf16', 'fp8', 'gptq-int8', 'gptq-int4', 'awq', 'q8_0'"),
        ({"input_tokens": 40000}, r"input_tokens \+ output_tokens = 42,048 exceeds the maximum context .*32,768"),
        ({"batch": 0}, r"batch must be a whole number from 1 to 100,000; got 0"),
        ({"batch": 1.5}, r"batch must be a whole number from 1 to"),
        ({"batch": True}, r"batch must be a whole number from 1 to"),
        ({"input_tokens": -3}, r"input_tokens must be a whole number from 1 to"),
        ({"kv_cache_dtype": "int2"}, r"kv_cache_dtype must be one of"),
        ({"attention": "sdpa"}, r"attention must be 'flash' or 'eager'"),
        ({"model_id": "Qwen/NoSuchModel-1B"}, r"has no architecture row; it must be one of"),
    ],
)
def test_bad_inputs_name_the_argument_and_the_allowed_values(kwargs, message):
    args = {"model_id": Q7, **kwargs}
    with pytest.raises(ValueError, match=message):
        memory.inference_memory(**args)


def test_published_spellings_are_accepted():
    a = memory.inference_memory("Qwen2.5-7B-Instruct", "GPTQ-Int4")
    b = memory.inference_memory(Q7, "gptq-int4")
    assert a == b


def test_rule_of_thumb_rejects_a_batch_below_one():
    with pytest.raises(ValueError, match=r"batch must be a whole number from 1 to 100,000; got 0"):
        memory.rule_weights_plus_kv(Q7, "bf16", 1, 2048, 0)


def test_a_hybrid_keeps_a_fixed_state_and_a_cache_in_a_quarter_of_its_layers():
    # Qwen3.5-27B: 64 layers, 16 softmax attention (KV cache), 48 Gated DeltaNet (fixed fp32 state), by hand
    ckpt = models.resolve("Qwen/Qwen3.5-27B")
    assert (ckpt.kv_layers, ckpt.linear_layers) == (16, 48)
    assert memory.kv_bytes_per_token(ckpt) == 2 * 16 * ckpt["num_key_value_heads"] * ckpt["head_dim"] * 2
    n_k, n_v = ckpt["linear_num_key_heads"], ckpt["linear_num_value_heads"]
    d_k, d_v = ckpt["linear_key_head_dim"], ckpt["linear_value_head_dim"]
    conv = (2 * n_k * d_k + n_v * d_v) * (ckpt["linear_conv_kernel_dim"] - 1) * 2
    assert memory.linear_state_bytes(ckpt) == 48 * (n_v * d_k * d_v * 4 + conv)
    short = memory.inference_memory(ckpt, "bf16", 1024, 1)
    long = memory.inference_memory(ckpt, "bf16", 65536, 1)
    assert short.linear_state_gib == long.linear_state_gib > 0  # the same at 1K and 64K tokens
    assert long.kv_cache_gib == pytest.approx(short.kv_cache_gib * 65537 / 1025)
    assert memory.linear_state_bytes("Qwen/Qwen3-32B") == 0
    from qwen_lessons.lessons import choosing_a_tier

    table = choosing_a_tier.cache_by_context(["Qwen/Qwen3-32B", "Qwen/Qwen3.5-27B"], [32768])
    assert table.loc["Qwen3.5-27B", "GiB at 32,768"] < table.loc["Qwen3-32B", "GiB at 32,768"] / 3


# ------------------------------------------------------------------ every generation Qwen measured (issue 14)


def test_old_transformers_computed_logits_for_the_whole_prompt():
    assert memory.prompt_logits_for("4.38.2") and memory.prompt_logits_for("4.44.9")
    assert not memory.prompt_logits_for("4.45.0") and not memory.prompt_logits_for("4.51.3")
    with pytest.raises(ValueError, match="transformers_version must look like"):
        memory.prompt_logits_for("latest")
    # the term by hand: 2 + 4 bytes per vocabulary entry per prompt token, at the end of prefill
    ckpt = models.resolve("Qwen/Qwen2-7B-Instruct")
    old = memory.inference_memory(ckpt, "bf16", 30720, 2048, whole_prompt_logits=True)
    new = memory.inference_memory(ckpt, "bf16", 30720, 2048)
    logits = 6 * ckpt["vocab_size"] * 30720 / 2**30
    assert old.prefill_activations_gib == pytest.approx(logits)
    assert old.total_gib - new.total_gib == pytest.approx(logits - new.prefill_activations_gib)


def test_the_memory_model_holds_for_every_generation_qwen_measured():
    summary = memory.generations_error_summary()

    def row(table: str, whole: bool, version: str):
        match = summary[(summary["table"] == table) & (summary["whole_prompt_logits"] == whole)
                        & (summary["transformers"] == version)]
        assert len(match) == 1, (table, whole, version)
        return match.iloc[0]

    # the Qwen2 table names transformers 4.38.2 (whole-prompt logits); the Qwen3 table 4.51.3 (last token only)
    qwen2 = row("Qwen2 docs (2024-09)", True, "4.38.2")
    assert qwen2["rows"] == 64 and qwen2["median_abs_error"] < 0.05
    qwen3 = row("Qwen3 docs (2025-05)", False, "4.51.3")
    assert qwen3["rows"] == 80 and qwen3["median_abs_error"] < 0.05 and qwen3["worst_abs_error"] < 0.25
    # Qwen1.5 names no version: its measurements side with whole-prompt logits by a factor of almost three (with the
    # legacy-cache term its date decides in both settings: tests/test_memory_outliers.py)
    with_logits = row("Qwen1.5 docs (2024-03)", True, "not stated")["median_abs_error"]
    without = row("Qwen1.5 docs (2024-03)", False, "not stated")["median_abs_error"]
    assert with_logits < 0.1 and without > 2.5 * with_logits
    # Qwen-1 (its own modeling code, one prompt token, so both logits settings agree): held out, never fitted
    qwen1_with = row("Qwen-1 README (2023-11)", True, "not stated")
    qwen1_without = row("Qwen-1 README (2023-11)", False, "not stated")
    assert qwen1_with["rows"] == qwen1_without["rows"] == 12
    assert qwen1_with["median_abs_error"] == pytest.approx(qwen1_without["median_abs_error"])
    assert qwen1_with["median_abs_error"] < 0.15 and qwen1_with["worst_abs_error"] < 0.3


def test_qwen1_bf16_rows_sit_within_a_tenth_and_quantized_rows_are_measured_higher():
    table = memory.generations_memory_comparison()
    qwen1 = table[(table["table"] == "Qwen-1 README (2023-11)") & ~table["whole_prompt_logits"]]
    errors = qwen1.groupby("quantization")["model_error"]
    assert set(qwen1["quantization"]) == {"bf16", "gptq-int8", "gptq-int4"}
    assert errors.median()["bf16"] > -0.1 and (qwen1["model_error"] < 0).all()
    assert errors.median()["gptq-int4"] < errors.median()["bf16"]
