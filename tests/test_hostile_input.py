"""Hostile input (issue 12): every public function, one hostile argument at a time, answers with a ValueError
naming the argument or with a finite, sane result — never another exception, a hang or a memory blow-up.

The calls run in worker processes (tests/hostile_calls.py) with a capped address space and a budget of CPU time
per call (not of wall-clock time: the sweep gives the same verdict on a quiet machine and on one whose cores are
busy). The modules are found by walking the package, and the workers take them one at a time from a shared queue, so
a new module is swept without an edit here and the cores stay busy to the end. The reproducers of the issue are
kept below as direct regression tests."""

from __future__ import annotations

import json
import math
import queue
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest

from qwen_lessons import finetune, memory, tiers, tinylm, units, vision
from qwen_lessons.validation import checked, integer

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "hostile_calls.py"
WORKERS = 2  # CI's two cores; more workers would each pay for importing the package and building the examples


def hostile_calls():
    sys.path.insert(0, str(WORKER.parent))
    try:
        import hostile_calls
    finally:
        sys.path.pop(0)
    return hostile_calls


def swept_modules() -> list[str]:
    """Every module of qwen_lessons that defines a public function, the largest first (a short tail at the end)."""
    counts: dict[str, int] = {}
    for _, function, _ in hostile_calls().public_functions():
        counts[function.__module__] = counts.get(function.__module__, 0) + 1
    return sorted(counts, key=lambda module: (-counts[module], module))


def serve(modules: queue.Queue, results: list[dict]) -> None:
    """Start a serving worker and feed it modules until the queue is empty; a worker that dies (a call stuck in C
    code past its CPU backstop, a crash) is reported with the module it was probing, and another one takes over."""
    while not modules.empty():
        with tempfile.TemporaryFile("w+") as errors:
            worker = subprocess.Popen([sys.executable, str(WORKER), "--serve"], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=errors, text=True)
            try:
                while True:
                    try:
                        module = modules.get_nowait()
                    except queue.Empty:
                        return
                    worker.stdin.write(module + "\n")
                    worker.stdin.flush()
                    for line in worker.stdout:
                        if not line.startswith("{"):
                            continue
                        found = json.loads(line)
                        if found.get("done") == module:
                            break
                        results.append(found)
                    else:
                        errors.seek(0)
                        results.append({"function": module, "problem": f"worker died: {errors.read()[-600:]}"})
                        break
            finally:
                worker.stdin.close()
                worker.wait(timeout=600)  # a guard against a hang at exit only; the calls have CPU budgets


@pytest.mark.slow  # about a minute of CPU on each of two workers
def test_every_public_function_refuses_hostile_arguments_with_a_value_error():
    modules: queue.Queue = queue.Queue()
    for module in swept_modules():
        modules.put(module)
    results: list[dict] = []
    threads = [threading.Thread(target=serve, args=(modules, results)) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    covered = [line["covered"] for line in results if "covered" in line]
    findings = [line for line in results if "covered" not in line]
    sweep = hostile_calls()
    everything = {name for name, _, _ in sweep.public_functions()}
    print(f"{len(covered)} public functions in {len(swept_modules())} modules x "
          f"{len(sweep.NEVER_VALID) + len(sweep.MAYBE_VALID)} hostile values per argument")
    assert set(covered) == everything, f"functions no worker tried: {sorted(everything - set(covered))}"
    assert not findings, f"{len(findings)} mishandled calls:\n" + "\n".join(
        f"{f['function']}({f.get('argument')}={f.get('value')}): {f['problem']}" for f in findings[:40])


# A planted regression, run by the sweep's own probe in a worker process with a one-second CPU budget: `spins`
# loops forever on a negative value (the hang the budget must catch); `waits` sleeps two seconds of wall-clock
# time on -1 and uses no CPU (which a CPU budget must not mistake for a hang).
PLANTED = """
import json, sys, time
sys.path.insert(0, {tests!r})
import hostile_calls

def spins(batch=1):
    while batch < 0:
        pass
    return batch

def waits(batch=1):
    if batch == -1:
        time.sleep(2)
    return abs(batch) if isinstance(batch, int) else batch

hostile_calls.install_limits(cpu_seconds=1)
for function in (spins, waits):
    for finding in hostile_calls.probe(f"planted.{{function.__name__}}", function, None, {{"batch": 1}}):
        print(json.dumps(finding))
"""


def test_a_planted_endless_loop_is_caught_by_the_cpu_budget_and_a_sleep_is_not():
    code = PLANTED.format(tests=str(WORKER.parent))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    findings = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    slow = {(f["function"], f["value"]) for f in findings if "of CPU time" in f["problem"]}
    assert slow == {("planted.spins", "-1"), ("planted.spins", "-10**18")}, findings
    assert all(f["problem"] == "still running after 1 s of CPU time" for f in findings if "CPU" in f["problem"])


def test_the_sweep_finds_every_module_with_public_functions():
    modules = set(swept_modules())
    files = {".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
             for path in (ROOT / "qwen_lessons").rglob("*.py")}
    assert modules <= files and {"qwen_lessons.tiers", "qwen_lessons.tinylm", "qwen_lessons.lessons.fine_tuning"} <= modules
    plumbing = set(hostile_calls().PLUMBING)
    assert not modules & plumbing, "the package's plumbing takes no learner values"


# ---------------------------------------------------------------- the reproducers, one by one
M, S = "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-0.5B"


@pytest.mark.parametrize(("call", "argument"), [
    (lambda: finetune.six_n_rule(S, tokens="7"), "tokens"),
    (lambda: finetune.activation_bytes(S, seq_len="ab", micro_batch=1, checkpointing=True), "seq_len"),
    (lambda: memory.inference_memory(M, input_tokens=float("inf")), "input_tokens"),
    (lambda: memory.inference_memory(M, input_tokens=float("nan")), "input_tokens"),
    (lambda: tiers.decode_tokens_per_s_bound(M, "bf16", "l4", batch="2"), "batch"),
    (lambda: tiers.recommend(min_score="70"), "min_score"),
    (lambda: tiers.recommend(headroom=None), "headroom"),
    (lambda: tiers.recommend(min_score=True), "min_score"),
    (lambda: finetune.training_flops(S, "lora", 1e6, seq_len=-10**9), "seq_len"),
    (lambda: finetune.training_hours(-1e18, "a100-80gb"), "flops"),
    (lambda: tiers.split_context(-5), "context_tokens"),
    (lambda: units.weights_gib(float("inf"), 16), "params_billion"),
    (lambda: vision.video_tokens(720, 1280, 10, fps=0), "fps"),
    (lambda: tinylm.diversity_prompts(k=10**9), "k"),
])
def test_reproducers_get_a_value_error_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument} must be"):
        call()


