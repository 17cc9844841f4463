"""The catalog (foundation of lesson 1 and beyond): loading, validation and the filter API."""

from __future__ import annotations


import pandas as pd
import pytest

from qwen_lessons import catalog
from qwen_lessons.data import DataFileError
from qwen_lessons.lessons import family_map as lesson


@pytest.fixture(scope="module")
def table():
    return catalog.load_catalog()

# --- loading and validation -------------------------------------------------------------------------------------


def test_catalog_loads_with_public_columns_and_explicit_dtypes(table):
    public = ["model_id", "generation", "line", "variant", "params_b", "active_params_b", "context_length",
              "license", "release", "source"]
    assert set(public) <= set(table.columns)
    assert str(table["context_length"].dtype) == "Int64"
    assert str(table["params_b"].dtype) == "Float64"
    assert table["model_id"].is_unique
    assert catalog.catalog_problems(table) == []


def test_catalog_covers_every_line_the_issue_asks_for(table):
    series = set(table["series"])
    for wanted in ("Qwen2.5", "Qwen2.5-Coder", "Qwen2.5-Math", "Qwen2.5-VL", "Qwen2-VL", "Qwen-Audio", "Qwen2-Audio",
                   "Qwen2.5-Omni", "Qwen3", "Qwen3-2507", "Qwen3-VL", "Qwen3-Coder", "Qwen3-Next", "QwQ", "Qwen3.5"):
        assert wanted in series, wanted
    qwen3 = table[table["series"] == "Qwen3"]
    assert catalog.is_moe(qwen3).astype(bool).any() and (~catalog.is_moe(qwen3).astype(bool)).any()


def _with(table, row_index, **changes):
    bad = table.copy()
    for column, value in changes.items():
        bad.loc[bad.index[row_index], column] = value
    return bad


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model_id": "Qwen/Qwen2.5-7B"}, "duplicate model_id"),
        ({"source": pd.NA}, "no source"),
        ({"source": "   "}, "no source"),
        ({"active_params_b": 1000.0}, "active_params_b exceeds params_b"),
        ({"line": "poetry"}, "line 'poetry' is not one of"),
        ({"license": "Qwen Open License"}, "license 'Qwen Open License' is not one of"),
        ({"variant": "sft"}, "variant 'sft'"),
        ({"generation": "Qwen 4"}, "generation 'Qwen 4' is not a name like"),
        ({"generation": "Llama3"}, "generation 'Llama3' is not a name like"),
        ({"vision_generation": "no-such-vision"}, "vision_generation 'no-such-vision' is not one of"),
        ({"context_length": 0}, "context_length must be a positive integer"),
        ({"context_length": -8192}, "context_length must be a positive integer"),
        ({"extended_context": 1024}, "shorter than context_length"),
        ({"release": "Sept 2024"}, "release must be YYYY-MM"),
        ({"notes": "license not verified"}, "notes say 'license not verified' but license is filled"),
        ({"notes": "params assumed (same architecture)"}, "notes say 'params assumed' but params_basis is 'card'"),
    ],
)
def test_validation_rejects_each_kind_of_bad_row(table, changes, message):
    row = int(table.index[table["model_id"] == "Qwen/Qwen2.5-7B-Instruct"][0])
    problems = catalog.catalog_problems(_with(table, row, **changes))
    assert any(message in problem for problem in problems), problems


def test_an_unknown_release_month_is_an_empty_cell_not_an_error(table):
    row = int(table.index[table["model_id"] == "Qwen/Qwen2.5-7B-Instruct"][0])
    assert catalog.catalog_problems(_with(table, row, release=pd.NA)) == []


def test_validation_rejects_a_fractional_context_read_as_float(table):
    bad = table.copy()
    bad["context_length"] = bad["context_length"].astype("Float64")
    bad.loc[bad.index[0], "context_length"] = 32768.5
    assert any("positive integer" in p for p in catalog.catalog_problems(bad))


def test_load_catalog_refuses_a_broken_file(tmp_path, monkeypatch):
    from qwen_lessons import data

    original = data.data_path("catalog.csv").read_text(encoding="utf-8")
    lines = original.splitlines()
    (tmp_path / "catalog.csv").write_text("\n".join([lines[0], lines[1], lines[1]]) + "\n", encoding="utf-8")
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    data.clear_caches()
    try:
        with pytest.raises(DataFileError, match="catalog.csv: line 3 repeats the key"):
            catalog.load_catalog()
    finally:
        monkeypatch.delenv(data.DATA_ENV_VAR)
        data.clear_caches()


