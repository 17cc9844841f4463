"""Lesson 1 (01_family_map): claim verdicts, the explorer widget and the self-checks."""

from __future__ import annotations

import re

import pytest

from qwen_lessons import catalog
from qwen_lessons.checks import family_map
from qwen_lessons.lessons import family_map as lesson
from qwen_lessons.widgets import family_map as widget


@pytest.fixture(scope="module")
def table():
    return catalog.load_catalog()

# --- claims -----------------------------------------------------------------------------------------------------

# (b) became true with Qwen1.5-110B, a dense checkpoint past 100B (issue 14)
EXPECTED_VERDICTS = {"a": "false", "b": "true", "c": "partly true", "d": "partly true", "e": "partly true",
                     "f": "false", "g": "false", "h": "partly true"}


def test_each_popular_claim_gets_the_verdict_of_the_reference_review(table):
    verdicts = lesson.common_picture(table)
    assert dict(zip(verdicts["key"], verdicts["verdict"], strict=True)) == EXPECTED_VERDICTS
    assert verdicts["source"].str.len().min() > 10
    assert verdicts["evidence"].str.len().min() > 20


def test_claim_verdicts_follow_the_data(table):
    # If every code checkpoint sat between 1.5B and 32B, claim (e) would become true.
    narrowed = table[(table["line"] != "code") | table["params_b"].between(1.5, 32)]
    narrowed = narrowed[~narrowed["model_id"].str.contains("Coder-30B")]
    assert lesson.claim_code_line(narrowed).verdict == "true"
    # Claim (g) names a real licence, only not the audio line's: the Qwen Community License is Qwen3.8-Flash-Next's.
    # A 72B audio row under it would make the claim true.
    community = table[table["license"] == "Qwen Community License"]
    assert list(community["model_id"]) == ["Qwen/Qwen3.8-Flash-Next"] and lesson.claim_audio_line(table).verdict == "false"
    audio = table.copy()
    row = audio.index[audio["line"] == "audio"][0]
    audio.loc[row, ["license", "params_b"]] = ["Qwen Community License", 72.0]
    assert lesson.claim_audio_line(audio).verdict == "true"


