"""Benchmarks for lesson 7: the tier wizard update, the memory calculator update, the published comparison."""

from __future__ import annotations

from run import Case
from qwen_lessons.widgets import choosing_a_tier as widget


def cases() -> list[Case]:
    from qwen_lessons import memory

    wizard = widget.tier_wizard()
    calculator = widget.memory_calculator()
    gpus = ["rtx-4090", "l4", "a100-80gb", "apple-m4-pro-64gb", "rtx-4060-ti-16gb", "h200-sxm"]
    contexts = [2048, 8192, 32768, 131072]
    counter = iter(range(10**9))

    def change_hardware():
        wizard.hardware.value = gpus[next(counter) % len(gpus)]

    def change_context():
        wizard.context.value = contexts[next(counter) % len(contexts)]

    def change_prompt():
        calculator.prompt.value = 1000 + next(counter) % 20000

    def full_comparison():
        memory._comparison.cache_clear()
        summary = memory.inference_error_summary().set_index("estimate")
        return {"median error": f"{summary.loc['physical model', 'median_abs_error']:.1%}"}

    return [
        Case("07 tier wizard update (hardware)", 0.1, change_hardware, repeats=30),
        Case("07 tier wizard update (context)", 0.1, change_context, repeats=30),
        Case("07 memory calculator update", 0.1, change_prompt, repeats=30),
        Case("07 published memory comparison (112 rows, uncached)", 1.0, full_comparison, repeats=5),
    ]
