"""Every lesson: the one validation layer for the arguments of the package's public functions.

A public function is decorated with ``@checked``. Before the function runs, each argument is checked by the rule
its parameter's *name* has in ``RULES`` (``seq_len`` is always a whole number of tokens from 1 to 10 million,
``checkpointing`` always a bool, and so on), or by a rule given to the decorator for that one function. A rule
returns the value as the function expects it (a numpy integer becomes an int) or raises ``ValueError`` naming the
argument and what it may be. So every public function refuses a bool where a number is meant, a string, NaN,
infinity, ``pd.NA``, a list where one value is meant, and a number so large that the work or memory would blow up,
before it computes anything.

Checks never switch off for values from outside: a callable argument (a learner's progress callback or answer
function) and a widget's observer (ui.wire, ui.guarded) run through ``outside()``, so what they pass back into the
package is checked even inside another checked call. ``RELATIONS`` (registered with ``@relation``) check arguments
against each other and the data after the per-argument rules: a context no longer than the checkpoint's, no more
layer-split GPUs than layers (models.py). Refusals are one line of at most 300 characters; ``choices()`` shortens
a long list of allowed values.

Why not pydantic's ``validate_call``: its lax mode reads ``True`` as 1 and ``"7"`` as 7, its strict mode refuses
numpy integers, and its messages run over several lines with a link; a learner's widget shows one line.
"""

from __future__ import annotations

import decimal
import functools
import importlib
import inspect
import math
import numbers
import threading
from collections.abc import Callable, Mapping

import numpy as np

from qwen_lessons.language import translate as _

Rule = Callable[[str, object], object]


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(name: str, allowed: str, value) -> ValueError:
    return ValueError(_("{name} must be {allowed}; got {value} ({type})").format(name=name, allowed=_(allowed), value=_shown(value), type=type(value).__name__))


MAX_MESSAGE_CHARS = 300  # a refusal is one line a widget can show next to its control


def choices(options, what: str = "names", see: str = "") -> str:
    """The allowed values for a message, kept short: all of a few, or "one of N <what>, e.g. a, b, c; see <see>"."""
    options = [str(option) for option in options]
    listed = ", ".join(repr(option) for option in options)
    if len(options) <= 8 and len(listed) <= 160:
        return f"one of {listed}"
    shown = ", ".join(repr(option) for option in options[:3])
    return f"one of {len(options):,} {what}, e.g. {shown}{'; see ' + see if see else ''}"


def _plain_number(value):
    """A Python int or float from a real number (numpy scalars included); None for anything else (bools too). A
    Fraction or Decimal becomes an int when it is whole (exactly) and otherwise the nearest float; a numpy timedelta64
    or datetime64 is a duration or a date, not a number (numpy counts it as an integer)."""
    if type(value) is int or type(value) is float:  # the common case first: a sequence's items come here one by one
        return value
    if isinstance(value, bool | np.bool_ | np.timedelta64 | np.datetime64):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, numbers.Rational | decimal.Decimal):  # Fraction, Decimal: exact when whole
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            return math.nan
        try:
            return int(value) if value == int(value) else float(value)
        except OverflowError:  # a fraction beyond any float: out of every range
            return math.inf
    return None


def integer(low: int, high: int, what: str = "") -> Rule:
    """A whole number from low to high (a float with no fractional part is accepted)."""
    allowed = f"a whole number from {low:,} to {high:,}{' (' + what + ')' if what else ''}"

    def rule(name: str, value):
        number = _plain_number(value)
        if number is None or not math.isfinite(number) or number != int(number) or not low <= number <= high:
            raise _refuse(name, allowed, value)
        return int(number)

    return rule


def number(low: float, high: float, what: str = "", *, above_low: bool = False) -> Rule:
    """A finite number from low to high (above low when above_low)."""
    span = f"above {low:,g} and at most {high:,g}" if above_low else f"from {low:,g} to {high:,g}"
    allowed = f"a number {span}{' (' + what + ')' if what else ''}"

    def rule(name: str, value):
        number = _plain_number(value)
        if number is None or not math.isfinite(number) or not (low < number if above_low else low <= number) \
                or number > high:
            raise _refuse(name, allowed, value)
        return number

    return rule


def flag(name: str, value) -> bool:
    """True or False (numpy bools too); not 0/1, not a string."""
    if not isinstance(value, bool | np.bool_):
        raise _refuse(name, "True or False", value)
    return bool(value)


