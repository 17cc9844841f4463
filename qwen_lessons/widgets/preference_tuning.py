"""Lesson 3 (03_preference_tuning): the DPO explorer. Pick beta and the number of preference pairs; the tiny model's
stage-by-stage table (base → SFT → DPO) and the smoothing verdict update.

``stages_html`` and ``verdict_html`` are the pure steps; ``dpo_explorer_widget`` lays out the controls and wires them
with ``qwen_lessons.ui.wire``. Speed comes from a cache, not a shortcut: each (beta, pairs) point is trained once
(0.8 s measured on a quiet 2-core machine, 2 to 3 s when it is shared four ways; the base and SFT rows are
reused) and every later visit is a look-up (about 5 ms).
A grid precomputed when the widget is built would cost 11 such runs (10 s quiet, 30 s busy) before the lesson
could go on.
"""

from __future__ import annotations

import html
import time
from types import SimpleNamespace

from qwen_lessons import preference, ui
from qwen_lessons.language import translate as _
from qwen_lessons.lessons import preference_tuning as lesson
from qwen_lessons.plotting import BAD_TEXT_COLOUR, GOOD_TEXT_COLOUR
from qwen_lessons.ui import guarded, wire
from qwen_lessons.validation import checked

BETA_OPTIONS = (0.03, 0.1, 0.3, 1.0)
PAIR_OPTIONS = (20, 200, 1000)
SHOWN = {"preference_accuracy": "prefers chosen", "reward_margin": "reward margin", "mean_length": "reply length",
         "length_std": "length spread", "distinct_2": "distinct-2", "entropy_nats": "entropy (nats)",
         "kl_nats": "KL from SFT (nats/token)"}


@checked
def stages_html(beta: float = preference.DEFAULT_BETA, n_pairs: int = lesson.DEFAULT_PAIRS) -> str:
    """The stage table (one row per stage, the measured columns rounded) as compact HTML."""
    table = lesson.stage_table(beta, n_pairs, progress=False)
    shown = table[["stage", *SHOWN]].rename(columns=SHOWN)
    return ui.table_html(shown, css_class="qwen-dpo-table", caption="The tiny model after each stage",
                         missing="not measured: the base model has no SFT reference to compare with")


@checked
def verdict_html(beta: float = preference.DEFAULT_BETA, n_pairs: int = lesson.DEFAULT_PAIRS) -> str:
    """One line per step between stages: does it smooth out extremes (preference.smoothing_verdict)?"""
    verdicts = preference.smoothing_verdict(lesson.stage_table(beta, n_pairs, progress=False))
    colours = {"smooths": GOOD_TEXT_COLOUR, "widens": BAD_TEXT_COLOUR, "mixed": "#333333"}
    lines = []
    for _index, step in verdicts.iterrows():
        changes = _(", ").join(f"{html.escape(_(metric.replace('_', ' ')))} {step[f'{metric}_change']:+.0%}"
                               for metric in preference.SMOOTHING_METRICS)
        lines.append(f'{html.escape(step["from"])} → {html.escape(step["to"])}: '
                     f'<b style="color:{colours[step["verdict"]]}">{html.escape(_(step["verdict"]))}</b> ({changes})')
    return "<br>".join(lines)


@checked
def dpo_explorer_widget():
    """Widget: beta and number of pairs -> the stage table and the smoothing verdict; returns a namespace."""
    import ipywidgets as widgets

    beta = widgets.Dropdown(options=[(f"{b:g}", b) for b in BETA_OPTIONS], value=preference.DEFAULT_BETA,
                            description="Beta")
    pairs = widgets.Dropdown(options=[(f"{n:,}", n) for n in PAIR_OPTIONS], value=lesson.DEFAULT_PAIRS,
                             description="Pairs")
    table = ui.html_output("qwen-dpo-stages")
    verdict = ui.html_output("qwen-dpo-verdict")
    status = ui.html_output("qwen-dpo-status")

    def update(_change=None):
        started = time.perf_counter()
        table.value = guarded(lambda: stages_html(beta.value, pairs.value))
        verdict.value = guarded(lambda: verdict_html(beta.value, pairs.value))
        status.value = ('<span style="font-size:90%">' + _("updated in {seconds} s (a new point trains DPO once; a "
                                                            "visited one is a look-up)").format(
            seconds=f"{time.perf_counter() - started:.2f}") + "</span>")

    wire((beta, pairs), update)
    box = widgets.VBox([ui.row([beta, pairs]), table, verdict, status])
    return SimpleNamespace(beta=beta, pairs=pairs, table=table, verdict=verdict, status=status, box=box,
                           update=update)
