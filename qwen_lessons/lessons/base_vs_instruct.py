"""Lesson 2 (02_base_vs_instruct): the tiny model's experiments and figures. How much instruction data teaches the
chat format, base and tuned replies side by side, diversity before and after tuning, and the loss curves."""

from __future__ import annotations

from qwen_lessons.plotting import log_scale

from collections.abc import Sequence

import numpy as np

from qwen_lessons.tinylm import BATCH, TUNE_STEPS, TinyLM, answer_accuracy, chat_prompt, diversity, diversity_prompts, heldout_examples, instruct, pretrain, sft_data
from qwen_lessons.validation import checked
from qwen_lessons.language import figure_text


@checked
def data_size_experiment(sizes: Sequence[int] = (10, 100, 1000), seed: int = 0, steps: int = TUNE_STEPS, progress: bool = True):
    """Fine-tune the base model on each number of examples (same steps); held-out loss, accuracy and sampling per size.

    Row 0 is the base model itself (0 examples). Columns: examples, train_loss_end (mean of the last 20 steps),
    heldout_loss (nats per reply token), heldout_correct (share of exact greedy answers), then diversity().
    """
    import pandas as pd

    base = pretrain(seed, progress=progress)
    heldout = heldout_examples()
    held_sequences, held_masks = sft_data(heldout)
    prompts = diversity_prompts()
    rows = []
    for size in sizes:
        model = instruct(size, seed, steps, progress)
        row = {"examples": size, "train_loss_end": float(np.mean(model.loss_curve[-20:]))}
        row["heldout_loss"] = model.loss(held_sequences, held_masks)
        row["heldout_correct"] = answer_accuracy(model, heldout)
        row.update(diversity(model, prompts, seed=seed))
        rows.append(row)
    base_row = {"examples": 0, "train_loss_end": np.nan, "heldout_loss": base.loss(held_sequences, held_masks)}
    base_row["heldout_correct"] = answer_accuracy(base, heldout)
    base_row.update(diversity(base, prompts, seed=seed))
    return pd.DataFrame([base_row] + rows)





@checked
def side_by_side(models: dict, questions: Sequence[str], max_new_tokens: int = 30, temperature: float = 0.0, seed: int = 0):
    """A table: each question rendered as a Qwen2.5 chat prompt, and what each model writes after it."""
    import pandas as pd

    rows = []
    for question in questions:
        prompt = chat_prompt(question)
        row = {"question": question}
        for label, model in models.items():
            row[label] = model.generate(prompt, max_new_tokens, temperature, seed)
        rows.append(row)
    return pd.DataFrame(rows)


@checked
def compare_diversity(models: dict, prompts: Sequence[str] | None = None, n_samples: int = 20, seed: int = 0):
    """diversity() of several models on the same prompts, one row per model."""
    import pandas as pd

    prompts = diversity_prompts() if prompts is None else prompts
    return pd.DataFrame([{"model": label, **diversity(model, prompts, n_samples, seed=seed)} for label, model in models.items()])


def _smooth(values: Sequence[float], width: int = 20) -> np.ndarray:
    """Moving average (the per-step losses of small random batches are noisy)."""
    values = np.asarray(values, dtype=float)
    width = max(1, min(width, len(values)))
    return np.convolve(values, np.ones(width) / width, mode="valid")


@checked
def loss_curves_figure(base: TinyLM, tuned: TinyLM):
    """Two panels: the pretraining loss of the base model and the SFT loss of the instruct model, per step."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, model, what in ((axes[0], base, figure_text("pretraining: every token")),
                             (axes[1], tuned, figure_text("SFT: reply tokens only"))):
        ax.plot(model.loss_curve, alpha=0.3, label=figure_text("per step"))
        smooth = _smooth(model.loss_curve)
        ax.plot(np.arange(len(smooth)) + (len(model.loss_curve) - len(smooth)), smooth, label=figure_text("moving average (20 steps)"))
        ax.set_xlabel(figure_text("training step (batch of {batch} predicted tokens)").format(batch=BATCH))
        ax.set_ylabel(figure_text("cross-entropy (nats per learned token)"))
        ax.set_title(figure_text("{what}: {start} → {end} nats").format(
            what=what, start=f"{model.loss_curve[0]:.1f}", end=f"{np.mean(model.loss_curve[-20:]):.2f}"))
        ax.legend()
    fig.tight_layout()
    return fig


@checked
def data_size_figure(table):
    """Held-out correct answers and held-out reply loss against the number of instruction examples."""
    import matplotlib.pyplot as plt

    tuned = table[table["examples"] > 0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].plot(tuned["examples"], 100 * tuned["heldout_correct"], marker="o")
    log_scale(axes[0], "x")
    axes[0].set_xticks(tuned["examples"], [f"{n:,}" for n in tuned["examples"]])
    axes[0].set_xlabel(figure_text("instruction examples (log scale)"))
    axes[0].set_ylabel(figure_text("held-out questions answered exactly (%)"))
    axes[0].set_ylim(0, 100)
    best = tuned.iloc[-1]
    axes[0].set_title(figure_text("{examples} examples: {percent}% answered exactly").format(
        examples=f"{int(best['examples']):,}", percent=f"{100 * best['heldout_correct']:.0f}"))
    axes[1].plot(tuned["examples"], tuned["heldout_loss"], marker="o", label=figure_text("tuned models"))
    axes[1].axhline(table.loc[table["examples"] == 0, "heldout_loss"].iloc[0], linestyle="--", color="#555555", label=figure_text("base model"))
    log_scale(axes[1], "x")
    axes[1].set_xticks(tuned["examples"], [f"{n:,}" for n in tuned["examples"]])
    axes[1].set_xlabel(figure_text("instruction examples (log scale)"))
    axes[1].set_ylabel(figure_text("held-out reply loss (nats per token)"))
    axes[1].set_title(figure_text("More examples, lower loss on unseen wordings"))
    axes[1].legend()
    fig.tight_layout()
    return fig
