"""Lesson 1: the sourced catalog of Qwen checkpoints, their architectures, and parameter counts from configs."""

from __future__ import annotations

import pandas as pd

from qwen_lessons.data import read_table

ARCHITECTURES_FILE = "architectures.csv"

ARCH_INT_COLUMNS = (
    "num_hidden_layers",
    "hidden_size",
    "intermediate_size",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "vocab_size",
    "max_position_embeddings",
    "num_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "shared_expert_intermediate_size",
)
ARCH_BOOL_COLUMNS = ("tie_word_embeddings", "attention_bias", "qk_norm")
ARCH_STR_COLUMNS = ("model_id", "architecture", "torch_dtype", "source", "notes")
ARCH_DTYPES = {
    **{column: "Int64" for column in ARCH_INT_COLUMNS},
    **{column: "boolean" for column in ARCH_BOOL_COLUMNS},
    **{column: "string" for column in ARCH_STR_COLUMNS},
}


def load_architectures() -> pd.DataFrame:
    """Return data/architectures.csv: one row per model_id, integers as Int64, flags as nullable booleans."""
    return read_table(ARCHITECTURES_FILE, dtypes=ARCH_DTYPES, required=tuple(ARCH_DTYPES))


def get_architecture(model_id: str) -> dict:
    """Return one model's architecture row as a dict (missing values as None); ValueError lists valid ids."""
    table = load_architectures()
    match = table[table["model_id"] == model_id]
    if match.empty:
        valid = ", ".join(table["model_id"])
        raise ValueError(f"model_id {model_id!r} has no architecture row; valid ids: {valid}")
    row = match.iloc[0]
    return {column: (None if pd.isna(value) else _plain(value)) for column, value in row.items()}


def _plain(value):
    """Turn numpy/pandas scalars into plain Python int/bool/str so callers can do exact arithmetic."""
    if hasattr(value, "item"):
        return value.item()
    return value
