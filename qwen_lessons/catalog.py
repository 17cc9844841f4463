"""Lesson 1: the sourced catalog of Qwen checkpoints, their architectures, and parameter counts from configs."""

from __future__ import annotations

import html
from collections.abc import Iterable
from functools import lru_cache
from types import SimpleNamespace
from typing import NamedTuple

import pandas as pd

from qwen_lessons.data import DataFileError, data_path, read_table, row_as_dict

CATALOG_FILE = "catalog.csv"
ARCHITECTURES_FILE = "architectures.csv"

# Allowed values, in teaching order (generations oldest first).
GENERATIONS = ("Qwen1", "Qwen1.5", "Qwen2", "Qwen2.5", "Qwen3", "Qwen3-2507", "Qwen3-Next", "Qwen3.5")
LINES = ("text", "code", "math", "vision-language", "audio", "omni", "reasoning")
VARIANTS = ("base", "chat", "instruct", "hybrid", "thinking", "captioner", "reward")
LICENSES = (
    "Apache-2.0",
    "Qwen License",
    "Qwen Research License",
    "Tongyi Qianwen License",
    "Tongyi Qianwen Research License",
)
PARAMS_BASES = ("card", "name", "assumed")
EXTENSION_METHODS = ("none", "YaRN")
UNVERIFIED = "unverified"  # filter value that selects rows whose cell is empty

CATALOG_DTYPES = {
    "model_id": "string",
    "generation": "string",
    "series": "string",
    "line": "string",
    "variant": "string",
    "params_b": "Float64",
    "active_params_b": "Float64",
    "params_basis": "string",
    "context_length": "Int64",
    "extended_context": "Int64",
    "extension_method": "string",
    "license": "string",
    "release": "string",
    "vision_patch_size": "Int64",
    "vision_merge_size": "Int64",
    "image_tokens_fixed": "Int64",
    "fill_in_middle": "boolean",
    "source": "string",
    "notes": "string",
}

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
    "full_attention_interval",
    "linear_num_key_heads",
    "linear_num_value_heads",
    "linear_key_head_dim",
    "linear_value_head_dim",
    "linear_conv_kernel_dim",
)
ARCH_BOOL_COLUMNS = ("tie_word_embeddings", "attention_output_gate", "attention_bias", "qk_norm")
ARCH_STR_COLUMNS = ("model_id", "architecture", "torch_dtype", "source", "notes")
ARCH_DTYPES = {
    **{column: "Int64" for column in ARCH_INT_COLUMNS},
    **{column: "boolean" for column in ARCH_BOOL_COLUMNS},
    **{column: "string" for column in ARCH_STR_COLUMNS},
}
ARCHITECTURES = ("qwen2", "qwen3", "qwen3_moe", "qwen3_next")


# ---------------------------------------------------------------------------------------------------------------
# Loading and validation
# ---------------------------------------------------------------------------------------------------------------


def load_catalog() -> pd.DataFrame:
    """Return data/catalog.csv (one row per checkpoint) with explicit dtypes, after validating it."""
    return _checked_table(CATALOG_FILE, *_file_stamp(CATALOG_FILE)).copy()


def load_architectures() -> pd.DataFrame:
    """Return data/architectures.csv: one row per model_id, integers as Int64, flags as nullable booleans."""
    return _checked_table(ARCHITECTURES_FILE, *_file_stamp(ARCHITECTURES_FILE)).copy()


def _file_stamp(name: str) -> tuple[str, int]:
    """Path and modification time of a data file, so the validated-table cache notices a changed file."""
    path = data_path(name)
    return str(path), path.stat().st_mtime_ns


@lru_cache(maxsize=8)
def _checked_table(name: str, path: str, mtime_ns: int) -> pd.DataFrame:
    """Read and validate one of this module's tables once per file version (validation is the slow part)."""
    if name == CATALOG_FILE:
        table = read_table(name, dtypes=CATALOG_DTYPES, required=tuple(CATALOG_DTYPES))
        problems = catalog_problems(table)
    else:
        table = read_table(name, dtypes=ARCH_DTYPES, required=tuple(ARCH_DTYPES))
        problems = architecture_problems(table)
    if problems:
        raise DataFileError(f"{name}: {len(problems)} problem(s): " + "; ".join(problems))
    return table


def _bad_values(table: pd.DataFrame, column: str, allowed: Iterable[str]) -> list[str]:
    """Messages for non-empty cells of `column` that are not in `allowed`."""
    allowed = set(allowed)
    values = table[column].dropna()
    return [
        f"{table.at[index, 'model_id']}: {column} {value!r} is not one of {sorted(allowed)}"
        for index, value in values.items()
        if value not in allowed
    ]