# --- filter API -------------------------------------------------------------------------------------------------


def test_filters_combine(table):
    rows = catalog.filter_catalog(table, line="code", generation="Qwen2.5", min_params_b=7, variant="instruct")
    assert set(rows["model_id"]) == {
        "Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-14B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct"}
    apache_long = catalog.filter_catalog(table, license="Apache-2.0", min_context=1_000_000)
    assert (apache_long["license"] == "Apache-2.0").all()
    longest = apache_long[["context_length", "extended_context"]].max(axis=1)
    assert (longest >= 1_000_000).all()
    everything = table[(table["license"] == "Apache-2.0")
                       & (table[["context_length", "extended_context"]].max(axis=1) >= 1_000_000)]
    assert set(apache_long["model_id"]) == set(everything["model_id"])
    assert {"Qwen/Qwen3-30B-A3B-Instruct-2507", "Qwen/Qwen2.5-7B-Instruct-1M"} <= set(apache_long["model_id"])
    several = catalog.filter_catalog(table, line=["audio", "omni"])
    assert set(several["line"]) == {"audio", "omni"}
    assert catalog.filter_catalog(table, max_params_b=0.5)["params_b"].max() <= 0.5


def test_unverified_selects_empty_cells(table):
    rows = catalog.filter_catalog(table, license="unverified")
    assert len(rows) == int(table["license"].isna().sum()) > 0
    assert rows["license"].isna().all()


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"line": "poetry"}, r"line 'poetry' is not valid; valid values: text, code, math"),
        ({"generation": "NoSuchGeneration"}, r"generation 'NoSuchGeneration' is not valid; valid values: Qwen1, "),
        ({"variant": ["base", "sft"]}, r"variant 'sft' is not valid; valid values: base, chat"),
        ({"license": "MIT"}, r"license 'MIT' is not valid; valid values: Apache-2.0"),
        ({"min_params_b": -1}, r"min_params_b must be a number"),
        ({"min_params_b": 10, "max_params_b": 1}, r"must not exceed max_params_b"),
        ({"min_context": "128K"}, r"min_context must be a whole number"),
    ],
)
def test_bad_filter_values_raise_with_the_valid_values(table, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        catalog.filter_catalog(table, **kwargs)


def test_summaries_add_up(table):
    counts = lesson.coverage(table)
    assert counts.loc["total", "total"] == len(table)
    assert list(counts.index[:-1]) == list(catalog.generations(table))
    assert len(counts.columns) <= 9  # the seven language-model lines, "other lines" and the total fit a page
    other = ~table["line"].isin(counts.columns)
    assert counts.loc["total", lesson.OTHER_LINES] == other.sum() > 0
    grid = lesson.availability_grid(table)
    assert grid.to_numpy().sum() == len(table)
    assert grid.loc["vision-language", "base"] == len(table[(table["line"] == "vision-language")
                                                           & (table["variant"] == "base")])


# --- the values a cell may hold live in data/ (issue 28) ---------------------------------------------------------


def test_generations_are_the_catalogs_own_oldest_first(table):
    order = catalog.generations(table)
    assert set(order) == set(table["generation"])
    earliest = table.groupby("generation")["release"].min()
    assert list(earliest[list(order)]) == sorted(earliest[list(order)])  # by each generation's first release
    # a generation of one undated row comes last; one dated before every other comes first
    undated = _with(pd.concat([table, table.iloc[[0]]], ignore_index=True), len(table),
                    model_id="Qwen/NoSuchModel-1B", generation="QwenUndated", release=pd.NA)
    assert catalog.generations(undated)[-1] == "QwenUndated"
    early = _with(undated, len(table), release="2020-01")
    assert catalog.generations(early)[0] == "QwenUndated"


def test_lines_states_and_licences_come_from_their_tables(table):
    from qwen_lessons.data import read_table

    assert catalog.lines() == tuple(read_table("lines.csv")["line"])
    assert catalog.allowed_values("line") == catalog.lines()
    assert set(catalog.language_model_lines()) < set(catalog.lines())
    assert catalog.lines_taking("image") == ("vision-language", "omni")
    assert catalog.lines_taking("audio") == ("audio", "omni")
    assert catalog.lines_taking("text") == ()  # every line reads text; `inputs` lists what it takes beside it
    assert set(table["variant"].dropna()) <= set(catalog.allowed_values("variant"))
    assert set(table["license"].dropna()) <= set(catalog.allowed_values("license"))
    with pytest.raises(ValueError, match=r"column must be one of \['line', 'variant', 'license'\]"):
        catalog.allowed_values("generation")