def test_numpy_scalars_are_numbers_and_bools_are_not():
    import numpy as np

    assert memory.inference_memory(M, input_tokens=np.int64(1024)) == memory.inference_memory(M, input_tokens=1024)
    with pytest.raises(ValueError, match="batch must be a whole number"):
        memory.inference_memory(M, batch=True)


def test_sampling_at_a_low_temperature_stays_a_distribution():
    model = tinylm.pretrain(seed=0, steps=20, progress=False)
    reply = model.generate("Qwen is a", temperature=0.01, max_new_tokens=5)
    assert reply != "<|endoftext|>" and math.isfinite(len(reply))


def test_the_layer_checks_by_name_and_per_function():
    @checked(n=integer(1, 3))
    def pick(n, seq_len=128):
        return n, seq_len

    assert pick(2, seq_len=256.0) == (2, 256)
    with pytest.raises(ValueError, match=r"n must be a whole number from 1 to 3; got 4 \(int\)"):
        pick(4)
    with pytest.raises(ValueError, match="seq_len must be a whole number from 1 to 10,000,000"):
        pick(1, seq_len=0)


def test_a_million_spaces_get_a_message_about_the_text():
    from qwen_lessons import tokens

    with pytest.raises(ValueError, match="^text has a run of 1,000,000 whitespace characters"):
        tokens.encode(" " * 1_000_000)


# ---------------------------------------------------------------- issue 29's reproducers, one by one
def test_a_learners_callback_is_checked_inside_a_package_call():
    seen = []

    def progress(step, steps):
        seen.append(finetune.training_tokens(-5, 512))

    with pytest.raises(ValueError, match="^examples must be"):
        tinylm.train(tinylm.init_model(0), [[1, 2, 3, 4]], [[0, 1, 1, 1]], 2, 0.01, 0, progress=progress)
    assert seen == []


def test_a_widgets_update_is_checked_even_when_a_package_function_runs_it():
    from qwen_lessons import ui

    @checked
    def opens_a_widget(seq_len=128):  # a widget builder wires its controls and renders once, inside a checked call
        updates = []
        ui.wire([], lambda: updates.append(ui.guarded(lambda: str(finetune.training_tokens(-5, 512)))))
        return updates[0]

    assert "examples must be" in opens_a_widget() and "-2560" not in opens_a_widget()