def catalog_problems(table: pd.DataFrame) -> list[str]:
    """List every rule the catalog breaks (empty list = valid); a pure function so tests can feed bad tables."""
    problems: list[str] = []
    duplicated = table["model_id"][table["model_id"].duplicated()].tolist()
    if duplicated:
        problems.append(f"duplicate model_id(s) {duplicated}")
    sources = table["source"].astype("string").str.strip()
    for model_id in table.loc[sources.isna() | (sources == ""), "model_id"]:
        problems.append(f"{model_id}: no source")
    for column in ("generation", "line"):
        for model_id in table.loc[table[column].isna(), "model_id"]:
            problems.append(f"{model_id}: {column} is empty")
    problems += _bad_values(table, "generation", GENERATIONS)
    problems += _bad_values(table, "line", LINES)
    problems += _bad_values(table, "variant", VARIANTS)
    problems += _bad_values(table, "license", LICENSES)
    problems += _bad_values(table, "params_basis", PARAMS_BASES)
    problems += _bad_values(table, "extension_method", EXTENSION_METHODS)
    total, active = table["params_b"], table["active_params_b"]
    for model_id in table.loc[(active > total).fillna(False), "model_id"]:
        problems.append(f"{model_id}: active_params_b exceeds params_b")
    for model_id in table.loc[(total <= 0).fillna(False) | (active <= 0).fillna(False), "model_id"]:
        problems.append(f"{model_id}: parameter counts must be positive")
    for model_id in table.loc[total.notna() & table["params_basis"].isna(), "model_id"]:
        problems.append(f"{model_id}: params_b given without params_basis")
    for column in ("context_length", "extended_context"):
        problems += _not_positive_integers(table, column)
    shorter = (table["extended_context"] < table["context_length"]).fillna(False)
    for model_id in table.loc[shorter, "model_id"]:
        problems.append(f"{model_id}: extended_context is shorter than context_length")
    months = table["release"].astype("string")
    bad_month = months.isna() | ~months.str.fullmatch(r"20\d\d-(0[1-9]|1[0-2])").fillna(False)
    for model_id in table.loc[bad_month, "model_id"]:
        problems.append(f"{model_id}: release must be YYYY-MM")
    return problems


def _not_positive_integers(table: pd.DataFrame, column: str) -> list[str]:
    """Messages for non-empty cells that are not positive whole numbers (works on Int64 and float columns)."""
    values = pd.to_numeric(table[column], errors="coerce")
    raw_present = table[column].notna()
    bad = raw_present & (values.isna() | (values <= 0) | (values % 1 != 0)).fillna(True)
    return [f"{model_id}: {column} must be a positive integer" for model_id in table.loc[bad, "model_id"]]


def architecture_problems(table: pd.DataFrame) -> list[str]:
    """List every rule the architecture table breaks (empty list = valid)."""
    problems: list[str] = []
    duplicated = table["model_id"][table["model_id"].duplicated()].tolist()
    if duplicated:
        problems.append(f"duplicate model_id(s) {duplicated}")
    problems += _bad_values(table, "architecture", ARCHITECTURES)
    for column in ("num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim"):
        problems += _not_positive_integers(table, column)
    uneven = (table["num_attention_heads"] % table["num_key_value_heads"] != 0).fillna(False)
    for model_id in table.loc[uneven, "model_id"]:
        problems.append(f"{model_id}: num_key_value_heads must divide num_attention_heads")
    routed = (table["num_experts_per_tok"] > table["num_experts"]).fillna(False)
    for model_id in table.loc[routed, "model_id"]:
        problems.append(f"{model_id}: num_experts_per_tok exceeds num_experts")
    return problems


def get_architecture(model_id: str) -> dict:
    """Return one model's architecture row as a dict (missing values as None); ValueError lists valid ids."""
    table = load_architectures()
    match = table[table["model_id"] == model_id]
    if match.empty:
        valid = ", ".join(table["model_id"])
        raise ValueError(f"model_id {model_id!r} has no architecture row; valid ids: {valid}")
    return row_as_dict(match.iloc[0])  # plain ints, so callers can do exact arithmetic


# ---------------------------------------------------------------------------------------------------------------
# Derived columns and the filter API
# ---------------------------------------------------------------------------------------------------------------


def longest_context(table: pd.DataFrame) -> pd.Series:
    """The longest documented context per row: the extended context if given, else the native one."""
    return table["extended_context"].fillna(table["context_length"])


def is_moe(table: pd.DataFrame) -> pd.Series:
    """True where fewer parameters are active per token than exist (a mixture of experts); NA if unknown."""
    return table["active_params_b"] < table["params_b"]


def _as_set(name: str, value, allowed: Iterable[str]) -> set[str]:
    """Normalise a filter value (one string or several) and reject unknown values, listing the valid ones."""
    allowed = tuple(allowed)
    values = {value} if isinstance(value, str) else set(value)
    unknown = sorted(str(v) for v in values - set(allowed))
    if unknown:
        raise ValueError(f"{name} {', '.join(map(repr, unknown))} is not valid; valid values: {', '.join(allowed)}")
    return values


def _match(column: pd.Series, values: set[str]) -> pd.Series:
    """Rows whose cell is one of `values`; the UNVERIFIED value selects empty cells."""
    mask = column.isin(values - {UNVERIFIED}).fillna(False)
    if UNVERIFIED in values:
        mask = mask | column.isna()
    return mask.astype(bool)


def filter_catalog(
    table: pd.DataFrame | None = None,
    *,
    line=None,
    generation=None,
    variant=None,
    license=None,
    min_params_b: float | None = None,
    max_params_b: float | None = None,
    min_context: int | None = None,
) -> pd.DataFrame:
    """Rows matching every given filter; None means "any". Unknown values raise ValueError listing valid ones.

    line, generation, variant and license take one value or a collection; variant and license also accept
    "unverified" for empty cells. Size filters use total parameters (billions) and drop rows of unknown size;
    min_context compares with the longest documented context (extended if any, else native), in tokens.
    """
    table = load_catalog() if table is None else table
    mask = pd.Series(True, index=table.index)
    for name, value, allowed in (
        ("line", line, LINES),
        ("generation", generation, GENERATIONS),
        ("variant", variant, (*VARIANTS, UNVERIFIED)),
        ("license", license, (*LICENSES, UNVERIFIED)),
    ):
        if value is not None:
            mask &= _match(table[name], _as_set(name, value, allowed))
    for name, bound in (("min_params_b", min_params_b), ("max_params_b", max_params_b)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound < 0):
            raise ValueError(f"{name} must be a number of billions >= 0, got {bound!r}")
    if min_params_b is not None and max_params_b is not None and min_params_b > max_params_b:
        raise ValueError(f"min_params_b ({min_params_b}) must not exceed max_params_b ({max_params_b})")
    if min_params_b is not None:
        mask &= (table["params_b"] >= min_params_b).fillna(False).astype(bool)
    if max_params_b is not None:
        mask &= (table["params_b"] <= max_params_b).fillna(False).astype(bool)
    if min_context is not None:
        if isinstance(min_context, bool) or not isinstance(min_context, int) or min_context < 0:
            raise ValueError(f"min_context must be a whole number of tokens >= 0, got {min_context!r}")
        mask &= (longest_context(table) >= min_context).fillna(False).astype(bool)
    return table[mask]


