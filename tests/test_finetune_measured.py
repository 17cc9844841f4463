"""Lesson 4: measured fine-tuning memory (data/finetune_measurements.csv), the two fitted constants, and the split
between the rows that fit them (Qwen-1's profile) and the rows that only judge them (everything else)."""

from __future__ import annotations

import pandas as pd
import pytest

from qwen_lessons import finetune, finetune_evidence, models
from qwen_lessons.data import read_table

SWIFT = "github:modelscope/ms-swift@3602360 "


def test_measured_rows_carry_their_source_and_every_stated_setting():
    table = finetune_evidence.load_measured()
    assert len(table) == 19
    # read at 3602360, or (a command changed later under its figure) at the commit that wrote the figure
    at_3602360 = table["source"].str.startswith(SWIFT)
    assert at_3602360.sum() == 18
    assert table["source"].str.contains(r"examples/.+\.sh \(last changed [0-9a-f]{9} 20\d\d-\d\d-\d\d\)")[at_3602360].all()
    for _, row in table[~at_3602360].iterrows():
        commit, _date, path = row["figure_written"].split()
        assert row["source"].startswith(f"github:modelscope/ms-swift@{commit} {path} "), row["method"]
    assert set(table["role"]) == {"judge"}  # no measured row fits a constant
    assert set(table["memory_unit"]) == {"GB", "GiB"}
    # the number as printed is quoted in the row's conditions ("# 22GB", "4 * 42GB", "27.5GiB * 2")
    for _, row in table.iterrows():
        number = f"{row['memory_per_gpu']:g}"
        assert f"{number}{row['memory_unit']}" in row["conditions"].replace(" ", ""), row["method"]
    # stated settings use the planner's own kinds; an unstated one is an empty cell
    for column, kinds in (("loss", finetune.LOSSES), ("attention", finetune.ATTENTIONS),
                          ("checkpointing", finetune.CHECKPOINTING), ("offload", finetune.OFFLOADS)):
        assert set(table[column].dropna()) <= set(kinds), column
    liger = table[table["conditions"].str.contains("use_liger_kernel true")]
    assert (liger["loss"] == "fused").all() and len(liger) == 9
    packed = table[table["conditions"].str.contains("--packing true")]
    assert packed["packing"].all()
    assert not table[table["conditions"].str.contains("not comparable")]["comparable"].any()
    assert table[~table["conditions"].str.contains("not comparable")]["comparable"].all()


def test_one_fact_against_its_script():
    # examples/train/multi-gpu/deepspeed/train_zero3.sh at 3602360: '# 16GiB * 2', LoRA rank 8 all-linear, zero3
    table = finetune_evidence.load_measured().set_index("method")
    row = table.loc["LoRA, DeepSpeed ZeRO-3 on 2 GPUs"]
    assert (row["memory_per_gpu"], row["memory_unit"], row["gpus_per_node"], row["zero_stage"]) == (16, "GiB", 2, 3)
    assert (row["lora_rank"], row["lora_targets"], row["seq_len"]) == (8, "all-linear", 2048)


def _shapes(model_id):
    """What the planner sees of a checkpoint: its linear layers and its parameter groups."""
    return finetune.linear_layers(model_id), models.parameter_groups(model_id)


