"""Lesson 3 (03_preference_tuning): base → SFT → DPO on the tiny model, measured stage by stage, and Qwen's own
post-training stages from their technical reports (``data/qwen_post_training.csv``) drawn as a timeline."""

from __future__ import annotations

import textwrap

import numpy as np

from qwen_lessons import preference, tinylm
from qwen_lessons.data import cached
from qwen_lessons.plotting import OKABE_ITO
from qwen_lessons.validation import checked
from qwen_lessons.language import figure_text

STAGES = ("base", "SFT", "DPO")
SFT_EXAMPLES = 1000  # lesson 2's instruct model is the reference
DEFAULT_PAIRS = 1000
METRIC_LABELS = {
    "preference_accuracy": "prefers the chosen reply (share of held-out pairs)",
    "reward_accuracy": "implicit reward ranks the pair right (share)",
    "reward_margin": "implicit reward margin (beta × nats)",
    "mean_length": "mean sampled reply length (tokens)",
    "length_std": "spread of reply lengths (std, tokens)",
    "distinct_2": "distinct-2 of sampled replies",
    "entropy_nats": "next-token entropy (nats)",
    "ends_turn": "replies that end the turn (share)",
    "kl_nats": "KL from the SFT reference (nats per token)",
}

PANEL_TITLES = {"preference_accuracy": "prefers chosen", "reward_margin": "reward margin", "mean_length": "reply length",
                "distinct_2": "distinct-2", "entropy_nats": "entropy", "kl_nats": "KL from SFT"}


def _all_pairs() -> int:
    return len(preference.preference_pairs("train"))


def _need_table(table) -> None:
    if table is None:
        raise ValueError("table is None: pass the DataFrame that stage_table() returned")


@checked
def stage_models(beta: float = preference.DEFAULT_BETA, n_pairs: int = DEFAULT_PAIRS, seed: int = 0,
                 progress: bool = True) -> dict:
    """{"base", "SFT", "DPO"}: lesson 2's base and instruct models (cached), and DPO from the instruct model on the
    first n_pairs training pairs (all of them for None; cached per beta, n_pairs and seed). The instruct model is the
    frozen reference."""
    n_pairs = _all_pairs() if n_pairs is None else n_pairs
    base = tinylm.pretrain(seed, progress=progress)
    sft = tinylm.instruct(SFT_EXAMPLES, seed, progress=progress)
    return {"base": base, "SFT": sft, "DPO": _dpo_model(float(beta), int(n_pairs), int(seed), progress)}


# trained DPO models and sampled writing metrics by recipe (data.cached: trained again when the tiny model's data
# changes): the widget and a notebook re-run reuse them
@cached(maxsize=32, shared=True, ignore=("progress",))  # a TinyLM is read-only
def _dpo_model(beta: float, n_pairs: int, seed: int, progress) -> tinylm.TinyLM:
    sft = tinylm.instruct(SFT_EXAMPLES, seed, progress=progress)
    return preference.dpo_train(sft, preference.preference_pairs("train", n_pairs, seed), beta, seed=seed,
                                progress=progress)


@cached(maxsize=64, shared=True)  # read-only log-probs and a dict no caller changes (scores and rows copy them)
def _measured(stage: str, seed: int, beta: float | None = None, n_pairs: int | None = None) -> tuple:
    """(held-out sequence log-probs, writing metrics) of one stage's model: base and SFT once per seed, DPO per
    recipe. The models come from their own caches (stage_models has trained them)."""
    sft = tinylm.instruct(SFT_EXAMPLES, seed, progress=False)
    model = {"base": tinylm.pretrain(seed, progress=False), "SFT": sft}.get(stage)
    if model is None:
        model = _dpo_model(beta, n_pairs, seed, False)
    logps = preference.sequence_logprobs(model, preference.preference_pairs("heldout"))
    logps.flags.writeable = False
    return logps, preference.writing_metrics(model, sft, seed=seed)


