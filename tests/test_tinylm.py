"""The tiny numpy language model: vocabulary, gradients, determinism, and base vs instruct behaviour."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qwen_lessons import tinylm
from qwen_lessons.blas import one_blas_thread
from qwen_lessons.data import read_table
from qwen_lessons.lessons import base_vs_instruct as lesson


@pytest.fixture(scope="module")
def base():
    return tinylm.pretrain(seed=0, progress=False)


@pytest.fixture(scope="module")
def tuned():
    return tinylm.instruct(1000, seed=0, progress=False)


# ------------------------------------------------------------------ data and vocabulary


def test_instruction_table_is_course_written_and_corpus_has_no_chat_markers():
    table = read_table("tiny_instructions.csv")
    assert set(table["source"]) == {"written for qwen-lessons"}
    assert table["topic"].is_unique and len(table) == len(tinylm.topics())
    assert "<|im_start|>" not in tinylm.corpus_text() and "<|im_end|>" not in tinylm.corpus_text()


def test_vocabulary_splits_words_numbers_and_special_tokens():
    vocab = tinylm.tiny_vocab()
    assert vocab.tokenize("Qwen2.5-Coder has 32,768 tokens.\n<|im_end|>") == [
        "Qwen2.5-Coder", "has", "32,768", "tokens", ".", "\n", "<|im_end|>"
    ]
    assert vocab.decode(vocab.encode("It comes in sizes, from 0.5B to 32B.")) == "It comes in sizes, from 0.5B to 32B."
    assert vocab.encode("zyzzyva") == [vocab.index["<|unk|>"]] and vocab.unknown_words("a zyzzyva") == ["zyzzyva"]
    assert vocab.words[:4] == tinylm.SPECIALS
    with pytest.raises(ValueError, match="outside"):
        vocab.decode([vocab.size])


def test_chat_encoding_uses_the_qwen25_template_and_masks_only_the_reply():
    vocab = tinylm.tiny_vocab()
    ids, mask = vocab.encode_chat(tinylm.chat_example("What is Qwen?", "Qwen is a family."))
    text = vocab.decode(ids)
    assert text.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.")
    learned = [i for i, m in zip(ids, mask, strict=True) if m]
    # "Qwen is a family ." is 5 tokens, plus one <|im_end|>
    assert vocab.decode(learned) == "Qwen is a family.<|im_end|>" and len(learned) == 5 + 1


def test_instruction_examples_are_distinct_nested_and_seeded():
    thousand = tinylm.instruction_examples(1000)
    assert thousand[:10] == tinylm.instruction_examples(10)  # 10 examples are the first of the 1,000
    assert len({str(example) for example in thousand}) == 1000
    assert tinylm.instruction_examples(10, seed=1) != tinylm.instruction_examples(10)
    held_questions = {example[-2]["content"] for example in tinylm.heldout_examples()}
    assert not held_questions & {example[-2]["content"] for example in thousand}
    for bad in (0, 2001, 2.5):
        with pytest.raises(ValueError, match="n must be"):
            tinylm.instruction_examples(bad)


def test_windows_pad_on_the_left_and_keep_only_learned_positions():
    vocab = tinylm.tiny_vocab()
    pad = vocab.index["<|endoftext|>"]
    contexts, targets = tinylm.windows([[5, 6, 7]], [[0, 1, 1]], vocab)
    assert targets.tolist() == [6, 7]
    assert contexts[0].tolist() == [pad] * (tinylm.CONTEXT - 1) + [5]
    assert contexts[1].tolist() == [pad] * (tinylm.CONTEXT - 2) + [5, 6]
    with pytest.raises(ValueError, match="loss mask has 2"):
        tinylm.windows([[5, 6, 7]], [[1, 1]], vocab)


# ------------------------------------------------------------------ the maths


def test_untrained_loss_is_close_to_log_vocabulary_size():
    model = tinylm.init_model(seed=3)
    sequences, masks = tinylm.pretraining_data()
    # near-uniform predictions cost ln(V) nats per token
    assert model.loss(sequences, masks) == pytest.approx(math.log(model.vocab.size), abs=0.5)


def test_hand_written_gradients_match_finite_differences():
    model = tinylm.init_model(seed=1)
    params = {key: np.array(value, dtype=np.float64) for key, value in model.params.items()}
    rng = np.random.default_rng(0)
    contexts = rng.integers(0, model.vocab.size, size=(6, tinylm.CONTEXT))
    targets = rng.integers(0, model.vocab.size, size=6)
    _, grads = tinylm._loss_and_grads(params, contexts, targets)
    for key in params:
        for _ in range(3):
            index = tuple(int(rng.integers(0, n)) for n in params[key].shape)
            if key == "E":  # pick an embedding row that is used, so the gradient is not trivially zero
                index = (int(contexts[0, 0]), index[1])
            saved = params[key][index]
            params[key][index] = saved + 1e-5
            up, _ = tinylm._loss_and_grads(params, contexts, targets)
            params[key][index] = saved - 1e-5
            down, _ = tinylm._loss_and_grads(params, contexts, targets)
            params[key][index] = saved
            assert grads[key][index] == pytest.approx((up - down) / 2e-5, rel=1e-3, abs=1e-7), key


def test_training_updates_each_parameter_by_the_adam_formula_exactly():
    """fit() updates one flat buffer for speed; each step must equal Adam written per parameter, bit for bit."""
    model = tinylm.init_model(seed=2)
    sequences, masks = tinylm.pretraining_data()
    contexts, targets = tinylm.windows(sequences[:20], masks[:20], model.vocab)
    batches = [np.random.default_rng(step).integers(0, len(targets), 32) for step in range(4)]

    def loss_and_grads(params, step):
        return tinylm._loss_and_grads(params, contexts[batches[step - 1]], targets[batches[step - 1]])

    trained = tinylm.fit(model, loss_and_grads, steps=4, lr=0.01, progress=False)
    params = {key: np.array(value) for key, value in model.params.items()}
    m = {key: np.zeros_like(value) for key, value in params.items()}
    v = {key: np.zeros_like(value) for key, value in params.items()}
    for step in range(1, 5):
        with one_blas_thread():  # as fit() trains: two BLAS threads may round a matrix product differently
            _, grads = loss_and_grads(params, step)
        scale = min(1.0, 1.0 / (float(np.sqrt(sum(float((g * g).sum()) for g in grads.values()))) + 1e-12))
        for key, grad in grads.items():
            grad = grad * scale
            m[key] = 0.9 * m[key] + (1 - 0.9) * grad
            v[key] = 0.999 * v[key] + (1 - 0.999) * grad * grad
            m_hat, v_hat = m[key] / (1 - 0.9**step), v[key] / (1 - 0.999**step)
            params[key] = params[key] - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    for key, value in params.items():
        assert np.array_equal(trained.params[key], value), key


def test_the_embedding_gradient_adds_up_every_use_of_a_token():
    """backward() sums the rows of a repeated token by sorting (np.add.at is four times slower): same sums."""
    model = tinylm.init_model(seed=3)
    rng = np.random.default_rng(1)
    contexts = rng.integers(0, 5, size=(40, tinylm.CONTEXT))  # few distinct tokens: each used many times
    x, h, probs = tinylm.forward(model.params, contexts)
    d_logits = probs - np.eye(model.vocab.size, dtype=probs.dtype)[rng.integers(0, model.vocab.size, 40)]
    grads = tinylm.backward(model.params, contexts, x, h, d_logits)
    d_x = ((d_logits @ model.params["W2"].T) * (1.0 - h * h) @ model.params["W1"].T).reshape(-1, tinylm.EMBED)
    expected = np.zeros_like(model.params["E"], dtype=np.float64)
    np.add.at(expected, contexts.ravel(), d_x.astype(np.float64))
    np.testing.assert_allclose(grads["E"], expected, rtol=1e-4, atol=1e-6)
    assert not grads["E"][5:].any()  # tokens never used get no gradient


def test_distinct_n_by_hand():
    samples = [[1, 2, 3], [1, 2, 4]]
    assert tinylm.distinct_n(samples, 1) == pytest.approx(4 / 6)  # tokens 1,2,3,1,2,4: four different
    assert tinylm.distinct_n(samples, 2) == pytest.approx(3 / 4)  # (1,2) (2,3) (1,2) (2,4)
    assert tinylm.distinct_n([[1]], 2) == 0.0


# ------------------------------------------------------------------ training


def test_training_is_deterministic_returns_a_new_model_and_reduces_loss():
    sequences, masks = tinylm.pretraining_data()
    start = tinylm.init_model(seed=0)
    before = {key: value.copy() for key, value in start.params.items()}
    first, curve_a = tinylm.train(start, sequences, masks, steps=60, lr=4e-3, seed=7, progress=False)
    second, curve_b = tinylm.train(start, sequences, masks, steps=60, lr=4e-3, seed=7, progress=False)
    _, curve_c = tinylm.train(start, sequences, masks, steps=60, lr=4e-3, seed=8, progress=False)
    assert curve_a == curve_b and curve_a != curve_c
    assert all(np.array_equal(first.params[k], second.params[k]) for k in first.params)
    assert all(np.array_equal(start.params[k], before[k]) for k in before)  # the input model is unchanged
    assert not first.params["W1"].flags.writeable
    assert np.mean(curve_a[-10:]) < np.mean(curve_a[:10]) - 0.5
    assert first.loss_curve == tuple(curve_a)


def test_progress_is_reported(capsys):
    sequences, masks = tinylm.pretraining_data()
    seen = []
    tinylm.train(tinylm.init_model(), sequences, masks, steps=5, progress=lambda step, total: seen.append((step, total)))
    assert seen == [(step, 5) for step in range(1, 6)]
    tinylm.train(tinylm.init_model(), sequences, masks, steps=5, progress=True, name="demo")
    assert "demo: [####################] 5/5" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"steps": 0}, "steps must be"), ({"lr": 0}, "lr must be"), ({"loss_masks": [[0, 0]]}, "select no token")],
)
def test_bad_training_arguments(kwargs, message):
    arguments = {"model": tinylm.init_model(), "sequences": [[4, 5]], "loss_masks": [[1, 1]], "progress": False}
    with pytest.raises(ValueError, match=message):
        tinylm.train(**{**arguments, **kwargs})


# ------------------------------------------------------------------ what instruction tuning changes


def test_base_model_continues_text_and_never_ends_a_turn(base):
    prompt = tinylm.chat_prompt("What is Qwen2.5-Coder?")
    samples, _ = base.sample(prompt, n=50, max_new_tokens=30, seed=0)
    im_end = base.vocab.index["<|im_end|>"]
    # it never learned <|im_end|>; after a prompt full of unseen tokens it may still pick it by chance, rarely
    assert sum(sample[-1] == im_end for sample in samples) <= 5
    # its corpus taught it to continue prose: a plain-text prompt gets a corpus-like continuation
    assert base.generate("Qwen2.5-Coder is the code line", temperature=0).startswith("of Qwen2.5.")


def test_instruct_model_answers_and_ends_its_turn(base, tuned):
    prompts = tinylm.diversity_prompts()
    before, after = tinylm.diversity(base, prompts), tinylm.diversity(tuned, prompts)
    assert before["ends_turn"] <= 0.1 and after["ends_turn"] >= 0.8
    heldout = tinylm.heldout_examples()
    assert tinylm.answer_accuracy(base, heldout) == 0
    assert tinylm.answer_accuracy(tuned, heldout) >= 0.5
    sequences, masks = tinylm.sft_data(heldout)
    assert tuned.loss(sequences, masks) < base.loss(sequences, masks) / 5


def test_instruction_tuning_narrows_the_outputs(base, tuned):
    prompts = tinylm.diversity_prompts()
    before, after = tinylm.diversity(base, prompts), tinylm.diversity(tuned, prompts)
    assert after["entropy_nats"] < before["entropy_nats"]
    assert after["distinct_2"] < before["distinct_2"]


def test_more_examples_answer_more_held_out_questions():
    table = lesson.data_size_experiment((10, 100, 1000), progress=False)
    assert table["examples"].tolist() == [0, 10, 100, 1000]
    correct = table["heldout_correct"].tolist()
    assert correct[1] < correct[2] < correct[3]
    assert table["heldout_loss"].is_monotonic_decreasing
    # the notebook's reading: 10 examples already teach the turn ending, and every tuned model is more certain
    assert table.loc[1, "ends_turn"] >= 0.9 > table.loc[0, "ends_turn"]
    assert (table.loc[1:, "entropy_nats"] < table.loc[0, "entropy_nats"]).all()


def test_generation_is_seeded_and_checks_its_arguments(tuned):
    prompt = tinylm.chat_prompt("Tell me about quantization.")
    assert tuned.generate(prompt, seed=3) == tuned.generate(prompt, seed=3)
    assert tuned.generate(prompt, temperature=0).endswith("<|im_end|>")
    for kwargs, message in (({"n": 0}, "n must be"), ({"temperature": -1}, "temperature"), ({"max_new_tokens": 0}, "max_new")):
        with pytest.raises(ValueError, match=message):
            tuned.sample(prompt, **{"n": 2, **kwargs})


def test_exercise_check_accepts_the_documented_recipe_and_hints_otherwise(capsys):
    from qwen_lessons.checks import base_vs_instruct as checks

    heldout = tinylm.heldout_examples()
    tuned_300 = tinylm.instruction_tune(tinylm.pretrain(progress=False), tinylm.instruction_examples(300), progress=False)
    answer = tinylm.answer_accuracy(tuned_300, heldout)
    assert checks.check_tuned_accuracy(answer)
    assert not checks.check_tuned_accuracy(answer * 100 + 1)
    assert "not a percentage" in capsys.readouterr().out
    other = tinylm.answer_accuracy(tinylm.instruct(1000, progress=False), heldout)
    assert other != answer  # otherwise the "wrong size" hint below would never be exercised
    assert not checks.check_tuned_accuracy(other)
    out = capsys.readouterr().out
    assert "1000 examples" in out and f"{answer:.2f}" not in out


def test_a_finished_progress_bar_says_what_trained_and_how_far(monkeypatch):
    # issue 13: lesson 2's bars stayed with no numbers, two of them both labelled "instruct"
    import IPython.display

    from qwen_lessons import progress

    shown = []
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda widget: shown.append(widget))
    bar = progress.Progress(250, "instruction tuning on 100 chats", enabled=True)
    for step in range(1, 251):
        bar.update(step)
    label, _, count = shown[0].children
    assert label.value == "instruction tuning on 100 chats"
    assert count.value.startswith("250 / 250 steps in ")
