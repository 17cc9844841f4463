"""Lesson 4 (04_fine_tuning), the toy experiment: fine-tune the tiny model from its base or its instruct checkpoint on a narrow domain.

The tiny model of lesson 2 (``qwen_lessons.tinylm``) knows 50 topics from its pretraining prose. We split them:
the *general* topics train the instruct checkpoint (chat format, answering, stopping), the *domain* topics
are never seen in chat form before fine-tuning. The domain task is to answer questions about the domain
topics with their reference answer. Both checkpoints are fine-tuned on the same n domain chats, for the same
number of steps, and scored on held-out question wordings of the domain topics (never trained on):
masked cross-entropy of the reference reply (nats per reply token) and the share of exact greedy answers.

What the toy can show: how the starting point matters at small n and whether the gap closes as n grows.
What it cannot show: anything about scale (a 130k-parameter window model, 25-odd domain facts, a few
hundred steps), about knowledge a large model brings, or about real Qwen checkpoints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qwen_lessons.plotting import log_scale
from qwen_lessons.progress import Progress

from qwen_lessons import tinylm
from qwen_lessons import validation
from qwen_lessons.data import cached
from qwen_lessons.validation import checked
from qwen_lessons.language import figure_text

DOMAIN_EVERY = 2  # every second topic (in table order) is a domain topic: half the facts are held back
DEFAULT_SIZES = (0, 10, 40, 160)
PRETRAIN_STEPS = 300  # shorter than lesson 2's pretraining, so the notebook stays under its time budget
INSTRUCT_STEPS = 200
DOMAIN_STEPS = 150
DOMAIN_BATCH = 64  # half lesson 2's batch: the domain set is small and the notebook has a time budget
STARTS = ("base", "instruct")


@checked
def split_topics() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(general, domain) lists of (topic, answer): every DOMAIN_EVERY-th topic belongs to the domain."""
    pairs = tinylm.topics()
    domain = [pair for i, pair in enumerate(pairs) if i % DOMAIN_EVERY == 1]
    general = [pair for i, pair in enumerate(pairs) if i % DOMAIN_EVERY != 1]
    return general, domain


def _chats(pairs, questions, n: int | None, seed: int) -> list[list[dict]]:
    """n chats drawn without replacement from pairs x question wordings x (default or custom system)."""
    combos = [(topic, answer, question, system) for topic, answer in pairs for question in questions
              for system in (None, tinylm.CUSTOM_SYSTEM)]
    if n is None:
        n = len(combos)
    n = validation.optional(validation.integer(0, len(combos)))("n", n)
    order = np.random.default_rng(seed).permutation(len(combos))[:n]
    return [tinylm.chat_example(combos[i][2].format(topic=combos[i][0]), combos[i][1], combos[i][3]) for i in order]


@checked
def general_examples(n: int, seed: int = 0) -> list[list[dict]]:
    """n instruction chats about the general topics only (what the instruct checkpoint is tuned on)."""
    return _chats(split_topics()[0], tinylm.TRAIN_QUESTIONS, n, seed)


@checked
def domain_examples(n: int, seed: int = 0) -> list[list[dict]]:
    """n domain chats (domain topics, training wordings); the first n of one fixed shuffle, so sizes nest."""
    return _chats(split_topics()[1], tinylm.TRAIN_QUESTIONS, n, seed)


@checked
def domain_heldout() -> list[list[dict]]:
    """Every domain topic asked with every held-out wording (never used for training), no system message."""
    return [tinylm.chat_example(question.format(topic=topic), answer)
            for topic, answer in split_topics()[1] for question in tinylm.HELDOUT_QUESTIONS]


@checked
@cached(maxsize=8)  # a dict of models: each call gets its own copy to train
def checkpoints(seed: int = 0, pretrain_steps: int = PRETRAIN_STEPS, instruct_steps: int = INSTRUCT_STEPS) -> dict:
    """The two starting points: 'base' (pretrained) and 'instruct' (base tuned on general-topic chats)."""
    base = tinylm.pretrain(seed, steps=pretrain_steps, progress=False)
    instruct = tinylm.instruction_tune(base, general_examples(1000, seed), steps=instruct_steps, seed=seed,
                                       progress=False)
    return {"base": base, "instruct": instruct}


@checked(n_examples=validation.anything)
def fine_tune(start, n_examples: int, seed: int = 0, steps: int = DOMAIN_STEPS):
    """The start model fine-tuned on the first n_examples domain chats (0 returns the start model unchanged)."""
    limit = len(split_topics()[1]) * len(tinylm.TRAIN_QUESTIONS) * 2
    n_examples = validation.integer(0, limit, "examples")("n_examples", n_examples)
    if n_examples == 0:
        return start
    sequences, masks = tinylm.sft_data(domain_examples(n_examples, seed), start.vocab)
    tuned, _ = tinylm.train(start, sequences, masks, steps, tinylm.TUNE_LR, seed, batch_size=DOMAIN_BATCH,
                            progress=False, name="domain")
    return tuned