@checked
def stage_table(beta: float = preference.DEFAULT_BETA, n_pairs: int = DEFAULT_PAIRS, seed: int = 0,
                progress: bool = True):
    """One row per stage (base, SFT, DPO): the preference scores on the held-out pairs and writing_metrics, both
    against the SFT model; the DPO row also holds its training seconds. Cached per (beta, n_pairs, seed), and
    within that the base and SFT models' held-out log-probabilities and samples once per seed."""
    n_pairs = _all_pairs() if n_pairs is None else n_pairs
    return _stage_table(float(beta), int(n_pairs), int(seed), progress)


@cached(maxsize=32, ignore=("progress",))  # a DataFrame: each call gets its own copy
def _stage_table(beta: float, n_pairs: int, seed: int, progress):
    import pandas as pd

    models = stage_models(beta, n_pairs, seed, progress)
    measured = {stage: _measured(stage, seed) if stage != "DPO" else _measured(stage, seed, beta, n_pairs)
                for stage in models}
    rows = [{"stage": stage, **preference.scores_from_logprobs(logps, measured["SFT"][0], beta), **writing}
            for stage, (logps, writing) in measured.items()]
    rows[-1]["train_seconds"] = models["DPO"].train_seconds
    return pd.DataFrame(rows)


@checked
def pair_examples(n: int = 3):
    """The first training pair of each kind and a few more, as a table a learner can read."""
    import pandas as pd

    pairs = preference.preference_pairs("train")
    shown = []
    for kind in preference.KINDS:
        shown += [pair for pair in pairs if pair.kind == kind][: max(1, (n or 1) // 2 + 1)]
    return pd.DataFrame([{"kind": p.kind, "question": p.messages[-1]["content"], "chosen": p.chosen,
                          "rejected": p.rejected} for p in shown[: max(n or 1, 2)]])


@checked
def stage_figure(table):
    """Six small panels, one per measured quantity, with a bar per stage; each title states the change. Three rows
    of two, so the figure fits a reading column with every label readable."""
    import matplotlib.pyplot as plt

    _need_table(table)
    panels = ("preference_accuracy", "reward_margin", "mean_length", "distinct_2", "entropy_nats", "kl_nats")
    fig, axes = plt.subplots(3, 2, figsize=(8, 9.6))
    stages = list(table["stage"])
    for ax, metric in zip(axes.ravel(), panels, strict=True):
        values = table[metric].to_numpy(dtype=float)
        error = table["length_std"].to_numpy(dtype=float) if metric == "mean_length" else None
        ax.bar(stages, values, color=OKABE_ITO[: len(stages)], yerr=error, capsize=4)
        ax.set_ylabel(textwrap.fill(figure_text(METRIC_LABELS[metric]), 28), fontsize=9)
        ax.set_xlabel(figure_text("stage"))
        ax.set_title(f"{figure_text(PANEL_TITLES[metric])}: {values[-2]:.2f} → {values[-1]:.2f}", fontsize=10.5)
    fig.suptitle(figure_text("SFT → DPO: the DPO model prefers the one-sentence reply,\nwrites shorter replies, and "
                             "moves away from its reference"), fontsize=11.5, fontweight="bold")
    fig.tight_layout()
    return fig


@checked
def dpo_curve_figure(model):
    """The DPO loss of every training step of a DPO model, with log 2 (where every run starts) marked."""
    import matplotlib.pyplot as plt

    curve = np.asarray(model.loss_curve, dtype=float)
    if not len(curve):
        raise ValueError("model has no loss curve: pass the DPO model from stage_models()")
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.plot(np.arange(1, len(curve) + 1), curve, label=figure_text("DPO loss per step"))
    ax.axhline(np.log(2), linestyle="--", color="#555555", label=figure_text("log 2 = the loss at step 1 (policy = reference)"))
    ax.set_xlabel(figure_text("training step (batch of {batch} pairs)").format(batch=preference.DPO_BATCH))
    ax.set_ylabel(figure_text("DPO loss (nats per pair)"))
    ax.set_title(figure_text("DPO loss falls to {loss} nats in {steps} steps").format(
        loss=f"{curve[-5:].mean():.3f}", steps=len(curve)))  # from log 2, drawn dashed
    ax.set_ylim(0, 1.45 * max(float(curve.max()), np.log(2)))  # room above the log 2 line for the legend
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


@checked
def qwen_stages():
    """The post-training stages of Qwen2.5 and Qwen3 from their technical reports (data/qwen_post_training.csv)."""
    from qwen_lessons.data import read_table

    return read_table("qwen_post_training.csv")


@checked
def qwen_stages_figure(table=None):
    """Three tracks of boxes, one per path through post-training: Qwen2.5, Qwen3 flagship, Qwen3 lightweight."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    table = qwen_stages() if table is None else table
    tracks = [("Qwen2.5", table[table["generation"] == "Qwen2.5"])]
    qwen3 = table[table["generation"] == "Qwen3"]
    flagship = qwen3[qwen3["applies_to"].str.startswith("flagship")]
    light = qwen3[~qwen3["applies_to"].str.startswith("flagship")]
    tracks += [(figure_text("Qwen3 flagship"), flagship), (figure_text("Qwen3 small"), light)]
    columns = max(len(rows) for _, rows in tracks)
    fig, ax = plt.subplots(figsize=(8, 5.6))  # column-wide: the box text stays 8.5 pt on screen
    ax.set_xlim(-1.3, columns)
    ax.set_ylim(-len(tracks) + 0.4, 0.6)
    ax.axis("off")
    for row, (label, rows) in enumerate(tracks):
        y = -row
        ax.text(-1.25, y, label, fontsize=10, fontweight="bold", va="center")
        for col, (_, stage) in enumerate(rows.iterrows()):
            method = stage["method"] if isinstance(stage["method"], str) and stage["method"] else figure_text("method not named")
            colour = OKABE_ITO[1] if method == "DPO" else OKABE_ITO[4]
            ax.add_patch(FancyBboxPatch((col + 0.04, y - 0.36), 0.86, 0.72, boxstyle="round,pad=0.02",
                                        facecolor=colour, alpha=0.35, edgecolor="#333333"))
            words = textwrap.fill(f"{stage['order']}. {figure_text(stage['stage'])}", 17) + "\n" \
                + textwrap.fill(figure_text("method: {method}").format(method=figure_text(method)), 17)
            ax.text(col + 0.47, y, words, ha="center", va="center", fontsize=8.5)
            if col:
                ax.annotate("", xy=(col + 0.04, y), xytext=(col - 0.1, y), arrowprops={"arrowstyle": "->"})
    ax.set_title(figure_text("Qwen's post-training stages: DPO (orange) is one offline step of Qwen2.5;\nQwen3 adds "
                             "reasoning RL and thinking-mode fusion"), fontsize=11)
    fig.tight_layout()
    return fig


@checked
def closing_lines(table) -> list[str]:
    """One printed line per stage with its measured numbers, then the verdict of each step."""
    _need_table(table)
    lines = []
    for _, row in table.iterrows():
        lines.append(f"{row['stage']:>4}: prefers chosen {row['preference_accuracy']:.0%}, reward margin "
                     f"{row['reward_margin']:+.2f}, reply {row['mean_length']:.1f} ± {row['length_std']:.1f} tokens, "
                     f"distinct-2 {row['distinct_2']:.3f}, entropy {row['entropy_nats']:.2f} nats, "
                     f"KL from SFT {row['kl_nats']:.3f} nats/token")
    for _, step in preference.smoothing_verdict(table).iterrows():
        lines.append(f"{step['from']} → {step['to']}: {step['verdict']}")
    return lines
