"""Lesson 8 (08_local_inference): GGUF and MLX file sizes, counted by hand for one small checkpoint and held
against the published sizes; llama.cpp's runtime memory, offload and the laptop wizard."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from qwen_lessons import local_formats, local_runtime, memory, models, real_llama_cpp, vocabulary
from qwen_lessons.data import read_table

SMALL = "Qwen/Qwen2.5-0.5B-Instruct"  # 24 layers, hidden 896, 14 query / 2 KV heads of 64, MLP 4864, tied, vocab 151936


def _small_by_hand():
    """Qwen2.5-0.5B's matrices and small tensors, written out from its config (not from qwen_lessons.models)."""
    h, kv, f, vocab, layers = 896, 128, 4864, 151936, 24
    per_layer = h * h + h * kv + h * kv + h * h + 2 * h * f + f * h  # q, k, v, o, gate, up, down
    matrices = vocab * h + layers * per_layer
    small = layers * (h + kv + kv) + layers * 2 * h + h  # q/k/v biases, two norms per layer, the final norm
    return matrices, small


def test_q8_0_file_of_the_small_checkpoint_counted_by_hand():
    matrices, small = _small_by_hand()
    parts = local_formats.gguf_file_bytes(SMALL, "q8_0")
    assert parts["weights"] == matrices // 32 * 34  # every matrix in 34-byte blocks of 32 (896 is a multiple of 32)
    assert parts["f32_tensors"] == small * 4


def test_q4_k_m_mix_of_the_small_checkpoint():
    types = local_formats.gguf_tensor_types(SMALL, "q4_k_m").set_index(["layer", "tensor"])["ggml_type"]
    # 896 is not a multiple of 256: Q4_K falls back to Q5_0, Q6_K to Q8_0 (tensor_type_fallback)
    assert types[(0, "attn_q")] == "Q5_0"
    assert types[(-1, "token_embd")] == "Q8_0"  # tied: the output rule, and 896 % 256 != 0 gives Q8_0
    # ffn_down rows are 4864 = 19 x 256 wide: Q6_K where use_more_bits (24 layers: 0-2, 21-23, and 5, 8, ... 20)
    more = {0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23}
    for layer in range(24):
        assert types[(layer, "ffn_down")] == ("Q6_K" if layer in more else "Q4_K"), layer
        assert types[(layer, "attn_v")] == ("Q8_0" if layer in more else "Q5_0"), layer


def test_layer_bytes_are_the_tensor_table_summed_by_layer():
    """gguf_layer_bytes (what -ngl offloads, summed from the rows without the table) agrees with gguf_tensor_types
    grouped by layer, for dense, MoE and hybrid checkpoints in every GGUF format."""
    ids = models.model_ids(memory_modelled=True)
    for model_id in ids[::6] + ids[-1:]:
        n = len(models.resolve(model_id).layers)
        for quant in local_formats.local_quantizations("llama.cpp"):
            by_layer = local_formats.gguf_tensor_types(model_id, quant).groupby("layer")["bytes"].sum()
            layers, output, outside = local_formats.gguf_layer_bytes(model_id, quant)
            assert layers == tuple(int(by_layer.get(i, 0)) for i in range(n)), (model_id, quant)
            assert (output, outside) == (int(by_layer.get(n, 0)), int(by_layer.get(-1, 0))), (model_id, quant)
            assert sum(layers) + output + outside == int(by_layer.sum())