@pytest.mark.parametrize(("change", "message"), [
    ({"hidden_size": -896}, "config hidden_size must be a whole number from 1"),
    ({"vocab_size": float("nan")}, "config vocab_size must be a whole number"),
    ({"num_hidden_layers": 10**8}, "config num_hidden_layers must be a whole number from 1 to 1,000"),
    ({"max_position_embeddings": None}, "config max_position_embeddings must be a whole number"),
    ({"num_attention_heads": 13}, "config num_key_value_heads must divide num_attention_heads"),
    ({"num_experts_per_tok": 4}, "config num_experts_per_tok exceeds num_experts"),
    ({"num_experts": 4, "num_experts_per_tok": 8, "moe_intermediate_size": 64}, "config num_experts_per_tok must be from 1"),
    ({"head_dim": 10_000}, "config head_dim must be at most hidden_size"),
    ({"hidden_sise": 896}, "config has no column(s) 'hidden_sise'"),
    ({"tie_word_embeddings": "yes"}, "config tie_word_embeddings must be True or False"),
])
def test_describe_checks_a_config_by_the_architecture_tables_rules(change, message):
    from qwen_lessons import models

    config = {**models.resolve(S).config, **change}
    with pytest.raises(ValueError, match=f"^{message}".replace("(", r"\(").replace(")", r"\)")):
        models.describe(config)
    assert models.count_parameters(models.describe(models.resolve(S).config)) == models.count_parameters(S)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: memory.inference_memory("Qwen/Qwen2.5-1.5B-Instruct", num_gpus=1024), "num_gpus must be from 1 to 28"),
    (lambda: tiers.recommend(num_gpus=1024), "num_gpus must be a whole number from 1 to 16"),  # every candidate splits
    (lambda: tiers.decode_tokens_per_s_bound(M, "bf16", "l4", context_tokens=10_000_000),
     "context_tokens must be at most 131,072 tokens"),
    (lambda: memory.inference_memory(M, input_tokens=131_072, output_tokens=1),
     "input_tokens \\+ output_tokens must be at most 131,072"),
    (lambda: finetune.training_hours(1e18, "a100-80gb", utilisation=5e-324), "utilisation must be a number from 0.01"),
    (lambda: vision.smart_resize(28, 28, min_pixels=1, max_pixels=1), "max_pixels is too small for a 28x28 image"),
    (lambda: vision.smart_resize(1, 200, min_pixels=4, max_pixels=784), "max_pixels is too small"),
    (lambda: finetune.training_hours(1e18, "cpu-ddr5-32gb"), "gpu_id must be a GPU or Apple machine to train on"),
    (lambda: __import__("qwen_lessons.local_runtime").local_runtime.decode_tokens_per_s_bound(
        M, "q4_k_m", "rtx-3060-12gb", host_id="a100-80gb"), "host_id must be the CPU and RAM beside the GPU"),
])
def test_physically_impossible_questions_are_refused(call, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        call()


def test_near_miss_names_are_refused_not_answered_for_another_checkpoint():
    from qwen_lessons import models

    with pytest.raises(ValueError, match="^model_id 'Qwen/Qwen2.5-VL-7B-Instruct-Base' has no architecture row"):
        models.resolve("Qwen/Qwen2.5-VL-7B-Instruct-Base")
    assert models.resolve("Qwen/Qwen3-8B-Base").model_id == "Qwen/Qwen3-8B"  # a plain size name keeps its sibling
    with pytest.raises(ValueError, match="^variant must be 'base', 'instruct ...' or"):
        tiers.variant_group("banana")
    for score in (lambda: tiers.post_trained_score(M, "NoSuchBench"), lambda: tiers.base_score("Qwen/Qwen3-8B", "MMLUU")):
        with pytest.raises(ValueError, match="is not in benchmarks.csv; it must be one of 80 benchmarks, e.g."):
            score()


def test_odd_types_are_converted_exactly_or_refused():
    import decimal
    import fractions

    import numpy as np
    import pandas as pd

    from qwen_lessons import catalog, tokens

    assert units.weights_gib(fractions.Fraction(15, 2), 16) == units.weights_gib(7.5, 16)
    assert units.weights_gib(decimal.Decimal("7.5"), 16) == units.weights_gib(7.5, 16)
    assert memory.inference_memory(M, input_tokens=fractions.Fraction(1024)) == memory.inference_memory(M, input_tokens=1024)
    with pytest.raises(ValueError, match="^input_tokens must be a whole number"):
        memory.inference_memory(M, input_tokens=fractions.Fraction(2049, 2))
    with pytest.raises(ValueError, match="^input_tokens must be a whole number"):
        memory.inference_memory(M, input_tokens=np.timedelta64(1024, "s"))
    with pytest.raises(ValueError, match=r"^messages\[0\]\['role'\] must be one of"):
        tokens.chat_segments([{"role": np.array(["user"]), "content": "hi"}])
    with pytest.raises(ValueError, match="^table must be a table with a 'active_params_b' column") as refused:
        catalog.is_moe(pd.DataFrame({"a": [1]}))
    assert "\n" not in str(refused.value) and len(str(refused.value)) <= 300


def test_long_choice_lists_are_cut_to_one_short_line():
    from qwen_lessons import hardware, models

    for call in (lambda: models.resolve("nope"), lambda: hardware.get_gpu("nope")):
        with pytest.raises(ValueError) as refused:
            call()
        text = str(refused.value)
        assert "\n" not in text and len(text) <= 300 and "one of" in text and "see " in text, text


def test_bounded_work_the_longest_token_list_decodes_within_its_cap():
    from qwen_lessons import tokens

    with pytest.raises(ValueError, match="^ids must be a list of at most 1,000,000 items"):
        tokens.decode([9707] * 1_000_001)


def test_the_package_itself_asks_no_checkpoint_for_more_context_than_it_documents():
    """Inner calls are not checked again, so the package's own loops must stay within a checkpoint's context:
    Qwen-14B has no max_position_embeddings in its row and documents 8,192 tokens."""
    from qwen_lessons import models

    assert models.longest_context("Qwen/Qwen-14B") == 8192
    curve = memory.context_curve("Qwen/Qwen-14B")
    assert len(curve) and curve["context_tokens"].max() == 8192, curve["context_tokens"].tolist()
