"""Hostile input (issue 12): every public function, one hostile argument at a time, answers with a ValueError
naming the argument or with a finite, sane result — never another exception, a hang or a memory blow-up.

The calls run in worker processes (tests/hostile_calls.py) with a capped address space and a per-call alarm, so a
regression fails this test instead of taking the suite down. The reproducers of the issue are kept below as
direct regression tests."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from qwen_lessons import finetune, memory, tiers, tinylm, units, vision
from qwen_lessons.validation import checked, integer

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "hostile_calls.py"
# two halves of the package, so CI's two cores share the work
GROUPS = (["qwen_lessons.lessons", "qwen_lessons.tinylm", "qwen_lessons.widgets.base_vs_instruct",
           "qwen_lessons.audio", "qwen_lessons.widgets.audio_token_budgets", "qwen_lessons.preference",
           "qwen_lessons.widgets.preference_tuning"],
          ["qwen_lessons.catalog", "qwen_lessons.checks", "qwen_lessons.data", "qwen_lessons.finetune",
           "qwen_lessons.hardware", "qwen_lessons.local_formats", "qwen_lessons.local_runtime", "qwen_lessons.memory",
           "qwen_lessons.widgets.local_inference", "qwen_lessons.models", "qwen_lessons.pictures",
           "qwen_lessons.plotting", "qwen_lessons.prompts", "qwen_lessons.schemas", "qwen_lessons.speed", "qwen_lessons.tiers", "qwen_lessons.tokens",
           "qwen_lessons.towers", "qwen_lessons.vocabulary",
           "qwen_lessons.units", "qwen_lessons.vision", "qwen_lessons.widgets.choosing_a_tier",
           "qwen_lessons.widgets.family_map", "qwen_lessons.widgets.fine_tuning",
           "qwen_lessons.widgets.start_here", "qwen_lessons.widgets.vision_token_budgets"])


def run_worker(modules: list[str]) -> list[dict]:
    done = subprocess.run([sys.executable, str(WORKER), *modules], capture_output=True, text=True, timeout=1500)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0:
        lines.append({"function": " ".join(modules), "problem": f"worker died: {done.stderr[-600:]}"})
    return lines


def test_every_public_function_refuses_hostile_arguments_with_a_value_error():
    with ThreadPoolExecutor(len(GROUPS)) as pool:
        results = [line for lines in pool.map(run_worker, GROUPS) for line in lines]
    covered = [line["covered"] for line in results if "covered" in line]
    findings = [line for line in results if "covered" not in line]
    sys.path.insert(0, str(WORKER.parent))
    try:
        import hostile_calls
    finally:
        sys.path.pop(0)
    everything = {name for name, _, _ in hostile_calls.public_functions()}
    print(f"{len(covered)} public functions x {len(hostile_calls.NEVER_VALID) + len(hostile_calls.MAYBE_VALID)} "
          f"hostile values per argument")
    assert set(covered) == everything, f"functions no worker tried: {sorted(everything - set(covered))}"
    assert not findings, f"{len(findings)} mishandled calls:\n" + "\n".join(
        f"{f['function']}({f.get('argument')}={f.get('value')}): {f['problem']}" for f in findings[:40])


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
