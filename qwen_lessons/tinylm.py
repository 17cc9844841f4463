"""Lessons 2, 4 and 3 (02_base_vs_instruct, 04_fine_tuning, 03_preference_tuning): a tiny language model in numpy, pretrained on course-written prose, then instruction-tuned on ChatML chats (lesson 3 adds DPO on top, in qwen_lessons.preference).

Small enough to train on a laptop CPU in seconds, big enough to show the two stages of a real Qwen model:
a *base* model that continues text, and an *instruct* model that answers and ends its turn with <|im_end|>.

The model is a fixed-window neural language model (Bengio et al., 2003): the embeddings of the last
``CONTEXT`` tokens are concatenated, pass through one tanh layer, and a softmax predicts the next token.
Tokens are words and punctuation of the course corpus (``data/tiny_corpus.txt``) and instruction table
(``data/tiny_instructions.csv``), plus ``<|endoftext|>``, ``<|im_start|>``, ``<|im_end|>`` and ``<|unk|>``
as single tokens. Chats are rendered with the real Qwen2.5 template (``qwen_lessons.tokens.chat_segments``).

Interface (stable; lesson 4 builds on it)
-----------------------------------------
``tiny_vocab() -> TinyVocab``
    the vocabulary: ``.encode(text) -> list[int]``, ``.decode(ids) -> str``, ``.tokenize(text)``,
    ``.encode_chat(messages, add_generation_prompt=False) -> (ids, mask)`` (mask: 1 = learned by SFT),
    ``.words``, ``.size``; unknown words become ``<|unk|>`` (check ``vocab.unknown_words(text)``).
``pretrain(seed=0, steps=PRETRAIN_STEPS, progress=True) -> TinyLM``
    the base model, deterministic for a seed; cached in the process.
``instruction_tune(model, examples, steps=TUNE_STEPS, lr=TUNE_LR, seed=0, progress=True) -> TinyLM``
    supervised fine-tuning on chats (lists of {"role", "content"} dicts) with the loss mask.
``instruct(n_examples=1000, seed=0) -> TinyLM``
    ``instruction_tune(pretrain(seed), instruction_examples(n_examples, seed))``, cached.
``train(model, sequences, loss_masks, steps, lr, seed, batch_size=BATCH, progress=True) -> (TinyLM, loss_curve)``
    the general loop (Adam, masked cross-entropy): sequences are lists of token ids, loss_masks lists of
    0/1 of the same lengths (1 = this token is predicted and learned).
``pretraining_data() -> (sequences, masks)``, ``sft_data(examples, vocab=None) -> (sequences, masks)``
    token ids and loss masks of the corpus (every token) and of chats (replies and <|im_end|> only).
``windows(sequences, loss_masks, vocab) -> (contexts, targets)``
    the (CONTEXT-token window, next token) pairs that training and loss() use.
``TinyLM.loss(sequences, loss_masks) -> float``
    mean masked cross-entropy in nats per learned token.
``TinyLM.generate(prompt, max_new_tokens=40, temperature=1.0, seed=0) -> str``
    the continuation of a text prompt; stops after <|im_end|> or <|endoftext|> (included in the text);
    temperature 0 is greedy. ``TinyLM.sample(prompt, n, ...)`` draws n continuations at once.
``TinyLM.loss_curve``, ``TinyLM.train_seconds``: per-step losses and wall time of the run that produced the model.
``instruction_examples(n, seed=0)`` (the first n of one fixed shuffle, so 10 are inside 100, inside 1,000),
``heldout_examples()`` (question wordings never trained on), ``chat_prompt(question)``, ``chat_example(q, a)``,
``answer_accuracy(model, examples)``, ``diversity(model, prompts, ...)``, ``data_size_experiment(sizes, ...)``.

Constants others may rely on: CONTEXT, PRETRAIN_STEPS, TUNE_STEPS, TUNE_LR, SPECIALS, ENDOFTEXT, IM_START,
IM_END, STOP_TOKENS, TEMPLATE, CUSTOM_SYSTEM, TRAIN_QUESTIONS, HELDOUT_QUESTIONS. Training and sampling run with
one OpenBLAS thread (``qwen_lessons.blas.one_blas_thread()``): on a busy 2-core machine that is several times faster.

Models are never changed in place: training returns a new TinyLM and leaves its input as it was
(the parameter arrays are read-only).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qwen_lessons.blas import single_threaded
from qwen_lessons.progress import Progress
from qwen_lessons import validation
from qwen_lessons.tiny_corpus import (  # noqa: F401  (the lessons read the tiny model's data from tinylm)
    CUSTOM_SYSTEM,
    HELDOUT_QUESTIONS,
    TRAIN_QUESTIONS,
    chat_example,
    corpus_paragraphs,
    corpus_text,
    heldout_examples,
    instruction_examples,
    topics,
)
from qwen_lessons.data import cached
from qwen_lessons.validation import checked

CONTEXT = 12  # tokens the model sees before predicting the next one
EMBED = 24  # embedding size per token
HIDDEN = 160  # tanh units
BATCH = 128  # training windows per step
PRETRAIN_STEPS = 900
PRETRAIN_LR = 4e-3
TUNE_STEPS = 250
TUNE_LR = 4e-3

ENDOFTEXT, IM_START, IM_END, UNK = "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|unk|>"
SPECIALS = (ENDOFTEXT, IM_START, IM_END, UNK)
STOP_TOKENS = (IM_END, ENDOFTEXT)
TEMPLATE = "qwen2.5"  # the tiny model's chats use the real Qwen2.5 instruct template

# words (with inner . , ' - as in "Qwen2.5-Coder" or "32,768"), special tokens, newlines, other single characters
_TOKEN = re.compile(r"<\|[a-z_]+\|>|\n|[A-Za-z0-9]+(?:[.,'\-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")
_NO_SPACE_BEFORE = {".", ",", ";", ":", "!", "?", ")", "\n", IM_END}
_NO_SPACE_AFTER = {"(", "\n", IM_START}

@checked
def chat_prompt(question: str) -> str:
    """The Qwen2.5 prompt for one user question, ending with the generation prompt."""
    from qwen_lessons.tokens import render_chat

    return render_chat([{"role": "user", "content": question}], TEMPLATE, add_generation_prompt=True)


# ---------------------------------------------------------------- vocabulary


class TinyVocab:
    """Word-level vocabulary of the tiny model: words, punctuation, newline and four special tokens."""

    def __init__(self, words: Sequence[str]):
        self.words = tuple(words)
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words) or any(s not in self.index for s in SPECIALS):
            raise ValueError("words must be unique and include the special tokens " + ", ".join(SPECIALS))
        self.unk = self.index[UNK]

    @property
    def size(self) -> int:
        """Number of tokens."""
        return len(self.words)

    @staticmethod
    def tokenize(text: str) -> list[str]:
        """Split text into the tiny model's tokens (special-token strings are single tokens here)."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        return _TOKEN.findall(text)

    def encode(self, text: str) -> list[int]:
        """Token ids of text; unknown words map to <|unk|>."""
        return [self.index.get(token, self.unk) for token in self.tokenize(text)]

    def unknown_words(self, text: str) -> list[str]:
        """The tokens of text that are not in the vocabulary."""
        return [token for token in self.tokenize(text) if token not in self.index]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids, with spaces between words and none before punctuation or after a newline."""
        out: list[str] = []
        previous = "\n"
        for token_id in ids:
            if not 0 <= int(token_id) < self.size:
                raise ValueError(f"token id {token_id!r} is outside 0..{self.size - 1}")
            token = self.words[int(token_id)]
            if out and token not in _NO_SPACE_BEFORE and previous not in _NO_SPACE_AFTER:
                out.append(" ")
            out.append(token)
            previous = token
        return "".join(out)

    def encode_chat(self, messages, add_generation_prompt: bool = False) -> tuple[list[int], list[int]]:
        """Token ids of a chat rendered with the Qwen2.5 template, and the SFT mask (1 on replies and <|im_end|>)."""
        from qwen_lessons.tokens import chat_segments

        ids: list[int] = []
        mask: list[int] = []
        for segment in chat_segments(messages, TEMPLATE, add_generation_prompt=add_generation_prompt):
            piece = self.encode(segment.text)
            ids += piece
            mask += [int(segment.learn)] * len(piece)
        return ids, mask


@checked
@cached(maxsize=4)
def tiny_vocab() -> TinyVocab:
    """The vocabulary built from the corpus, the instruction table and the chat templates (most frequent first)."""
    from qwen_lessons.tokens import QWEN25_DEFAULT_SYSTEM

    texts = [corpus_text(), QWEN25_DEFAULT_SYSTEM, CUSTOM_SYSTEM, "system user assistant"]
    texts += [answer for _, answer in topics()]
    texts += [question.format(topic=topic) for topic, _ in topics() for question in TRAIN_QUESTIONS + HELDOUT_QUESTIONS]
    counts = Counter(token for text in texts for token in TinyVocab.tokenize(text))
    for special in SPECIALS + ("\n",):
        counts.pop(special, None)
    words = list(SPECIALS) + ["\n"] + sorted(counts, key=lambda word: (-counts[word], word))
    return TinyVocab(words)


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class TinyLM:
    """A fixed-window neural language model; parameters are read-only numpy arrays (float32)."""

    vocab: TinyVocab
    params: dict
    name: str = "tiny"
    loss_curve: tuple = field(default=(), repr=False)
    train_seconds: float = 0.0  # wall time of the training run that produced this model

    @property
    def n_params(self) -> int:
        """Number of trained numbers."""
        return int(sum(array.size for array in self.params.values()))

    def _forward(self, contexts: np.ndarray):
        """Logits and the intermediate values backprop needs, for a batch of context windows (B, CONTEXT)."""
        p = self.params
        x = p["E"][contexts].reshape(len(contexts), -1)
        h = np.tanh(x @ p["W1"] + p["b1"])
        return h @ p["W2"] + p["b2"], x, h

    @checked
    def probabilities(self, contexts: np.ndarray, temperature: float = 1.0) -> np.ndarray:
        """Next-token probabilities for each context window."""
        logits = self._forward(contexts)[0] / temperature
        logits -= logits.max(axis=1, keepdims=True)
        weights = np.exp(logits)
        return weights / weights.sum(axis=1, keepdims=True)

    @checked
    @single_threaded
    def loss(self, sequences, loss_masks) -> float:
        """Mean cross-entropy (nats) over the learned tokens of the sequences."""
        contexts, targets = windows(sequences, loss_masks, self.vocab)
        if not len(targets):
            raise ValueError("loss_masks select no token: nothing to score")
        total = 0.0
        for start in range(0, len(targets), 4096):
            probs = self.probabilities(contexts[start : start + 4096])
            picked = probs[np.arange(len(probs)), targets[start : start + 4096]]
            total += float(-np.log(np.maximum(picked, 1e-12)).sum())
        return total / len(targets)

    @checked(prompt=validation.text_or_ids, n=validation.integer(1, 1_000),
             max_new_tokens=validation.integer(1, 500, "tokens"), temperature=validation.number(0, 5))
    @single_threaded
    def sample(self, prompt: str, n: int = 20, max_new_tokens: int = 40, temperature: float = 1.0, seed: int = 0):
        """n continuations of prompt (text or token ids) at once: (generated id lists, mean next-token entropy per sample, nats)."""
        rng = np.random.default_rng(seed)
        start_ids = self.vocab.encode(prompt) if isinstance(prompt, str) else list(prompt)
        pad = self.vocab.index[ENDOFTEXT]
        history = np.array([[pad] * CONTEXT + start_ids] * n, dtype=np.int64)
        stop = np.array([self.vocab.index[token] for token in STOP_TOKENS])
        done = np.zeros(n, dtype=bool)
        generated: list[list[int]] = [[] for _ in range(n)]
        entropy_sum, entropy_count = np.zeros(n), np.zeros(n)
        for _ in range(max_new_tokens):
            probs = self.probabilities(history[:, -CONTEXT:])
            entropy = -(probs * np.log(np.maximum(probs, 1e-12))).sum(axis=1)
            if temperature == 0:
                choice = probs.argmax(axis=1)
            else:
                # in log space: probs ** (1 / 0.01) underflows to 0 / 0 = NaN for every token
                logits = np.log(np.maximum(probs, 1e-300)) / temperature
                tempered = np.exp(logits - logits.max(axis=1, keepdims=True))
                tempered /= tempered.sum(axis=1, keepdims=True)
                choice = (tempered.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
            for row in np.flatnonzero(~done):
                generated[row].append(int(choice[row]))
            entropy_sum += np.where(done, 0.0, entropy)
            entropy_count += ~done
            done |= np.isin(choice, stop)
            history = np.concatenate([history, choice[:, None]], axis=1)
            if done.all():
                break
        return generated, list(entropy_sum / np.maximum(entropy_count, 1))

    @checked(prompt=validation.text(1_000_000), max_new_tokens=validation.integer(1, 500, "tokens"),
             temperature=validation.number(0, 5))
    def generate(self, prompt: str, max_new_tokens: int = 40, temperature: float = 1.0, seed: int = 0) -> str:
        """The model's continuation of prompt (text), ending at <|im_end|> / <|endoftext|> or after max_new_tokens."""
        generated, _ = self.sample(prompt, 1, max_new_tokens, temperature, seed)
        return self.vocab.decode(generated[0])


