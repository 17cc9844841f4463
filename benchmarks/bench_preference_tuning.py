"""Benchmarks for lesson 3: the stage-by-stage table and figures from nothing (a fresh process trains the base, SFT
and DPO models), DPO training alone, and the DPO explorer's updates (a visited point, and a new one)."""

from __future__ import annotations

import json
import subprocess
import sys

from run import Case

# What the notebook computes for its table and figures, in a fresh process: nothing is cached yet.
STAGE_TABLE_CODE = """
import json, time
start = time.perf_counter()
import matplotlib
matplotlib.use("Agg")
from qwen_lessons import preference
from qwen_lessons.lessons import preference_tuning as lesson
table = lesson.stage_table(beta=0.1, n_pairs=1000, seed=0, progress=False)
models = lesson.stage_models(beta=0.1, n_pairs=1000, seed=0, progress=False)
lesson.stage_figure(table).canvas.draw()
lesson.dpo_curve_figure(models["DPO"]).canvas.draw()
lesson.qwen_stages_figure().canvas.draw()
verdicts = preference.smoothing_verdict(table)
print(json.dumps({"seconds": time.perf_counter() - start, "dpo_s": models["DPO"].train_seconds,
                  "verdicts": " / ".join(verdicts["verdict"])}))
"""


def cases() -> list[Case]:
    from qwen_lessons import preference, tinylm
    from qwen_lessons.lessons import preference_tuning as lesson
    from qwen_lessons.widgets import preference_tuning as widget

    def stage_table_from_nothing():
        done = subprocess.run([sys.executable, "-c", STAGE_TABLE_CODE], capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        return {"_seconds": figures["seconds"], "of which DPO": f"{figures['dpo_s']:.2f} s",
                "verdicts": figures["verdicts"]}

    sft = tinylm.instruct(lesson.SFT_EXAMPLES, 0, progress=False)
    pairs = preference.preference_pairs("train", lesson.DEFAULT_PAIRS)

    def train_dpo():
        model = preference.dpo_train(sft, pairs, preference.DEFAULT_BETA, progress=False)
        return {"steps": f"{len(model.loss_curve)} x {preference.DPO_BATCH} pairs"}

    explorer = widget.dpo_explorer_widget()
    for beta in widget.BETA_OPTIONS:  # every beta at the default number of pairs, visited once before the timing
        explorer.beta.value = beta
    visited = iter(range(10**9))

    def visited_point():
        explorer.beta.value = widget.BETA_OPTIONS[next(visited) % len(widget.BETA_OPTIONS)]

    fresh = widget.dpo_explorer_widget()
    other_pairs = next(n for n in widget.PAIR_OPTIONS if n != lesson.DEFAULT_PAIRS)
    new_betas = iter([b for b in widget.BETA_OPTIONS if b != preference.DEFAULT_BETA])

    def move_to_other_pairs():  # trains the default beta at the other number of pairs, outside the timing
        fresh.pairs.value = other_pairs

    def new_point():
        fresh.beta.value = next(new_betas)  # a beta not trained yet at this number of pairs
        return {"point": f"beta {fresh.beta.value:g}, {other_pairs} pairs"}

    return [
        Case("03 stage table + figures from nothing (base, SFT, DPO trained)", 20.0, stage_table_from_nothing,
             repeats=3),
        Case("03 DPO training (60 steps x 16 pairs)", 2.0, train_dpo, repeats=5),
        Case("03 DPO explorer update (visited point: cache)", 1.0, visited_point, repeats=20),
        Case("03 DPO explorer update (new point: trains DPO once)", 1.0, new_point, repeats=3,
             setup=move_to_other_pairs),
    ]