def test_image_tokens_for_448_by_hand(table):
    assert lesson.image_tokens_square("Qwen/Qwen2.5-VL-7B-Instruct", 448, table) == (448 // 28) ** 2 == 256
    assert lesson.image_tokens_square("Qwen/Qwen3-VL-8B-Instruct", 448, table) == (448 // 32) ** 2 == 196
    assert lesson.image_tokens_square("Qwen/Qwen-VL-Chat", 448, table) == 256
    # any side: lesson 5's count for the generation the catalog row names (a 450 tile is resized, not refused)
    from qwen_lessons import vision

    assert lesson.image_tokens_square("Qwen/Qwen2.5-VL-7B-Instruct", 450, table) == vision.image_tokens(450, 450,
                                                                                                       "qwen2.5-vl")
    with pytest.raises(ValueError, match="has no vision generation in the catalog"):
        lesson.image_tokens_square("Qwen/Qwen2.5-7B-Instruct", 448, table)
    with pytest.raises(ValueError, match="'Qwen/NoSuchModel-1B' not in the catalog"):
        lesson.image_tokens_square("Qwen/NoSuchModel-1B", 448, table)


def test_flagships_and_context_summary(table):
    tops = lesson.flagships(table).set_index("generation")
    assert tops.loc["Qwen2.5", "model_id"] == "Qwen/Qwen2.5-72B"
    assert tops.loc["Qwen3", "license"] == "Apache-2.0"
    context = lesson.context_by_generation(table)
    assert context.loc["Qwen1", "native_min"] == 8192
    # Qwen2.5-7B/14B-Instruct-1M (issue 14) reach 1,010,000 tokens with their sparse-attention setup
    assert context.loc["Qwen2.5", "native_max"] == 32768 and context.loc["Qwen2.5", "extended_max"] == 1_010_000
    assert context.loc["Qwen3-2507", "native_max"] == 262144


# --- explorer ---------------------------------------------------------------------------------------------------


def test_explorer_updates_table_and_plot_together():
    demo = widget.build_explorer()
    first_png = demo.plot.value
    assert "qwen-explorer-table" in demo.result._dom_classes
    demo.line.value = "audio"
    assert "4</b> checkpoint(s) match" in demo.result.value
    assert demo.plot.value != first_png and demo.plot.value[:4] == b"\x89PNG"
    rows = re.findall(r"<td[^>]*>(Qwen/[^<]+)</td>", demo.result.value)
    assert set(rows) == set(catalog.filter_catalog(line="audio")["model_id"])


def test_explorer_table_shows_top_rows_a_count_and_the_rest_on_request():
    # issue 13: the explorer showed all 40 rows, wrapped, about five screens
    demo = widget.build_explorer()
    total = len(catalog.load_catalog())
    assert f"<b>{total}</b> checkpoint(s) match" in demo.result.value
    first_table = demo.result.value.split("<details")[0]
    assert first_table.split("<tbody>")[1].split("</tbody>")[0].count("<tr") == 10  # the top ten
    assert f"Show all {total} rows" in demo.result.value
    # long text wraps (issue 25: never cut); a table wider than the widget scrolls sideways
    assert "white-space: normal" in demo.result.value and "overflow-x:auto" in demo.result.value


def test_explorer_says_so_when_nothing_matches():
    demo = widget.build_explorer()
    demo.line.value = "audio"
    demo.generation.value = "Qwen3.5"
    assert "No checkpoint matches" in demo.result.value
    assert "Traceback" not in demo.result.value


def test_explorer_selection_rejects_bad_context_choice():
    with pytest.raises(ValueError, match="min_context must be one of"):
        widget.explorer_selection(min_context="2K")


def test_explorer_shows_an_error_line_not_a_traceback(monkeypatch):
    demo = widget.build_explorer()
    monkeypatch.setattr(widget, "explorer_selection", lambda *a, **k: (_ for _ in ()).throw(ValueError("boom")))
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
    assert lesson.context_by_generation(early)["native_max"].max() == 32768
    assert lesson.claim_context_growth(early).verdict == "partly true"


@pytest.mark.parametrize(("call", "pattern"), [
    (lambda t: lesson.image_tokens_square("Qwen/Qwen-VL-Chat", -448, t), r"side must be a whole number from 1 to"),
    (lambda t: lesson.image_tokens_square("Qwen/Qwen-VL-Chat", 448.5, t), r"side must be a whole number from 1 to"),
    (lambda t: catalog.filter_catalog(t, min_params_b=True), r"min_params_b must be a number"),
    (lambda t: widget.explorer_selection(size_range=(1, 2, 4), table=t), r"size_range must be a \(low, high\) pair"),
    (lambda t: widget.explorer_selection(size_range=8, table=t), r"size_range must be a \(low, high\) pair"),
])
def test_more_bad_inputs_raise_value_errors_naming_the_argument(table, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call(table)


def test_license_figure_reading_holds(table):
    # the alt text of notebook 01's license figure, checked against the counts
    grid = lesson.licenses_by_size(table)
    verified = grid.drop(columns="unverified")
    for bucket in ("<2B", "2–10B", "10–40B", "≥100B"):
        assert verified.loc[bucket].idxmax() == "Apache-2.0", bucket
    # 40–100B: the Qwen License of the 72B Qwen2.5, Qwen2.5-Math (their pages' header 'License: qwen'), VL and QVQ
    # rows leads the Tongyi Qianwen License of the Qwen1/1.5/2 72B checkpoints
    assert verified.loc["40–100B"].idxmax() == "Qwen License"
    assert verified.loc["40–100B", "Qwen License"] > verified.loc["40–100B", "Tongyi Qianwen License"] > 0
    assert (grid["unverified"] > 0).all()
    assert (grid[["Qwen License", "Qwen Research License"]].sum(axis=1) > 0).loc[["2–10B", "40–100B"]].all()
    max_licence = table[table["license"] == "Qwen3.8-Max License"]
    assert list(max_licence["model_id"]) == ["Qwen/Qwen3.8-2.4T-A95B"] and grid.loc["≥100B", "Qwen3.8-Max License"] == 1
    tongyi = table[table["license"].fillna("").str.startswith("Tongyi")]
    assert set(tongyi["generation"]) == {"Qwen1", "Qwen1.5", "Qwen2"}


def test_lessons_1_and_4_decide_the_448_claim_alike():
    # issue 13: claim (h) was FALSE in lesson 1 while four of six generations give exactly 256, and lesson 5 worded
    # the same finding differently; both now use vision.band_verdict
    from qwen_lessons.lessons import vision_token_budgets as lesson4

    verdict = lesson.claim_image_tokens()
    assert verdict.verdict == "partly true"
    assert lesson4.tile_claim_summary().startswith(f"Verdict: {verdict.verdict}.")
    reading = verdict.evidence.split("excluded). ")[1]
    assert reading[0].upper() + reading[1:] in lesson4.tile_claim_summary()


@pytest.mark.parametrize(("counts", "verdict"), [
    ({"a": 300, "b": 400}, "true"), ({"a": 256, "b": 196}, "partly true"), ({"a": 100, "b": 600}, "false"),
    ({"a": 256}, "true"), ({"a": 512, "b": 513}, "partly true")])
def test_band_verdict_counts_the_edges_as_inside(counts, verdict):
    from qwen_lessons.vision import band_verdict

    assert band_verdict(counts, 256, 512)[0] == verdict


def test_series_by_line_counts_every_checkpoint_once_and_names_series_without_base(table):
    by_line = lesson.series_by_line(table)
    assert by_line["checkpoints"].sum() == len(table) and len(by_line) <= 25  # one row per line: fits the lesson
    assert "Qwen2.5-Omni" in by_line.loc["omni", "series without a base checkpoint"]
    assert by_line.loc["math", "series without a base checkpoint"] == "none"


@pytest.mark.parametrize("low_high", [(512, 512), (256, 512), (0, 512), (64, 128)])
def test_the_explorer_shows_only_sizes_inside_the_range_chosen(low_high):
    low, high = low_high
    assert low in widget.SIZE_STOPS and high in widget.SIZE_STOPS
    rows = widget.explorer_selection(size_range=(low, high))
    sizes = rows["params_b"].dropna().astype(float)
    assert ((sizes >= low) & (sizes <= high)).all(), rows.loc[sizes.index[(sizes < low) | (sizes > high)], "model_id"]


def test_the_size_slider_reaches_the_largest_checkpoint():
    largest = float(widget.load_catalog()["params_b"].max())
    assert widget.SIZE_STOPS[-2] < largest <= widget.SIZE_STOPS[-1]
    assert len(widget.explorer_selection()) == len(widget.load_catalog())  # the full range hides nothing


def test_the_explorer_figure_reads_cleanly_at_its_own_size():
    from qwen_lessons.plotting import figure_problems

    canvas = widget.selection_canvas()
    canvas.render(widget.load_catalog())
    assert figure_problems(canvas.figure) == []  # among others: no text under 8 pt as shown
    legend = canvas.axes.get_legend().get_window_extent(canvas.figure.canvas.get_renderer())
    assert legend.x1 <= canvas.figure.bbox.x1 and legend.y0 >= 0  # the PNG is the canvas: the legend stays on it
