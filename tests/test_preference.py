"""Lesson 3: preference pairs, the DPO loss and its hand-written gradient, the frozen reference, the stage-by-stage
measurements, the smoothing verdict, the Qwen post-training table, the self-checks and the DPO explorer."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from qwen_lessons import preference, tinylm
from qwen_lessons.checks import preference_tuning as checks
from qwen_lessons.lessons import preference_tuning as lesson


@pytest.fixture(scope="module")
def sft():
    return tinylm.instruct(1000, seed=0, progress=False)


@pytest.fixture(scope="module")
def table():
    return lesson.stage_table(progress=False)


# ------------------------------------------------------------------ the preference data


def test_pairs_prefer_one_sentence_that_stops_and_held_out_wordings_are_never_trained():
    train, heldout = preference.preference_pairs("train"), preference.preference_pairs("heldout")
    assert len(train) == 2 * len(tinylm.topics()) * len(tinylm.TRAIN_QUESTIONS)
    assert len(heldout) == len(tinylm.topics()) * len(tinylm.HELDOUT_QUESTIONS)
    assert not {p.messages[-1]["content"] for p in heldout} & {p.messages[-1]["content"] for p in train}
    answers = dict(tinylm.topics())
    for pair in train[:200] + heldout:
        assert pair.rejected.startswith(pair.chosen) and len(pair.rejected) > len(pair.chosen)
        assert pair.chosen.count(". ") == 0  # one sentence
        if pair.kind == "verbose":
            assert pair.rejected == answers[pair.topic]
        else:
            assert pair.chosen == answers[pair.topic]
    assert {p.kind for p in heldout} == set(preference.KINDS)
    assert preference.preference_pairs("train", 10) == train[:10]  # the first n of one fixed shuffle
    assert preference.preference_pairs("train", 10, seed=1) != train[:10]
    with pytest.raises(ValueError, match="n_pairs"):
        preference.preference_pairs("heldout", 201)


def test_sequence_logprobs_sum_the_reply_tokens_only(sft):
    pair = preference.preference_pairs("heldout", 1)[0]
    logps = preference.sequence_logprobs(sft, [pair])
    for column, reply in enumerate((pair.chosen, pair.rejected)):
        ids, mask = sft.vocab.encode_chat(list(pair.messages) + [{"role": "assistant", "content": reply}])
        # model.loss is the mean cross-entropy over the same masked tokens: reply + <|im_end|>
        assert logps[0, column] == pytest.approx(-sft.loss([ids], [mask]) * sum(mask), rel=1e-5)
    assert sum(mask) == len(sft.vocab.encode(pair.rejected)) + 1


# ------------------------------------------------------------------ the loss and its gradient


def test_dpo_loss_is_the_formula_and_tends_to_log_2_as_beta_goes_to_0():
    margin = 0.2 * ((-11 + 12.5) - (-16 + 14.5))
    assert preference.dpo_loss(-11.0, -16.0, -12.5, -14.5, 0.2) == pytest.approx(-math.log(1 / (1 + math.exp(-margin))))
    assert preference.dpo_loss(-3.0, -40.0, -20.0, -5.0, beta=1e-9) == pytest.approx(math.log(2))
    # the policy equal to the reference: margin 0 whatever beta
    assert preference.dpo_loss(-5.0, -7.0, -5.0, -7.0, beta=3.0) == pytest.approx(math.log(2))
    # a huge margin either way stays finite
    assert preference.dpo_loss(0.0, -1e6, -1e6, 0.0, beta=100) == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(preference.dpo_loss(-1e6, 0.0, 0.0, -1e6, beta=100))
    with pytest.raises(ValueError, match="beta"):
        preference.dpo_loss(-1.0, -2.0, -1.0, -2.0, beta=0)
    with pytest.raises(ValueError, match="policy_chosen"):
        preference.dpo_loss(1.0, -2.0, -1.0, -2.0)


def test_hand_written_dpo_gradient_matches_finite_differences():
    reference = tinylm.init_model(seed=2)
    params = {key: np.array(value, dtype=np.float64) for key, value in reference.params.items()}
    rng = np.random.default_rng(1)
    for key in params:  # move the policy away from the reference, so the margins are not all zero
        params[key] += rng.normal(0, 0.05, params[key].shape)
    windows = preference._pair_windows(preference.preference_pairs("train", 3), reference.vocab)
    ref_params = {key: np.array(value, dtype=np.float64) for key, value in reference.params.items()}
    reference_logps = preference._logprobs(ref_params, windows)[0]
    beta = 0.5
    loss, grads, margins = preference._dpo_loss_and_grads(params, windows, reference_logps, beta)
    assert np.abs(margins).min() > 1e-3 and loss == pytest.approx(np.logaddexp(0, -margins).mean())
    used = windows.contexts[0]
    for key in params:
        for trial in range(4):
            index = tuple(int(rng.integers(0, n)) for n in params[key].shape)
            if key == "E":  # an embedding row that the windows use, so the gradient is not trivially zero
                index = (int(used[-1 - trial]), index[1])
            saved = params[key][index]
            params[key][index] = saved + 1e-6
            up = preference._dpo_loss_and_grads(params, windows, reference_logps, beta)[0]
            params[key][index] = saved - 1e-6
            down = preference._dpo_loss_and_grads(params, windows, reference_logps, beta)[0]
            params[key][index] = saved
            assert grads[key][index] == pytest.approx((up - down) / 2e-6, rel=1e-4, abs=1e-9), key


def test_dpo_keeps_the_reference_frozen_bit_for_bit_and_is_deterministic(sft):
    before = {key: value.copy() for key, value in sft.params.items()}
    pairs = preference.preference_pairs("train", 64)
    tuned = preference.dpo_train(sft, pairs, 0.1, steps=8, progress=False)
    again = preference.dpo_train(sft, pairs, 0.1, steps=8, progress=False)
    for key, value in sft.params.items():
        assert value.tobytes() == before[key].tobytes(), key
        assert not value.flags.writeable
        assert np.array_equal(tuned.params[key], again.params[key])
    assert any(not np.array_equal(tuned.params[k], sft.params[k]) for k in sft.params)
    assert tuned.loss_curve[0] == pytest.approx(math.log(2), abs=1e-6)  # step 1: the policy is the reference
    assert len(tuned.loss_curve) == 8


def test_dpo_raises_the_held_out_margin_and_bad_arguments_are_named(sft):
    heldout = preference.preference_pairs("heldout")
    tuned = preference.dpo_train(sft, preference.preference_pairs("train", 200), 0.1, steps=30, progress=False)
    assert preference.preference_scores(tuned, sft, heldout)["reward_margin"] > 0.5
    itself = preference.preference_scores(sft, sft, heldout)  # the reference against itself: every margin is 0
    assert itself["reward_accuracy"] == 0.5 and itself["reward_margin"] == 0.0
    logps = preference.sequence_logprobs(sft, heldout)
    assert itself["preference_accuracy"] == pytest.approx(np.mean(logps[:, 0] > logps[:, 1]))
    with pytest.raises(ValueError, match="shape"):
        preference.scores_from_logprobs(logps[:, :1], logps[:, :1])
    with pytest.raises(ValueError, match="pairs"):
        preference.dpo_train(sft, [], 0.1)
    with pytest.raises(ValueError, match="beta"):
        preference.dpo_train(sft, heldout[:2], -1.0)


# ------------------------------------------------------------------ stage by stage, and the verdict


def _stages(**columns) -> pd.DataFrame:
    return pd.DataFrame({"stage": ["a", "b"], **columns})


@pytest.mark.parametrize(("columns", "verdict"), [
    ({"distinct_2": [0.8, 0.3], "entropy_nats": [2.0, 0.4], "length_std": [10.0, 4.0]}, "smooths"),
    ({"distinct_2": [0.3, 0.8], "entropy_nats": [0.4, 2.0], "length_std": [4.0, 10.0]}, "widens"),
    ({"distinct_2": [0.3, 0.4], "entropy_nats": [0.4, 0.7], "length_std": [4.0, 3.9]}, "mixed"),
    ({"distinct_2": [0.8, 0.3], "entropy_nats": [2.0, 0.4], "length_std": [10.0, 9.9]}, "mixed"),  # within 5%
])
def test_smoothing_verdict_by_hand(columns, verdict):
    result = preference.smoothing_verdict(_stages(**columns))
    assert list(result["verdict"]) == [verdict]
    assert result.loc[0, "distinct_2_change"] == pytest.approx(
        (columns["distinct_2"][1] - columns["distinct_2"][0]) / columns["distinct_2"][0])
    with pytest.raises(ValueError, match="stage"):
        preference.smoothing_verdict(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="two stages"):
        preference.smoothing_verdict(_stages(**columns).head(1))


def test_the_lessons_claims_hold_on_the_measured_stages(table):
    rows = table.set_index("stage")
    assert list(table["stage"]) == list(lesson.STAGES)
    # base prefers the shorter, chosen reply by log-probability; SFT prefers the answer it was taught; DPO flips it
    assert rows.loc["base", "preference_accuracy"] > 0.5 > rows.loc["SFT", "preference_accuracy"]
    assert rows.loc["DPO", "preference_accuracy"] > 0.9 and rows.loc["DPO", "reward_accuracy"] > 0.9
    assert rows.loc["SFT", "reward_accuracy"] == 0.5 and rows.loc["SFT", "reward_margin"] == 0.0
    assert abs(rows.loc["SFT", "kl_nats"]) < 1e-6 and rows.loc["DPO", "kl_nats"] > 0.1
    assert rows.loc["DPO", "mean_length"] < 0.8 * rows.loc["SFT", "mean_length"]  # "clearly shorter replies"
    assert rows.loc["DPO", "ends_turn"] > 0.9
    verdicts = preference.smoothing_verdict(table).set_index("to")["verdict"]
    assert verdicts["SFT"] == "smooths" and verdicts["DPO"] == "mixed"  # section 5's reading
    dpo, sft = rows.loc["DPO"], rows.loc["SFT"]
    assert dpo["distinct_2"] > sft["distinct_2"] and dpo["entropy_nats"] > sft["entropy_nats"]
    assert abs(dpo["length_std"] - sft["length_std"]) < 0.05 * sft["length_std"]  # "about as narrow"


def test_a_smaller_beta_drifts_further_from_the_reference():
    small, large = (lesson.stage_table(beta, progress=False).set_index("stage").loc["DPO"] for beta in (0.03, 1.0))
    assert small["kl_nats"] > 1.5 * large["kl_nats"]  # section 6: beta 0.03 drifts far, beta 1 stays close


def test_stage_table_is_cached_and_its_figures_read_cleanly(table):
    import matplotlib

    matplotlib.use("Agg")
    from qwen_lessons.plotting import figure_problems

    assert lesson.stage_table(progress=False).equals(table)
    models = lesson.stage_models(progress=False)
    assert models["DPO"] is lesson.stage_models(progress=False)["DPO"]
    for figure in (lesson.stage_figure(table), lesson.dpo_curve_figure(models["DPO"]), lesson.qwen_stages_figure()):
        assert figure_problems(figure) == []
    lines = lesson.closing_lines(table)
    assert len(lines) == 5 and lines[-1].startswith("SFT → DPO: mixed")
    with pytest.raises(ValueError, match="table"):
        lesson.stage_figure(None)


# ------------------------------------------------------------------ Qwen's stages, checks, widget


def test_qwen_post_training_table_orders_the_published_stages():
    stages = lesson.qwen_stages()
    by = {g: rows.sort_values("order") for g, rows in stages.groupby("generation")}
    assert list(by["Qwen2.5"]["method"]) == ["SFT", "DPO", "GRPO"]
    assert list(by["Qwen3"]["stage"])[:4] == ["long chain-of-thought cold start", "reasoning reinforcement learning",
                                               "thinking mode fusion", "general reinforcement learning"]
    assert pd.isna(by["Qwen3"].set_index("order").loc[4, "method"])  # not confirmed: empty, not guessed
    assert stages["source"].str.contains("arxiv.org/abs/2412.15115|arxiv.org/abs/2505.09388").all()


def test_self_checks_accept_the_answer_and_hint_at_the_usual_mistakes(capsys):
    assert checks.check_dpo_loss(math.log1p(math.exp(-0.6)))
    assert not checks.check_dpo_loss(math.log1p(math.exp(-1.0)))  # reference forgotten
    assert "reference" in capsys.readouterr().out
    assert not checks.check_dpo_loss(math.log1p(math.exp(0.6)))  # sign flipped
    assert "sign" in capsys.readouterr().out
    assert checks.check_beta_limit(math.log(2)) and not checks.check_beta_limit(0.5)
    assert checks.check_fusion_stage("Thinking mode fusion") and not checks.check_fusion_stage("offline reinforcement learning")
    assert not checks.check_dpo_verdict(None) and not checks.check_dpo_verdict("smooths")
    # beta = 0.03: the policy drifts far and the DPO step widens; section 4's run (beta = 0.1) is "mixed"
    assert checks.check_dpo_verdict("widens")
    assert not checks.check_dpo_verdict("mixed")
    assert "section 4" in capsys.readouterr().out


def test_explorer_shows_the_stage_table_of_its_controls(table):
    from qwen_lessons.widgets import preference_tuning as widget

    explorer = widget.dpo_explorer_widget()
    assert "qwen-dpo-table" in explorer.table.value and "DPO" in explorer.table.value
    assert explorer.table.value == widget.stages_html(explorer.beta.value, explorer.pairs.value)
    assert "SFT → DPO" in explorer.verdict.value and "mixed" in explorer.verdict.value
    explorer.beta.value = 1.0
    assert explorer.table.value == widget.stages_html(1.0, explorer.pairs.value)
    assert explorer.table.value != widget.stages_html(preference.DEFAULT_BETA, explorer.pairs.value)