@checked
def init_model(seed: int = 0, vocab: TinyVocab | None = None) -> TinyLM:
    """A fresh, untrained model with small random weights."""
    vocab = vocab or tiny_vocab()
    rng = np.random.default_rng(seed)
    width = CONTEXT * EMBED
    params = {
        "E": rng.normal(0, 0.3, (vocab.size, EMBED)),
        "W1": rng.normal(0, 1 / np.sqrt(width), (width, HIDDEN)),
        "b1": np.zeros(HIDDEN),
        "W2": rng.normal(0, 0.3 / np.sqrt(HIDDEN), (HIDDEN, vocab.size)),
        "b2": np.zeros(vocab.size),
    }
    return TinyLM(vocab, _freeze(params), "untrained")


def _freeze(params: dict) -> dict:
    frozen = {}
    for name, array in params.items():
        array = np.array(array, dtype=np.float32)
        array.flags.writeable = False
        frozen[name] = array
    return frozen


@checked
def windows(sequences, loss_masks, vocab: TinyVocab) -> tuple[np.ndarray, np.ndarray]:
    """(context windows, targets) for every learned position; each sequence is left-padded with <|endoftext|>."""
    sequences, loss_masks = list(sequences), list(loss_masks)
    if len(sequences) != len(loss_masks):
        raise ValueError(f"sequences and loss_masks must have the same length, got {len(sequences)} and {len(loss_masks)}")
    pad = vocab.index[ENDOFTEXT]
    contexts, targets = [], []
    for number, (sequence, mask) in enumerate(zip(sequences, loss_masks, strict=True)):
        if len(sequence) != len(mask):
            raise ValueError(f"sequence {number} has {len(sequence)} tokens but its loss mask has {len(mask)}")
        if len(sequence) and not 0 <= min(sequence) <= max(sequence) < vocab.size:
            raise ValueError(f"sequence {number} has token ids outside 0..{vocab.size - 1}")
        padded = np.array([pad] * CONTEXT + list(sequence), dtype=np.int64)
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if len(positions):
            contexts.append(np.lib.stride_tricks.sliding_window_view(padded, CONTEXT)[positions])
            targets.append(padded[positions + CONTEXT])
    if not targets:
        return np.zeros((0, CONTEXT), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(contexts), np.concatenate(targets)


# ---------------------------------------------------------------- training


@checked
def train(
    model: TinyLM,
    sequences,
    loss_masks,
    steps: int = TUNE_STEPS,
    lr: float = TUNE_LR,
    seed: int = 0,
    batch_size: int = BATCH,
    progress: bool | Callable[[int, int], None] = True,
    name: str | None = None,
) -> tuple[TinyLM, list[float]]:
    """Adam on masked next-token cross-entropy; returns a new model and the loss of every step."""
    contexts, targets = windows(sequences, loss_masks, model.vocab)
    if not len(targets):
        raise ValueError("loss_masks select no token: nothing to learn")
    rng = np.random.default_rng(seed)

    def loss_and_grads(params: dict, step: int) -> tuple[float, dict]:
        batch = rng.integers(0, len(targets), size=min(batch_size, len(targets)))
        return _loss_and_grads(params, contexts[batch], targets[batch])

    trained = fit(model, loss_and_grads, steps, lr, name or model.name, progress)
    return trained, list(trained.loss_curve)


@checked(loss_and_grads=validation.instance(Callable, what="a function (params, step) -> (loss, gradients)"),
         name=validation.text(1_000))
@single_threaded
def fit(model: TinyLM, loss_and_grads: Callable[[dict, int], tuple[float, dict]], steps: int = TUNE_STEPS,
        lr: float = TUNE_LR, name: str = "tuned", progress: bool | Callable[[int, int], None] = True) -> TinyLM:
    """Adam from the model's parameters: at each step ``loss_and_grads(params, step)`` gives the loss and a gradient
    for every parameter (``backward`` computes them from a gradient on the logits). Returns a new model whose
    loss_curve holds every step's loss (the training loop of SFT here and of DPO in qwen_lessons.preference)."""
    adam = _Adam(model.params, lr)
    bar = Progress(steps, name, progress is True)
    started = time.perf_counter()
    curve = []
    for step in range(1, steps + 1):
        loss, grads = loss_and_grads(adam.params, step)
        curve.append(float(loss))
        adam.step(grads, step)
        bar.update(step)
        if callable(progress):
            progress(step, steps)
    return TinyLM(model.vocab, _freeze(adam.params), name, tuple(curve), time.perf_counter() - started)


def _loss_and_grads(params: dict, contexts: np.ndarray, targets: np.ndarray) -> tuple[float, dict]:
    """Mean cross-entropy of a batch and its gradients, by hand (two matrix layers and an embedding lookup)."""
    batch = len(targets)
    x, h, probs = forward(params, contexts)
    rows = np.arange(batch)
    loss = float(-np.log(np.maximum(probs[rows, targets], 1e-12)).mean())
    d_logits = probs
    d_logits[rows, targets] -= 1.0
    d_logits /= batch
    return loss, backward(params, contexts, x, h, d_logits)


def _params_rule(name: str, value) -> dict:
    """A model's parameter dict: E, W1, b1, W2, b2 as arrays of this architecture's shapes (TinyLM.params)."""
    if not isinstance(value, dict) or set(value) != {"E", "W1", "b1", "W2", "b2"} \
            or not all(isinstance(array, np.ndarray) and array.ndim in (1, 2) for array in value.values()):
        raise ValueError(f"{name} must be a model's params: a dict of arrays E, W1, b1, W2, b2 (TinyLM.params)")
    vocab = value["E"].shape[0]
    shapes = {"E": (vocab, EMBED), "W1": (CONTEXT * EMBED, HIDDEN), "b1": (HIDDEN,), "W2": (HIDDEN, vocab),
              "b2": (vocab,)}
    if any(value[key].shape != shape for key, shape in shapes.items()):
        raise ValueError(f"{name} must have the shapes {shapes}, got {({k: v.shape for k, v in value.items()})}")
    return value


def _windows_rule(name: str, value) -> np.ndarray:
    """Context windows as windows() makes them: a non-empty integer array (windows, CONTEXT) of token ids."""
    if not isinstance(value, np.ndarray) or value.ndim != 2 or value.shape[1] != CONTEXT or not len(value) \
            or not np.issubdtype(value.dtype, np.integer) or value.min() < 0:
        raise ValueError(f"{name} must be a non-empty integer array (windows, {CONTEXT}) of token ids (from "
                         f"windows()), got {getattr(value, 'shape', type(value).__name__)}")
    return value


_ARRAY = validation.instance(np.ndarray, what="an array (from forward)")


@checked(params=_params_rule, contexts=_windows_rule)
def forward(params: dict, contexts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, hidden activations and next-token probabilities of a batch of windows (B, CONTEXT): what
    ``backward`` needs. ``params`` is a model's ``params`` (or a trainable copy of them)."""
    if contexts.max() >= len(params["E"]):
        raise ValueError(f"contexts must hold token ids below {len(params['E'])}, got {contexts.max()}")
    x = params["E"][contexts].reshape(len(contexts), -1)
    h = np.tanh(x @ params["W1"] + params["b1"])
    logits = h @ params["W2"] + params["b2"]
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    return x, h, probs


@checked(params=_params_rule, contexts=_windows_rule, x=_ARRAY, h=_ARRAY, d_logits=_ARRAY)
def backward(params: dict, contexts: np.ndarray, x: np.ndarray, h: np.ndarray, d_logits: np.ndarray) -> dict:
    """Gradients of every parameter from the gradient of a loss with respect to the logits (B, vocabulary size),
    given forward's x and h for the same windows (lesson 3's DPO gradient reuses it)."""
    batch = len(contexts)
    for name, value, width in (("x", x, CONTEXT * EMBED), ("h", h, HIDDEN), ("d_logits", d_logits, len(params["b2"]))):
        if value.shape != (batch, width):
            raise ValueError(f"{name} must have the shape ({batch}, {width}) (from forward), got {value.shape}")
    d_h = d_logits @ params["W2"].T
    d_pre = d_h * (1.0 - h * h)
    d_x = (d_pre @ params["W1"].T).reshape(batch * CONTEXT, EMBED)
    d_embed = np.zeros_like(params["E"])
    # np.add.at(d_embed, contexts.ravel(), d_x), four times faster: the rows of each token summed in one segment
    tokens = contexts.ravel()
    order = np.argsort(tokens, kind="stable")
    sorted_tokens = tokens[order]
    starts = np.flatnonzero(np.r_[True, sorted_tokens[1:] != sorted_tokens[:-1]])
    d_embed[sorted_tokens[starts]] = np.add.reduceat(d_x[order], starts, axis=0)
    return {"E": d_embed, "W1": x.T @ d_pre, "b1": d_pre.sum(axis=0), "W2": h.T @ d_logits, "b2": d_logits.sum(axis=0)}


class _Adam:
    """Adam with the global gradient norm clipped to `clip` (keeps the tiny model stable). Every parameter is a view
    into one flat buffer, so an update is a dozen whole-buffer operations instead of a dozen per parameter: the same
    arithmetic, element by element, as updating each array on its own, in a third of the time."""

    BETA1, BETA2 = 0.9, 0.999

    def __init__(self, params: dict, lr: float, clip: float = 1.0):
        self.lr, self.clip = lr, clip
        self.flat = np.concatenate([np.asarray(value, dtype=np.float32).ravel() for value in params.values()])
        self.params = self._views(self.flat, params)  # what loss_and_grads reads: trainable views of the buffer
        self.grad = np.empty_like(self.flat)
        self.grads = self._views(self.grad, params)
        self.m, self.v = np.zeros_like(self.flat), np.zeros_like(self.flat)
        self.scratch, self.scratch2 = np.empty_like(self.flat), np.empty_like(self.flat)

    @staticmethod
    def _views(buffer: np.ndarray, like: dict) -> dict:
        views, start = {}, 0
        for key, value in like.items():
            views[key] = buffer[start : start + value.size].reshape(value.shape)
            start += value.size
        return views

    def step(self, grads: dict, step: int) -> None:
        for key, view in self.grads.items():
            np.copyto(view, grads[key])
        norm = float(np.sqrt(sum(float(np.multiply(g, g, out=self.scratch[: g.size].reshape(g.shape)).sum())
                                 for g in self.grads.values())))
        grad, m, v, t, u = self.grad, self.m, self.v, self.scratch, self.scratch2
        grad *= min(1.0, self.clip / (norm + 1e-12))
        m *= self.BETA1
        m += np.multiply(grad, 1 - self.BETA1, out=t)
        v *= self.BETA2
        np.multiply(grad, 1 - self.BETA2, out=t)
        t *= grad
        v += t
        np.divide(m, 1 - self.BETA1**step, out=t)  # m_hat
        np.divide(v, 1 - self.BETA2**step, out=u)  # v_hat
        t *= self.lr
        np.sqrt(u, out=u)
        u += 1e-8
        t /= u
        self.flat -= t  # params -= lr * m_hat / (sqrt(v_hat) + 1e-8)


@checked
def pretraining_data(vocab: TinyVocab | None = None) -> tuple[list[list[int]], list[list[int]]]:
    """(sequences, masks) of the corpus: one sequence per paragraph ending in <|endoftext|>, every token learned."""
    vocab = vocab or tiny_vocab()
    sequences = [vocab.encode(paragraph) + [vocab.index[ENDOFTEXT]] for paragraph in corpus_paragraphs()]
    return sequences, [[1] * len(sequence) for sequence in sequences]


@checked
def sft_data(examples, vocab: TinyVocab | None = None) -> tuple[list[list[int]], list[list[int]]]:
    """(sequences, masks) of chats rendered with the Qwen2.5 template; masks learn only replies and <|im_end|>."""
    vocab = vocab or tiny_vocab()
    pairs = [vocab.encode_chat(messages) for messages in examples]
    return [ids for ids, _ in pairs], [mask for _, mask in pairs]


@checked
@cached(maxsize=16, shared=True, ignore=("progress",))  # a TinyLM is read-only: shared, so a re-run does not train twice
def pretrain(seed: int = 0, steps: int = PRETRAIN_STEPS, progress: bool = True) -> TinyLM:
    """The base model: trained on every token of the corpus; deterministic for a seed, cached in the process (and
    trained again when the corpus or the instruction table changes)."""
    sequences, masks = pretraining_data()
    model, _ = train(init_model(seed), sequences, masks, steps, PRETRAIN_LR, seed, progress=progress,
                     name="pretraining (base model)")
    return model


@checked
def instruction_tune(
    model: TinyLM, examples, steps: int = TUNE_STEPS, lr: float = TUNE_LR, seed: int = 0, progress: bool = True
) -> TinyLM:
    """Supervised fine-tuning on chats: only assistant replies and their <|im_end|> count in the loss."""
    sequences, masks = sft_data(examples, model.vocab)
    tuned, _ = train(model, sequences, masks, steps, lr, seed, progress=progress,
                     name=f"instruction tuning on {len(examples):,} chats")
    return tuned


@checked
@cached(maxsize=16, shared=True, ignore=("progress",))
def instruct(n_examples: int = 1000, seed: int = 0, steps: int = TUNE_STEPS, progress: bool = True) -> TinyLM:
    """The instruct model: pretrain(seed) fine-tuned on instruction_examples(n_examples, seed); cached."""
    base = pretrain(seed, progress=progress)
    return instruction_tune(base, instruction_examples(n_examples, seed), steps, seed=seed, progress=progress)


@checked
def clear_cache() -> None:
    """Forget the trained models (the next call trains again)."""
    pretrain.__wrapped__.cache_clear()
    instruct.__wrapped__.cache_clear()


# ---------------------------------------------------------------- measuring behaviour


@checked
def distinct_n(samples: Sequence[Sequence[int]], n: int = 2) -> float:
    """Distinct-n (Li et al., 2016): unique n-grams / all n-grams over a set of samples; 0 when there are none."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    grams = [tuple(sample[i : i + n]) for sample in samples for i in range(len(sample) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


@checked
def diversity(
    model: TinyLM, prompts: Sequence[str], n_samples: int = 20, max_new_tokens: int = 30, temperature: float = 1.0, seed: int = 0
) -> dict:
    """Sample n_samples replies per prompt; average distinct-1/2, next-token entropy, length and share ending with <|im_end|>."""
    if not prompts:
        raise ValueError("prompts is empty: give at least one prompt")
    rows = []
    end = model.vocab.index[IM_END]
    for number, prompt in enumerate(prompts):
        samples, entropies = model.sample(prompt, n_samples, max_new_tokens, temperature, seed + number)
        rows.append(
            (
                distinct_n(samples, 1),
                distinct_n(samples, 2),
                float(np.mean(entropies)),
                float(np.mean([len(s) for s in samples])),
                float(np.mean([bool(s) and s[-1] == end for s in samples])),
            )
        )
    means = np.mean(rows, axis=0)
    keys = ("distinct_1", "distinct_2", "entropy_nats", "mean_length", "ends_turn")
    return dict(zip(keys, (float(value) for value in means), strict=True))


@checked
def answer_accuracy(model: TinyLM, examples) -> float:
    """Share of chats whose greedy reply is exactly the reference answer followed by <|im_end|>."""
    examples = list(examples)
    if not examples:
        raise ValueError("examples is empty: give at least one chat")
    correct = 0
    for messages in examples:
        if messages[-1]["role"] != "assistant":
            raise ValueError("each example must end with the assistant's reference answer")
        prompt_ids, _ = model.vocab.encode_chat(messages[:-1], add_generation_prompt=True)
        expected = model.vocab.encode(messages[-1]["content"]) + [model.vocab.index[IM_END]]
        generated, _ = model.sample(prompt_ids, 1, len(expected) + 1, 0.0)
        correct += generated[0] == expected
    return correct / len(examples)


@checked
def diversity_prompts(k: int = 8) -> list[str]:
    """k held-out chat prompts (question wordings never trained on) for comparing models."""
    return [chat_prompt(messages[-2]["content"]) for messages in heldout_examples()[:k]]
