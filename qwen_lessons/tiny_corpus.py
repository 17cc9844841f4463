"""Lessons 2, 4 and 3 (02_base_vs_instruct, 04_fine_tuning, 03_preference_tuning): the tiny model's course-written
data. The pretraining corpus (data/tiny_corpus.txt), the instruction table (data/tiny_instructions.csv) and the chats
built from it. qwen_lessons.tinylm re-exports every name here, where the lessons read them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from qwen_lessons import validation
from qwen_lessons.validation import checked

CUSTOM_SYSTEM = "You are a short and helpful assistant."
# Question wordings for the instruction examples (course-written); {topic} comes from tiny_instructions.csv.
TRAIN_QUESTIONS = (
    "What is {topic}?",
    "Tell me about {topic}.",
    "Explain {topic}.",
    "Describe {topic} briefly.",
    "What do you know about {topic}?",
    "Give me a short note on {topic}.",
    "Can you explain {topic}?",
    "I want to learn about {topic}.",
    "Please describe {topic}.",
    "Say something about {topic}.",
    "Write one sentence about {topic}.",
    "What should I know about {topic}?",
    "Help me understand {topic}.",
    "Quick question: what is {topic}?",
    "In a few words, what is {topic}?",
    "Teach me about {topic}.",
    "Summarize {topic}.",
    "Briefly, what is {topic}?",
    "Could you describe {topic}?",
    "I have a question about {topic}.",
)
HELDOUT_QUESTIONS = (
    "Define {topic}.",
    "Remind me what {topic} is.",
    "What exactly is {topic}?",
    "Give a short answer: what is {topic}?",
)


# ---------------------------------------------------------------- data


@checked
@lru_cache(maxsize=1)
def corpus_text() -> str:
    """The course-written pretraining corpus (data/tiny_corpus.txt)."""
    from qwen_lessons.data import data_path

    return data_path("tiny_corpus.txt").read_text(encoding="utf-8")


@checked
def corpus_paragraphs() -> list[str]:
    """The corpus split into paragraphs: each is one pretraining document."""
    return [paragraph.strip() for paragraph in corpus_text().split("\n\n") if paragraph.strip()]


@lru_cache(maxsize=1)
def _instruction_table():
    from qwen_lessons.data import read_table

    return read_table("tiny_instructions.csv")


@checked
def topics() -> list[tuple[str, str]]:
    """(topic, answer) pairs of data/tiny_instructions.csv."""
    table = _instruction_table()
    return list(zip(table["topic"].tolist(), table["answer"].tolist(), strict=True))


@checked
def chat_example(question: str, answer: str, system: str | None = None) -> list[dict]:
    """One instruction example as chat messages (optionally with a system message)."""
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


@checked
def instruction_examples(n: int, seed: int = 0) -> list[list[dict]]:
    """n distinct training chats: topics x question wordings x (default or custom system message), shuffled by seed."""
    combos = [
        (topic, answer, question, system)
        for topic, answer in topics()
        for question in TRAIN_QUESTIONS
        for system in (None, CUSTOM_SYSTEM)
    ]
    n = validation.integer(1, len(combos), "chats")("n", n)  # the layer's rule, with the limit the table sets
    order = np.random.default_rng(seed).permutation(len(combos))[:n]
    return [chat_example(combos[i][2].format(topic=combos[i][0]), combos[i][1], combos[i][3]) for i in order]


@checked
def heldout_examples() -> list[list[dict]]:
    """Chats with question wordings never used in training, one per topic (for held-out loss)."""
    return [
        chat_example(HELDOUT_QUESTIONS[i % len(HELDOUT_QUESTIONS)].format(topic=topic), answer)
        for i, (topic, answer) in enumerate(topics())
    ]
