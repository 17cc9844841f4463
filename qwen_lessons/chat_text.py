"""Lesson 2 (02_base_vs_instruct): a conversation typed as text ('user: ...', 'assistant: ...' lines) read into the
chat messages the templates of qwen_lessons.tokens render (re-exported there, where the token viewer reads them).
"""

from __future__ import annotations

import re

from qwen_lessons.validation import checked

ROLES = ("system", "user", "assistant")  # the roles every Qwen chat template knows
_ROLE_LINE = re.compile(r"^([A-Za-z][A-Za-z_-]{0,19}):[ \t]?(.*)$")
# names people try for a role; the template knows only system/user/assistant
_WRONG_ROLES = {"bot", "ai", "human", "model", "tool", "function", "developer", "gpt", "chatbot", "agent", "qwen"}


@checked
def parse_conversation(text: str) -> list[dict]:
    """Read lines 'user: ...', 'assistant: ...', 'system: ...' into messages; text without roles is one user message."""
    if not text.strip():
        raise ValueError("the text is empty: type a message, or lines such as 'user: Hello'")
    turns: list[tuple[str, list[str]]] = []  # (role, lines): lists, because += on a 1 MB string is quadratic
    preamble: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        match = _ROLE_LINE.match(line)
        word = match.group(1).lower() if match else ""
        if word in _WRONG_ROLES:
            raise ValueError(f"line {number}: role {match.group(1)!r} is not a chat role; use system, user or assistant")
        if word in ROLES:
            turns.append((word, [match.group(2)]))
        elif turns:
            turns[-1][1].append(line)
        else:
            preamble.append(line)
    if not turns:
        return [{"role": "user", "content": text.strip("\n")}]
    if "".join(preamble).strip():
        raise ValueError("text before the first 'role:' line; start each message with system:, user: or assistant:")
    return [{"role": role, "content": "\n".join(lines).strip("\n")} for role, lines in turns]
