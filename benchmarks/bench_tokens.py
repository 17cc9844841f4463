"""Benchmarks for lesson 2: tokenizer throughput, token-viewer updates, tiny-model training time."""

from __future__ import annotations

import itertools

from run import Case
from qwen_lessons.widgets import base_vs_instruct as widget


def cases() -> list[Case]:
    from qwen_lessons import tinylm, tokens

    megabyte = tokens.mixed_text(1_000_000)
    tokens.encoding()  # load the vocabulary once, outside the timings

    def encode_megabyte():
        figures = tokens.throughput(megabyte)
        return {"tokens": f"{figures['tokens']:,}", "tokens/s": f"{figures['tokens_per_s'] / 1e6:.2f}M"}

    viewer = widget.token_viewer(mode="instruct (ChatML)")
    text = "user: " + tokens.mixed_text(8000)[:1994]  # 2,000 characters as a one-message conversation
    variants = itertools.cycle([text, text[:-1]])  # every update is a real change of the value

    def update_viewer():
        viewer.text.value = next(variants)

    big_viewer = widget.token_viewer(mode="base (raw text)")
    big_variants = itertools.cycle([megabyte, megabyte[:-1]])

    def update_viewer_megabyte():
        big_viewer.text.value = next(big_variants)
        return {"drawn tokens": f"{tokens.MAX_SHOWN_TOKENS:,} (rest counted)"}

    def train_both():
        tinylm.clear_cache()
        base = tinylm.pretrain(seed=0, progress=False)
        tuned = tinylm.instruct(1000, seed=0, progress=False)
        return {"pretrain": f"{base.train_seconds:.2f} s", "tune (1,000 chats)": f"{tuned.train_seconds:.2f} s"}

    def tune_only():
        base = tinylm.pretrain(seed=0, progress=False)
        tinylm.instruction_tune(base, tinylm.instruction_examples(100), progress=False)

    return [
        Case("02 tokenizer: encode 1 MB of mixed text", 1.0, encode_megabyte, repeats=7),
        Case("02 token viewer update, 2,000 characters (ChatML)", 0.1, update_viewer, repeats=50),
        Case("02 token viewer update, 1 MB input (truncated display)", 1.0, update_viewer_megabyte, repeats=5),
        Case("02 tiny model: pretrain + instruction-tune (1,000 chats)", 20.0, train_both, repeats=3),
        Case("02 tiny model: instruction-tune only (100 chats)", 5.0, tune_only, repeats=5),
    ]