def test_every_row_says_whether_its_figure_measures_its_run():
    # data/README.md's rule, applied to every row: the figure was written above a run (figure_written, figure_model);
    # a later change of model size, method or data under it makes it 'carried over'; the card's size is 'card size'
    table = finetune_evidence.load_measured()
    assert set(table["evidence"]) == {"measured", "carried over", "card size"}
    assert table["figure_written"].str.fullmatch(r"[0-9a-f]{9} 20\d\d-\d\d-\d\d examples/\S+\.sh").all()
    for _, row in table.iterrows():
        # the part of the rule a machine can check: a figure written for other layer shapes is never 'measured'
        if _shapes(row["figure_model"]) != _shapes(row["model_id"]):
            assert row["evidence"] != "measured", row["method"]
        assert row["evidence"] == "measured" or len(row["evidence_note"]) > 40, row["method"]
    rows = table.set_index("method")
    copied = rows.loc["LoRA (self-cognition notebook)"]  # Qwen2.5-3B script created from the 7B script, "# 22GB" kept
    assert (copied["evidence"], copied["figure_model"], copied["model_id"]) == (
        "carried over", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-3B-Instruct")
    assert copied["figure_written"] == rows.loc["LoRA (--tuner_type lora)", "figure_written"]  # the 7B row's figure
    full = rows.loc["Full (--tuner_type full, bf16 weights, no DeepSpeed)"]
    assert full["evidence"] == "carried over" and "268afeab9" in full["evidence_note"]  # the data changed under it
    assert rows.loc["Full, ZeRO-3 on 8 GPUs, packing + Liger", "evidence"] == "card size"
    # Qwen2-7B-Instruct, the model the ZeRO scripts' figures were written for, has Qwen2.5-7B-Instruct's shapes
    zero2 = rows.loc["LoRA, DeepSpeed ZeRO-2 on 2 GPUs"]
    assert zero2["figure_model"] == "Qwen/Qwen2-7B-Instruct" and zero2["evidence"] == "measured"
    assert sorted(table.loc[table["evidence"] != "measured", "method"]) == [
        "Full (--tuner_type full, bf16 weights, no DeepSpeed)", "Full, ZeRO-3 on 8 GPUs, packing + Liger",
        "LoRA (self-cognition notebook)"]


def test_rows_not_measuring_their_run_are_shown_with_their_reason_but_never_judged(monkeypatch):
    comparison = finetune_evidence.compare_measured()
    judged_rows = comparison[comparison["role"] == "judge"]
    table = finetune_evidence.load_measured()
    counted = (table["evidence"] == "measured") & table["comparable"]
    assert (judged_rows["not_judged"] == "").sum() == counted.sum() + 2  # + Qwen3's two ms-swift guide statements
    shown = finetune_evidence.judged_error_table(comparison).set_index("method")
    assert len(shown) == len(table) + 2
    assert shown.loc["LoRA (self-cognition notebook)", "not judged because"].startswith("carried over: dbeec0fed")
    assert shown.loc["Full, ZeRO-3, padded, batch 8", "not judged because"].startswith("tokens unknown: ")
    assert shown.loc["LoRA, DeepSpeed ZeRO-2 on 2 GPUs", "not judged because"] == ""
    before = finetune_evidence.measured_error_summary(comparison)
    real = read_table

    def changed(method, factor):
        def reader(name):
            out = real(name)
            if name == finetune_evidence.MEASURED_FILE:
                out = out.copy()
                out.loc[out["method"] == method, "memory_per_gpu"] *= factor
            return out
        return reader

    # a carried-over row ten times larger: the judged errors do not move; a measured one: they do
    monkeypatch.setattr(finetune_evidence, "read_table", changed("LoRA (self-cognition notebook)", 10))
    assert finetune_evidence.measured_error_summary(finetune_evidence.compare_measured()).equals(before)
    monkeypatch.setattr(finetune_evidence, "read_table", changed("LoRA with packing", 10))
    after = finetune_evidence.measured_error_summary(finetune_evidence.compare_measured())
    assert after.loc["judge", "planner: worst %"] > 80


def test_the_constants_are_the_fit_of_the_fit_rows():
    fitted = finetune_evidence.fit_constants()
    assert fitted == {"overhead_gib": finetune.DEFAULT_OVERHEAD_GIB, "zero_buffer_gib": finetune.ZERO_BUFFER_GIB}


def test_zero_1_and_2_buffer_is_deepspeeds_reduce_bucket_not_a_fit(monkeypatch):
    # sourced (ms-swift@3602360 swift/config/zero1.json, zero2.json: reduce_bucket_size 2e8, overlap_comm false;
    # DeepSpeed stage_1_and_2.py setup_buckets: one torch.empty(reduce_bucket_size) in the 16-bit dtype, 2 bytes; the
    # all-gather writes in place, so allgather_bucket_size adds nothing): 2e8 x 2 bytes per GPU, ZeRO-3 the fitted one
    def overhead(stage, gpus=2):
        return finetune.training_memory("Qwen/Qwen2.5-7B-Instruct", "lora", n_gpus=gpus, zero_stage=stage).overhead

    base = finetune.DEFAULT_OVERHEAD_GIB * 2**30
    for stage in (1, 2):
        assert overhead(stage) - base == pytest.approx(200_000_000 * 2)
        assert overhead(stage, gpus=1) == pytest.approx(base)  # one GPU: DeepSpeed reduces nothing
    assert overhead(3) - base == pytest.approx(finetune_evidence.fit_constants()["zero_buffer_gib"] * 2**30)
    assert overhead(0) == pytest.approx(base)  # DDP: no DeepSpeed buckets
    # the judged ZeRO-2 row (18 GiB printed) ten times larger: neither constant nor the sourced term moves
    fitted, judged_method = finetune_evidence.fit_constants(), "LoRA, DeepSpeed ZeRO-2 on 2 GPUs"
    real = read_table

    def inflated(name):
        table = real(name)
        if name == finetune_evidence.MEASURED_FILE:
            table = table.copy()
            table.loc[table["method"] == judged_method, "memory_per_gpu"] *= 10
        return table

    before = finetune_evidence.compare_measured().set_index("method").loc[judged_method]
    monkeypatch.setattr(finetune_evidence, "read_table", inflated)
    after = finetune_evidence.compare_measured().set_index("method").loc[judged_method]
    assert finetune_evidence.fit_constants() == fitted
    assert after["estimate_gib"] == before["estimate_gib"] and after["published_gib"] == 10 * before["published_gib"]
    assert overhead(2) - base == pytest.approx(200_000_000 * 2)


def test_a_judged_row_never_moves_a_constant(monkeypatch):
    published = finetune_evidence.load_published()
    before = finetune_evidence.fit_constants(published)
    # the judged rows of finetune_memory.csv (Qwen3's ms-swift guide) changed wildly: the constants do not move
    judged = published.copy()
    judged.loc[judged["table"].str.startswith("Qwen3"), "memory_gb"] *= 5
    assert finetune_evidence.fit_constants(judged) == before
    # the measured file changed wildly (read through the package's one reader): the constants do not move
    real = read_table

    def doubled(name):
        table = real(name)
        if name == finetune_evidence.MEASURED_FILE:
            table = table.assign(memory_per_gpu=table["memory_per_gpu"] * 10)
        return table

    monkeypatch.setattr(finetune_evidence, "read_table", doubled)
    assert finetune_evidence.fit_constants() == before
    # ... while a fit row does move them (so the test above can fail)
    fit = published.copy()
    one_gpu = (fit["table"] == finetune.FIT_TABLE) & (fit["gpus_per_node"] == 1)
    fit.loc[one_gpu, "memory_gb"] += 3
    assert finetune_evidence.fit_constants(fit)["overhead_gib"] == pytest.approx(before["overhead_gib"] + 3)


@pytest.fixture(scope="module")
def measured():
    return finetune_evidence.compare_measured()


def test_fitted_and_judged_rows_are_told_apart(measured):
    assert set(measured["role"]) == {"fit", "judge"}
    fit = measured[measured["role"] == "fit"]
    assert (fit["source"] == finetune.FIT_TABLE).all() and len(fit) == 81
    judged = measured[(measured["role"] == "judge") & (measured["not_judged"] == "")]
    table = finetune_evidence.load_measured()
    assert len(judged) == (table["comparable"] & (table["evidence"] == "measured")).sum() + 2  # + Qwen3's two
    assert not judged["estimate_gib"].isna().any()


def test_errors_are_pinned(measured):
    # the numbers lesson 4's closing note prints; a regression (or a constant tuned on judged rows) moves them
    summary = finetune_evidence.measured_error_summary(measured)
    judge, fit = summary.loc["judge"], summary.loc["fit"]
    assert judge["rows"] == 16
    assert judge["planner: median %"] <= 15.0  # 14.1% over 16 judged rows
    # 32.4%: QLoRA NF4 on one GPU (12.3 GiB against 9.3). LoRA + ZeRO-2 on 2 GPUs was the worst, 35.2% (24.3 GiB
    # against 18), while ZeRO-3's fitted buffer (3.1 GiB) stood for every stage; with DeepSpeed's sourced reduce
    # bucket (0.37 GiB, added after these errors were seen) it is 20.0% (21.6 GiB)
    assert 32.0 < judge["planner: worst %"] < 32.5
    judged = measured[(measured["role"] == "judge") & (measured["not_judged"] == "")]
    worst = judged.loc[judged["error_pct"].abs().idxmax()]
    assert worst["method"] == "QLoRA (bitsandbytes NF4, double quant)"
    zero2 = judged[judged["method"] == "LoRA, DeepSpeed ZeRO-2 on 2 GPUs"].iloc[0]
    assert 19.5 < zero2["error_pct"] < 20.5
    assert fit["planner: median %"] < 10.0  # 9.7% over the 81 Qwen-1 rows (10.4% with the fitted buffer at ZeRO-2)
    # the stated settings matter: ignoring them (no Liger, no flash, AdamW, ...) and the rule of thumb do worse
    assert judge["settings ignored: median %"] > judge["planner: median %"]
    assert judge["LLaMA-Factory rule: median %"] > judge["planner: median %"]
    liger = measured[measured["method"] == "Full, ZeRO-3, packing + Liger, 16K"].iloc[0]
    assert abs(liger["error_pct"]) < 15 < abs(liger["settings_ignored_error_pct"])


def test_measured_units_are_read_as_printed(measured):
    row = measured[measured["method"] == "QLoRA (bitsandbytes NF4, double quant)"].iloc[0]
    assert row["published_gib"] == pytest.approx(10e9 / 2**30)  # "10GB" as printed
    ddp = measured[measured["method"] == "LoRA, DDP on 2 GPUs"].iloc[0]
    assert ddp["published_gib"] == 27.5 and ddp["gpus"] == 2  # "27.5GiB * 2": per GPU
    assert isinstance(measured, pd.DataFrame)


# ---------------------------------------------------------------- time: issue 32 item 4


def test_the_utilisation_is_stated_per_framework_and_fitted_on_the_qwen1_profile_only(monkeypatch):
    assert set(finetune.UTILISATION_BY_FRAMEWORK) == {"transformers", "ms-swift"}
    assert finetune_evidence.fit_utilisation() == finetune.UTILISATION_BY_FRAMEWORK["transformers"]
    assert finetune.DEFAULT_UTILISATION == finetune.UTILISATION_BY_FRAMEWORK["transformers"]
    # ms-swift's step times judge only: ten times slower steps do not move the fitted share
    real = read_table

    def slower(name):
        table = real(name)
        if name == finetune_evidence.MEASURED_FILE:
            table = table.assign(speed_s_per_it=table["speed_s_per_it"] * 10)
        return table

    monkeypatch.setattr(finetune_evidence, "read_table", slower)
    assert finetune_evidence.fit_utilisation() == finetune.UTILISATION_BY_FRAMEWORK["transformers"]
    assert (finetune_evidence.compare_time().query("role == 'judge'")["error_pct"] < -70).all()


def test_training_hours_takes_the_framework_share():
    flops = 312e12 * 0.4 * 3600  # one hour on an A100 at 40%
    assert finetune.training_hours(flops, "a100-80gb", framework="ms-swift") == pytest.approx(1.0)
    assert finetune.training_hours(flops, "a100-80gb", framework="transformers") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="framework"):
        finetune.training_hours(flops, "a100-80gb", framework="vllm")
    with pytest.raises(ValueError, match="not both"):
        finetune.training_hours(flops, "a100-80gb", framework="ms-swift", utilisation=0.9)


