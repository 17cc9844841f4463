"""Lesson 2 (02_base_vs_instruct): the token viewer. Type text or a conversation and see the coloured tokens,
their ids and what the chat template adds.

``view_tokens``, ``view_html`` and ``view_summary`` are the pure steps; ``token_viewer`` lays out the controls
and wires them with ``qwen_lessons.ui.wire``.
"""

from __future__ import annotations

import html
from types import SimpleNamespace
from typing import NamedTuple

from qwen_lessons import ui
from qwen_lessons.tokens import (
    FIM_MARKER,
    MAX_SHOWN_TOKENS,
    MAX_VIEWER_CHARS,
    TEMPLATE_VOCABULARY,
    TEMPLATES,
    VIEW_MODES,
    chat_segments,
    encode,
    encode_segments,
    marker_strings_in_content,
    fim_segments,
    mixed_text,
    parse_conversation,
    template_special,
    token_bytes,
    token_label,
)
from qwen_lessons.ui import guarded, wire
from qwen_lessons.language import translate as _
from qwen_lessons import validation
from qwen_lessons.validation import checked

_TINTS = ("#CCE3F0", "#F8E5BF", "#BFE7DC", "#F0DAE7", "#D5ECFA", "#F4D3BF")  # light Okabe-Ito tints
_TEMPLATE_STYLE = "background:#4D4D4D;color:#FFFFFF"


class TokenView(NamedTuple):
    """What the viewer shows: the token ids, which came from the template, and the rendered prompt."""

    ids: list[int]
    from_template: list[bool]
    prompt: str
    mode: str
    typed_markers: tuple[str, ...] = ()  # special-token strings found inside message content (kept as text)
    vocabulary: str = "qwen2"  # the vocabulary the ids belong to: the template's models' (Qwen3.5/3.6: "qwen3.5")


@checked
def view_tokens(text: str, mode: str = "base (raw text)", template: str = "qwen2.5", enable_thinking: bool = True) -> TokenView:
    """Tokenise text as a model would receive it: raw (base), rendered by the chat template, or as a FIM prompt."""
    if mode not in VIEW_MODES:
        raise ValueError(f"mode must be one of {VIEW_MODES}, got {mode!r}")
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("the text is empty: type something to tokenize")
    if len(text) > MAX_VIEWER_CHARS:
        raise ValueError(f"the text has {len(text):,} characters; the viewer takes at most {MAX_VIEWER_CHARS:,}")
    if mode == "base (raw text)":
        ids = encode(text)
        return TokenView(ids, [False] * len(ids), text, mode)
    if mode == "FIM":
        if text.count(FIM_MARKER) != 1:
            raise ValueError(f"FIM mode needs exactly one {FIM_MARKER} marker where the middle goes (found {text.count(FIM_MARKER)})")
        prefix, suffix = text.split(FIM_MARKER)
        vocabulary = TEMPLATE_VOCABULARY["qwen2.5"]  # the Coder line's
        tokenized = encode_segments(fim_segments(prefix, suffix), template_special("qwen2.5"), vocabulary=vocabulary)
    else:
        messages = parse_conversation(text)
        # a conversation that already ends with the assistant's turn needs no prompt for another one
        prompt_next = messages[-1]["role"] != "assistant"
        segments = chat_segments(messages, template, prompt_next, enable_thinking)
        vocabulary = TEMPLATE_VOCABULARY[template]  # Qwen3.5/3.6 templates: ids of the Qwen3.5 vocabulary
        tokenized = encode_segments(segments, template_special(template), vocabulary=vocabulary)
    from_template = [tokenized.segments[index].part == "template" for index in tokenized.segment_of]
    typed = tuple(marker_strings_in_content(tokenized.segments))
    return TokenView(tokenized.ids, from_template, "".join(s.text for s in tokenized.segments), mode, typed,
                     vocabulary)


def _token_span(token_id: int, piece: bytes, from_template: bool, position: int) -> str:
    """One coloured token with its id underneath; newlines are shown as ↵ and then break the line."""
    label = token_label(piece)
    shown = html.escape(label).replace("\n", "↵").replace(" ", "&nbsp;") or "&nbsp;"
    style = _TEMPLATE_STYLE if from_template else f"background:{_TINTS[position % len(_TINTS)]}"
    span = (
        f'<span title="token {position}: id {token_id}" style="{style};display:inline-block;margin:1px;'
        f'padding:0 2px;border-radius:3px;font-family:monospace;line-height:1.1;text-align:center">'
        f'{shown}<br><span style="font-size:70%;opacity:.8">{token_id}</span></span>'
    )
    return span + ("<br>" if label.endswith("\n") else "")


