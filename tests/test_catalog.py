"""Lesson 1: the catalog's validation, filters, parameter counts, claim verdicts, explorer and self-checks."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from qwen_lessons import catalog
from qwen_lessons.checks import family_map
from qwen_lessons.data import DataFileError


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
        ({"license": "Qwen Community License"}, "license 'Qwen Community License' is not one of"),
        ({"variant": "sft"}, "variant 'sft'"),
        ({"generation": "Qwen4"}, "generation 'Qwen4'"),
        ({"context_length": 0}, "context_length must be a positive integer"),
        ({"context_length": -8192}, "context_length must be a positive integer"),
        ({"extended_context": 1024}, "shorter than context_length"),
        ({"release": "Sept 2024"}, "release must be YYYY-MM"),
    ],
)
def test_validation_rejects_each_kind_of_bad_row(table, changes, message):
    row = int(table.index[table["model_id"] == "Qwen/Qwen2.5-7B-Instruct"][0])
    problems = catalog.catalog_problems(_with(table, row, **changes))
    assert any(message in problem for problem in problems), problems


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
    data._read_table_cached.cache_clear()
    try:
        with pytest.raises(DataFileError, match="duplicate model_id"):
            catalog.load_catalog()
    finally:
        monkeypatch.delenv(data.DATA_ENV_VAR)
        data._read_table_cached.cache_clear()


def test_architectures_table_is_valid_and_typed():
    arch = catalog.load_architectures()
    assert catalog.architecture_problems(arch) == []
    assert str(arch["hidden_size"].dtype) == "Int64"
    assert str(arch["tie_word_embeddings"].dtype) == "boolean"
    # every architecture row names a checkpoint the catalog knows
    assert set(arch["model_id"]) <= set(catalog.load_catalog()["model_id"])
    dense = arch[arch["num_experts"] == 0]
    assert (dense["num_experts_per_tok"] == 0).all()
    qwen2 = arch[arch["architecture"] == "qwen2"]
    assert qwen2["attention_bias"].all() and not qwen2["qk_norm"].any()
    qwen3 = arch[arch["architecture"].isin(["qwen3", "qwen3_moe"])]
    assert qwen3["qk_norm"].all() and not qwen3["attention_bias"].any()


def test_get_architecture_returns_plain_values_and_lists_valid_ids():
    config = catalog.get_architecture("Qwen/Qwen3-8B")
    assert config["num_hidden_layers"] == 36 and type(config["num_hidden_layers"]) is int
    assert config["tie_word_embeddings"] is False
    with pytest.raises(ValueError, match=r"Qwen/Qwen9-1B.*valid ids: .*Qwen/Qwen3-8B"):
        catalog.get_architecture("Qwen/Qwen9-1B")


# --- filter API -------------------------------------------------------------------------------------------------


def test_filters_combine(table):
    rows = catalog.filter_catalog(table, line="code", generation="Qwen2.5", min_params_b=7, variant="instruct")
    assert set(rows["model_id"]) == {
        "Qwen/Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-14B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct"}
    apache_long = catalog.filter_catalog(table, license="Apache-2.0", min_context=1_000_000)
    assert (apache_long["generation"] == "Qwen3-2507").all() and len(apache_long) == 4
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
        ({"generation": "Qwen4"}, r"generation 'Qwen4' is not valid; valid values: Qwen1, "),
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
    counts = catalog.coverage(table)
    assert counts.loc["total", "total"] == len(table)
    assert list(counts.index[:-1]) == [g for g in catalog.GENERATIONS if g in set(table["generation"])]
    grid = catalog.availability_grid(table)
    assert grid.to_numpy().sum() == len(table)
    assert grid.loc["vision-language", "base"] == len(table[(table["line"] == "vision-language")
                                                           & (table["variant"] == "base")])


# --- parameter counts -------------------------------------------------------------------------------------------


def test_qwen25_7b_count_equals_the_published_exact_count():
    # Hugging Face's safetensors count for Qwen2.5-7B(-Instruct) is 7,615,616,512 (quoted in the reference notes).
    assert catalog.count_parameters("Qwen/Qwen2.5-7B-Instruct") == (7_615_616_512, 7_615_616_512)
    # and 3,085,938,688 for Qwen2.5-3B (tied embeddings)
    assert catalog.count_parameters("Qwen/Qwen2.5-3B-Instruct")[0] == 3_085_938_688


def test_qwen25_05b_count_by_hand():
    # Qwen2.5-0.5B: vocab 151936, hidden 896, 24 layers, 14 query heads and 2 KV heads of 64, MLP 4864, tied.
    embedding = 151936 * 896
    attention = 896 * 896 + 2 * 896 * 128 + 896 * 896 + (896 + 2 * 128)  # q, k, v, o weights + q/k/v biases
    mlp = 3 * 896 * 4864
    norms = 2 * 896
    expected = embedding + 24 * (attention + mlp + norms) + 896
    assert catalog.count_parameters("Qwen/Qwen2.5-0.5B-Instruct") == (expected, expected)


def test_qwen3_moe_counts_by_hand():
    # Qwen3-30B-A3B: 48 layers, hidden 2048, 32 query / 4 KV heads of 128, 128 experts of width 768, 8 active.
    h, layers = 2048, 48
    attention = h * 4096 + 2 * h * 512 + 4096 * h + 2 * 128  # no biases; q_norm and k_norm over head_dim
    expert = 3 * h * 768
    shared = 2 * 151936 * h + h  # untied embedding and head, final norm
    per_layer_common = attention + h * 128 + 2 * h  # attention, router, two norms
    total = shared + layers * (per_layer_common + 128 * expert)
    active = shared + layers * (per_layer_common + 8 * expert)
    assert catalog.count_parameters("Qwen/Qwen3-30B-A3B") == (total, active)


def test_every_published_count_is_within_one_percent_or_matches_its_printed_digits():
    table = catalog.published_vs_computed()
    assert len(table) >= 20
    outside = table[~table["within_1pct"]]
    # Outside 1%: only cards that print two significant figures of a count they truncate
    # (Qwen3-1.7B: 1.721B printed "1.7B"; Qwen3-30B-A3B active: 3.353B printed "3.3B").
    assert set(outside["model_id"]) == {"Qwen/Qwen3-1.7B", "Qwen/Qwen3-30B-A3B"}
    assert outside["matches_print"].all()


def test_qwen25_32b_card_disagrees_with_the_config():
    table = catalog.published_vs_computed().set_index("model_id")
    for model_id in ("Qwen/Qwen2.5-32B", "Qwen/Qwen2.5-32B-Instruct"):
        row = table.loc[model_id]
        assert not row["matches_print"]
        assert row["computed_b"] == pytest.approx(32.76, abs=0.01)  # the reference's independent arithmetic
    disagreeing = set(table.index[~table["matches_print"]])
    assert disagreeing == {"Qwen/Qwen2.5-32B", "Qwen/Qwen2.5-32B-Instruct"}


def test_matches_print_rule():
    assert catalog.matches_print(3.353, 3.3, 1)  # truncated
    assert catalog.matches_print(3.086, 3.09, 2)  # rounded
    assert not catalog.matches_print(32.764, 32.5, 1)
    assert not catalog.matches_print(3.04, 3.1, 1)


def test_qwen3_next_counts_linear_attention_layers():
    total, active = catalog.count_parameters("Qwen/Qwen3-Next-80B-A3B-Instruct")
    assert total / 1e9 == pytest.approx(80, rel=0.01)  # name and card: 80B total
    parts = catalog.parameter_breakdown(catalog.get_architecture("Qwen/Qwen3-Next-80B-A3B-Instruct"))
    assert parts["linear_attention"] > 0 and parts["attention"] > 0
    # 36 of 48 layers are linear attention: one Gated DeltaNet layer is
    # qkvz 2048*(2*2048+2*4096) + ba 2048*64 + conv 8192*4 + 2*32 + norm 128 + out 4096*2048
    one_linear = 2048 * 12288 + 2048 * 64 + 8192 * 4 + 64 + 128 + 4096 * 2048
    assert parts["linear_attention"] == 36 * one_linear
    assert active < total / 15


def test_parameter_breakdown_rejects_incomplete_configs():
    with pytest.raises(ValueError, match="vocab_size"):
        catalog.parameter_breakdown({"num_hidden_layers": 2, "hidden_size": 8, "num_attention_heads": 2,
                                     "num_key_value_heads": 1, "head_dim": 4, "intermediate_size": 16})


# --- claims -----------------------------------------------------------------------------------------------------

EXPECTED_VERDICTS = {"a": "false", "b": "partly true", "c": "partly true", "d": "partly true", "e": "partly true",
                     "f": "false", "g": "false", "h": "false"}


def test_each_popular_claim_gets_the_verdict_of_the_reference_review(table):
    verdicts = catalog.common_picture(table)
    assert dict(zip(verdicts["key"], verdicts["verdict"], strict=True)) == EXPECTED_VERDICTS
    assert verdicts["source"].str.len().min() > 10
    assert verdicts["evidence"].str.len().min() > 20


def test_claim_verdicts_follow_the_data(table):
    # If every code checkpoint sat between 1.5B and 32B, claim (e) would become true.
    narrowed = table[(table["line"] != "code") | table["params_b"].between(1.5, 32)]
    narrowed = narrowed[~narrowed["model_id"].str.contains("Coder-30B")]
    assert catalog.claim_code_line(narrowed).verdict == "true"
    # A 72B audio model under a 'Community' license would make claim (g) true -- but such a license is invalid.
    assert "Qwen Community License" not in catalog.LICENSES


def test_image_tokens_for_448_by_hand(table):
    assert catalog.image_tokens_square("Qwen/Qwen2.5-VL-7B-Instruct", 448, table) == (448 // 28) ** 2 == 256
    assert catalog.image_tokens_square("Qwen/Qwen3-VL-8B-Instruct", 448, table) == (448 // 32) ** 2 == 196
    assert catalog.image_tokens_square("Qwen/Qwen-VL-Chat", 448, table) == 256
    with pytest.raises(ValueError, match="multiple of 28"):
        catalog.image_tokens_square("Qwen/Qwen2.5-VL-7B-Instruct", 450, table)


def test_flagships_and_context_summary(table):
    tops = catalog.flagships(table).set_index("generation")
    assert tops.loc["Qwen2.5", "model_id"] == "Qwen/Qwen2.5-72B"
    assert tops.loc["Qwen3", "license"] == "Apache-2.0"
    context = catalog.context_by_generation(table)
    assert context.loc["Qwen1", "native_min"] == 8192
    assert context.loc["Qwen2.5", "native_max"] == 32768 and context.loc["Qwen2.5", "extended_max"] == 131072
    assert context.loc["Qwen3-2507", "native_max"] == 262144


# --- explorer ---------------------------------------------------------------------------------------------------


def test_explorer_updates_table_and_plot_together():
    demo = catalog.build_explorer()
    first_png = demo.plot.value
    assert "qwen-explorer-table" in demo.result._dom_classes
    demo.line.value = "audio"
    assert "4</b> checkpoint(s) match" in demo.result.value
    assert demo.plot.value != first_png and demo.plot.value[:4] == b"\x89PNG"
    rows = re.findall(r"<tr><td>(Qwen/[^<]+)</td>", demo.result.value)
    assert set(rows) == set(catalog.filter_catalog(line="audio")["model_id"])


def test_explorer_says_so_when_nothing_matches():
    demo = catalog.build_explorer()
    demo.line.value = "audio"
    demo.generation.value = "Qwen3.5"
    assert "No checkpoint matches" in demo.result.value
    assert "Traceback" not in demo.result.value


def test_explorer_selection_rejects_bad_context_choice():
    with pytest.raises(ValueError, match="min_context must be one of"):
        catalog.explorer_selection(min_context="2K")


def test_explorer_shows_an_error_line_not_a_traceback(monkeypatch):
    demo = catalog.build_explorer()
    monkeypatch.setattr(catalog, "explorer_selection", lambda *a, **k: (_ for _ in ()).throw(ValueError("boom")))
    demo.update()
    assert 'class="qwen-error"' in demo.result.value and "boom" in demo.result.value


# --- self-checks ------------------------------------------------------------------------------------------------


def test_self_checks_accept_right_answers_and_hint_otherwise(table, capsys):
    total, active = catalog.count_parameters("Qwen/Qwen3-235B-A22B")
    assert family_map.check_smallest_code_model("Qwen/Qwen2.5-Coder-0.5B-Instruct")
    assert not family_map.check_smallest_code_model("Qwen/Qwen2.5-Coder-7B")
    # Qwen3-8B by hand: vocab 151936, hidden 4096, 36 layers, 32 query / 8 KV heads of 128, MLP 12288, untied.
    per_layer = (4096 * 4096 + 2 * 4096 * 1024 + 4096 * 4096 + 2 * 128  # q, k, v, o; q_norm and k_norm
                 + 3 * 4096 * 12288 + 2 * 4096)  # gate, up, down; two RMSNorms
    qwen3_8b = 2 * 151936 * 4096 + 36 * per_layer + 4096  # embedding + head, layers, final norm
    assert qwen3_8b == 8_190_735_360
    assert family_map.check_qwen3_8b_total(qwen3_8b)
    assert not family_map.check_qwen3_8b_total(8.19)
    # longest documented context (extended if given, else native), counted straight from the table
    longest = table["extended_context"].fillna(table["context_length"])
    million = int((longest >= 1_000_000).sum())
    assert million > 0
    assert family_map.check_million_token_count(million)
    assert not family_map.check_million_token_count(0)
    assert family_map.check_active_share_235b(22 / 235)  # the name's and card's figures, within the 2 % tolerance
    assert family_map.check_active_share_235b(active / total)
    assert not family_map.check_active_share_235b(100 * active / total)
    assert family_map.check_claim_verdict("g", "false")
    assert not family_map.check_claim_verdict("g", "true")
    assert not family_map.check_claim_verdict("z", "true")
    output = capsys.readouterr().out
    # hints never print the expected numbers
    assert str(total) not in output and f"{active / total:.3f}" not in output
    assert "in billions" in output and "percentage" in output


def test_context_claim_is_not_true_when_native_context_never_reaches_128k(table):
    # Qwen1 and Qwen1.5 alone: native context 8K-32K, never 128K, so "8K/32K to 128K" only partly holds.
    early = table[table["generation"].isin(["Qwen1", "Qwen1.5"])]
    assert catalog.context_by_generation(early)["native_max"].max() == 32768
    assert catalog.claim_context_growth(early).verdict == "partly true"


@pytest.mark.parametrize(("call", "pattern"), [
    (lambda t: catalog.image_tokens_square("Qwen/Qwen-VL-Chat", -448, t), r"side must be a positive whole number"),
    (lambda t: catalog.image_tokens_square("Qwen/Qwen-VL-Chat", 448.0, t), r"side must be a positive whole number"),
    (lambda t: catalog.filter_catalog(t, min_params_b=True), r"min_params_b must be a number"),
    (lambda t: catalog.explorer_selection(size_range=(1, 2, 4), table=t), r"size_range must be a \(low, high\) pair"),
    (lambda t: catalog.explorer_selection(size_range=8, table=t), r"size_range must be a \(low, high\) pair"),
])
def test_more_bad_inputs_raise_value_errors_naming_the_argument(table, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(table)


def test_license_figure_reading_holds(table):
    # the alt text of notebook 01's license figure, checked against the counts
    grid = catalog.licenses_by_size(table)
    verified = grid.drop(columns="unverified")
    for bucket in ("<2B", "2–10B", "10–40B"):
        assert verified.loc[bucket].idxmax() == "Apache-2.0", bucket
    assert (grid["unverified"] > 0).all()
    for bucket in ("<2B", "2–10B", "10–40B", "40–100B"):
        assert grid.loc[bucket].idxmax() == "unverified", bucket
