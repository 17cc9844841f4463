"""Lessons 7 and 8: a machine the learner types in (hardware.Machine) answers like the table's row it copies, in the
laptop wizard and its calculators, and a physically impossible one shows one clear line."""

from __future__ import annotations

import pytest

from qwen_lessons import hardware, local_runtime
from qwen_lessons.widgets import local_inference as widget


def _copy(gpu_id: str, kind: str) -> hardware.Machine:
    row = hardware.get_gpu(gpu_id)
    return hardware.Machine("typed", row["memory_gb"], row["memory_bandwidth_gbs"], kind)


@pytest.mark.parametrize(("gpu_id", "kind"), [("apple-m4-16gb", "apple"), ("cpu-ddr5-32gb", "cpu")])
def test_the_laptop_answer_for_a_typed_copy_equals_the_tables(gpu_id, kind):
    typed = local_runtime.laptop_answer(_copy(gpu_id, kind), 8192)
    listed = local_runtime.laptop_answer(gpu_id, 8192)
    for field in ("model", "quantization", "memory_gib", "usable_gib", "tokens_per_s_bound", "tokens_per_s_expected"):
        assert typed[field] == pytest.approx(listed[field]) if isinstance(listed[field], float) else \
            typed[field] == listed[field]
    assert 0 < listed["tokens_per_s_expected"] <= listed["tokens_per_s_bound"]


def test_the_laptop_wizard_takes_a_typed_in_machine_and_refuses_nonsense_in_one_line():
    wizard = widget.laptop_wizard("apple-m4-16gb")
    assert wizard.box.children[1].layout.display == "none"
    wizard.machine.value = widget.TYPED_IN
    assert wizard.box.children[1].layout.display == "flex"
    wizard.typed_kind.value = "apple"
    wizard.typed_memory.value = 16
    wizard.typed_bandwidth.value = 120
    assert "Answer:" in wizard.result.value and "expected about" in wizard.result.value
    wizard.typed_bandwidth.value = 50_000
    assert "bandwidth_gbs must be from 50 to 1,500 GB/s for kind &#x27;apple&#x27;" in wizard.result.value
    assert "Answer:" not in wizard.result.value


def test_the_tier_wizard_answers_a_typed_copy_of_a_card_as_it_answers_the_card():
    from qwen_lessons import tiers

    listed = tiers.recommend("text", tiers.PURPOSES[0], "rtx-4090", context_tokens=8192)
    typed = tiers.recommend("text", tiers.PURPOSES[0], _copy("rtx-4090", "gpu"), context_tokens=8192)
    assert typed.choice == listed.choice and typed.recommended is not None
    assert 0 < typed.choice.expected_tokens_per_s <= typed.choice.tokens_per_s_bound
    with pytest.raises(ValueError, match="gpu_id 'tpu' is unknown"):
        tiers.recommend("text", tiers.PURPOSES[0], "tpu")