def text(max_chars: int = 10_000_000, *, empty: bool = True) -> Rule:
    """A string of at most max_chars characters (not empty unless empty=True)."""
    allowed = f"a {'' if empty else 'non-empty '}string of at most {max_chars:,} characters"

    def rule(name: str, value):
        if not isinstance(value, str) or len(value) > max_chars or (not empty and not value.strip()):
            raise _refuse(name, allowed, value)
        return value

    rule.max_chars = max_chars  # the worst case the hostile-input test runs (tests/hostile_calls.py)
    return rule


def key(name: str, value) -> str:
    """A short identifier string (a model, GPU, format or option name); its meaning is checked where it is looked up."""
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _refuse(name, "a name such as the ones listed by the lesson (a non-empty string)", value)
    return value


def _names(fewest: int) -> Rule:
    """One name, or a list of `fewest` to 1,000 names."""
    allowed = f"a name or a list of {'at most' if fewest == 0 else f'{fewest} to'} 1,000 names"

    def rule(name: str, value):
        if isinstance(value, list | tuple | set | frozenset):
            if not fewest <= len(value) <= 1_000:
                raise _refuse(name, allowed, value)
            return [key(f"{name}[{index}]", item) for index, item in enumerate(value)]
        return key(name, value)

    return rule


keys = _names(1)  # a filter that accepts any of the names
names = _names(0)  # an empty list means "none"


def one_of(*options: str) -> Rule:
    """One of a fixed set of strings."""

    def rule(name: str, value):
        if not isinstance(value, str) or value not in options:
            raise _refuse(name, choices(options), value)
        return value

    return rule


def one_of_listed(options: Callable[[], tuple[str, ...]]) -> Rule:
    """One of a set of strings that a data table decides: ``options()`` is read when an argument is checked (where it
    enters the package), so a row added to the table needs no code, and inner calls read nothing."""

    def rule(name: str, value):
        return one_of(*options())(name, value)

    return rule


def in_order(low_name: str, low, high_name: str, high) -> None:
    """The rule of two arguments that bound a range (min_pixels and max_pixels, a band's low and high): the low
    one must not exceed the high one. Each is checked by its own rule first."""
    if low > high:
        raise ValueError(f"{low_name} ({low:,}) must not exceed {high_name} ({high:,})")


def sequence(item: Rule, max_items: int, *, empty: bool = False) -> Rule:
    """A list or tuple (or 1-D array) of at most max_items items, each checked by item; returned as a list."""
    allowed = f"a list of {'at most' if empty else '1 to'} {max_items:,} items"
    def rule(name: str, value):
        if isinstance(value, np.ndarray):
            value = value.tolist() if value.ndim == 1 else None
        if not isinstance(value, list | tuple) or len(value) > max_items or (not empty and not value):
            raise _refuse(name, allowed, value)
        try:  # each item's own name (ids[3]) is spelled only for the message, not for every item that passes
            return [item(name, element) for element in value]
        except ValueError:
            return [item(f"{name}[{index}]", element) for index, element in enumerate(value)]

    rule.max_items = max_items  # the worst case the hostile-input test runs (tests/hostile_calls.py)
    return rule


def optional(rule: Rule) -> Rule:
    """None, or what rule accepts."""

    def checked_or_none(name: str, value):
        return None if value is None else rule(name, value)

    checked_or_none.__dict__.update(getattr(rule, "__dict__", {}))  # its caps (max_items, max_chars)
    return checked_or_none


def model_id(name: str, value):
    """A model id string, or a Checkpoint the package resolved (anything with a model_id and a config)."""
    if hasattr(value, "config") and hasattr(value, "matrices"):
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise _refuse(name, "a model id such as 'Qwen/Qwen2.5-7B' (a non-empty string)", value)
    return value