# ---------------------------------------------------------------------------------------------------------------
# Summaries behind the lesson's tables and figures
# ---------------------------------------------------------------------------------------------------------------


def coverage(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows per generation (rows) and line (columns), with totals; generations in release order."""
    table = load_catalog() if table is None else table
    counts = pd.crosstab(table["generation"], table["line"], margins=True, margins_name="total")
    order = [g for g in GENERATIONS if g in counts.index] + ["total"]
    columns = [line for line in LINES if line in counts.columns] + ["total"]
    return counts.loc[order, columns]


def availability_grid(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Lines x training states: how many checkpoints exist in each cell (0 = none released)."""
    table = load_catalog() if table is None else table
    variants = table["variant"].fillna(UNVERIFIED)
    grid = pd.crosstab(table["line"], variants)
    rows = [line for line in LINES if line in grid.index]
    columns = [v for v in (*VARIANTS, UNVERIFIED) if v in grid.columns]
    return grid.loc[rows, columns]


def series_variants(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per series: its line, generation and the training states it was released in."""
    table = load_catalog() if table is None else table
    rows = []
    for series, group in table.groupby("series", sort=False):
        states = [v for v in VARIANTS if v in set(group["variant"].dropna())]
        rows.append(
            {
                "series": series,
                "line": group["line"].iloc[0],
                "generation": group["generation"].iloc[0],
                "variants": ", ".join(states) if states else UNVERIFIED,
                "has_base": "base" in states,
                "checkpoints": len(group),
            }
        )
    return pd.DataFrame(rows)


def context_by_generation(table: pd.DataFrame | None = None, line: str = "text") -> pd.DataFrame:
    """Per generation (release order): the shortest and longest native context and the longest extended one."""
    table = load_catalog() if table is None else table
    subset = filter_catalog(table, line=line)
    grouped = subset.groupby("generation")
    summary = pd.DataFrame(
        {
            "native_min": grouped["context_length"].min(),
            "native_max": grouped["context_length"].max(),
            "extended_max": grouped["extended_context"].max(),
        }
    )
    order = [g for g in GENERATIONS if g in summary.index]
    return summary.loc[order]


def size_bucket(params_b: pd.Series) -> pd.Series:
    """Label total sizes as <2B, 2-10B, 10-40B, 40-100B or >=100B (ordered categorical)."""
    labels = ["<2B", "2–10B", "10–40B", "40–100B", "≥100B"]
    return pd.cut(params_b.astype(float), bins=[0, 2, 10, 40, 100, float("inf")], right=False, labels=labels)


def licenses_by_size(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Checkpoints per size bucket (rows) and license (columns); empty licenses are counted as 'unverified'."""
    table = load_catalog() if table is None else table
    known = table[table["params_b"].notna()]
    licenses = known["license"].fillna(UNVERIFIED)
    grid = pd.crosstab(size_bucket(known["params_b"]), licenses)
    columns = [lic for lic in (*LICENSES, UNVERIFIED) if lic in grid.columns]
    return grid[columns]


def unverified_summary(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per column, how many rows are empty (not verified) and which series they belong to."""
    table = load_catalog() if table is None else table
    rows = []
    for column in ("variant", "params_b", "context_length", "extended_context", "license"):
        empty = table[table[column].isna()]
        rows.append(
            {
                "what": f"{column} empty",
                "rows": len(empty),
                "series": ", ".join(dict.fromkeys(empty["series"])) or "—",
            }
        )
    nominal = table[table["params_basis"] != "card"]
    rows.append(
        {
            "what": "params_b nominal or assumed (not from a card)",
            "rows": int(nominal["params_b"].notna().sum()),
            "series": ", ".join(dict.fromkeys(nominal.loc[nominal["params_b"].notna(), "series"])) or "—",
        }
    )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# Parameter counts from a config
# ---------------------------------------------------------------------------------------------------------------


def _layer_is_full_attention(index: int, interval: int) -> bool:
    """Qwen3-Next convention: layer i is full attention when (i + 1) is a multiple of the interval."""
    return (index + 1) % interval == 0


def parameter_breakdown(config: dict) -> dict[str, int]:
    """Count a decoder's parameters by component from a config dict (Qwen2/2.5, Qwen3, Qwen3-MoE, Qwen3-Next).

    Keys: embedding, lm_head, attention, linear_attention, mlp, router, experts_total, experts_active,
    shared_expert, norms. Biases and norms are counted as Qwen's implementations define them.
    """
    required = ("num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim")
    missing = [key for key in (*required, "vocab_size") if config.get(key) in (None, 0)]
    if missing:
        raise ValueError(f"config lacks {missing}; cannot count parameters without them")
    h, layers, vocab = config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]
    n_q, n_kv, d_head = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    interval = config.get("full_attention_interval") or 1
    full_layers = sum(_layer_is_full_attention(i, interval) for i in range(layers))
    linear_layers = layers - full_layers

    q_width = n_q * d_head * (2 if config.get("attention_output_gate") else 1)  # the gate doubles q_proj
    attention = h * q_width + 2 * h * n_kv * d_head + n_q * d_head * h
    if config.get("attention_bias"):
        attention += n_q * d_head + 2 * n_kv * d_head  # Qwen2: bias on q, k, v only, not on o
    if config.get("qk_norm"):
        attention += 2 * d_head  # one RMSNorm weight vector over head_dim for queries, one for keys

    linear = 0
    if linear_layers:
        n_k, n_v = config["linear_num_key_heads"], config["linear_num_value_heads"]
        key_dim, value_dim = n_k * config["linear_key_head_dim"], n_v * config["linear_value_head_dim"]
        linear = (
            h * (2 * key_dim + 2 * value_dim)  # in_proj_qkvz
            + h * 2 * n_v  # in_proj_ba
            + (2 * key_dim + value_dim) * config["linear_conv_kernel_dim"]  # depthwise conv, no bias
            + 2 * n_v  # dt_bias and A_log
            + config["linear_value_head_dim"]  # gated RMSNorm
            + value_dim * h  # out_proj
        )

    experts, top_k = config.get("num_experts") or 0, config.get("num_experts_per_tok") or 0
    per_expert = 3 * h * (config.get("moe_intermediate_size") or 0)  # gate, up and down projections
    shared_width = config.get("shared_expert_intermediate_size") or 0
    shared = 3 * h * shared_width + h if shared_width else 0  # shared expert plus its sigmoid gate
    mlp = 0 if experts else 3 * h * config["intermediate_size"]
    return {
        "embedding": vocab * h,
        "lm_head": 0 if config.get("tie_word_embeddings") else vocab * h,
        "attention": full_layers * attention,
        "linear_attention": linear_layers * linear,
        "mlp": layers * mlp,
        "router": layers * h * experts,
        "experts_total": layers * experts * per_expert,
        "experts_active": layers * top_k * per_expert,
        "shared_expert": layers * shared,
        "norms": layers * 2 * h + h,  # two RMSNorms per layer plus the final one
    }


def count_from_config(config: dict) -> tuple[int, int]:
    """(total, active) parameters of a config; active counts only the experts a token is routed to."""
    parts = parameter_breakdown(config)
    total = sum(value for key, value in parts.items() if key != "experts_active")
    active = sum(value for key, value in parts.items() if key != "experts_total")
    return total, active


def count_parameters(model_id: str) -> tuple[int, int]:
    """(total, active) parameter counts of a model in data/architectures.csv, computed from its config."""
    return count_from_config(get_architecture(model_id))


def printed_decimals(model_id: str) -> int:
    """How many decimals the catalog prints for a model's published size (0 for '235', 2 for '0.49')."""
    raw = read_table(CATALOG_FILE, dtypes={column: "string" for column in CATALOG_DTYPES})
    text = raw.loc[raw["model_id"] == model_id, "params_b"]
    if text.empty or pd.isna(text.iloc[0]):
        raise ValueError(f"model_id {model_id!r} has no published size in the catalog")
    return len(text.iloc[0].split(".")[1]) if "." in text.iloc[0] else 0


def matches_print(computed_b: float, published_b: float, decimals: int) -> bool:
    """True when a printed figure is the computed one rounded or cut to `decimals` places."""
    unit = 10.0**-decimals
    return published_b - unit / 2 - 1e-9 <= computed_b < published_b + unit


def published_vs_computed() -> pd.DataFrame:
    """Every model with a config and a model-card count: published vs computed totals and active counts.

    `error_pct` = 100 x (computed - published) / published; `within_1pct` holds for total and active;
    `matches_print` is True when the card figure equals the computed count rounded or truncated to the
    digits the card prints (a card's 3.3 fits a computed 3.35, its 32.5 does not fit 32.76).
    """
    catalog = load_catalog().set_index("model_id")
    rows = []
    for model_id in load_architectures()["model_id"]:
        if model_id not in catalog.index or catalog.at[model_id, "params_basis"] != "card":
            continue
        total, active = count_parameters(model_id)
        decimals = printed_decimals(model_id)
        row = {
            "model_id": model_id,
            "published_b": float(catalog.at[model_id, "params_b"]),
            "computed_b": total / 1e9,
            "published_active_b": float(catalog.at[model_id, "active_params_b"]),
            "computed_active_b": active / 1e9,
        }
        row["error_pct"] = 100 * (row["computed_b"] / row["published_b"] - 1)
        row["active_error_pct"] = 100 * (row["computed_active_b"] / row["published_active_b"] - 1)
        row["within_1pct"] = abs(row["error_pct"]) <= 1 and abs(row["active_error_pct"]) <= 1
        row["matches_print"] = matches_print(row["computed_b"], row["published_b"], decimals) and matches_print(
            row["computed_active_b"], row["published_active_b"], decimals
        )
        rows.append(row)
    columns = ["model_id", "published_b", "computed_b", "error_pct", "published_active_b", "computed_active_b",
               "active_error_pct", "within_1pct", "matches_print"]
    return pd.DataFrame(rows)[columns]


# ---------------------------------------------------------------------------------------------------------------
# Image tokens (for the 448x448 claim; the vision lesson covers resizing in full)
# ---------------------------------------------------------------------------------------------------------------


def image_tokens_square(model_id: str, side: int, table: pd.DataFrame | None = None) -> int:
    """Visual tokens for a side x side image, for sides that need no resizing (multiples of patch x merge)."""
    if isinstance(side, bool) or not isinstance(side, int) or side <= 0:
        raise ValueError(f"side must be a positive whole number of pixels, got {side!r}")
    table = load_catalog() if table is None else table
    match = table[table["model_id"] == model_id]
    if match.empty:
        vision = table.loc[table["vision_patch_size"].notna(), "model_id"]
        raise ValueError(f"model_id {model_id!r} not in the catalog; models with vision data: {', '.join(vision)}")
    row = match.iloc[0]
    if pd.notna(row["image_tokens_fixed"]):
        return int(row["image_tokens_fixed"])  # Qwen-VL resizes every image to 448x448 and keeps 256 queries
    if pd.isna(row["vision_patch_size"]) or pd.isna(row["vision_merge_size"]):
        raise ValueError(f"{model_id} has no vision constants in the catalog")
    factor = int(row["vision_patch_size"]) * int(row["vision_merge_size"])
    if side % factor:
        raise ValueError(f"side must be a positive multiple of {factor} pixels for {model_id}, got {side!r}")
    return (side // factor) ** 2


# ---------------------------------------------------------------------------------------------------------------
# "The common picture vs the data": one verdict function per popular claim
# ---------------------------------------------------------------------------------------------------------------


class Verdict(NamedTuple):
    """A claim, decided from the catalog: verdict is 'true', 'partly true' or 'false'."""

    key: str
    claim: str
    verdict: str
    evidence: str
    source: str


def _sources(rows: pd.DataFrame, limit: int = 4) -> str:
    """The first source of each evidence row, de-duplicated and capped, for a short citation."""
    firsts = dict.fromkeys(str(s).split(";")[0].split(" (")[0].strip() for s in rows["source"])
    listed = list(firsts)[:limit]
    more = len(firsts) - len(listed)
    return "; ".join(listed) + (f"; +{more} more (see the source column)" if more > 0 else "")


def _sizes(rows: pd.DataFrame) -> str:
    """'0.5–72B' style range of total sizes ('7B' when all are equal)."""
    low, high = rows["params_b"].min(), rows["params_b"].max()
    return f"{low:g}B" if low == high else f"{low:g}–{high:g}B"


def claim_four_lines(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (a): four lines (text, code, vision-language, audio), each with a base and an instruct checkpoint."""
    table = load_catalog() if table is None else table
    lines = [line for line in LINES if line in set(table["line"])]
    series = series_variants(table)
    no_base = series[~series["has_base"]]
    extra = [line for line in lines if line not in ("text", "code", "vision-language", "audio")]
    evidence = (
        f"{len(lines)} lines in the catalog ({', '.join(lines)}), so {len(extra)} beyond the four; "
        f"{len(no_base)} of {len(series)} series have no base checkpoint "
        f"({', '.join(no_base['series'])}); training states seen: "
        f"{', '.join(v for v in VARIANTS if v in set(table['variant'].dropna()))}"
    )
    verdict = "false" if extra or len(no_base) else "true"
    return Verdict("a", "Four lines (text, code, VL, audio), each with base + instruct", verdict, evidence,
                   _sources(table[table["series"].isin(no_base["series"])]))


def claim_size_range(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (b): sizes span 0.5B to 100B+."""
    table = load_catalog() if table is None else table
    sized = table[table["params_b"].notna()]
    smallest = sized.loc[sized["params_b"].idxmin()]
    dense = sized[~is_moe(sized).astype(bool)]
    moe = sized[is_moe(sized).astype(bool)]
    big = sized[sized["params_b"] >= 100]
    big_dense = big[~is_moe(big).astype(bool)]
    evidence = (
        f"smallest: {smallest['model_id']} ({smallest['params_b']:g}B); largest dense: "
        f"{dense['params_b'].max():g}B; largest MoE: {moe['params_b'].max():g}B total but "
        f"{moe.loc[moe['params_b'].idxmax(), 'active_params_b']:g}B active; {len(big)} checkpoints reach 100B+, "
        f"{len(big_dense)} of them dense"
    )
    verdict = "true" if len(big_dense) else ("partly true" if len(big) else "false")
    return Verdict("b", "Sizes span 0.5B to 100B+", verdict, evidence, _sources(pd.concat([smallest.to_frame().T, big])))


def flagships(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each generation's flagship (largest text checkpoint, or largest of any line if it has no text line)."""
    table = load_catalog() if table is None else table
    sized = table[table["params_b"].notna()]
    picks = []
    for generation in GENERATIONS:
        rows = sized[sized["generation"] == generation]
        if (rows["line"] == "text").any():
            rows = rows[rows["line"] == "text"]  # a generation's flagship is its largest text model when it has one
        if not rows.empty:
            picks.append(rows.loc[rows["params_b"].idxmax()])
    result = pd.DataFrame(picks)[["generation", "model_id", "params_b", "license", "source"]]
    return result.reset_index(drop=True)


def claim_flagship_license(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (c): flagship releases are Apache 2.0."""
    table = load_catalog() if table is None else table
    tops = flagships(table)
    known = tops[tops["license"].notna()]
    apache = known[known["license"] == "Apache-2.0"]
    other = known[known["license"] != "Apache-2.0"]
    unknown = tops[tops["license"].isna()]
    evidence = (
        f"Apache-2.0: {', '.join(apache['model_id'])}; not Apache: "
        + ", ".join(f"{m} ({lic})" for m, lic in zip(other["model_id"], other["license"], strict=True))
        + (f"; license unverified: {', '.join(unknown['model_id'])}" if len(unknown) else "")
    )
    verdict = "true" if other.empty else ("partly true" if len(apache) else "false")
    return Verdict("c", "Flagship releases are Apache 2.0", verdict, evidence, _sources(known))


def claim_context_growth(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (d): text context grew from 8K/32K to 128K."""
    table = load_catalog() if table is None else table
    summary = context_by_generation(table)
    parts = []
    for generation, row in summary.iterrows():
        native = f"{_k(row['native_min'])}" if row["native_min"] == row["native_max"] else (
            f"{_k(row['native_min'])}–{_k(row['native_max'])}")
        extended = f", up to {_k(row['extended_max'])} extended" if pd.notna(row["extended_max"]) else ""
        parts.append(f"{generation}: {native} native{extended}")
    latest = summary["native_max"].dropna().max()
    starts_right = summary["native_min"].dropna().iloc[0] <= 8192
    # true only if the longest native context ends at 128K; shorter or longer makes the claim's endpoint wrong
    verdict = ("true" if latest == 131072 else "partly true") if starts_right else "false"
    rows = filter_catalog(table, line="text")
    return Verdict("d", "Text context went from 8K/32K to 128K", verdict, "; ".join(parts),
                   _sources(rows[rows["context_length"].notna()]))


def _k(tokens) -> str:
    """Tokens as 8K / 128K / 1M (binary K for powers of two, decimal M for the '1 million' figures)."""
    tokens = int(tokens)
    if tokens >= 1_000_000 and tokens % 1_000_000 == 0:
        return f"{tokens // 1_000_000}M"
    return f"{tokens // 1024}K" if tokens % 1024 == 0 else f"{tokens:,}"


def claim_code_line(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (e): the code line is 1.5B–32B with fill-in-the-middle."""
    table = load_catalog() if table is None else table
    code = filter_catalog(table, line="code")
    per_series = "; ".join(f"{s}: {_sizes(g)}" for s, g in code.groupby("series", sort=False))
    fim = code["fill_in_middle"].fillna(False).astype(bool)
    evidence = f"{per_series}; fill-in-the-middle documented for {int(fim.sum())} of {len(code)} code checkpoints"
    sizes_right = code["params_b"].min() == 1.5 and code["params_b"].max() == 32
    verdict = "true" if sizes_right and fim.all() else ("partly true" if fim.all() else "false")
    return Verdict("e", "Code line is 1.5B–32B with fill-in-the-middle", verdict, evidence, _sources(code))


def claim_vl_sizes(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (f): the vision-language line is 7B–72B."""
    table = load_catalog() if table is None else table
    vl = filter_catalog(table, line="vision-language")
    sized = vl[vl["params_b"].notna()]
    per_series = "; ".join(f"{s}: {_sizes(g)}" for s, g in sized.groupby("series", sort=False))
    verdict = "true" if (sized["params_b"].min(), sized["params_b"].max()) == (7, 72) else "false"
    return Verdict("f", "Vision-language line is 7B–72B", verdict, per_series + " (sizes are nominal, from the names)",
                   _sources(sized))


def claim_audio_line(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (g): the audio line is 7B–72B under a 'Qwen Community License'."""
    table = load_catalog() if table is None else table
    audio = filter_catalog(table, line="audio")
    sized = audio[audio["params_b"].notna()]
    licenses = sorted(set(audio["license"].dropna()))
    community = [lic for lic in licenses if "Community" in lic]
    evidence = (
        f"{len(audio)} audio checkpoints; sizes {_sizes(sized) if len(sized) else 'unknown'} "
        f"({len(audio) - len(sized)} without a size in the name); licenses: {', '.join(licenses)}; "
        f"speech also in the omni line ({len(filter_catalog(table, line='omni'))} checkpoints)"
    )
    verdict = "true" if community and len(sized) and sized["params_b"].max() >= 72 else "false"
    return Verdict("g", "Audio line is 7B–72B under a Qwen Community License", verdict, evidence, _sources(audio))


def claim_image_tokens(table: pd.DataFrame | None = None, side: int = 448) -> Verdict:
    """Claim (h): a 448x448 image costs 256–512 tokens."""
    table = load_catalog() if table is None else table
    vision = table[table["vision_patch_size"].notna()]
    per_series = {}
    for series, group in vision.groupby("series", sort=False):
        per_series[series] = image_tokens_square(group["model_id"].iloc[0], side, table)
    counts = set(per_series.values())
    evidence = "; ".join(f"{s}: {n} tokens" for s, n in per_series.items()) + " (vision start/end markers excluded)"
    inside = [n for n in counts if 256 <= n <= 512]
    if len(inside) == len(counts):
        verdict = "true"
    elif max(counts) <= 256:
        verdict = "false"  # nothing costs more than the band's lower edge, and some cost less
    else:
        verdict = "partly true"
    source = _sources(vision, limit=2) + "; patch and merge sizes: each row's source (HF vision configs)"
    return Verdict("h", f"A {side}×{side} image costs 256–512 tokens", verdict, evidence, source)


CLAIMS = (
    claim_four_lines,
    claim_size_range,
    claim_flagship_license,
    claim_context_growth,
    claim_code_line,
    claim_vl_sizes,
    claim_audio_line,
    claim_image_tokens,
)


def common_picture(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """All popular claims with their verdicts, evidence and sources, decided from the catalog."""
    table = load_catalog() if table is None else table
    return pd.DataFrame([claim(table)._asdict() for claim in CLAIMS])


# ---------------------------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------------------------

LINE_COLOURS = dict(zip(LINES, ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000"), strict=True))


def draw_training_states(table: pd.DataFrame | None = None, ax=None):
    """Diagram: pre-training gives a base checkpoint; post-training turns it into chat/instruct, thinking or
    hybrid checkpoints. Each box shows how many catalog checkpoints are in that state."""
    import matplotlib.pyplot as plt

    table = load_catalog() if table is None else table
    counts = table["variant"].value_counts()
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 4)
    boxes = {
        "data": (1.0, 2, "web text, code,\nbooks, math\n(trillions of tokens)", "#DDDDDD"),
        "base": (4.0, 2, f"base\n{counts.get('base', 0)} checkpoints", "#56B4E9"),
        "chat": (8.3, 3.4, f"instruct / chat\n{counts.get('instruct', 0) + counts.get('chat', 0)} checkpoints",
                 "#E69F00"),
        "thinking": (8.3, 2, f"thinking\n{counts.get('thinking', 0)} checkpoints", "#CC79A7"),
        "hybrid": (8.3, 0.6, f"hybrid (switchable)\n{counts.get('hybrid', 0)} checkpoints", "#009E73"),
    }
    for x, y, text, colour in boxes.values():
        ax.text(x, y, text, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#333333"})
    arrow = {"arrowstyle": "->", "color": "#333333", "lw": 1.5}
    ax.annotate("", xy=(3.2, 2), xytext=(2.25, 2), arrowprops=arrow)
    ax.text(2.7, 2.55, "pre-\ntraining", ha="center", fontsize=8)
    for target in ("chat", "thinking", "hybrid"):
        ax.annotate("", xy=(7.0, boxes[target][1]), xytext=(4.85, 2), arrowprops=arrow)
    ax.text(5.7, 3.35, "post-training\n(SFT + RL)", ha="center", fontsize=8)
    return ax


def plot_size_ladder(table: pd.DataFrame | None = None, ax=None):
    """Total size per checkpoint by generation on a log axis; MoE models show a line down to active size."""
    import matplotlib.pyplot as plt

    table = load_catalog() if table is None else table
    ax = ax or plt.subplots()[1]
    sized = table[table["params_b"].notna()].drop_duplicates(["generation", "params_b", "active_params_b"])
    positions = {g: i for i, g in enumerate(GENERATIONS)}
    moe = is_moe(sized).astype(bool)
    for flag, marker, label in ((False, "o", "dense (total = active)"), (True, "D", "MoE total")):
        rows = sized[moe == flag]
        x = rows["generation"].map(positions).astype(float)
        ax.scatter(x, rows["params_b"].astype(float), marker=marker, s=36, color="#0072B2" if not flag else "#D55E00",
                   label=label, zorder=3)
    rows = sized[moe]
    x = rows["generation"].map(positions).astype(float)
    ax.vlines(x, rows["active_params_b"].astype(float), rows["params_b"].astype(float), color="#D55E00", lw=1)
    ax.scatter(x, rows["active_params_b"].astype(float), marker="v", s=30, color="#E69F00", label="MoE active",
               zorder=3)
    ax.set_yscale("log")
    ax.set_xticks(range(len(GENERATIONS)), GENERATIONS, rotation=30)
    ax.set_xlabel("generation")
    ax.set_ylabel("parameters (billions, log scale)")
    ax.legend(loc="upper left")
    return ax


def plot_context(table: pd.DataFrame | None = None, ax=None, line: str = "text"):
    """Native vs extended context per generation (log scale) for one line."""
    import matplotlib.pyplot as plt

    summary = context_by_generation(table, line=line)
    ax = ax or plt.subplots()[1]
    x = range(len(summary))
    ax.bar([i - 0.2 for i in x], summary["native_max"].astype(float), width=0.4, color="#0072B2",
           label="longest native context")
    ax.bar([i + 0.2 for i in x], summary["extended_max"].astype(float), width=0.4, color="#E69F00",
           label="longest extended context (YaRN or other)")
    ax.set_yscale("log", base=2)
    ticks = [2**k for k in range(13, 21)]
    ax.set_yticks(ticks, [_k(t) if t < 2**20 else "1M" for t in ticks])
    ax.set_xticks(list(x), summary.index, rotation=30)
    ax.set_xlabel("generation")
    ax.set_ylabel("context (tokens, log scale)")
    ax.legend(loc="upper left")
    return ax


def plot_licenses(table: pd.DataFrame | None = None, ax=None):
    """Stacked bars: checkpoints per size bucket, split by license."""
    import matplotlib.pyplot as plt

    grid = licenses_by_size(table)
    ax = ax or plt.subplots()[1]
    bottom = None
    colours = ("#009E73", "#E69F00", "#D55E00", "#CC79A7", "#0072B2", "#BBBBBB")
    for colour, license_name in zip(colours, grid.columns, strict=False):
        values = grid[license_name].to_numpy()
        ax.bar(grid.index.astype(str), values, bottom=bottom, color=colour, label=license_name)
        bottom = values if bottom is None else bottom + values
    ax.set_xlabel("total size")
    ax.set_ylabel("checkpoints")
    ax.legend(fontsize=8, loc="upper right")
    return ax


def _decimal_year(release: pd.Series):
    """'2024-09' -> 2024.71 (mid-month), as floats for a fast numeric time axis."""
    months = release.astype(str)
    return (months.str.slice(0, 4).astype(int) + (months.str.slice(5, 7).astype(int) - 0.5) / 12).to_numpy()


def selection_canvas(table: pd.DataFrame | None = None) -> SimpleNamespace:
    """A reusable figure for the explorer: fixed axes and one scatter per line, so a redraw only moves points.

    Returns a namespace with .render(rows) -> PNG bytes and .figure. Axis ranges cover the whole catalog, so
    the picture keeps its scale while filters change.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    table = load_catalog() if table is None else table
    years = _decimal_year(table["release"])
    figure = Figure(figsize=(6.4, 3.0), dpi=80)
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.1, 0.17, 0.68, 0.78))
    ax.set_yscale("log")
    ax.set_ylim(0.3, 1.5 * float(table["params_b"].max()))
    ax.set_xlim(np.floor(years.min()), np.ceil(years.max()))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_yticks([1, 10, 100], ["1", "10", "100"])
    whole_years = range(int(np.floor(years.min())), int(np.ceil(years.max())) + 1)
    ax.set_xticks(list(whole_years), [str(y) for y in whole_years])
    ax.set_xlabel("release (year)")
    ax.set_ylabel("parameters (billions, log)")
    points = {line: ax.scatter([], [], s=22, color=LINE_COLOURS[line], label=line) for line in LINES}
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    # Draw axes, ticks and legend once; each update restores that picture and draws only the points (blitting).
    figure.canvas.draw()
    background = figure.canvas.copy_from_bbox(figure.bbox)

    def render(rows: pd.DataFrame) -> bytes:
        import io

        from PIL import Image

        sized = rows[rows["params_b"].notna()]
        x, y = _decimal_year(sized["release"]), sized["params_b"].to_numpy(dtype=float)
        lines = sized["line"].to_numpy()
        figure.canvas.restore_region(background)
        for line, scatter in points.items():
            mask = lines == line
            scatter.set_offsets(np.column_stack([x[mask], y[mask]]) if mask.any() else np.empty((0, 2)))
            ax.draw_artist(scatter)
        image = Image.frombuffer("RGBA", figure.canvas.get_width_height(), figure.canvas.buffer_rgba())
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    return SimpleNamespace(render=render, figure=figure, axes=ax)


def selection_png(rows: pd.DataFrame, table: pd.DataFrame | None = None) -> bytes:
    """Release year vs total size (log) of the selected rows, coloured by line, as PNG bytes."""
    return selection_canvas(table).render(rows)


# ---------------------------------------------------------------------------------------------------------------
# Explorer widget: filters -> table + plot
# ---------------------------------------------------------------------------------------------------------------

ANY = "any"
SIZE_STOPS = (0, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
CONTEXT_STOPS = {"any": 0, "≥ 8K": 8192, "≥ 32K": 32768, "≥ 128K": 131072, "≥ 256K": 262144, "≥ 1M": 1_000_000}
TABLE_COLUMNS = ("model_id", "generation", "line", "variant", "params_b", "active_params_b", "context_length",
                 "extended_context", "license", "release")


def explorer_selection(line=ANY, generation=ANY, variant=ANY, license=ANY, size_range=(0, 512), min_context="any",
                       table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The explorer's pure step: turn widget values into a filtered catalog."""
    if min_context not in CONTEXT_STOPS:
        raise ValueError(f"min_context must be one of {list(CONTEXT_STOPS)}, got {min_context!r}")
    if not isinstance(size_range, (tuple, list)) or len(size_range) != 2:
        raise ValueError(f"size_range must be a (low, high) pair of billions from {list(SIZE_STOPS)}, got {size_range!r}")
    low, high = size_range
    sizes = {}
    if low > 0:
        sizes["min_params_b"] = low
    if high < SIZE_STOPS[-1]:
        sizes["max_params_b"] = high
    return filter_catalog(
        table,
        line=None if line == ANY else line,
        generation=None if generation == ANY else generation,
        variant=None if variant == ANY else variant,
        license=None if license == ANY else license,
        min_context=CONTEXT_STOPS[min_context] or None,
        **sizes,
    )


def selection_html(rows: pd.DataFrame, limit: int = 40) -> str:
    """An HTML table of the selected checkpoints, or a friendly message when nothing matches."""
    if rows.empty:
        return ('<p class="qwen-empty">No checkpoint matches these filters. Try widening the size range or '
                'setting one of the filters back to "any".</p>')
    shown = rows.loc[:, list(TABLE_COLUMNS)].head(limit)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('' if pd.isna(v) else f'{v:g}' if isinstance(v, float) else str(v))}</td>"
                         for v in record) + "</tr>"
        for record in shown.itertuples(index=False)
    )
    head = "".join(f"<th>{html.escape(c)}</th>" for c in TABLE_COLUMNS)
    more = f"<p>… and {len(rows) - limit} more.</p>" if len(rows) > limit else ""
    return (f"<p><b>{len(rows)}</b> checkpoint(s) match.</p>"
            f'<table class="qwen-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}')


def build_explorer():
    """Filters (line, generation, state, license, size, context) driving a table and a plot; returns a namespace."""
    import ipywidgets as widgets

    from qwen_lessons.ui import guarded

    table = load_catalog()
    style = {"description_width": "110px"}
    line = widgets.Dropdown(options=[ANY, *LINES], value=ANY, description="Line", style=style)
    generation = widgets.Dropdown(options=[ANY, *GENERATIONS], value=ANY, description="Generation", style=style)
    variant = widgets.Dropdown(options=[ANY, *VARIANTS, UNVERIFIED], value=ANY, description="Training state",
                               style=style)
    license_ = widgets.Dropdown(options=[ANY, *LICENSES, UNVERIFIED], value=ANY, description="License", style=style)
    size = widgets.SelectionRangeSlider(options=list(SIZE_STOPS), index=(0, len(SIZE_STOPS) - 1),
                                        description="Size (B)", style=style)
    context = widgets.Dropdown(options=list(CONTEXT_STOPS), value="any", description="Context", style=style)
    result = widgets.HTML()
    result.add_class("qwen-explorer-table")
    plot = widgets.Image(format="png")
    plot.add_class("qwen-explorer-plot")
    canvas = selection_canvas(table)

    def render() -> str:
        rows = explorer_selection(line.value, generation.value, variant.value, license_.value, size.value,
                                  context.value, table=table)
        plot.value = canvas.render(rows)
        return selection_html(rows)

    def update(_change=None):
        result.value = guarded(render)

    controls = (line, generation, variant, license_, size, context)
    for control in controls:
        control.observe(update, names="value")
    update()
    box = widgets.VBox([widgets.HBox([widgets.VBox(list(controls[:3])), widgets.VBox(list(controls[3:]))]),
                        plot, result])
    return SimpleNamespace(line=line, generation=generation, variant=variant, license=license_, size=size,
                           context=context, result=result, plot=plot, box=box, update=update)

