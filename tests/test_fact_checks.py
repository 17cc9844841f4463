"""Issue 14's fact-check of the lessons: statements the sources contradicted, each held against the data now.

Each test reads what a notebook says and what data/ holds, so an edit that brings the old statement back, or a data
change that makes the new one wrong, fails here."""

from __future__ import annotations

import json
from pathlib import Path

from qwen_lessons import catalog
from qwen_lessons.data import read_table

ROOT = Path(__file__).resolve().parent.parent


def notebook_text(stem: str) -> str:
    notebook = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")


def test_qwen1_full_parameter_rows_use_zero3_as_qwens_full_fine_tuning_script_does():
    # repo:QwenLM/Qwen finetune/finetune_ds.sh passes --deepspeed finetune/ds_config_zero3.json (ZeRO-2 is the LoRA
    # script's default); the profile rows were read as ZeRO-2 before.
    profile = read_table("finetune_memory.csv")
    profile = profile[profile["table"] == "Qwen-1 finetune profile"]
    full = profile[profile["method_key"] == "full"]
    assert len(full) == 12 and (full["zero_stage"] == 3).all()
    assert full["source"].str.contains("ds_config_zero3.json").all()
    assert "ZeRO-2's" not in notebook_text("04_fine_tuning")


def test_lesson_3_names_exactly_the_sizes_the_profile_fine_tunes_in_full():
    profile = read_table("finetune_memory.csv")
    full_sizes = set(profile[(profile["table"] == "Qwen-1 finetune profile") & (profile["method_key"] == "full")]["model_size"])
    assert full_sizes == {"Qwen-1.8B", "Qwen-7B"}
    text = notebook_text("04_fine_tuning")
    assert "full fine-tuning of Qwen-1.8B (one GPU) and Qwen-7B (two GPUs)" in text
    assert "1.8B/7B/14B/72B" not in text


def test_lesson_5_calls_32k_the_native_context_not_the_maximum():
    table = catalog.load_catalog().set_index("model_id")
    instruct = [f"Qwen/Qwen2.5-{size}B-Instruct" for size in (7, 14, 32, 72)]
    assert (table.loc[instruct, "context_length"] == 32_768).all()
    assert (table.loc[instruct, "extended_context"] == 131_072).all()  # with YaRN, per the model cards
    text = notebook_text("07_choosing_a_tier")
    assert "the Instruct models' maximum" not in text
    assert "32,768 is these Instruct models' native context" in text and "131,072 tokens" in text


def test_hardware_rows_say_whether_a_vendor_page_carries_their_figures():
    hardware = read_table("hardware.csv").set_index("gpu_id")
    assert set(hardware["source_kind"]) <= {"vendor", "secondary"}
    vendor = hardware[hardware["source_kind"] == "vendor"]
    assert {"a100-40gb", "apple-m4-pro-64gb"} <= set(vendor.index)
    hosts = ("nvidia.com", "apple.com", "intel.com", "amazon.com")
    assert vendor["source"].map(lambda text: any(host in text.split(" ")[0] for host in hosts)).all()


def test_catalog_sources_cite_no_pull_request_merge_ref_and_no_reference_notes():
    table = read_table("catalog.csv")
    assert not table["source"].str.contains("QwenLM/Qwen3@4d9f43e").any()  # a third-party PR's merge ref
    assert not table["source"].str.contains("shared reference|shared/reference", case=False).any()
    assert not table["source"].str.contains("QwenLM/Qwen@03cd81f").any()  # not in QwenLM/Qwen's history


def test_lesson_1s_size_caption_names_the_one_dense_model_past_100b():
    table = catalog.load_catalog()
    sized = table[table["params_b"].notna()]
    dense = sized[~catalog.is_moe(sized).astype(bool)]
    assert set(dense.loc[dense["params_b"] > 100, "model_id"]) == {"Qwen/Qwen1.5-110B", "Qwen/Qwen1.5-110B-Chat"}
    assert "One dense model passes 100B\n(Qwen1.5-110B, base and chat)" in notebook_text("01_family_map")


def test_lesson_5s_prompt_logits_are_tens_of_gib_at_30k_and_more_than_a_7b_models_weights():
    from qwen_lessons import memory, models

    ckpt = models.resolve("Qwen/Qwen2-7B-Instruct")
    logits_gib = (2 + 4) * ckpt["vocab_size"] * 30720 / 2**30
    assert 10 <= logits_gib < 100 and ckpt["vocab_size"] // 1000 == 152  # "Qwen's 152K-entry vocabulary"
    assert logits_gib > memory.inference_memory(ckpt, "bf16", 30720, 1).weights_gib
    assert "tens of GiB at a 30K-token prompt" in notebook_text("07_choosing_a_tier")


def test_catalog_coverage_does_not_slip_back():
    # issue 14: licences from Qwen's technical reports (Omni, Embedding, Guard, ASR, TTS) and native contexts from cards
    table = read_table("catalog.csv")
    unverified_licences = table["license"].isna().mean()
    assert unverified_licences < 0.12, f"{unverified_licences:.1%} of rows have no verified licence"
    llm = table[table["line"].isin(["text", "code", "vision-language"])]
    assert llm["context_length"].isna().sum() <= 18
    for column in ("source", "notes"):  # a search tool's internal ids mean nothing to a learner
        assert not table[column].fillna("").str.contains("find_string").any(), column