def chat_messages(name: str, value):
    """A list of message dicts; their roles and contents are checked by tokens.check_messages."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= 10_000 or \
            not all(isinstance(message, Mapping) for message in value):
        raise _refuse(name, "a list of 1 to 10,000 messages, each a dict with 'role' and 'content'", value)
    return list(value)


def text_or_ids(name: str, value):
    """A prompt as text (at most 1,000,000 characters) or as a list of at most 1,000,000 token ids."""
    return (_PROMPT_TEXT if isinstance(value, str) else _PROMPT_IDS)(name, value)


def instance(*types: type, what: str) -> Rule:
    """An object of one of the given types (a table, a trained model, a figure's axes)."""

    def rule(name: str, value):
        if not isinstance(value, types):
            raise _refuse(name, what, value)
        return value

    return rule


def pair_of(*items: Rule, what: str, labels: tuple[str, ...] = ()) -> Rule:
    """A tuple or list of exactly len(items) values, each checked by its own rule; returned as a tuple.
    labels name the items in messages ("videos[0] duration_s"); without them, the index does ("files[0][1]")."""

    def rule(name: str, value):
        if not isinstance(value, list | tuple) or len(value) != len(items):
            raise _refuse(name, what, value)
        named = labels or [f"[{index}]" for index in range(len(items))]
        return tuple(item(f"{name}{'' if label.startswith('[') else ' '}{label}", element)
                     for label, item, element in zip(named, items, value, strict=True))

    return rule


def mapping(keys_rule: Rule, values_rule: Rule, max_items: int = 10_000) -> Rule:
    """A dict of at most max_items entries, keys and values checked by their rules."""

    def rule(name: str, value):
        if not isinstance(value, Mapping) or not 1 <= len(value) <= max_items:
            raise _refuse(name, f"a dict of 1 to {max_items:,} entries", value)
        return {keys_rule(f"{name} key", k): values_rule(f"{name}[{k!r}]", v) for k, v in value.items()}

    return rule


def anything(name: str, value):
    """No rule: the function checks this argument itself (tables, figures, callables)."""
    return value


SEED = integer(0, 2**32 - 1, "a random seed")
SIDE = integer(1, 100_000, "pixels")
HEIGHT_WIDTH = pair_of(SIDE, SIDE, what="a (height, width) pair of pixels")
SECONDS = number(1e-6, 86_400, "seconds")  # a sample at 16 kHz is 62.5 microseconds
FRAME_RATE = number(0.001, 240, "frames per second")
TOKEN_ID = integer(0, 2**31 - 1, "a token id")
TOKEN_IDS = sequence(TOKEN_ID, 1_000_000, empty=True)  # decoding the longest takes about a second
TOKENS = integer(1, 10_000_000, "tokens")
TOKENS_OR_NONE = integer(0, 10_000_000, "tokens")
COUNT = integer(1, 100_000)
STEPS = integer(1, 100_000, "steps")
BILLIONS = number(0, 100_000, "billion parameters")
PIXELS = number(1, 1e10, "pixels")
PIXEL_BUDGET = optional(PIXELS)
FACTOR = integer(1, 1_000, "pixels: patch x merge, 28 or 32 in Qwen")
CHATS = sequence(chat_messages, 20_000)  # ~20 us each into training data: the cap runs in about 1 CPU s, half the
# hostile test's 2 s budget, so a loaded machine (CPU time grows ~1.5x when caches are shared) still passes
_PROMPT_TEXT = text(1_000_000)
_PROMPT_IDS = sequence(TOKEN_ID, 1_000_000)
LOGPROB = number(-1e9, 0, "a log-probability in nats (0 or below)")
BETA = number(1e-9, 100, "the DPO beta")  # lesson 3 shows the loss tend to log 2 as beta goes to 0


def _imported(module: str, class_name: str, what: str) -> Rule:
    """An object of module.class_name, the module imported only when such an argument is checked: the layer itself
    imports no pandas, matplotlib or PIL."""

    def rule(name: str, value):
        return instance(getattr(importlib.import_module(module), class_name), what=what)(name, value)

    return rule


_frame = _imported("pandas", "DataFrame", "a pandas DataFrame")
_series = _imported("pandas", "Series", "a pandas Series")
_picture = _imported("PIL.Image", "Image", "a PIL image (from pictures.decode_preview)")
_one_axes = _imported("matplotlib.axes", "Axes", "matplotlib Axes")


def _axes(name: str, value):
    if isinstance(value, list | tuple | np.ndarray):
        return [_one_axes(f"{name}[{i}]", a) for i, a in enumerate(np.ravel(value))]
    return _imported("matplotlib.axes", "Axes", "matplotlib Axes (or None for a new figure)")(name, value)


def _class_named(class_name: str, what: str) -> Rule:
    """An object whose class is called class_name: the foundation layer does not import the topic module."""

    def rule(name: str, value):
        if type(value).__name__ != class_name:
            raise _refuse(name, what, value)
        return value

    return rule


_vocab = _class_named("TinyVocab", "a TinyVocab (from tinylm.tiny_vocab)")
_tiny_model = _class_named("TinyLM", "a TinyLM (from tinylm.pretrain or tinylm.instruct)")


# the toy model's corpora: windowing, a loss or a training pass over the longest takes about a second
_token_sequences = sequence(sequence(TOKEN_ID, 10_000), 50_000)

def _checkpointing(name: str, value):
    """Gradient checkpointing: True / False, or a kind (lesson 4: none, standard, offload to CPU RAM)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str) and value in FINETUNE_CHECKPOINTING:
        return value
    raise _refuse(name, f"True, False or one of {list(FINETUNE_CHECKPOINTING)}", value)


# lesson 4's fine-tuning settings (finetune_evidence.SETTING_TERMS states what each does and its source)
FINETUNE_CHECKPOINTING = ("none", "standard", "offload")
FINETUNE_OPTIMIZERS = ("adamw", "adamw_8bit", "paged_adamw_8bit", "adafactor")
FINETUNE_LOSSES = ("standard", "fused", "chunked")
FINETUNE_ATTENTIONS = ("flash", "sdpa", "eager")
FINETUNE_OFFLOADS = ("none", "optimizer", "optimizer+parameters")

# The rule of every parameter name used by a public function. A name means one thing across the package.
RULES: dict[str, Rule] = {
    # checkpoints, hardware, formats: strings looked up in data/, which names the known ones
    "model_id": model_id, "arch_id": key, "gpu_id": key, "quantization": key, "precision": key, "method": key,
    "template": key, "vocabulary": optional(key), "transformers_version": text(40, empty=False), "kv_cache_dtype": key, "attention": key, "generation": key, "budget": key, "benchmark": key,
    "group": key, "report": optional(key), "framework": optional(key), "modality": key, "purpose": key, "mode": key,
    "rules": key, "series": key, "variant": key, "line": key, "key": key, "file": key, "name": key, "license": keys,
    "tower": one_of("vision", "audio"), "allowed_special": names, "target_modules": names, "axis": one_of("x", "y"),
    "model_ids": sequence(model_id, 1_000), "gpu_ids": optional(sequence(key, 1_000)),
    # token counts and lengths
    "seq_len": TOKENS, "input_tokens": TOKENS, "output_tokens": TOKENS_OR_NONE, "context_tokens": TOKENS_OR_NONE,
    "tokens_per_example": TOKENS, "reserved_output": TOKENS_OR_NONE, "used_tokens": TOKENS_OR_NONE,
    "max_new_tokens": integer(0, 10_000, "tokens"), "tokens": number(1, 1e16, "training tokens"),
    "flops": number(0, 1e30, "FLOPs"), "n_bytes": integer(0, 100_000_000, "bytes"),
    "n_chars": integer(0, 10_000_000, "characters"), "max_shown": integer(1, 100_000, "tokens"),
    "per_row": integer(1, 1_000, "tokens"), "low": TOKENS_OR_NONE, "high": TOKENS_OR_NONE,
    "min_context": optional(integer(0, 100_000_000, "tokens")),
    "contexts": optional(sequence(integer(1, 10**8, "tokens"), 10_000)),
    "counts": mapping(key, integer(0, 10**12, "tokens")),
    # counts
    "batch": COUNT, "micro_batch": COUNT, "n_gpus": integer(1, 1_024, "GPUs"), "num_gpus": integer(1, 1_024, "GPUs"),
    "num_gpus_bandwidth": integer(1, 1_024, "GPUs"), "rank": integer(1, 65_536), "zero_stage": integer(0, 3),
    "trainable_layers": integer(0, 1_000, "layers"), "n": optional(integer(0, 100_000)), "n_samples": integer(1, 10_000),
    "n_examples": integer(0, 1_000_000, "examples"), "steps": STEPS, "pretrain_steps": STEPS, "instruct_steps": STEPS,
    "batch_size": integer(1, 100_000), "k": integer(1, 10_000), "repeats": integer(1, 10_000),
    "top": integer(1, 100_000, "rows"), "every": integer(1, 1_000), "decimals": integer(0, 6, "decimals"),
    "seed": SEED, "seeds": sequence(SEED, 100),
    # amounts
    "epochs": number(0.001, 10_000, "epochs"), "utilisation": number(0.01, 1, "a share"),
    "headroom": number(0, 0.99, "a share of GPU memory"), "min_score": number(0, 100, "benchmark points"),
    "overhead_gib": number(0, 64, "GiB"), "capacity_gib": number(0.01, 100_000, "GiB"),
    "lr": number(1e-9, 10, "a learning rate"), "temperature": number(0, 100),
    "params_billion": number(1e-6, 100_000, "billion parameters"),
    "bits_per_param": number(1, 64, "bits"), "rel_tol": number(1e-12, 1),
    "min_params_b": optional(BILLIONS), "max_params_b": optional(BILLIONS), "computed_b": BILLIONS,
    "published_b": BILLIONS,
    "size_range": pair_of(number(0, 100_000), number(0, 100_000), what="a (low, high) pair of billions",
                          labels=("low", "high")),
    # pictures and videos
    "height": SIDE, "width": SIDE, "side": SIDE, "resized_height": SIDE, "resized_width": SIDE,
    "display_side": integer(16, 2_000, "pixels"), "max_side": integer(1, 10_000, "pixels"),
    "factor": optional(FACTOR), "scale": number(0.001, 1_000),
    "min_pixels": PIXEL_BUDGET, "max_pixels": PIXEL_BUDGET, "video_max_pixels": PIXEL_BUDGET,
    "total_pixels": optional(number(1, 1e12, "pixels")), "fit_size": optional(HEIGHT_WIDTH),
    "duration_s": SECONDS, "fps": FRAME_RATE, "video_fps": FRAME_RATE,
    # audio (lesson 6): lengths in seconds, token counts of a sound track, a file to read the header of
    "seconds": SECONDS, "grid_t": integer(1, 100_000, "temporal groups"),
    "tokens_per_group": integer(1, 10_000_000, "tokens"), "audio_token_count": integer(0, 10_000_000, "tokens"),
    "sample_counts": anything, "sample_counts.tiny_clip_table": sequence(integer(1, 10**9, "samples at 16 kHz"), 1_000),
    "audios": sequence(SECONDS, 1_000, empty=True), "use_audio_in_video": flag,
    "source_fps": number(0.001, 1_000, "frames per second"), "total_frames": integer(1, 100_000_000, "frames"),
    "images": sequence(pair_of(SIDE, SIDE, what="a (height, width) pair of pixels", labels=("height", "width")),
                       10_000, empty=True),
    "videos": sequence(pair_of(SIDE, SIDE, SECONDS, what="a (height, width, duration_s) triple",
                               labels=("height", "width", "duration_s")), 1_000, empty=True),
    "picture": optional(_picture), "image": _picture, "data": instance(bytes, bytearray, memoryview, what="the bytes of a file"),
    # flags
    "checkpointing": _checkpointing, "as_text": flag, "content_as_text": flag, "fused_loss": flag, "train_embeddings": flag,
    "add_generation_prompt": flag, "enable_thinking": flag, "preserve_thinking": flag, "whole_prompt_logits": flag, "memory_modelled": flag, "passed": flag, "now": flag,
    "visible": flag,
    "progress": lambda name, value: value if isinstance(value, bool) or callable(value) else flag(name, value),
    # text
    "text": text(), "prompt": _PROMPT_TEXT, "question": text(100_000), "prefix": _PROMPT_TEXT, "suffix": _PROMPT_TEXT,
    "repo_name": text(1_000, empty=False), "hint": text(10_000), "praise": text(10_000), "label": text(1_000),
    "note": text(10_000), "message": text(100_000), "css_class": text(200), "version": text(100),
    "system": optional(text(100_000)), "piece": instance(bytes, what="bytes"),
    "files": sequence(pair_of(text(1_000, empty=False), text(10_000_000), what="a (path, text) pair"), 10_000, empty=True),
    "infill": optional(pair_of(text(1_000, empty=False), _PROMPT_TEXT, _PROMPT_TEXT,
                               what="a (path, prefix, suffix) triple")),
    # chats and tokens
    "messages": chat_messages, "chats": sequence(chat_messages, 100_000), "ids": TOKEN_IDS,
    "segments": sequence(instance(tuple, what="a Segment (from tokens.chat_segments)"), 50_000),  # ~1 CPU s, as CHATS
    "sequences": _token_sequences, "loss_masks": _token_sequences, "samples": _token_sequences,
    # tables, figures, toy models and collections the lessons pass around
    "table": optional(_frame), "comparison": optional(_frame), "results": _frame, "rows": _frame, "frame": _frame,
    "params_b": _series, "row": _series, "release": _series, "ax": optional(_axes), "axes": optional(_axes),
    "config": instance(Mapping, what="a config mapping (a Checkpoint or a row of architectures.csv)"),
    "model": _tiny_model, "start": _tiny_model, "base": _tiny_model, "tuned": _tiny_model, "vocab": optional(_vocab),
    "models": mapping(text(100, empty=False), _tiny_model, 20), "questions": sequence(text(10_000), 1_000),
    "prompts": optional(sequence(text_or_ids, 1_000)),
    # preference tuning (lesson 3): pairs of replies, the frozen reference model, DPO's beta, log-probabilities
    "pairs": sequence(_class_named("PreferencePair", "a PreferencePair (from preference.preference_pairs)"), 2_000),
    "reference": _tiny_model, "split": one_of("train", "heldout"),
    "n_pairs": optional(integer(1, 100_000, "pairs")), "beta": BETA,
    "policy_chosen": LOGPROB, "policy_rejected": LOGPROB, "reference_chosen": LOGPROB, "reference_rejected": LOGPROB,
    # left to the function: an exercise answer, a formatter's tick position, a value check_side names itself
    "answer_model_id": anything, "_position": anything, "value": anything,
    # one function's own rule for a name that means something else there ("parameter.function")
    "sizes.image_token_table": _frame, "sizes.worked_examples": sequence(HEIGHT_WIDTH, 1_000),
    "sizes.data_size_experiment": sequence(integer(0, 1_000_000, "examples"), 10),  # a fine-tuning each
    "sizes.starting_point_experiment": sequence(integer(0, 1_000_000, "examples"), 10),
    "settings.worked_examples": sequence(pair_of(text(200), key, key, what="a (label, generation, budget) triple"),
                                         100),
    "samples.script_table": optional(mapping(key, text(1_000_000))), "min_context.explorer_selection": key,
    "value.plain_number": number(-1e300, 1e300), "factor.grid_step": integer(1, 1_000, "pixels"),
    "temperature.probabilities": number(0.001, 5), "answer.chat_example": text(100_000),
    "contexts.probabilities": instance(np.ndarray, what="a 2-D array of token ids"), "vocab.windows": _vocab,
    "table.catalog_problems": _frame, "table.longest_context": _frame, "table.is_moe": _frame,
    "table.architecture_problems": _frame, "table.data_size_figure": _frame, "table.knobs_html": _frame,
    "examples.sft_data": CHATS, "examples.instruction_tune": CHATS,
    "examples.answer_accuracy": sequence(chat_messages, 5_000), "prompts.diversity": sequence(text_or_ids, 200),
    # greedy decoding of every chat: 5,000 run in about a second
    "chats.greedy_replies": sequence(chat_messages, 5_000), "chats.score": sequence(chat_messages, 5_000),
    # lesson 4's fine-tuning settings
    "optimizer": one_of(*FINETUNE_OPTIMIZERS), "loss": one_of(*FINETUNE_LOSSES), "offload": one_of(*FINETUNE_OFFLOADS),
    "packing": flag, "double_quant": flag, "gptq_load_copy": flag, "legacy_cache": flag, "attention.training_memory": one_of(*FINETUNE_ATTENTIONS),
    "attention.activation_bytes": one_of(*FINETUNE_ATTENTIONS), "attention.plan": one_of(*FINETUNE_ATTENTIONS),
}


class _Boundary(threading.local):
    depth = 0


# Arguments are checked where they enter the package: a public function called by another one gets values the
# package made from checked ones, so it runs unchecked (the inner calls of a widget update cost nothing). Code
# from outside that the package calls (a learner's progress callback or answer function, a widget's observer)
# runs through outside(), so whatever it passes back in is checked again.
_BOUNDARY = _Boundary()


def outside(function: Callable) -> Callable:
    """function, wrapped so that package functions it calls check their arguments even when it is called from
    inside a checked call (its values come from a learner or a widget, not from the package)."""
    if getattr(function, "__outside__", False):
        return function

    @functools.wraps(function)
    def from_outside(*args, **kwargs):
        depth, _BOUNDARY.depth = _BOUNDARY.depth, 0
        try:
            return function(*args, **kwargs)
        finally:
            _BOUNDARY.depth = depth

    from_outside.__outside__ = True
    return from_outside


RELATIONS: list[tuple[tuple[str, ...], Callable[[dict], None]]] = []


def relation(*requires: str):
    """Register check(arguments) for every checked function whose parameters include all of `requires` (called by
    the module that knows the facts, models.py); @checked runs it after the per-argument rules with the checked
    arguments by name (defaults filled in), and it raises ValueError naming the argument."""
    def register(check: Callable[[dict], None]) -> Callable[[dict], None]:
        RELATIONS.append((requires, check))
        return check

    return register


def _missing_column(error: KeyError, arguments: dict) -> ValueError | None:
    """A KeyError for a column a table argument lacks, as the one-line ValueError naming that argument."""
    missing = error.args[0] if len(error.args) == 1 else None
    if not isinstance(missing, str):
        return None
    for name, value in arguments.items():
        kind = type(value).__name__
        labels = getattr(value, "columns" if kind == "DataFrame" else "index" if kind == "Series" else "", None)
        if labels is not None and missing not in labels:
            what = "a table" if kind == "DataFrame" else "a row"
            return ValueError(f"{name} must be {what} with a {missing!r} column, as the lesson's loader returns; "
                              f"it has {choices(list(labels)[:50], 'columns')}"[:MAX_MESSAGE_CHARS])
    return None


def checked(function=None, /, **overrides: Rule | None):
    """Check a public function's arguments by their parameters' rules before it runs (see the module docstring).

    ``@checked`` uses RULES (a "parameter.function" entry is that function's own rule); ``@checked(examples=
    integer(0, 10))`` gives one parameter a rule for this function only, and ``=anything`` leaves it to the function.
    A value equal to the parameter's default is not checked (a default of None means "not given"). A callable
    argument is wrapped by outside(); the RELATIONS whose parameters the function has run after the rules."""
    if function is None:
        return functools.partial(checked, **overrides)
    signature = inspect.signature(function)
    unknown = set(overrides) - set(signature.parameters)
    if unknown:
        raise TypeError(f"@checked on {function.__qualname__}: no parameter(s) {sorted(unknown)}")
    short = function.__name__
    rules = {name: overrides[name] if name in overrides else RULES.get(f"{name}.{short}", RULES.get(name))
             for name in signature.parameters}
    active = {name: rule for name, rule in rules.items() if rule is not None and rule is not anything}
    parameters = list(signature.parameters.values())
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters)
    defaults = {p.name: p.default for p in parameters}
    related: list = []  # the relations that apply, found at the first call (modules register them on import)
    relations_seen = -1

    def check(name, value):
        default = defaults.get(name, inspect.Parameter.empty)
        if value is default and (default is None or isinstance(default, bool | str | int | float)):
            return value
        return active[name](name, value)

    def admit(name, value):
        if name in active:
            value = check(name, value)
        return outside(value) if callable(value) and not isinstance(value, type) else value

    def named(args, kwargs) -> dict:
        given = {name: default for name, default in defaults.items() if default is not inspect.Parameter.empty}
        given.update(zip(positional, args, strict=False))  # fewer arguments than parameters: the rest are defaults
        given.update(kwargs)
        return given

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        nonlocal relations_seen
        if _BOUNDARY.depth:  # called by the package itself, with values it made from checked ones
            return function(*args, **kwargs)
        if simple and len(args) <= len(positional) and not set(kwargs) - set(defaults):
            args = [admit(name, value) for name, value in zip(positional[:len(args)], args, strict=True)]
            kwargs = {name: admit(name, value) for name, value in kwargs.items()}
        else:
            bound = signature.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                if name in active:
                    bound.arguments[name] = check(name, value)
            args, kwargs = bound.args, bound.kwargs
        if not simple:  # *args / **kwargs pass unchecked values on: the functions they reach check them
            return function(*args, **kwargs)
        if relations_seen != len(RELATIONS):
            related[:] = [check for requires, check in RELATIONS if set(requires) <= set(defaults)]
            relations_seen = len(RELATIONS)
        if related:
            arguments = named(args, kwargs)
            for relate in related:
                relate(arguments)
        _BOUNDARY.depth += 1
        try:
            return function(*args, **kwargs)
        except KeyError as error:
            refusal = _missing_column(error, named(args, kwargs))
            if refusal is None:
                raise
            raise refusal from None
        finally:
            _BOUNDARY.depth -= 1

    wrapper.__checked__ = rules
    return wrapper
