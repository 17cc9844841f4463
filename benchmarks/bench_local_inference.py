"""Benchmarks for lesson 8: the laptop wizard's updates, and every published file size recomputed."""

from __future__ import annotations

from run import Case
from qwen_lessons.widgets import local_inference as widget


def cases() -> list[Case]:
    from qwen_lessons import local_formats

    wizard = widget.laptop_wizard()
    machines = [gpu_id for _, gpu_id in widget.machine_options()]
    contexts = list(widget.CONTEXTS)
    caches = ["f16", "q8_0", "q4_0"]
    counter = iter(range(10**9))

    def change_machine():
        wizard.machine.value = machines[next(counter) % len(machines)]

    def change_context():
        wizard.context.value = contexts[next(counter) % len(contexts)]

    def change_cache():
        wizard.cache.value = caches[next(counter) % len(caches)]

    def all_sizes():
        local_formats._size_comparison.cache_clear()
        local_formats._gguf_rows.cache_clear()
        local_formats._gguf_tensors.cache_clear()
        summary = local_formats.size_error_summary().set_index("rows")
        return {"median error": f"{summary.loc['all', 'median_abs_error']:.3%}"}

    def first_answer_cold():
        from qwen_lessons import data, local_runtime

        data.clear_caches()  # a learner's first answer in a fresh kernel: every table read, every file's tensors typed
        local_runtime.laptop_answer(machines[next(counter) % len(machines)])

    return [
        Case("08 laptop wizard's first answer (every cache cold)", 1.5, first_answer_cold, repeats=5),
        Case("08 laptop wizard update (machine)", 0.1, change_machine, repeats=30),
        Case("08 laptop wizard update (context)", 0.1, change_context, repeats=30),
        Case("08 laptop wizard update (KV cache)", 0.1, change_cache, repeats=30),
        Case("08 published file sizes (uncached)", 2.0, all_sizes, repeats=3),
    ]
