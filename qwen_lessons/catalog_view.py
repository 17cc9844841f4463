"""Lessons 7 and 8 (07_choosing_a_tier, 08_local_inference): the catalog resolved once, for the wizards and explorers.

Each catalog row becomes one ``CatalogEntry``: the id a learner sees, its line, generation, training state and
release, its ``Checkpoint`` (None without an architecture row), the context it is documented for, its parameter
counts and its published scores. The tier wizard (qwen_lessons.tiers) and the laptop wizard
(qwen_lessons.local_runtime) iterate these entries instead of resolving ids row by row: the view is built once per
version of the tables it reads (data.built_from), so a wizard's call normalises no catalog id and reads no table
twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from qwen_lessons import models, scores
from qwen_lessons.catalog import CATALOG_FILE, load_catalog
from qwen_lessons.data import built_from
from qwen_lessons.models import ARCHITECTURES_FILE, Checkpoint
from qwen_lessons.validation import checked


@dataclass(frozen=True)
class CatalogEntry:
    """One checkpoint of the catalog, resolved: what the wizards read of it, with no further lookup."""

    model_id: str  # as the catalog spells it: the id a learner sees
    line: str
    generation: str
    variant: str  # '' when the catalog leaves it empty
    release: str  # YYYY-MM, '' when no source dates it
    checkpoint: Checkpoint | None  # None: no architecture row describes it
    context_limit: int | None  # documented native context, else the config's position limit
    parameters: tuple[int, int] | None  # (total, active) from the architecture, None without one
    base_scores: Mapping[str, float]  # benchmark -> base score of its size (Qwen3 report)
    post_trained_scores: Mapping[str, float]  # benchmark -> its own score in its default mode

    @property
    def memory_modelled(self) -> bool:
        """True when the memory and speed models cover every layer kind of its architecture."""
        return self.checkpoint is not None and self.checkpoint.memory_modelled

    @property
    def arch_id(self) -> str | None:
        """The architecture row's id (a '-Base' id reads its post-trained sibling's row)."""
        return None if self.checkpoint is None else self.checkpoint.model_id

    def score(self, benchmark: str, post_trained: bool) -> float | None:
        """Its own post-trained score in its default mode, or the base score of its size; None when none is published."""
        return (self.post_trained_scores if post_trained else self.base_scores).get(benchmark)


@dataclass(frozen=True)
class CatalogView:
    """Every catalog entry in table order, and each by its id."""

    entries: tuple[CatalogEntry, ...]
    by_id: Mapping[str, CatalogEntry]

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, model_id: str) -> CatalogEntry | None:
        """The entry of a catalog id as the catalog spells it (None for any other)."""
        return self.by_id.get(model_id)


@checked
def catalog_view() -> CatalogView:
    """The resolved catalog: one CatalogEntry per row of data/catalog.csv, built once per version of the catalog,
    architecture and benchmark tables."""
    return _build()


@built_from(CATALOG_FILE, ARCHITECTURES_FILE, scores.BENCHMARKS_FILE)
def _build() -> CatalogView:
    catalog = load_catalog()
    index = scores.score_index()  # one lookup table for every entry's scores
    published = scores.load_benchmarks()
    published = published[published["score_value"].notna()]
    rows_of = {model: rows for model, rows in published.groupby("model")}
    contexts = {model_id.lower(): context for model_id, context in
                zip(catalog["model_id"], catalog["context_length"], strict=True) if pd.notna(context)}
    entries = []
    for row in catalog.itertuples(index=False):
        try:
            ckpt = models.resolve(row.model_id)
        except ValueError:
            ckpt = None
        # as catalog.context_limit reads it: the row's own context, its architecture's row, then the config
        context = contexts.get(row.model_id.lower())
        if context is None and ckpt is not None:
            context = contexts.get(ckpt.model_id.lower(), ckpt["max_position_embeddings"])
        entries.append(CatalogEntry(
            model_id=row.model_id, line=row.line, generation=row.generation,
            variant="" if pd.isna(row.variant) else str(row.variant),
            release="" if pd.isna(row.release) else str(row.release), checkpoint=ckpt,
            context_limit=None if context is None else int(context),
            parameters=None if ckpt is None else models.count_parameters(ckpt),
            base_scores=_base_scores(index, ckpt, rows_of),
            post_trained_scores=_post_trained_scores(index, row.model_id, rows_of)))
    return CatalogView(tuple(entries), MappingProxyType({entry.model_id: entry for entry in entries}))


def _base_scores(index: scores.ScoreIndex, ckpt: Checkpoint | None, rows_of: dict) -> Mapping[str, float]:
    if ckpt is None:
        return MappingProxyType({})
    name = ckpt.model_id.replace("-Instruct", "").removeprefix("Qwen/")
    benchmarks = set(rows_of[name]["benchmark"]) if name in rows_of else set()
    found = {benchmark: index.base_score(ckpt.model_id, benchmark) for benchmark in sorted(benchmarks)}
    return MappingProxyType({benchmark: score for benchmark, score in found.items() if score is not None})


def _post_trained_scores(index: scores.ScoreIndex, model_id: str, rows_of: dict) -> Mapping[str, float]:
    name = model_id.removeprefix("Qwen/")
    benchmarks = {benchmark for candidate in (name, name.removesuffix("-Instruct")) if candidate in rows_of
                  for benchmark in rows_of[candidate]["benchmark"]}
    found = {benchmark: index.post_trained_score(model_id, benchmark) for benchmark in sorted(benchmarks)}
    return MappingProxyType({benchmark: score for benchmark, score in found.items() if score is not None})