def test_time_is_held_against_every_published_step_time():
    timing = finetune_evidence.compare_time()
    judged = timing[timing["role"] == "judge"].set_index("method")
    # every ms-swift row that prints a step time and its GPU, with the tokens its flags give: 4 GPUs x 1 x
    # accumulation x 16,384 (the cached-dataset row prints 15.5 s/it but no GPU: no peak to hold it against)
    table = finetune_evidence.load_measured()
    assert len(judged) == (table["speed_s_per_it"].notna() & table["gpu"].notna()).sum() == 2
    assert table["speed_s_per_it"].notna().sum() == 3
    h20 = judged.loc["Full, ZeRO-3, packing + Liger, FlashAttention-2, 16K"]
    a100 = judged.loc["Full, ZeRO-3, packing + Liger, 16K"]
    assert (h20["published_s"], h20["tokens_per_step"], h20["gpu_id"]) == (35.5, 4 * 4 * 16384, "h20")
    assert (a100["published_s"], a100["tokens_per_step"], a100["gpu_id"]) == (10.0, 4 * 2 * 16384, "a100-80gb")
    # the errors lesson 4 prints: ms-swift's packed 16K steps run at about twice the stated share (+117%, +83%)
    assert 100 < h20["error_pct"] < 130 and 70 < a100["error_pct"] < 95
    assert 0.8 < h20["implied_utilisation"] < 0.95 and 0.65 < a100["implied_utilisation"] < 0.8
    fitted = timing[timing["role"] == "fit"]
    assert len(fitted) == 44 and fitted["error_pct"].abs().median() < 26  # 24.6% over Qwen-1's rows
    expected = 3600 * finetune.training_hours(1e18, "h20", n_gpus=4, framework="ms-swift")
    assert h20["predicted_s"] == pytest.approx(expected * h20["tokens_per_step"] / 1e18 * (
        finetune.training_flops("Qwen/Qwen2.5-7B", "full", 1e6, seq_len=16384) / 1e6), rel=1e-9)
