"""Lesson 4: measured fine-tuning memory (data/finetune_measurements.csv), the two fitted constants, and the split
between the rows that fit them (Qwen-1's profile) and the rows that only judge them (everything else)."""

from __future__ import annotations

import pandas as pd
import pytest

from qwen_lessons import finetune, finetune_evidence
from qwen_lessons.data import read_table

SWIFT = "github:modelscope/ms-swift@3602360 "


def test_measured_rows_carry_their_source_and_every_stated_setting():
    table = finetune_evidence.load_measured()
    assert len(table) == 18
    assert table["source"].str.startswith(SWIFT).all()
    assert table["source"].str.contains(r"examples/.+\.sh \(last changed [0-9a-f]{9} 20\d\d-\d\d-\d\d\)").all()
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
    assert (liger["loss"] == "fused").all() and len(liger) == 8
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


def test_the_constants_are_the_fit_of_the_fit_rows():
    fitted = finetune_evidence.fit_constants()
    assert fitted == {"overhead_gib": finetune.DEFAULT_OVERHEAD_GIB, "zero_buffer_gib": finetune.ZERO_BUFFER_GIB}


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
    judged = measured[measured["role"] == "judge"]
    comparable = finetune_evidence.load_measured()["comparable"].sum()
    assert len(judged) == comparable + 2  # + Qwen3's two ms-swift guide statements (finetune_memory.csv)
    assert not judged["estimate_gib"].isna().any()


def test_errors_are_pinned(measured):
    # the numbers lesson 4's closing note prints; a regression (or a constant tuned on judged rows) moves them
    summary = finetune_evidence.measured_error_summary(measured)
    judge, fit = summary.loc["judge"], summary.loc["fit"]
    assert judge["planner: median %"] <= 15.0  # 14.3% over 17 judged rows
    assert judge["planner: worst %"] < 39.0  # 38.7%: Qwen2.5-3B LoRA, whose comment repeats the 7B script's 22GB
    assert fit["planner: median %"] < 11.0  # 10.4% over the 81 Qwen-1 rows
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
    # every ms-swift row that prints a step time, with the tokens its flags give: 4 GPUs x 1 x accumulation x 16,384
    assert len(judged) == finetune_evidence.load_measured()["speed_s_per_it"].notna().sum() == 2
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
