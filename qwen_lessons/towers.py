"""Vision and audio towers: the encoders a VL or Omni checkpoint holds beside its language model (lesson 1).

``data/towers.csv`` gives each tower's config values; the counting below follows the layer structure of
transformers' published modeling code (files and commits in ``data/README.md``), read as shapes, never imported:

* ``qwen2_vl`` (Qwen2-VL): a Conv3d patch embedding without bias; blocks of LayerNorm (weight and bias),
  one fused ``qkv`` and a ``proj`` projection with biases, an ``fc1``/``fc2`` GELU MLP with biases; a merger of
  LayerNorm ``ln_q`` and two Linear layers (4h -> 4h -> language-model width) over 2x2 merged patches.
* ``qwen2_5_vl`` (Qwen2.5-VL): the same, with RMSNorm (weight only) and a gated ``gate``/``up``/``down`` MLP
  with biases; the merger's ``ln_q`` is an RMSNorm.
* ``qwen3_vl`` (Qwen3-VL): Conv3d patch embedding *with* bias, a learned position table
  (``num_position_embeddings`` x h), LayerNorm blocks with an ``fc1``/``fc2`` GELU MLP, the merger, and one
  DeepStack merger per deepstack index (LayerNorm over the 4h merged vector, then the same two Linear layers).
* ``qwen2_5_omni_audio`` (Qwen2.5-Omni's Whisper-style audio encoder): two Conv1d layers (k=3, with bias),
  LayerNorm blocks with q/v/out projections with bias and k without, an fc1/fc2 MLP with biases, ``ln_post``,
  a projection to the language model's width and a 2-row ``audio_bos_eos_token`` embedding. Its sinusoidal
  position table is a buffer, not a parameter.

``count_with_towers`` adds the towers to the language model's count; the memory calculators keep the language
model only (they say so where they present a checkpoint with towers).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pandas as pd

from qwen_lessons import models
from qwen_lessons.catalog import lines_taking, load_catalog
from qwen_lessons.data import read_table, row_as_dict
from qwen_lessons.language import translate as _
from qwen_lessons.validation import checked, choices

TOWERS_FILE = "towers.csv"
KINDS = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen2_5_omni_audio")
VISION_KINDS = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")
MLPS = ("gelu", "swiglu")
NORMS = ("layernorm", "rmsnorm")
# the columns every tower of a kind needs to be counted
NEEDS = MappingProxyType({
    **{kind: ("depth", "hidden_size", "intermediate_size", "num_heads", "patch_size", "temporal_patch_size",
              "in_channels", "spatial_merge_size", "out_hidden_size") for kind in VISION_KINDS},
    "qwen2_5_omni_audio": ("depth", "hidden_size", "intermediate_size", "num_heads", "out_hidden_size",
                           "num_mel_bins"),
})


@checked
def load_towers() -> pd.DataFrame:
    """Return data/towers.csv: one row per (model_id, tower), integers as Int64, flags as nullable booleans."""
    return read_table(TOWERS_FILE, check=tower_problems)


@checked
def tower_problems(table: pd.DataFrame) -> list[str]:
    """List every rule the tower table breaks (empty list = valid); pure, so tests can feed bad tables."""
    table = load_towers() if table is None else table
    problems: list[str] = []
    for _index, row in table.iterrows():
        label = f"{row['model_id']} ({row['tower']})"
        kind = row["kind"]
        if kind not in KINDS:
            problems.append(f"{label}: kind {kind!r} is not one of {list(KINDS)}")
            continue
        if (row["tower"] == "vision") != (kind in VISION_KINDS):
            problems.append(f"{label}: tower {row['tower']!r} does not match kind {kind!r}")
        for column in NEEDS[kind]:
            value = row[column]
            if pd.isna(value) or value <= 0:
                problems.append(f"{label}: {column} must be a positive integer for a {kind} tower")
        if row["mlp"] not in MLPS:
            problems.append(f"{label}: mlp {row['mlp']!r} is not one of {list(MLPS)}")
        if row["norm"] not in NORMS:
            problems.append(f"{label}: norm {row['norm']!r} is not one of {list(NORMS)}")
        heads, width = row["num_heads"], row["hidden_size"]
        if not pd.isna(heads) and not pd.isna(width) and heads > 0 and width % heads:
            problems.append(f"{label}: num_heads must divide hidden_size")
        if kind == "qwen3_vl" and (pd.isna(row["num_position_embeddings"]) or row["num_position_embeddings"] <= 0):
            problems.append(f"{label}: a qwen3_vl tower needs num_position_embeddings")
    return problems


def _norm(width: int, norm: str) -> int:
    return 2 * width if norm == "layernorm" else width


def _linear(rows: int, cols: int, bias: bool = True) -> int:
    return rows * cols + (cols if bias else 0)


def _vision_parts(t: Mapping) -> dict[str, int]:
    h, i = t["hidden_size"], t["intermediate_size"]
    merged = h * t["spatial_merge_size"] ** 2
    patch = t["in_channels"] * t["temporal_patch_size"] * t["patch_size"] ** 2 * h + (h if t["patch_bias"] else 0)
    mlp = (3 * h * i + 2 * i + h) if t["mlp"] == "swiglu" else (_linear(h, i) + _linear(i, h))
    block = 2 * _norm(h, t["norm"]) + _linear(h, 3 * h) + _linear(h, h) + mlp
    projector = _linear(merged, merged) + _linear(merged, t["out_hidden_size"])
    return {
        "patch_embed": patch,
        "pos_embed": (t["num_position_embeddings"] or 0) * h,
        "blocks": t["depth"] * block,
        "merger": _norm(h, t["norm"]) + projector,
        "deepstack_mergers": (t["deepstack_mergers"] or 0) * (_norm(merged, "layernorm") + projector),
    }


def _audio_parts(t: Mapping) -> dict[str, int]:
    d, ffn, mel = t["hidden_size"], t["intermediate_size"], t["num_mel_bins"]
    attention = 3 * _linear(d, d) + _linear(d, d, bias=False)  # q, v, out with bias; k without
    block = 2 * _norm(d, "layernorm") + attention + _linear(d, ffn) + _linear(ffn, d)
    return {
        "convolutions": (mel * 3 * d + d) + (d * 3 * d + d),
        "blocks": t["depth"] * block,
        "projection": _norm(d, "layernorm") + _linear(d, t["out_hidden_size"]) + 2 * t["out_hidden_size"],
    }


def _towers_of(model_id: str) -> list[dict]:
    table = load_towers()
    rows = table[table["model_id"].str.lower() == model_id.lower()]
    return [row_as_dict(row) for _, row in rows.iterrows()]


def _model_id(model_id) -> str:
    return model_id.model_id if isinstance(model_id, models.Checkpoint) else models.normalize_model_id(model_id)


@checked
def tower_parts(model_id, tower: str) -> dict[str, int]:
    """Parameters of one tower of a checkpoint, by part (patch embedding, position table, blocks, merger(s) for
    vision; convolutions, blocks, projection for audio); ValueError when the table lists no such tower."""
    name = _model_id(model_id)
    found = [row for row in _towers_of(name) if row["tower"] == tower]
    if not found:
        listed = sorted(load_towers()["model_id"].unique())
        raise ValueError(f"model_id {name!r} has no {tower} tower in data/towers.csv; it must be "
                         f"{choices(listed, 'ids with towers', 'towers.load_towers()')}")
    row = {key: (0 if value is None or (not isinstance(value, str) and pd.isna(value)) else value)
           for key, value in found[0].items()}
    return _vision_parts(row) if row["kind"] in VISION_KINDS else _audio_parts(row)


@checked
def tower_parameters(model_id) -> dict[str, int]:
    """{tower: parameters} for every tower data/towers.csv lists for the checkpoint; {} for a text-only one."""
    name = _model_id(model_id)
    return {row["tower"]: sum(tower_parts(name, row["tower"]).values()) for row in _towers_of(name)}


@checked
def count_with_towers(model_id) -> tuple[int, int]:
    """(total, active) of the whole checkpoint: the language model plus every tower the table lists.

    A tower runs whole for every image or clip, so all of it counts as active.
    """
    total, active = models.count_parameters(model_id)
    extra = sum(tower_parameters(model_id).values())
    return total + extra, active + extra


@checked
def towers_vs_published() -> pd.DataFrame:
    """Every tower with a published size: computed vs published (millions), error in percent."""
    table = load_towers()
    rows = []
    for _index, row in table[table["published_params_m"].notna()].iterrows():
        computed = sum(tower_parts(row["model_id"], row["tower"]).values()) / 1e6
        published = float(row["published_params_m"])
        rows.append({"model_id": row["model_id"], "tower": row["tower"], "published_m": published,
                     "computed_m": computed, "error_pct": 100 * (computed / published - 1),
                     "source": row["published_source"]})
    return pd.DataFrame(rows, columns=["model_id", "tower", "published_m", "computed_m", "error_pct", "source"])




@checked
def towers_note(model_id) -> str:
    """One sentence for calculators that count the language model only: what they leave out ('' for text models)."""
    name = _model_id(model_id)
    counted = tower_parameters(name)
    if counted:
        parts = _(" and ").join(
            (_("an audio tower of {billions}B parameters ({gib} GiB in bf16)") if tower == "audio" else
             _("a {tower} tower of {billions}B parameters ({gib} GiB in bf16)")).format(
                tower=_(tower), billions=f"{count / 1e9:.2f}", gib=f"{2 * count / 2**30:.2f}")
            for tower, count in counted.items())
        catalog = load_catalog().set_index("model_id")
        more = (_(" (and parts data/towers.csv does not list)")
                if name in catalog.index and catalog.at[name, "line"] == "omni" else "")
        return _("These figures count the language model only; {model} also holds {parts}{more}.").format(
            model=name, parts=parts, more=more)
    catalog = load_catalog().set_index("model_id")
    if name in catalog.index and catalog.at[name, "line"] in lines_taking("image"):  # a vision tower
        return _("These figures count the language model only; {model} also holds encoder towers that "
                 "data/towers.csv does not list yet.").format(model=name)
    return ""