@checked(view=validation.instance(TokenView, what="a TokenView (from view_tokens)"))
def view_html(view: TokenView, max_shown: int = MAX_SHOWN_TOKENS) -> str:
    """Coloured tokens with ids; at most max_shown are drawn and the rest are counted, so big inputs stay fast."""
    shown_ids = view.ids[:max_shown]
    pieces = token_bytes(shown_ids, vocabulary=view.vocabulary)
    spans = "".join(
        _token_span(token, piece, view.from_template[i], i) for i, (token, piece) in enumerate(zip(shown_ids, pieces, strict=True))
    )
    note = ""
    if len(view.ids) > max_shown:
        note = ('<div class="qwen-token-truncated" style="font-style:italic">'
                + _("Showing the first {shown} of {total} tokens; the counts above cover all of them.").format(
                    shown=f"{max_shown:,}", total=f"{len(view.ids):,}") + "</div>")
    return f'<div style="max-height:420px;overflow-y:auto">{spans}</div>{note}'


@checked(view=validation.instance(TokenView, what="a TokenView (from view_tokens)"))
def view_summary(view: TokenView) -> str:
    """One line: total tokens, how many the template added, and the characters per token."""
    total = len(view.ids)
    added = sum(view.from_template)
    characters = len(view.prompt)
    line = _("<b>{total}</b> tokens for {characters} characters ({ratio} characters per token)").format(
        total=f"{total:,}", characters=f"{characters:,}", ratio=f"{characters / max(total, 1):.2f}")
    if view.mode != "base (raw text)":
        share = 100 * added / max(total, 1)
        line += _("; the template adds <b>{added}</b> of them ({share}%, dark tokens)").format(
            added=f"{added:,}", share=f"{share:.0f}")
    else:
        line += _("; a base model receives the text as it is: no template tokens")
    if view.typed_markers:
        names = ", ".join(html.escape(marker) for marker in view.typed_markers)
        line += "<br>" + _("⚠ the messages contain marker text ({names}): shown as ordinary tokens, because only the "
                           "template may write control tokens (lesson 2, special-token injection)").format(names=names)
    return line


@checked(mode=validation.one_of(*VIEW_MODES))
def token_viewer(
    text: str = "user: What is a base model?\nassistant: A model that continues text.",
    mode: str = "instruct (ChatML)",
):
    """Widget: type text or a conversation and see the coloured tokens, ids and template cost; returns a namespace."""
    import ipywidgets as widgets


    text_box = widgets.Textarea(value=text, description="Text", layout=widgets.Layout(width="95%", height="120px"))
    mode_buttons = widgets.ToggleButtons(options=list(VIEW_MODES), value=mode, description="Model sees")
    template_menu = widgets.Dropdown(options=list(TEMPLATES), value="qwen2.5", description="Template")
    thinking = widgets.Checkbox(value=True, description="enable_thinking (Qwen3)")
    summary = ui.html_output("qwen-token-summary")
    tokens = ui.html_output("qwen-token-view")

    def update(_change=None):
        state = {}

        def render_tokens():
            state["view"] = view_tokens(text_box.value, mode_buttons.value, template_menu.value, thinking.value)
            return view_html(state["view"])

        tokens.value = guarded(render_tokens)
        summary.value = view_summary(state["view"]) if "view" in state else ""

    wire((text_box, mode_buttons, template_menu, thinking), update)
    box = widgets.VBox([text_box, mode_buttons, ui.row([template_menu, thinking]), summary, tokens])
    return SimpleNamespace(
        text=text_box, mode=mode_buttons, template=template_menu, thinking=thinking, summary=summary, tokens=tokens, box=box
    )


@checked
def viewer_latency(n_chars: int = 2000, repeats: int = 15) -> float:
    """Median seconds for one token-viewer update (text set, ChatML mode) on an n_chars input."""
    import statistics
    import time

    for name, value, least in (("n_chars", n_chars, 7), ("repeats", repeats, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be a whole number >= {least}, got {value!r}")
    demo = token_viewer(mode="instruct (ChatML)")
    text = "user: " + mixed_text(4 * n_chars)[: n_chars - 6]
    timings = []
    for i in range(repeats):
        start = time.perf_counter()
        demo.text.value = text[: len(text) - (i % 2)]  # alternate, so every set is a real change
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)
