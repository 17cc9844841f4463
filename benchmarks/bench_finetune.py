"""Benchmarks for lesson 4: the fine-tuning planner widget update and the published-numbers comparison."""

from __future__ import annotations

from run import Case
from qwen_lessons.widgets import fine_tuning as widget


def cases() -> list[Case]:
    from qwen_lessons import finetune, finetune_evidence, models

    demo = widget.training_planner_widget()
    models = [m for m in models.model_ids(memory_modelled=True) if "Instruct" not in m]
    methods = list(finetune.METHODS)
    lengths = [512, 1024, 2048, 4096, 8192]
    step = iter(range(10**9))

    def change_model():
        demo.model.value = models[next(step) % len(models)]

    def change_method_and_length():
        i = next(step)
        demo.method.value = methods[i % len(methods)]
        demo.seq_len.value = lengths[i % len(lengths)]

    def impossible_rank():
        demo.model.value = "Qwen/Qwen2.5-0.5B"
        demo.rank.value = 4096 if demo.rank.value != 4096 else 2048

    def compare():
        rows = len(finetune_evidence.compare_with_published())
        return {"rows": str(rows)}

    return [
        Case("04 planner widget update (model)", 0.1, change_model, repeats=50),
        Case("04 planner widget update (method + seq length)", 0.1, change_method_and_length, repeats=50),
        Case("04 planner widget update (impossible rank message)", 0.1, impossible_rank, repeats=30),
        Case("04 compare_with_published (all comparable rows)", 1.0, compare, repeats=5),
    ]
