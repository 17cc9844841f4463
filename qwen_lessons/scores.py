"""Lesson 7 (07_choosing_a_tier): published quality by size. The scores of data/benchmarks.csv with their variant
group, report and parameter counts; the score a checkpoint is judged by (base, or post-trained in its default mode).

Shared by the tier wizard (qwen_lessons.tiers, which re-exports these names) and the resolved catalog view
(qwen_lessons.catalog_view). Every index here is built once per version of the tables it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from qwen_lessons import models
from qwen_lessons.data import built_from, read_table
from qwen_lessons.models import ARCHITECTURES_FILE
from qwen_lessons.validation import checked, choices, key

BENCHMARKS_FILE = "benchmarks.csv"
REPORTS = ("Qwen2.5 blog", "Qwen3 report")  # the two sources of data/benchmarks.csv, as load_benchmarks labels them




@built_from(BENCHMARKS_FILE, ARCHITECTURES_FILE)
def _benchmarks() -> pd.DataFrame:
    table = read_table(BENCHMARKS_FILE)
    table["score_value"] = pd.to_numeric(table["score"], errors="coerce")
    table["group"] = table["variant"].map(variant_group)
    table["report"] = np.where(table["source"].str.contains("Qwen3 Technical Report"), REPORTS[1], REPORTS[0])
    # one architecture lookup per published (model, group), not per benchmark row
    arch_of = {pair: arch_model_id(*pair) for pair in set(zip(table["model"], table["group"], strict=True))}
    arch_ids = [arch_of[pair] for pair in zip(table["model"], table["group"], strict=True)]
    table["arch_model_id"] = arch_ids
    counts_of = {arch_id: _counts_or_nan(arch_id) for arch_id in set(arch_ids)}
    counts = [counts_of[arch_id] for arch_id in arch_ids]
    table["params_b"] = [total for total, _ in counts]
    table["active_params_b"] = [active for _, active in counts]
    return table


@checked
def load_benchmarks() -> pd.DataFrame:
    """Published scores (data/benchmarks.csv) with numeric score, variant group, report and size columns added."""
    return _benchmarks().copy()


GROUPS = ("base", "instruct", "thinking", "non-thinking", "mode not stated")
# A post-trained checkpoint's score in the mode it runs in by default: an Instruct model's own; a hybrid (Qwen3) or
# a Qwen3.5/3.6 model thinks unless told not to; Qwen2.5-Instruct appears as a baseline in Qwen3's tables.
DEFAULT_MODE_ORDER = ("instruct", "post-trained (thinking mode)", "post-trained (mode not stated)",
                      "instruct (baseline in thinking table)", "instruct (baseline in non-thinking table)")


@checked
def variant_group(variant: str) -> str:
    """Collapse the published variant labels to base / instruct / thinking / non-thinking."""
    text = str(variant)
    if text == "base":
        return "base"
    if not text.startswith(("instruct", "post-trained")):  # a label the published tables do not use
        raise ValueError(f"variant must be 'base', 'instruct ...' or 'post-trained (... mode)'; got {text[:60]!r}")
    if "mode not stated" in text:
        return "mode not stated"
    if "non-thinking" in text:
        return "non-thinking"
    if "thinking" in text and text.startswith("post-trained"):
        return "thinking"
    return "instruct"


@checked(model=key)
def arch_model_id(model: str, group: str) -> str | None:
    """The architecture row with this benchmark row's dimensions (None for API-only or unlisted models).

    A post-trained score may be reported under the base name ('Qwen2.5-7B', instruct); its '-Instruct' row is
    tried first, then the name itself."""
    candidates = [f"{model}-Instruct", model] if group == "instruct" else [model]
    for candidate in candidates:
        try:
            return models.resolve(candidate).model_id
        except ValueError:
            continue
    return None


def _counts_or_nan(arch_id: str | None) -> tuple[float, float]:
    """(total, active) in billions, or NaN when the benchmark row has no architecture the memory model covers."""
    if not isinstance(arch_id, str) or not models.resolve(arch_id).memory_modelled:
        return np.nan, np.nan
    total, active = models.count_parameters(arch_id)
    return total / 1e9, active / 1e9


def _check_benchmark(benchmark: str) -> None:
    """Refuse a benchmark name the published tables do not use (a typo must not read as "no score")."""
    known = sorted(set(_benchmarks()["benchmark"]))
    if benchmark not in known:
        raise ValueError(f"benchmark {benchmark!r} is not in {BENCHMARKS_FILE}; it must be {choices(known, 'benchmarks')}")


@checked
def quality_by_size(benchmark: str, group: str = "base", report: str | None = None) -> pd.DataFrame:
    """Scores of one benchmark vs total parameters for one variant group (base and instruct never mixed)."""
    table = _benchmarks()
    _check_benchmark(benchmark)
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    rows = table[(table["benchmark"] == benchmark) & (table["group"] == group)]
    rows = rows[rows["params_b"].notna() & rows["score_value"].notna()]
    if report is not None:
        if report not in REPORTS:
            raise ValueError(f"report must be one of {REPORTS} or None, got {report!r}")
        rows = rows[rows["report"] == report]
    # the general line only ("Qwen2.5-7B"): a Coder or Math model of the same size is another curve
    rows = rows[rows["model"].str.match(r"^Qwen[0-9.]+-[0-9]")]
    rows = rows.assign(generation=rows["model"].str.extract(r"^(Qwen[0-9.]+)")[0])
    columns = ["model", "generation", "params_b", "active_params_b", "score_value", "shots_or_setting", "report"]
    return rows[columns].sort_values(["report", "generation", "params_b"]).reset_index(drop=True)


@checked
def gains_per_doubling(benchmark: str, group: str = "base", generation: str = "Qwen2.5", report: str | None = None):
    """Points gained per doubling of parameters between consecutive sizes (diminishing returns show as a falling column)."""
    rows = quality_by_size(benchmark, group, report)
    if generation not in set(rows["generation"]):
        raise ValueError(f"generation must be one of {sorted(set(rows['generation']))} for {benchmark} ({group}), "
                         f"got {generation!r}")
    rows = rows[rows["generation"] == generation]
    if report is None and rows["report"].nunique() > 1:
        rows = rows[rows["report"] == rows["report"].iloc[0]]
    rows = rows.sort_values("params_b").drop_duplicates("params_b")
    sizes, scores = rows["params_b"].to_numpy(), rows["score_value"].to_numpy()
    out = pd.DataFrame(
        {
            "from_model": rows["model"].to_numpy()[:-1],
            "to_model": rows["model"].to_numpy()[1:],
            "size_ratio": sizes[1:] / sizes[:-1],
            "points_gained": scores[1:] - scores[:-1],
        }
    )
    out["points_per_doubling"] = out["points_gained"] / np.log2(out["size_ratio"])
    return out


@dataclass(frozen=True)
class ScoreIndex:
    """The published scores as two lookups, built once per version of the scores table (score_index())."""

    base: Mapping[tuple[str, str], float]  # ('Qwen/' + model, benchmark) -> first base score of the Qwen3 report
    post_trained: Mapping[tuple[str, str, str], tuple[float, str, str]]  # (benchmark, model, variant) -> row

    def base_score(self, arch_id: str, benchmark: str) -> float | None:
        """As scores.base_score, without reading the table again."""
        return self.base.get((arch_id.replace("-Instruct", ""), benchmark))

    def post_trained_row(self, model_id: str, benchmark: str) -> tuple[float, str, str] | None:
        """(score, variant as published, setting) of the first default-mode row for this checkpoint."""
        name = model_id.removeprefix("Qwen/")
        # Qwen2.5-7B-Instruct is reported as 'Qwen2.5-7B', instruct
        for variant in DEFAULT_MODE_ORDER:
            for candidate in (name, name.removesuffix("-Instruct")):
                if (benchmark, candidate, variant) in self.post_trained:
                    return self.post_trained[(benchmark, candidate, variant)]
        return None

    def post_trained_score(self, model_id: str, benchmark: str) -> float | None:
        """As scores.post_trained_score, without reading the table again."""
        found = self.post_trained_row(model_id, benchmark)
        return None if found is None else found[0]


@checked
def score_index() -> ScoreIndex:
    """Every published score, indexed for lookups (what a caller asking for many scores holds on to)."""
    return _score_index()


@built_from(BENCHMARKS_FILE, ARCHITECTURES_FILE)
def _score_index() -> ScoreIndex:
    table = _benchmarks()
    base: dict = {}
    rows = table[(table["group"] == "base") & (table["report"] == "Qwen3 report")]
    for model, benchmark, score in zip(rows["model"], rows["benchmark"], rows["score_value"], strict=True):
        base.setdefault((f"Qwen/{model}", benchmark), float(score))
    post_trained: dict = {}
    rows = table[(table["group"] != "base") & table["score_value"].notna()]
    for row in rows.itertuples(index=False):
        post_trained.setdefault((row.benchmark, row.model, row.variant),
                                (float(row.score_value), row.variant, str(row.shots_or_setting)))
    return ScoreIndex(MappingProxyType(base), MappingProxyType(post_trained))


@checked
def base_score(arch_id: str, benchmark: str) -> float | None:
    """Published base-model score (Qwen3 report, same settings for both generations) for a checkpoint's size."""
    _check_benchmark(benchmark)
    return _score_index().base_score(arch_id, benchmark)


@checked
def post_trained_score(model_id: str, benchmark: str) -> float | None:
    """A post-trained checkpoint's published score in its default mode (None when no source gives one)."""
    _check_benchmark(benchmark)
    return _score_index().post_trained_score(model_id, benchmark)
