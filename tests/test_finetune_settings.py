"""Lesson 4: the fine-tuning settings people use (optimizer, checkpointing, loss, attention, base precision, ZeRO
and offload, packing), each a stated term of finetune.training_memory with its source, checked by hand."""

from __future__ import annotations

import pytest

from qwen_lessons import finetune, finetune_evidence, models, validation

MODEL = "Qwen/Qwen2.5-1.5B"  # hidden 1536, 12 query heads, 28 layers, vocabulary 151,936, tied embeddings


def memory(method="lora", **settings):
    return finetune.training_memory(MODEL, method, **settings)


def test_every_kind_of_every_setting_is_a_stated_term_with_a_source():
    stated = {(setting, value) for setting, value, _term, _source in finetune_evidence.SETTING_TERMS}
    kinds = {"optimizer": finetune.OPTIMIZERS, "checkpointing": finetune.CHECKPOINTING, "loss": finetune.LOSSES,
             "attention": finetune.ATTENTIONS, "base": ("qlora-4bit", "qlora-8bit")}
    for setting, values in kinds.items():
        for value in values:
            assert (setting, value) in stated, (setting, value)
    assert {"zero_stage", "offload", "packing"} <= {setting for setting, *_ in finetune_evidence.SETTING_TERMS}
    for setting, value, term, source in finetune_evidence.SETTING_TERMS:
        assert len(term) > 30 and len(source) > 20, (setting, value)
        # a primary source: a repository at a commit, a paper, or the library's own documentation / code
        assert "@" in source or "arXiv:" in source or "docs" in source or "transformers" in source, source


def test_optimizer_states_by_hand():
    params = models.count_parameters(MODEL)[0]
    adamw = memory("full")
    assert adamw.optimizer == 4 * params + 8 * params  # fp32 master copy + m and v in fp32
    eight = memory("full", optimizer="adamw_8bit")
    # bitsandbytes: m and v in 8 bits, one fp32 absmax per block of 256 for each
    assert eight.optimizer == pytest.approx(4 * params + 2 * params * (1 + 4 / 256))
    assert memory("full", optimizer="paged_adamw_8bit").optimizer == eight.optimizer  # same bytes, paged
    bf16 = memory("full-bf16")
    assert bf16.optimizer == 4 * params  # states in bf16 like the weights
    lora = memory("lora", rank=8, target_modules="all-linear")
    assert lora.optimizer == 8 * lora.trainable_params
    assert memory("lora", rank=8, target_modules="all-linear", optimizer="adamw_8bit").optimizer == \
        pytest.approx(2 * lora.trainable_params * (1 + 4 / 256))


def test_adafactor_keeps_one_row_and_one_column_per_matrix():
    # LoRA rank 8 on q_proj (1536 -> 1536) only, 28 layers: A is 8 x 1536 (factors 8 + 1536), B 1536 x 8 (1536 + 8)
    lora = memory("lora", rank=8, target_modules=("q_proj",), optimizer="adafactor")
    assert lora.optimizer == 4 * 28 * ((8 + 1536) + (1536 + 8))
    full = memory("full", optimizer="adafactor")
    params = models.count_parameters(MODEL)[0]
    assert 4 * params < full.optimizer < 4.01 * params  # the fp32 master copy, and factors that are tiny beside it


def test_checkpointing_kinds_and_today_s_flags():
    assert memory(checkpointing=True).activations == memory(checkpointing="standard").activations
    assert memory(checkpointing=False).activations == memory(checkpointing="none").activations
    seq = 2048
    standard = memory(checkpointing="standard", seq_len=seq, fused_loss=True)
    offload = memory(checkpointing="offload", seq_len=seq, fused_loss=True)
    # offload keeps one layer input on the GPU instead of 28: 27 x 2 x 1536 bytes per token fewer
    assert standard.activations - offload.activations == seq * 27 * 2 * 1536
    assert memory(checkpointing="none", seq_len=seq).activations > standard.activations
    # time: offload recomputes each layer as standard checkpointing does; none does not
    flops = {kind: finetune.training_flops(MODEL, "lora", 1e6, checkpointing=kind) for kind in finetune.CHECKPOINTING}
    assert flops["offload"] == flops["standard"] > flops["none"]
    assert flops["none"] == finetune.training_flops(MODEL, "lora", 1e6, checkpointing=False)


def test_attention_kinds_by_hand():
    seq = 1024
    flash = memory(attention="flash", seq_len=seq, checkpointing="none")
    assert memory(attention="sdpa", seq_len=seq, checkpointing="none").activations == flash.activations
    eager = memory(attention="eager", seq_len=seq, checkpointing="none")
    # eager keeps, per layer, head and query, the fp32 softmax row and its bf16 copy (6 bytes x seq) instead of
    # FlashAttention's one fp32 log-sum-exp (4 bytes)
    assert eager.activations - flash.activations == seq * 28 * 12 * (6 * seq - 4)


def test_frozen_base_precision_nf4_with_and_without_double_quantisation():
    groups = models.parameter_groups(MODEL)
    double = memory("qlora-4bit")
    single = memory("qlora-4bit", double_quant=False)
    assert single.weights - double.weights == pytest.approx(groups["linear"] * (4.5 - finetune.NF4_DOUBLE_QUANT_BITS) / 8)
    assert finetune.NF4_DOUBLE_QUANT_BITS == pytest.approx(4.127, abs=1e-3)
    assert memory("lora", double_quant=False).weights == memory("lora").weights  # only NF4 has the choice


