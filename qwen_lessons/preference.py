"""Lesson 3 (03_preference_tuning): preference tuning of the tiny numpy model with direct preference optimisation.

The second half of post-training. Lesson 2 fine-tunes the tiny model (``qwen_lessons.tinylm``) on chats (SFT);
here it is tuned further on *pairs* of replies to the same prompt, one preferred ("chosen") and one not
("rejected"), with DPO (Rafailov et al., 2023, arXiv:2305.18290) against the frozen SFT model as the reference:

    margin = beta * ((log pi(chosen|x) - log ref(chosen|x)) - (log pi(rejected|x) - log ref(rejected|x)))
    loss   = -log sigmoid(margin)

where each log-probability is summed over the reply tokens only (the SFT loss mask: the reply and its
<|im_end|>). ``beta * (log pi - log ref)`` is the *implicit reward* of a reply; the margin is the chosen reply's
reward minus the rejected one's.

The preference data are built in code from ``data/tiny_instructions.csv`` (no new facts, so no new table): the
course prefers one sentence that stops. For an answer of two sentences the chosen reply is its first sentence and
the rejected one the whole answer (kind "verbose"); for an answer of one sentence the chosen reply is the answer
and the rejected one rambles on with the first sentence of another topic's answer (kind "rambles").
Training pairs use lesson 2's training question wordings; held-out pairs use its held-out wordings.

Interface: ``preference_pairs``, ``sequence_logprobs``, ``dpo_loss`` and ``dpo_loss_gradient`` (one pair, by the formula above),
``dpo_train``, ``preference_scores`` (``scores_from_logprobs``), ``writing_metrics``, ``smoothing_verdict``. The gradient is written by hand on top of
``tinylm.forward`` / ``tinylm.backward`` and checked by finite differences in tests/test_preference.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from qwen_lessons import tinylm
from qwen_lessons.blas import single_threaded
from qwen_lessons import validation
from qwen_lessons.validation import checked

DPO_STEPS = 60
DPO_LR = 1e-3
DPO_BATCH = 16  # pairs per step
DEFAULT_BETA = 0.1
SPLITS = ("train", "heldout")
KINDS = ("verbose", "rambles")
SMOOTHING_METRICS = ("distinct_2", "entropy_nats", "length_std")  # what "smoothing out extremes" would lower
_SENTENCE_END = re.compile(r"(?<=\.)\s+")


@dataclass(frozen=True)
class PreferencePair:
    """One prompt (chat messages before the reply) with a preferred and a dispreferred assistant reply."""

    messages: tuple
    chosen: str
    rejected: str
    kind: str
    topic: str


def _replies(answer: str, other_answer: str) -> tuple[str, str, str]:
    """(chosen, rejected, kind) for one topic: one sentence that stops beats two, or beats a ramble."""
    sentences = _SENTENCE_END.split(answer.strip())
    if len(sentences) > 1:
        return sentences[0], answer, "verbose"
    return answer, f"{answer} {_SENTENCE_END.split(other_answer.strip())[0]}", "rambles"


@checked
def preference_pairs(split: str = "train", n_pairs: int | None = None, seed: int = 0) -> list[PreferencePair]:
    """The course's preference pairs: "train" (lesson 2's training wordings, with and without a system message,
    shuffled by seed; the first n_pairs) or "heldout" (its held-out wordings, never trained on, in table order)."""
    rows = tinylm.topics()
    replies = {topic: _replies(answer, rows[(i + 1) % len(rows)][1]) for i, (topic, answer) in enumerate(rows)}
    if split == "train":
        combos = [(topic, question, system) for topic, _ in rows for question in tinylm.TRAIN_QUESTIONS
                  for system in (None, tinylm.CUSTOM_SYSTEM)]
        combos = [combos[i] for i in np.random.default_rng(seed).permutation(len(combos))]
    else:
        combos = [(topic, question, None) for question in tinylm.HELDOUT_QUESTIONS for topic, _ in rows]
    if n_pairs is not None and n_pairs > len(combos):
        raise ValueError(f"n_pairs must be at most {len(combos):,} for the {split} split, got {n_pairs!r}")
    pairs = []
    for topic, question, system in combos[:n_pairs]:
        messages = tinylm.chat_example(question.format(topic=topic), "", system)[:-1]
        chosen, rejected, kind = replies[topic]
        pairs.append(PreferencePair(tuple(messages), chosen, rejected, kind, topic))
    return pairs


@dataclass(frozen=True)
class _PairWindows:
    """Every reply-token window of a list of pairs: row r belongs to reply owner[r] (2*pair, +1 if rejected)."""

    contexts: np.ndarray
    targets: np.ndarray
    owner: np.ndarray
    rows_of_pair: tuple  # per pair, the window rows of its chosen then rejected reply

    @property
    def n_pairs(self) -> int:
        return len(self.rows_of_pair)


_ENCODED: dict = {}  # (vocab, prompt, reply) -> (ids, mask): the explorer's grid points share their pairs


def _pair_windows(pairs: Sequence[PreferencePair], vocab) -> _PairWindows:
    sequences, masks = [], []
    for pair in pairs:
        prompt = tuple((message["role"], message["content"]) for message in pair.messages)
        for reply in (pair.chosen, pair.rejected):
            key = (id(vocab), prompt, reply)
            if key not in _ENCODED:
                _ENCODED[key] = vocab.encode_chat(list(pair.messages) + [{"role": "assistant", "content": reply}])
            ids, mask = _ENCODED[key]
            sequences.append(ids)
            masks.append(mask)
    contexts, targets = tinylm.windows(sequences, masks, vocab)
    owner = np.repeat(np.arange(len(sequences)), [sum(mask) for mask in masks])
    starts = np.searchsorted(owner, np.arange(0, len(sequences) + 1, 2))
    rows = tuple(np.arange(starts[i], starts[i + 1]) for i in range(len(pairs)))
    return _PairWindows(contexts, targets, owner, rows)


def _logprobs(params: dict, batch: _PairWindows) -> tuple[np.ndarray, tuple]:
    """Summed reply log-probabilities, shape (pairs, 2) = (chosen, rejected), and the forward pass's values."""
    x, h, probs = tinylm.forward(params, batch.contexts)
    token = np.log(np.maximum(probs[np.arange(len(batch.targets)), batch.targets], 1e-30))
    sums = np.bincount(batch.owner, weights=token, minlength=2 * batch.n_pairs).reshape(batch.n_pairs, 2)
    return sums, (x, h, probs)