@checked
def greedy_replies(model, chats, max_new_tokens: int = 40) -> list[list[int]]:
    """The model's greedy reply (token ids) to each chat's prompt (the chat minus its answer), all decoded at once."""
    vocab = model.vocab
    pad, stops = vocab.index[tinylm.ENDOFTEXT], [vocab.index[token] for token in tinylm.STOP_TOKENS]
    histories = [[pad] * tinylm.CONTEXT + vocab.encode_chat(messages[:-1], add_generation_prompt=True)[0]
                 for messages in chats]
    replies: list[list[int]] = [[] for _ in chats]
    active = list(range(len(chats)))
    for _ in range(max_new_tokens):
        if not active:
            break
        contexts = np.array([histories[i][-tinylm.CONTEXT:] for i in active], dtype=np.int64)
        choices = model.probabilities(contexts).argmax(axis=1)
        still = []
        for i, token in zip(active, choices.tolist(), strict=True):
            histories[i].append(token)
            replies[i].append(token)
            if token not in stops:
                still.append(i)
        active = still
    return replies


@checked
def score(model, chats) -> dict:
    """Held-out loss (nats per reply token), exact answers, and replies that end the turn, for a set of chats."""
    sequences, masks = tinylm.sft_data(chats, model.vocab)
    end = model.vocab.index[tinylm.IM_END]
    expected = [model.vocab.encode(messages[-1]["content"]) + [end] for messages in chats]
    replies = greedy_replies(model, chats)
    return {
        "heldout_loss": model.loss(sequences, masks),
        "accuracy": float(np.mean([reply == want for reply, want in zip(replies, expected, strict=True)])),
        "ends_turn": float(np.mean([bool(reply) and reply[-1] == end for reply in replies])),
    }


@checked
def general_heldout() -> list[list[dict]]:
    """Every general topic asked with every held-out wording: checks what domain tuning does to the rest."""
    return [tinylm.chat_example(question.format(topic=topic), answer)
            for topic, answer in split_topics()[0] for question in tinylm.HELDOUT_QUESTIONS]


@checked
def starting_point_experiment(sizes=DEFAULT_SIZES, seeds=(0,), steps: int = DOMAIN_STEPS,
                              pretrain_steps: int = PRETRAIN_STEPS, progress: bool = True) -> pd.DataFrame:
    """For each seed, start and number of domain examples: held-out domain loss and accuracy (one row each).
    progress=True shows one bar over the runs (the two starting checkpoints, then each fine-tuning and its scores)."""
    sizes = tuple(sizes)
    if not sizes or any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in sizes):
        raise ValueError(f"sizes must be non-negative integers, got {sizes!r}")
    domain, general = domain_heldout(), general_heldout()
    rows = []
    runs = len(seeds) * (1 + len(STARTS) * len(sizes))
    bar = Progress(runs, f"toy experiment: starting checkpoints, then {runs - len(seeds)} fine-tunings", progress,
                   unit="runs")
    done = 0
    for seed in seeds:
        starts = checkpoints(seed, pretrain_steps)
        done += 1
        bar.update(done)
        for start in STARTS:
            for n in sizes:
                model = fine_tune(starts[start], n, seed, steps)
                row = {"seed": seed, "start": start, "examples": n, **score(model, domain)}
                row["general_accuracy"] = score(model, general)["accuracy"]
                rows.append(row)
                done += 1
                bar.update(done)
    return pd.DataFrame(rows)


@checked
def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Mean held-out loss and accuracy per start and size (over seeds), starts side by side."""
    means = results.groupby(["examples", "start"])[["heldout_loss", "accuracy"]].mean().unstack("start")
    means.columns = [f"{metric}_{start}" for metric, start in means.columns]
    return means.reset_index()


@checked
def plot_experiment(results: pd.DataFrame, axes=None):
    """Two panels against the number of domain examples: held-out loss and exact-answer accuracy, per start."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.8))  # room for a finding as each title
    means = results.groupby(["start", "examples"])[["heldout_loss", "accuracy"]].mean().reset_index()
    markers = {"base": "o", "instruct": "s"}
    for start, rows in means.groupby("start"):
        x = rows["examples"].clip(lower=1)  # 0 examples plotted at 1 on the log axis
        label = (figure_text("from base") if start == "base" else figure_text("from instruct")
                 if start == "instruct" else start)
        axes[0].plot(x, rows["heldout_loss"], marker=markers[start], label=label)
        axes[1].plot(x, 100 * rows["accuracy"], marker=markers[start], label=label)
    sizes = sorted(means["examples"].unique())
    for ax in axes:
        log_scale(ax, "x")
        # ticks at the sizes run; the untuned start (0 examples) sits at 1 on the log axis and is labelled 0
        ax.set_xticks([max(size, 1) for size in sizes], [f"{size:,}" for size in sizes])
        ax.set_xlabel(figure_text("domain examples fine-tuned on"))
        ax.legend()
    axes[0].set_ylabel(figure_text("held-out loss (nats per reply token)"))
    axes[1].set_ylabel(figure_text("exact answers on held-out questions (%)"))
    return axes
