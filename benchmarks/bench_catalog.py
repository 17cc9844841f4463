"""Benchmarks for lesson 1: catalog loading and the explorer widget's update (filter + table + plot redraw)."""

from __future__ import annotations

import itertools

from run import Case
from qwen_lessons.widgets import family_map as widget


def cases() -> list[Case]:
    from qwen_lessons import catalog

    explorer = widget.build_explorer()
    # one control change per run (one update each), cycling back to the start; two steps match nothing
    steps = itertools.cycle(
        [
            ("line", "code"),
            ("generation", "Qwen2.5"),
            ("line", "vision-language"),
            ("generation", "Qwen3.5"),
            ("line", "audio"),  # nothing matches
            ("generation", "any"),
            ("context", "≥ 128K"),  # nothing matches
            ("line", "any"),
            ("context", "any"),
        ]
    )

    def change_filter():
        name, value = next(steps)
        getattr(explorer, name).value = value

    def count_all():
        for model_id in catalog.load_architectures()["model_id"]:
            catalog.count_parameters(model_id)

    return [
        Case("01 explorer update (filter + table + plot)", 0.1, change_filter, repeats=30),
        Case("01 count_parameters for every config", 0.5, count_all, repeats=5),
    ]