def test_measuring_the_bandwidth_leaves_room_under_a_learners_memory_limit():
    """Lesson 08 measures the learner's memory bandwidth with two numpy arrays. At 256 MiB each, the hub room's
    learner (server and two kernels, tests/test_room.py) peaked at 1,045 MiB against the 1 GiB limit the deploy config
    sets; the measurement now allocates at most 256 MiB in all (numpy reports its arrays to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        bandwidth = real_llama_cpp.measure_bandwidth_gbs()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert bandwidth > 0.1
    assert 200 * 2**20 < peak <= 260 * 2**20, f"the measurement allocated {peak / 2**20:.0f} MiB"


def test_block_layouts_give_the_known_bits_per_weight():
    bits = local_formats.gguf_type_table().set_index("ggml_type")["bits_per_weight"]
    assert bits["Q4_K"] == 4.5 and bits["Q6_K"] == 6.5625 and bits["Q8_0"] == 8.5 and bits["Q2_K"] == 2.625
    assert bits["IQ4_XS"] == 4.25 and bits["Q3_K"] == 3.4375 and bits["Q5_K"] == 5.5 and bits["Q4_0"] == 4.5


def test_mlx_4bit_counts_a_scale_and_bias_per_64_weights():
    matrices, small = _small_by_hand()
    parts = local_formats.mlx_weights_bytes(SMALL, "mlx-4bit")
    assert parts["quantized_weights"] == matrices // 2
    assert parts["scales_and_biases"] == matrices // 64 * 4
    assert parts["unquantized_16bit"] == small * 2


def test_published_sizes_agree_within_one_percent():
    table = local_formats.size_comparison()
    assert len(table) >= 30
    gguf = table[table["quantization"].map(lambda q: local_formats.local_format(q)["engine"]) == "llama.cpp"]
    assert gguf["error"].abs().max() < 0.01
    exact = table[table["published"].str.endswith("bytes")]
    assert len(exact) >= 8 and exact["error"].abs().median() < 1e-5  # metadata counted to a few kB
    summary = local_formats.size_error_summary(table).set_index("rows")
    assert summary.loc["all", "median_abs_error"] < 0.002


def test_the_tokenizer_metadata_spells_every_token_as_gguf_does():
    """The spelled-vocabulary totals (joined byte strings, for speed) equal the per-token count: bytes 33-126 one
    byte each, every other byte two; one merge ("a b" + an 8-byte length) per token longer than one byte."""
    for name in vocabulary.vocabularies()["vocabulary"]:
        ranks = vocabulary.merge_ranks(name)
        spelled = [sum(1 if 33 <= byte <= 126 else 2 for byte in token) for token in ranks]
        merges = sum(8 + length + 1 for token, length in zip(ranks, spelled, strict=True) if len(token) > 1)
        row = vocabulary.vocabularies().set_index("vocabulary").loc[name]
        totals = local_formats._spelled_vocabulary(name, row["bpe_file"], int(row["regular_tokens"]))
        assert totals == (len(ranks), sum(spelled), merges), name


def test_the_qwen_mlx_row_is_off_by_its_group_size_and_says_so():
    published = local_formats.load_published_sizes()
    row = published[(published["quantization"] == "mlx-4bit") & (published["publisher"] == "Qwen")].iloc[0]
    assert "128" in row["notes"]
    error = local_formats.size_comparison().query("quantization == 'mlx-4bit' and publisher == 'Qwen'")["error"]
    assert 0.05 < error.iloc[0] < 0.07  # 4.5 vs 4.25 bits per weight


def test_format_names_come_from_the_table_and_memory_accepts_them():
    names = local_formats.local_quantizations()
    assert names == list(read_table("local_formats.csv")["quantization"])
    for name in ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "iq4_xs", "q3_k_m", "q2_k", "mlx-4bit", "mlx-8bit"):
        assert name in names
    assert memory.normalize_quantization("Q4_K_M") == "q4_k_m"
    est = memory.inference_memory("Qwen3-8B", "q4_k_m", 1024, 256)
    tensors = local_formats.gguf_tensor_types("Qwen3-8B", "q4_k_m")["bytes"].sum()
    assert est.weights_gib * 2**30 == pytest.approx(tensors)
    with pytest.raises(ValueError, match="quantization"):
        memory.normalize_quantization("q4_k_x")
    with pytest.raises(ValueError, match="GGUF"):
        local_formats.gguf_file_bytes(SMALL, "mlx-4bit")


def test_kv_cache_types_have_their_block_overhead():
    f16 = memory.kv_bytes_per_token("Qwen3-8B", "f16")
    assert memory.kv_bytes_per_token("Qwen3-8B", "q8_0") == f16 * 34 // 64
    assert memory.kv_bytes_per_token("Qwen3-8B", "q4_0") == f16 * 18 // 64


def test_offload_moves_layers_and_the_output_layer():
    ckpt = models.resolve("Qwen3-8B")
    n = len(ckpt.layers)
    full = local_runtime.llama_cpp_memory(ckpt, "q4_k_m", 8192)
    none = local_runtime.llama_cpp_memory(ckpt, "q4_k_m", 8192, n_gpu_layers=0)
    half = local_runtime.llama_cpp_memory(ckpt, "q4_k_m", 8192, n_gpu_layers=n // 2 + 1)
    total = full.gpu_weights_gib + full.cpu_weights_gib
    assert none.gpu_total_gib == 0 and none.cpu_weights_gib == pytest.approx(total)
    assert half.gpu_weights_gib + half.cpu_weights_gib == pytest.approx(total)
    assert half.gpu_kv_gib == pytest.approx(full.gpu_kv_gib / 2)
    assert 0 < half.gpu_weights_gib < full.gpu_weights_gib
    # the token embedding never leaves the CPU
    assert full.cpu_weights_gib > 0
    fast = local_runtime.decode_tokens_per_s_bound(ckpt, "q4_k_m", "rtx-3060-12gb", 8192)
    split = local_runtime.decode_tokens_per_s_bound(ckpt, "q4_k_m", "rtx-3060-12gb", 8192, n_gpu_layers=n // 2 + 1)
    assert split < fast / 2  # the half in RAM reads at a quarter of the card's bandwidth


def test_hybrid_checkpoints_keep_a_fixed_state_not_a_cache_in_their_linear_layers():
    short = local_runtime.llama_cpp_memory("Qwen3.5-9B", "q4_k_m", 4096)
    long = local_runtime.llama_cpp_memory("Qwen3.5-9B", "q4_k_m", 32768)
    assert short.state_gib == long.state_gib > 0
    assert long.gpu_kv_gib == pytest.approx(8 * short.gpu_kv_gib)


@pytest.mark.parametrize("gpu_id", ["apple-m4-16gb", "rtx-3060-12gb"])
def test_the_wizard_answers_for_a_16_gb_mac_and_a_12_gb_card(gpu_id):
    answer = local_runtime.laptop_answer(gpu_id, 8192)
    assert answer["model"] and answer["quantization"] in local_formats.local_quantizations()
    assert answer["memory_gib"] <= answer["usable_gib"]
    options = local_runtime.laptop_options(gpu_id, 8192)
    four_bit = options["quantization"].map(lambda q: local_formats.local_format(q)["bits"] >= 4)
    published = pd.Series([local_runtime.download(m, q) is not None
                           for m, q in zip(options["model"], options["quantization"], strict=True)], index=options.index)
    size = options.loc[options["model"] == answer["model"], "params_b"].max()
    bigger = options["params_b"] > size * (1 + local_runtime.SAME_SIZE_TOLERANCE)
    assert not (bigger & options["fits"] & four_bit & (options["tokens_per_s_bound"] >= 10) & published).any()
    assert local_formats.local_format(answer["quantization"])["bits"] >= 4
    # at 32K with a q8_0 cache a 14B fits a 12 GB card only in 3 bits: the answer stays at 4 bits or more
    long = local_runtime.laptop_answer(gpu_id, 32768, "q8_0")
    assert local_formats.local_format(long["quantization"])["bits"] >= 4
    lines = local_runtime.commands(answer["model"], answer["quantization"], 8192, "q8_0")
    assert "-c 8192" in lines["llama-server"] and "--cache-type-k q8_0" in lines["llama-server"]
    assert "num_ctx 8192" in lines["ollama"]


def test_mlx_is_offered_on_apple_only():
    with pytest.raises(ValueError, match="Apple"):
        local_runtime.laptop_options("rtx-3060-12gb", 8192, engine="mlx")
    assert isinstance(local_runtime.laptop_options("apple-m4-16gb", 8192, engine="mlx"), pd.DataFrame)


def test_buffers_agree_with_a_published_llama_cpp_log():
    table = local_runtime.runtime_comparison().set_index("term")
    assert table.loc["KV buffer", "error"] == 0  # 144.00 MiB: the cache is exact arithmetic
    assert abs(table.loc["compute buffer", "error"]) < 0.02  # the output head's logits for 512 tokens dominate
    assert abs(table.loc["file size", "error"]) < 0.005  # printed to 0.01 GiB


def test_a_moe_token_reads_its_routed_experts_and_the_whole_output_head():
    ckpt = models.resolve("Qwen3-30B-A3B")
    tensors = local_formats.gguf_tensor_types(ckpt, "q4_k_m")
    layers = tensors[tensors["layer"] >= 0]
    experts = layers[layers["tensor"].str.endswith("_exps")]["bytes"].sum()
    rest = layers["bytes"].sum() - experts  # attention, router-free layer tensors and the output head
    routed = experts * ckpt["num_experts_per_tok"] / ckpt["num_experts"]
    kv = memory.kv_bytes_per_token(ckpt, "f16") * 4096
    bound = local_runtime.decode_tokens_per_s_bound(ckpt, "q4_k_m", "apple-m4-pro-64gb", 4096)
    # the share of decoder weights a token reads, applied to each layer, equals routed experts + the rest here
    share = local_runtime._active_share(ckpt)
    decoder = layers[layers["layer"] < len(ckpt.layers)]["bytes"].sum()
    output = layers[layers["layer"] == len(ckpt.layers)]["bytes"].sum()
    assert bound == pytest.approx(273e9 / (decoder * share + output + kv), rel=1e-9)
    assert 0.5 < (decoder * share + output) / (routed + rest) < 1.5


def test_type_mix_counts_every_small_f32_tensor_of_the_file():
    from qwen_lessons.lessons import local_inference as lesson

    # Qwen3-8B: 36 layers, each with two RMSNorms and a q_norm and a k_norm, plus the final norm = 145 F32 tensors;
    # 36 x 7 matrices + token_embd + output (untied) = 254 quantized ones
    mix = lesson.type_mix("Qwen/Qwen3-8B", "q4_k_m").set_index("ggml_type")["tensors"]
    assert mix["F32"] == 36 * 4 + 1
    assert mix.drop("F32").sum() == 36 * 7 + 2
    # Qwen2.5-0.5B: q, k and v biases and two norms per layer, and the final norm
    small = lesson.type_mix(SMALL, "q8_0").set_index("ggml_type")["tensors"]
    assert small["F32"] == 24 * (3 + 2) + 1


MACHINES = ["apple-m4-16gb", "rtx-3060-12gb", "rtx-4060-ti-8gb", "rtx-4090", "cpu-ddr5-32gb"]


@pytest.mark.parametrize("gpu_id", MACHINES)
def test_the_wizard_prints_the_step_that_gets_the_published_file(gpu_id):
    answer = local_runtime.laptop_answer(gpu_id, 8192)
    row = local_runtime.download(answer["model"], answer["quantization"])
    assert row is not None and row["engine"] == "llama.cpp"  # the answer is a file a learner can download
    lines = local_runtime.commands(answer["model"], answer["quantization"], 8192)
    assert list(lines)[0] == "get the file"
    assert lines["get the file"] == f"huggingface-cli download {row['repo']} {row['file']} --local-dir ."
    assert f"-m {row['file']} " in lines["llama-server"] and f"FROM ./{row['file']}" in lines["ollama"]
    if gpu_id == MACHINES[0]:
        from qwen_lessons.widgets import local_inference as widget

        assert html.escape(lines["get the file"]) in widget.laptop_html(gpu_id, 8192)  # the wizard shows the step


def test_the_mlx_answer_uses_a_pre_quantized_repository_not_a_conversion():
    answer = local_runtime.laptop_answer("apple-m4-16gb", 8192, engine="mlx")
    row = local_runtime.download(answer["model"], answer["quantization"])
    assert row is not None and row["engine"] == "mlx" and row["file"] is None
    lines = local_runtime.commands(answer["model"], answer["quantization"], 8192)
    assert not any("mlx_lm.convert" in line for line in lines.values())  # no 30 GB bf16 download on a 16 GB Mac
    assert lines["get the model"] == f"huggingface-cli download {row['repo']}"
    assert f"--model {row['repo']} " in lines["mlx-lm"]


def test_a_size_tie_goes_to_the_newer_generation():
    from qwen_lessons.catalog import load_catalog

    # Qwen2.5-14B-Instruct and Qwen3-14B both fit a 16 GB Mac at Q4_K_M; the 2.5 has 1.7M more parameters (0.01%)
    answer = local_runtime.laptop_answer("apple-m4-16gb", 8192, published_only=False)
    options = local_runtime.laptop_options("apple-m4-16gb", 8192)
    sizes = options.drop_duplicates("model").set_index("model")["params_b"]
    assert abs(sizes["Qwen/Qwen2.5-14B-Instruct"] / sizes["Qwen/Qwen3-14B"] - 1) < local_runtime.SAME_SIZE_TOLERANCE
    assert answer["model"] == "Qwen/Qwen3-14B"
    release = load_catalog().set_index("model_id")["release"]
    same_size = sizes[sizes >= sizes[answer["model"]] / (1 + local_runtime.SAME_SIZE_TOLERANCE)].index
    fitting = options[options["fits"] & options["model"].isin(same_size)]["model"].unique()
    assert all(str(release[model]) <= str(release[answer["model"]]) for model in fitting)


def test_every_download_row_names_a_catalog_checkpoint_in_a_known_format():
    from qwen_lessons.catalog import load_catalog

    table = read_table("local_downloads.csv")
    catalog = set(load_catalog()["model_id"])
    for row in table.itertuples(index=False):
        assert row.model_id in catalog, row.model_id
        fmt = local_formats.local_format(row.quantization)
        assert fmt["engine"] == row.engine, row
        if row.engine == "llama.cpp":
            assert row.file.endswith(".gguf") and fmt["file_type"] in row.file, row
        else:
            assert pd.isna(row.file), row


def test_the_wizard_code_names_no_model_or_repository():
    from pathlib import Path

    import qwen_lessons

    root = Path(qwen_lessons.__file__).parent
    for path in (root / "local_runtime.py", root / "widgets" / "local_inference.py"):
        text = path.read_text(encoding="utf-8")
        # an organisation prefix ("Qwen/") may be trimmed for display; a model id, a repository or a file may not
        assert not re.search(r"Qwen/[A-Za-z0-9]|mlx-community|-GGUF|\w\.gguf\b", text), path.name


# Compute buffers llama.cpp (llama-cpp-python 0.3.36, CPU, no flash attention, micro-batch 512) logged for tiny
# qwen3moe files of 16 experts written by qwen_lessons.real_llama_cpp: (experts per token, expert width, context,
# MiB logged)
MEASURED_MOE_COMPUTE_MIB = [(2, 256, 512, 8.01), (4, 256, 512, 9.07), (8, 256, 512, 15.07), (4, 512, 512, 15.07),
                            (4, 256, 2048, 23.01)]


@pytest.mark.parametrize("experts, width, context, measured", MEASURED_MOE_COMPUTE_MIB)
def test_moe_compute_buffer_follows_the_routed_experts(experts, width, context, measured):
    """The MoE phase holds k experts' gate, up and product (not intermediate_size wide); phases do not add up."""
    shape = {**real_llama_cpp.TINY_QWEN3_MOE, "num_experts": 16, "num_experts_per_tok": experts,
             "moe_intermediate_size": width}
    course = local_runtime.llama_cpp_memory(real_llama_cpp.shape(shape), "q8_0", context, flash_attention=False)
    assert course.compute_gib * 1024 == pytest.approx(measured, rel=0.02)


def test_llama_cpp_keeps_the_convolution_state_in_f32():
    """llama.cpp's RS buffer of a tiny Qwen3.5 shape with 3 Gated DeltaNet layers logged 0.21 MiB:
    3 layers x (4 heads x 64 x 64 f32 + 3 x 512 f32); the course's 16-bit convolution state gave 0.20."""
    ckpt = real_llama_cpp.shape({**real_llama_cpp.TINY_QWEN35, "num_hidden_layers": 4, "full_attention_interval": 4})
    assert local_runtime.llama_cpp_state_bytes(ckpt) == 3 * (64 * 64 * 4 * 4 + 3 * 512 * 4)
    assert round(local_runtime.llama_cpp_memory(ckpt, "q8_0", 512).state_gib * 1024, 2) == 0.21
