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
