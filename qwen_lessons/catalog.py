"""The sourced catalog of Qwen checkpoints (data/catalog.csv): loading, validation and the filter API.

Shared foundation: lesson 1 (family map) reads it most, and lessons 5 and 7 look up context lengths and lines
here. Architectures and parameter counts live in ``qwen_lessons.models``; ``load_architectures`` and
``count_parameters`` are importable from here too, as the course has always taught them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import pandas as pd

from qwen_lessons import models
from qwen_lessons.data import data_path, read_table
from qwen_lessons.models import count_parameters, load_architectures
from qwen_lessons.validation import checked, key, keys

__all__ = ["load_catalog", "load_architectures", "count_parameters", "catalog_problems", "filter_catalog",
           "longest_context", "is_moe", "context_limit", "notes_contradictions", "generations", "lines",
           "language_model_lines", "general_chat_lines", "lines_taking", "allowed_values"]

CATALOG_FILE = "catalog.csv"


LINES_FILE = "lines.csv"  # the lines, in teaching order, with what each takes beside text
VALUES_FILE = "catalog_values.csv"  # the training states and licences a catalog cell may name, in teaching order
VISION_FILE = "vision_generations.csv"  # a catalog row names its vision generation; the constants live there once

# Generations are the catalog's own: any name a row gives, ordered by the generation's earliest release month
# (`generations()`), so a checkpoint of a new generation is one catalog row. A name is "Qwen" and more, no spaces.
GENERATION_NAME = r"Qwen[^\s,;]*"


PARAMS_BASES = ("card", "name", "assumed", "config")


EXTENSION_METHODS = ("none", "YaRN")


UNVERIFIED = "unverified"  # filter value that selects rows whose cell is empty


# What a `notes` phrase claims about its own row's cells: (phrase, column, the claim). A note that says a value is
# unknown while the cell holds one (or the reverse) leaves a learner unsure which to believe, so the catalog refuses it.
NOTE_CLAIMS = (
    (r"licen[cs]e (?:was |is )?(?:not (?:verified|read|confirmed|stated)|unverified|left empty)", "license", "empty"),
    (r"(?<!extended )context(?: and licen[cs]e)? (?:was |is )?(?:not verified|left empty)", "context_length", "empty"),
    (r"context'? not stored as a number", "context_length", "empty"),
    (r"extended context (?:was |is )?left empty", "extended_context", "empty"),
    (r"(?:extension )?method (?:for [^;]* )?(?:not stated|not verified|left empty)|method described on the model card, not"
     r" verified", "extension_method", "empty"),
    (r"variant (?:was |is )?left empty|training state (?:was |is )?left empty", "variant", "empty"),
    (r"size (?:was |is )?left empty", "params_b", "empty"),
    (r"release month (?:was |is )?(?:not verified|left empty)", "release", "empty"),
    (r"params nominal \(from the name\)|params = nominal from name|params are the nominal sizes", "params_basis", "name"),
    (r"params assumed", "params_basis", "assumed"),
)




@checked
def load_catalog() -> pd.DataFrame:
    """Return data/catalog.csv (one row per checkpoint) with explicit dtypes, after validating it, and a
    `vocabulary` column: the tokenizer vocabulary its generation uses (data/vocabularies.csv; empty if none says)."""
    table = read_table(CATALOG_FILE, check=catalog_problems)
    vocabularies = read_table("vocabularies.csv")
    of_generation = {generation: row.vocabulary for row in vocabularies.itertuples()
                     for generation in row.used_by.split()}
    table["vocabulary"] = table["generation"].map(of_generation).astype("string")
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


@checked
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
    named = table["generation"].dropna().astype("string")
    for index in named.index[~named.str.fullmatch(GENERATION_NAME).fillna(False).astype(bool)]:
        problems.append(f"{table.at[index, 'model_id']}: generation {named[index]!r} is not a name like 'Qwen3.5' "
                        "(Qwen and more, no spaces)")
    problems += _bad_values(table, "line", lines())
    problems += _bad_values(table, "variant", allowed_values("variant"))
    problems += _bad_values(table, "license", allowed_values("license"))
    problems += _bad_values(table, "vision_generation", read_table(VISION_FILE)["generation"])
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
    # an unknown month is an empty cell: a checkpoint that exists is listed even when no source dates it
    bad_month = months.notna() & ~months.str.fullmatch(r"20\d\d-(0[1-9]|1[0-2])").fillna(False)
    for model_id in table.loc[bad_month, "model_id"]:
        problems.append(f"{model_id}: release must be YYYY-MM or empty")
    problems += notes_contradictions(table)
    return problems


@checked
def notes_contradictions(table: pd.DataFrame | None = None) -> list[str]:
    """Messages for `notes` that contradict their own row: a phrase of NOTE_CLAIMS whose claim the cell breaks.

    None reads data/catalog.csv as stored (unvalidated, so the answer lists what the loader would refuse)."""
    table = read_table(CATALOG_FILE) if table is None else table
    problems: list[str] = []
    notes = table["notes"].astype("string").fillna("")
    for pattern, column, claim in NOTE_CLAIMS:
        says = notes.str.contains(pattern, case=False, regex=True)
        cell = table[column]
        breaks = cell.notna() if claim == "empty" else cell.astype("string") != claim
        for index in table.index[(says & breaks.fillna(True)).astype(bool)]:
            phrase = re.search(pattern, notes[index], flags=re.IGNORECASE).group(0)
            problems.append(f"{table.at[index, 'model_id']}: notes say {phrase!r} but {column} is "
                            f"{'filled' if claim == 'empty' else repr(cell[index])}")
    return problems


def _not_positive_integers(table: pd.DataFrame, column: str) -> list[str]:
    """Messages for non-empty cells that are not positive whole numbers (works on Int64 and float columns)."""
    values = pd.to_numeric(table[column], errors="coerce")
    raw_present = table[column].notna()
    bad = raw_present & (values.isna() | (values <= 0) | (values % 1 != 0)).fillna(True)
    return [f"{model_id}: {column} must be a positive integer" for model_id in table.loc[bad, "model_id"]]


# ---------------------------------------------------------------------------------------------------------------
# The values a catalog cell may hold: data/lines.csv, data/catalog_values.csv, and the catalog's own generations
# ---------------------------------------------------------------------------------------------------------------


@checked
def generations(table: pd.DataFrame | None = None) -> tuple[str, ...]:
    """The generations the catalog names, oldest first: by the earliest release month of each generation's rows
    (a generation none of whose rows is dated comes last, in the catalog's order). Data decides, not code."""
    table = load_catalog() if table is None else table
    named = table.loc[table["generation"].notna(), ["generation", "release"]]
    first = {generation: index for index, generation in enumerate(dict.fromkeys(named["generation"]))}
    earliest = named.groupby("generation", sort=False)["release"].min()
    undated = "9999-99"  # sorts after every YYYY-MM
    return tuple(sorted(first, key=lambda generation: (str(earliest[generation]) if pd.notna(earliest[generation])
                                                         else undated, first[generation])))


@checked
def lines() -> tuple[str, ...]:
    """The lines a catalog row may name, in teaching order (data/lines.csv)."""
    return tuple(read_table(LINES_FILE)["line"])


@checked
def language_model_lines() -> tuple[str, ...]:
    """The language-model lines a learner compares across generations (text ... reasoning); the lines around them
    (embedding, guard, image, speech) are the others."""
    table = read_table(LINES_FILE)
    return tuple(table.loc[table["language_model"].astype(bool), "line"])


@checked
def general_chat_lines() -> tuple[str, ...]:
    """The lines whose post-trained checkpoints are general-purpose assistants (data/lines.csv): text, and
    vision-language where the natively multimodal Qwen3.5 and later are filed."""
    table = read_table(LINES_FILE)
    return tuple(table.loc[table["general_chat"].astype(bool), "line"])


@checked
def lines_taking(modality: str) -> tuple[str, ...]:
    """The lines whose checkpoints take this input beside text ('image' or 'audio'; an omni model takes both), in
    teaching order; none for an input no line lists (text: every line reads it)."""
    table = read_table(LINES_FILE)
    inputs = table["inputs"].fillna("").str.split()
    return tuple(table.loc[inputs.map(lambda names: modality in names), "line"])


@checked(column=key)
def allowed_values(column: str) -> tuple[str, ...]:
    """The values a catalog cell of `column` may hold, in teaching order: 'line' (data/lines.csv), 'variant' (the
    training states) or 'license' (data/catalog_values.csv)."""
    if column == "line":
        return lines()
    table = read_table(VALUES_FILE)
    known = ["line", *dict.fromkeys(table["column"])]
    if column not in known:
        raise ValueError(f"column must be one of {known}, got {column!r}")
    return tuple(table.loc[table["column"] == column, "value"])


# ---------------------------------------------------------------------------------------------------------------
# Derived columns and the filter API
# ---------------------------------------------------------------------------------------------------------------


@checked
def longest_context(table: pd.DataFrame) -> pd.Series:
    """The longest documented context per row: the extended context if given, else the native one."""
    return table["extended_context"].fillna(table["context_length"])


@checked
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


@checked(line=keys, generation=keys, variant=keys, license=keys)
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
    for name, value, allowed in (  # the valid values are read only for a filter that is given
        ("line", line, lines),
        ("generation", generation, lambda: generations(table)),
        ("variant", variant, lambda: (*allowed_values("variant"), UNVERIFIED)),
        ("license", license, lambda: (*allowed_values("license"), UNVERIFIED)),
    ):
        if value is not None:
            mask &= _match(table[name], _as_set(name, value, allowed()))
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


@checked
def context_limit(model_id) -> int | None:
    """The longest prompt + answer a checkpoint is documented for: the catalog's native context_length, else
    the config's max_position_embeddings (which can exceed it: Qwen3's 40,960 vs a documented 32,768).
    The id's own catalog row is read first, so a '-Base' id keeps its own row when it has one."""
    ckpt = models.resolve(model_id)
    asked = models.normalize_model_id(model_id) if isinstance(model_id, str) else ckpt.model_id
    path = data_path(CATALOG_FILE)
    status = path.stat()
    contexts = _contexts(str(path), status.st_mtime_ns, status.st_size)
    for candidate in (asked, ckpt.model_id):
        value = contexts.get(candidate.lower())
        if value is not None and pd.notna(value):
            return int(value)
    return ckpt["max_position_embeddings"]


@lru_cache(maxsize=4)
def _contexts(path: str, mtime_ns: int, size: int) -> dict:
    """model id (lower case) -> native context, once per version of the catalog file (the wizard asks per row)."""
    table = load_catalog()
    return dict(zip(table["model_id"].str.lower(), table["context_length"], strict=True))