def _margins(logps: np.ndarray, reference_logps: np.ndarray, beta: float) -> np.ndarray:
    """beta * ((log pi(yw) - log ref(yw)) - (log pi(yl) - log ref(yl))) per pair: the implicit reward margin."""
    rewards = beta * (logps - reference_logps)
    return rewards[:, 0] - rewards[:, 1]


def _pull(margins, beta: float):
    """beta * sigmoid(-margin), overflow-free: how hard a pair pushes log pi(chosen) up and log pi(rejected) down."""
    return beta * 0.5 * (1.0 - np.tanh(np.asarray(margins, dtype=float) / 2))


def _dpo_loss_and_grads(params: dict, batch: _PairWindows, reference_logps: np.ndarray, beta: float):
    """Mean DPO loss of a batch of pairs and its gradient with respect to every parameter (by hand).

    d loss / d margin_i = -sigmoid(-margin_i) / B; margin_i moves with +beta * log pi(chosen) and -beta * log
    pi(rejected); each summed log-probability is a sum over tokens of log softmax, whose gradient with respect to
    the logits is (onehot - probs). So every reply window gets the logit gradient coef * (probs - onehot).
    """
    logps, (x, h, probs) = _logprobs(params, batch)
    margins = _margins(logps, reference_logps, beta)
    loss = float(np.logaddexp(0.0, -margins).mean())  # -log sigmoid(m) = log(1 + exp(-m)), stable for any m
    per_pair = _pull(margins, beta) / batch.n_pairs
    coef = (np.where(batch.owner % 2 == 0, 1.0, -1.0) * per_pair[batch.owner // 2]).astype(probs.dtype)
    d_logits = probs * coef[:, None]
    d_logits[np.arange(len(batch.targets)), batch.targets] -= coef
    return loss, tinylm.backward(params, batch.contexts, x, h, d_logits), margins


def _subset(batch: _PairWindows, chosen_pairs: np.ndarray) -> _PairWindows:
    rows = [batch.rows_of_pair[i] for i in chosen_pairs]
    picked = np.concatenate(rows)
    owner = np.concatenate([np.where(batch.owner[r] % 2 == 0, 2 * j, 2 * j + 1) for j, r in enumerate(rows)])
    offsets = np.cumsum([0] + [len(r) for r in rows])
    new_rows = tuple(np.arange(offsets[j], offsets[j + 1]) for j in range(len(rows)))
    return _PairWindows(batch.contexts[picked], batch.targets[picked], owner, new_rows)


@checked
@single_threaded
def sequence_logprobs(model: tinylm.TinyLM, pairs: Sequence[PreferencePair]) -> np.ndarray:
    """log p(reply | prompt) of each pair's chosen and rejected reply, summed over the reply tokens (and <|im_end|>):
    an array of shape (pairs, 2), nats."""
    if not pairs:
        raise ValueError("pairs is empty: give at least one PreferencePair")
    return _logprobs(model.params, _pair_windows(pairs, model.vocab))[0]


@checked
def dpo_loss(policy_chosen: float, policy_rejected: float, reference_chosen: float, reference_rejected: float,
             beta: float = DEFAULT_BETA) -> float:
    """The DPO loss of one pair from its four sequence log-probabilities: -log sigmoid(beta * (...)), nats."""
    margin = beta * ((policy_chosen - reference_chosen) - (policy_rejected - reference_rejected))
    return float(np.logaddexp(0.0, -margin))


@checked
def dpo_loss_gradient(policy_chosen: float, policy_rejected: float, reference_chosen: float, reference_rejected: float,
                      beta: float = DEFAULT_BETA) -> tuple[float, float]:
    """d loss / d log pi(chosen) and d loss / d log pi(rejected) of one pair: -beta * sigmoid(-margin) and its
    opposite. dpo_train gives every pair of a batch this pull (divided by the batch size)."""
    margin = beta * ((policy_chosen - reference_chosen) - (policy_rejected - reference_rejected))
    pull = float(_pull(margin, beta))
    return -pull, pull


@checked
@single_threaded
def dpo_train(
    reference: tinylm.TinyLM,
    pairs: Sequence[PreferencePair],
    beta: float = DEFAULT_BETA,
    steps: int = DPO_STEPS,
    lr: float = DPO_LR,
    seed: int = 0,
    batch_size: int = DPO_BATCH,
    progress: bool | Callable[[int, int], None] = True,
) -> tinylm.TinyLM:
    """DPO from the reference model (usually the SFT model), which stays frozen: Adam on random batches of pairs.

    Returns a new TinyLM whose ``loss_curve`` holds the DPO loss of every step; the reference is not changed
    (its arrays are read-only, and it is only read, once, for its log-probabilities)."""
    if not pairs:
        raise ValueError("pairs is empty: give at least one PreferencePair")
    # draw every step's batch first, so only the pairs a step will use are encoded and scored by the reference
    rng = np.random.default_rng(seed)
    batches = rng.integers(0, len(pairs), size=(steps, min(batch_size, len(pairs))))
    used, batches = np.unique(batches, return_inverse=True)
    batches = batches.reshape(steps, -1)
    windows = _pair_windows([pairs[i] for i in used], reference.vocab)
    reference_logps = _logprobs(reference.params, windows)[0]
    name = f"DPO on {len(pairs):,} pairs (beta {beta:g})"

    def loss_and_grads(params: dict, step: int) -> tuple[float, dict]:
        chosen = batches[step - 1]
        loss, grads, _ = _dpo_loss_and_grads(params, _subset(windows, chosen), reference_logps[chosen], beta)
        return loss, grads

    return tinylm.fit(reference, loss_and_grads, steps, lr, name, progress)


def _kl_per_token(model: tinylm.TinyLM, reference: tinylm.TinyLM, prompt_ids: list[int], samples) -> np.ndarray:
    """KL(model || reference) of the next-token distributions at every position the model itself generated."""
    sequences = [prompt_ids + sample for sample in samples if sample]
    masks = [[0] * len(prompt_ids) + [1] * (len(s) - len(prompt_ids)) for s in sequences]
    if not sequences:
        return np.zeros(0)
    contexts, _ = tinylm.windows(sequences, masks, model.vocab)
    p = np.maximum(tinylm.forward(model.params, contexts)[2], 1e-30)
    q = np.maximum(tinylm.forward(reference.params, contexts)[2], 1e-30)
    return (p * (np.log(p) - np.log(q))).sum(axis=1)


@checked
@single_threaded
def preference_scores(model: tinylm.TinyLM, reference: tinylm.TinyLM, pairs: Sequence[PreferencePair],
                      beta: float = DEFAULT_BETA) -> dict:
    """How a model ranks pairs (usually the held-out ones), against the reference (usually the SFT model):
    ``scores_from_logprobs`` of both models' sequence_logprobs."""
    if not pairs:
        raise ValueError("pairs is empty: give at least one PreferencePair")
    windows = _pair_windows(pairs, model.vocab)
    return _scores(_logprobs(model.params, windows)[0], _logprobs(reference.params, windows)[0], beta)


@checked(logps=validation.instance(np.ndarray, what="an array of shape (pairs, 2) from sequence_logprobs"),
         reference_logps=validation.instance(np.ndarray, what="an array of shape (pairs, 2) from sequence_logprobs"))
def scores_from_logprobs(logps: np.ndarray, reference_logps: np.ndarray, beta: float = DEFAULT_BETA) -> dict:
    """preference_accuracy: share of pairs where the model gives the chosen reply the higher log-probability;
    reward_accuracy: share with a positive implicit reward margin (ties count half, so the reference scores 0.5);
    reward_margin: mean implicit reward margin, beta * nats (zero for the reference itself)."""
    if logps.ndim != 2 or logps.shape[1:] != (2,) or logps.shape != reference_logps.shape or not len(logps):
        raise ValueError(f"logps and reference_logps must both have shape (pairs, 2), got {logps.shape} and "
                         f"{reference_logps.shape}")
    if not (np.isfinite(logps).all() and np.isfinite(reference_logps).all()):
        raise ValueError("logps and reference_logps must be finite log-probabilities")
    return _scores(logps, reference_logps, beta)


def _scores(logps: np.ndarray, reference_logps: np.ndarray, beta: float) -> dict:
    margins = _margins(logps, reference_logps, beta)
    return {"preference_accuracy": float(np.mean(logps[:, 0] > logps[:, 1])),
            "reward_accuracy": float(np.mean((margins > 0) + 0.5 * (margins == 0))),
            "reward_margin": float(margins.mean())}


@checked(max_new_tokens=validation.integer(1, 500, "tokens"))
@single_threaded
def writing_metrics(model: tinylm.TinyLM, reference: tinylm.TinyLM, n_samples: int = 20, max_new_tokens: int = 30,
                    seed: int = 0) -> dict:
    """How a model writes: n_samples replies sampled at temperature 1 for each of lesson 2's 8 held-out chat prompts.

    mean_length and length_std (tokens), distinct_2, entropy_nats (mean next-token entropy), ends_turn (share
    ending with <|im_end|>), kl_nats (mean per-token KL(model || reference) at the model's own sampled positions)."""
    end = model.vocab.index[tinylm.IM_END]
    lengths, distinct, entropy, ends, kl = [], [], [], [], []
    for number, prompt in enumerate(tinylm.diversity_prompts(8)):
        samples, entropies = model.sample(prompt, n_samples, max_new_tokens, 1.0, seed + number)
        lengths += [len(sample) for sample in samples]
        distinct.append(tinylm.distinct_n(samples, 2))
        entropy.append(float(np.mean(entropies)))
        ends += [bool(sample) and sample[-1] == end for sample in samples]
        kl.append(_kl_per_token(model, reference, model.vocab.encode(prompt), samples))
    return {"mean_length": float(np.mean(lengths)), "length_std": float(np.std(lengths)),
            "distinct_2": float(np.mean(distinct)), "entropy_nats": float(np.mean(entropy)),
            "ends_turn": float(np.mean(ends)), "kl_nats": float(np.concatenate(kl).mean())}


@checked(table=validation.anything)
def smoothing_verdict(table, rel_tol: float = 0.05):
    """Decide "post-training smooths out extremes" for each step between consecutive stages of a stage table.

    A step *smooths* when distinct-2, next-token entropy and the spread of reply lengths all fall by more than
    rel_tol (relative); it *widens* when all three rise by more than rel_tol; anything else is *mixed*.
    Returns one row per step: from, to, the relative change of each metric, and the verdict."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame) or "stage" not in table or not set(SMOOTHING_METRICS) <= set(table):
        raise ValueError(f"table must be a DataFrame with a stage column and {', '.join(SMOOTHING_METRICS)} "
                         "(from preference_tuning.stage_table)")
    if len(table) < 2:
        raise ValueError(f"table needs at least two stages to compare, got {len(table)}")
    rows = []
    for (_, before), (_, after) in zip(table.iloc[:-1].iterrows(), table.iloc[1:].iterrows(), strict=True):
        row = {"from": before["stage"], "to": after["stage"]}
        signs = []
        for metric in SMOOTHING_METRICS:
            change = (after[metric] - before[metric]) / max(abs(before[metric]), 1e-12)
            row[f"{metric}_change"] = float(change)
            signs.append(-1 if change < -rel_tol else 1 if change > rel_tol else 0)
        row["verdict"] = "smooths" if all(s < 0 for s in signs) else "widens" if all(s > 0 for s in signs) else "mixed"
        rows.append(row)
    return pd.DataFrame(rows)