def test_zero_offload_moves_states_and_gradients_and_stage_3_parameters():
    zero2 = memory("full", n_gpus=4, zero_stage=2)
    off = memory("full", n_gpus=4, zero_stage=2, offload="optimizer")
    assert (off.optimizer, off.gradients) == (0, 0) and off.weights == zero2.weights
    both = memory("full", n_gpus=4, zero_stage=3, offload="optimizer+parameters")
    # the GPU holds one gathered module in bf16: the tied embedding / output head, 151,936 x 1,536
    assert both.weights == 2 * 151_936 * 1_536
    # against stage 3 offloading the optimizer only (stage 2 has a smaller DeepSpeed buffer than stage 3's fitted one)
    assert both.total_gib < memory("full", n_gpus=4, zero_stage=3, offload="optimizer").total_gib


def test_packing_does_not_change_the_peak():
    assert memory(packing=True).total_bytes == memory(packing=False).total_bytes
    assert memory(packing=True).settings["packing"] is True


@pytest.mark.parametrize("setting, value, message", [
    ("optimizer", "sgd", "optimizer must be one of"),
    ("optimizer", None, "optimizer must be one of"),
    ("checkpointing", "maybe", "checkpointing must be True, False or one of"),
    ("checkpointing", 1, "checkpointing must be True, False or one of"),
    ("loss", "liger", "loss must be one of"),
    ("attention", "flash3", "attention must be one of"),
    ("offload", "nvme", "offload must be one of"),
    ("offload", "optimizer", "offload 'optimizer' needs DeepSpeed ZeRO"),
    ("packing", "yes", "packing must be True or False"),
    ("double_quant", 1, "double_quant must be True or False"),
])
def test_hostile_settings_give_one_line_naming_the_argument(setting, value, message):
    with pytest.raises(ValueError, match=message) as error:
        finetune.training_memory(MODEL, "lora", **{setting: value})
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="offload 'optimizer\\+parameters' needs zero_stage=3"):
        finetune.training_memory(MODEL, "full", n_gpus=2, zero_stage=2, offload="optimizer+parameters")


def test_settings_are_checked_by_the_one_validation_layer():
    rules = finetune.training_memory.__checked__
    for name in ("optimizer", "checkpointing", "loss", "attention", "offload", "packing", "double_quant"):
        assert rules[name] is not None and rules[name] is not validation.anything, name
    assert finetune.plan.__checked__["attention"] is validation.RULES["attention.plan"]


def test_the_planner_widget_exposes_every_setting():
    from qwen_lessons.widgets import fine_tuning as widget

    demo = widget.training_planner_widget()  # the calculators app shows this same widget
    assert demo.checkpointing.value == "standard" and [v for _, v in demo.checkpointing.options] == list(finetune.CHECKPOINTING)
    assert list(demo.optimizer.options) == list(finetune.OPTIMIZERS)
    assert list(demo.attention.options) == list(finetune.ATTENTIONS)
    assert list(demo.offload.options) == list(finetune.OFFLOADS)
    demo.model.value, demo.method.value, demo.seq_len.value = "Qwen/Qwen3-8B", "lora", 8192

    def total():
        return float(demo.verdict.value.split("GiB")[0].split()[-1])

    start = total()
    demo.loss.value = "fused"
    fused = total()
    assert fused < start - 10  # Liger's chunks instead of 8,192 x 151,936 logits at 14 bytes
    demo.checkpointing.value = "offload"
    assert total() < fused
    demo.attention.value = "eager"
    assert total() > fused
    demo.attention.value = "flash"
    demo.method.value, demo.optimizer.value = "full", "adamw_8bit"
    eight = total()
    demo.optimizer.value = "adamw"
    assert total() > eight
    # an impossible combination: one line next to the controls, no bar
    demo.offload.value = "optimizer"
    assert "needs DeepSpeed ZeRO" in demo.verdict.value and "qwen-error" in demo.verdict.value
    assert demo.bar.value == "" and "\n" not in demo.verdict.value
    demo.n_gpus.value, demo.zero_stage.value = 4, 2
    assert "on each of 4 GPUs" in demo.verdict.value and "on 4 GPUs" in demo.hours.value
    demo.packing.value = True
    assert "qwen-error" not in demo.verdict.value


def test_the_calculators_app_tells_the_planner_s_settings():
    # issue 32: the app shows the settings; its paragraph above the planner names every control the widget has
    import json
    from pathlib import Path

    from qwen_lessons.widgets import fine_tuning as widget

    app = json.loads((Path(__file__).resolve().parents[1] / "notebooks" / "90_calculators_app.ipynb").read_text())
    cells = app["cells"]
    planner = next(i for i, cell in enumerate(cells) if "training_planner_widget()" in "".join(cell["source"]))
    text = "".join(cells[planner - 1]["source"]).lower()
    demo = widget.training_planner_widget()
    for control in ("checkpointing", "optimizer", "loss", "attention", "zero_stage", "offload", "packing",
                    "micro_batch", "n_gpus"):
        label = getattr(demo, control).description.lower()
        assert {"zero stage": "zero", "gpus": "gpus", "micro-batch": "micro-batch"}.get(label, label) in text, label
