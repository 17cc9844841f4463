"""Call every public function of qwen_lessons with one hostile argument at a time (issue 12).

The public API is discovered, not listed: every function a module of the package defines under a name without a
leading underscore, and the public methods of the classes a learner holds (TinyLM). Each call gets valid values
for every argument but one — from EXAMPLES by parameter name (or the function's own default) — and one hostile
value for that one. A call passes when it
- raises ValueError (DataFileError and pydantic's errors are ValueErrors), naming the argument when the value was
  refused, or
- returns, for a value that can be valid (a big or negative number, None, an empty or huge string), a result whose
  numbers are finite and keep the sign the valid call's numbers have;
and it fails on any other exception, on a result for a value no argument may take (True for a number, NaN, a
list
for a scalar, an object), on a hang (more than CALL_CPU_SECONDS of CPU time: a budget of work, so a busy machine
cannot fail a call that a quiet one passes) and on a memory blow-up (the worker's address space is capped).

Run as a worker: `python tests/hostile_calls.py MODULE...` prints one JSON line per finding; with `--serve` it reads
module names from stdin, one a line, and ends each module's findings with {"done": MODULE}. The test
(tests/test_hostile_input.py) feeds every module of the package to a few serving workers and asserts no finding.
"""

from __future__ import annotations

import dataclasses
import decimal
import fractions
import importlib
import inspect
import json
import math
import numbers
import pkgutil
import resource
import signal
import sys
from collections.abc import Mapping

import numpy as np
import pandas as pd

import qwen_lessons
from qwen_lessons import validation

CALL_CPU_SECONDS = 30  # generous: the slowest honest call (training the tiny model) takes a few CPU seconds
MEMORY_CAP_BYTES = 6 * 2**30

# Modules whose functions take no learner values: the package's own plumbing, called with widgets and callables.
PLUMBING = {
    "qwen_lessons.ui": "wires widgets the package builds itself; driven by the widget sweep",
    "qwen_lessons.blas": "a decorator and a context manager for the package's own training loop",
    "qwen_lessons.progress": "reports whether code runs in a kernel",
    "qwen_lessons.env": "reads the installed environment; its arguments come from the package",
    "qwen_lessons.validation": "the validation layer itself: its functions make and apply the rules",
}
# Answer checkers take whatever a learner typed: they must answer every value with a hint, never raise.
ANSWER_CHECKERS = "qwen_lessons.checks."
# Functions that take objects the package made (figures, axes, callables), not values.
NOT_VALUES = {
    "qwen_lessons.plotting.log_scale", "qwen_lessons.plotting.figure_problems", "qwen_lessons.plotting.use_course_style",
    "qwen_lessons.plotting.displayed_scale",
    "qwen_lessons.checks.answer_check",  # a decorator for the exercise checks
    "qwen_lessons.checks.exercise_checks",  # lists a checks module's checks (for tests/test_answer_leaks.py)
    "qwen_lessons.checks.check_formula",  # the checks modules' helper: its cases are built by the package
    "qwen_lessons.data.read_table",  # its dtypes/check come from the package's own loaders
    "qwen_lessons.data.built_from",  # a decorator for the package's own table-derived caches
    # write, quantize and run GGUF files at paths the package's own callers made (lesson 8, benchmarks, tests)
    "qwen_lessons.real_llama_cpp.write_random_gguf", "qwen_lessons.real_llama_cpp.quantize",
    "qwen_lessons.real_llama_cpp.file_tensors", "qwen_lessons.real_llama_cpp.run",
    # argument rules, like the validation layer's own: swept through the functions whose parameters they check
    "qwen_lessons.hardware.of_kind", "qwen_lessons.hardware.HOST_CPU", "qwen_lessons.hardware.TRAINING_DEVICE",
}


class Slow(Exception):
    pass


def _over_budget(*_):
    raise Slow()


def install_limits(cpu_seconds: float | None = None) -> None:
    """Cap the worker's memory and make every call() raise Slow after its budget of CPU time (ITIMER_PROF counts
    the process's user and system time, not the clock)."""
    global CALL_CPU_SECONDS
    if cpu_seconds is not None:
        CALL_CPU_SECONDS = cpu_seconds
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))
    signal.signal(signal.SIGPROF, _over_budget)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def public_functions():
    """(qualified name, callable, owner class or None) for every public function and TinyLM method."""
    found = []
    for info in pkgutil.walk_packages(qwen_lessons.__path__, "qwen_lessons."):
        module = importlib.import_module(info.name)
        if info.name in PLUMBING:
            continue
        for name, value in vars(module).items():
            if name.startswith("_"):
                continue
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                qualified = f"{module.__name__}.{name}"
                if qualified not in NOT_VALUES:
                    found.append((qualified, value, None))
            elif inspect.isclass(value) and value.__module__ == module.__name__ and name in INSTANCES:
                for method_name, method in vars(value).items():
                    if not method_name.startswith("_") and inspect.isfunction(method):
                        found.append((f"{module.__name__}.{name}.{method_name}", method, name))
    return found


def _tiny_model():
    from qwen_lessons import tinylm
    return tinylm.pretrain(seed=0, steps=20, progress=False)


def _tiny_vocab():
    from qwen_lessons import tinylm
    return tinylm.tiny_vocab()


INSTANCES = {"TinyLM": _tiny_model}


def _forward_example(model):
    """forward's x, h and probabilities for one window of padding: valid inputs of tinylm.backward."""
    from qwen_lessons import tinylm
    return tinylm.forward(model.params, np.zeros((1, tinylm.CONTEXT), dtype=np.int64))


def _zero_gradients(params, step):
    """A valid loss_and_grads for tinylm.fit: loss 0, every gradient 0."""
    return 0.0, {key: np.zeros_like(value) for key, value in params.items()}

M = "Qwen/Qwen2.5-7B-Instruct"
S = "Qwen/Qwen2.5-0.5B"
CHAT = [{"role": "user", "content": "What is Qwen?"}, {"role": "assistant", "content": "A model family."}]


class Factory:
    """A valid example that is expensive to make: built on first use, once."""

    def __init__(self, make):
        self.make, self.value = make, None

    def __call__(self):
        if self.value is None:
            self.value = self.make()
        return self.value


def _examples():
    """Valid values by parameter name; "parameter.function" keys override for one function."""
    from PIL import Image

    from qwen_lessons import catalog, finetune, finetune_evidence, models, prompts, tiers, tinylm, tokens, towers
    from qwen_lessons import preference
    from qwen_lessons.lessons import base_vs_instruct, fine_tuning
    from qwen_lessons.lessons import preference_tuning
    from qwen_lessons.widgets import base_vs_instruct as viewer

    tiny = Factory(_tiny_model)
    return {
        "model_id": M, "answer_model_id": M, "model": tiny, "model.arch_model_id": "Qwen2.5-7B", "start": tiny,
        "gpu_id": "a100-80gb", "answer_gpu_id": "a100-80gb",
        "quantization": "bf16", "quantization.gguf_tensor_types": "q4_k_m", "quantization.gguf_file_bytes": "q4_k_m",
        "quantization.mlx_weights_bytes": "mlx-4bit", "quantization.weights_parts": "q4_k_m",
        "quantization.file_bytes": "q4_k_m", "quantization.local_format": "q4_k_m",
        "quantization.llama_cpp_memory": "q4_k_m", "quantization.max_gpu_layers": "q4_k_m",
        "quantization.commands": "q4_k_m", "quantization.decode_tokens_per_s_bound": "q4_k_m",
        "imatrix": False, "output_copy": False, "n_gpu_layers": 10, "flash_attention": True, "host_id": "cpu-ddr5-32gb",
        "engine": "llama.cpp", "engine.local_quantizations": None, "min_tokens_per_s": 10.0,
        "kv_cache_dtype.llama_cpp_memory": "f16", "gpu_id.laptop_options": "rtx-3060-12gb",
        "gpu_id.laptop_answer": "rtx-3060-12gb", "machine": "rtx-4090", "machine.moe_offload": "rtx-4060-ti-16gb",
        "model_id.moe_offload": "Qwen/Qwen3-30B-A3B", "quantization.moe_offload": "q4_k_m", "runtime": "vllm",
        "bound_tokens_per_s": 100.0, "num_layers": 28, "model.course_tensor_bytes": "tiny-qwen2",
        "model.course_kv_mib": "tiny-qwen2", "model.shape": "tiny-qwen2", "megabytes": 8, "repeats": 2,
        "sequences.largest_context": 1, "sequences.best_quantization": 1, "headroom": 0.1, "host": "cpu-ddr5-32gb",
        "precision": "bf16", "method": "lora", "template": "qwen2.5", "transformers_version": "4.38.2",
        "messages": CHAT, "chats": [CHAT], "text": "Hello world!", "prompt": "Hello", "question": "What is Qwen?",
        "language": "en",  # qwen_lessons.set_language (issue 26)
        "answer": 1, "answer.chat_example": "A model family.", "answer_gib": 1.0, "answer_gb": 1.0, "answer_tokens": 1, "answer_bytes": 1,
        "answer_tokens_per_s": 1.0, "answer_points": 1.0,
        "answer_hours": 1.0, "height": 1080, "width": 1920, "heights": np.array([1080, 480]),
        "widths": np.array([1920, 640]), "resized_height": 280, "resized_width": 560, "factor": 28, "scale": 1.0,
        "side": 448, "low": 256, "high": 512, "n": 4, "tokens": 1e6, "flops": 1e18, "input_tokens": 1024,
        "output_tokens": 256, "batch": 1, "seq_len": 1024, "micro_batch": 1, "checkpointing": True, "rank": 16,
        "examples": 100, "examples.sft_data": [CHAT], "examples.answer_accuracy": [CHAT],
        "examples.instruction_tune": [CHAT], "tokens_per_example": 512, "params_billion": 7.0, "bits_per_param": 16,
        "params_b": pd.Series([7.0]), "computed_b": 7.6, "published_b": 7.6, "decimals": 1, "duration_s": 10.0,
        "total_frames": 300, "source_fps": 30.0, "context": "32K", "context_tokens": 8192, "capacity_gib": 80.0,
        "generation": "qwen2.5-vl", "budget": "qwen-vl-utils", "benchmark": "MMLU", "group": "base",
        "variant": "instruct", "series": "Qwen2.5", "key": "four_lines", "release": pd.Series(["2024-09"]),
        "prefix": "def f(x):\n    ", "suffix": "\n    return y\n", "repo_name": "demo", "files": [("a.py", "x = 1\n")],
        "ids": [9707, 1879, 0], "piece": b"Hello", "data": vision_bytes(), "file": "images/photo.png",
        "picture": None, "image": Image.new("RGB", (8, 8)), "version": "1.2.3", "label": "Qwen3-8B",
        "sizes": pd.DataFrame({"height": [1080], "width": [1920]}), "counts": {"qwen2.5-vl": 256},
        "segments": tokens.chat_segments(CHAT), "view": viewer.view_tokens("Hi"),
        "sequences": [[1, 2, 3]], "loss_masks": [[0, 1, 1]], "samples": [[1, 2, 3], [1, 2, 4]], "prompts": ["Hello"],
        "n_examples": 10, "models": Factory(lambda: {"a": tiny()}), "base": tiny, "tuned": tiny,
        "model_ids": [M], "questions": ["What is Qwen?"], "table": None,
        "table.catalog_problems": catalog.load_catalog(), "table.longest_context": catalog.load_catalog(),
        "table.notes_contradictions": catalog.load_catalog(),
        "table.is_moe": catalog.load_catalog(), "table.architecture_problems": models.load_architectures(),
        "tower": "vision", "model_id.tower_parts": "Qwen/Qwen2.5-VL-7B-Instruct",
        "table.tower_problems": Factory(towers.load_towers),
        "config": models.resolve(M).config, "row": catalog.load_catalog().iloc[0],
        "row.estimate_for_row": Factory(lambda: finetune_evidence.load_published().query("model_id == 'Qwen/Qwen3-8B'").iloc[0]),
        "table.data_size_figure": Factory(lambda: base_vs_instruct.data_size_experiment((10,), steps=5, progress=False)),
        "table.knobs_html": prompts.knob_savings("hi", [(1080, 1920)]),
        "name": "catalog.csv", "column": "variant", "modality.lines_taking": "image", "value": 448, "upper": 1e6, "plan": prompts.plan_prompt("hi", [(1080, 1920)]),
        "result.steps_html": tiers.recommend(), "result.fit_html": tiers.recommend(),
        "result.headline_html": tiers.recommend(), "result.comparison_html": tiers.recommend(),
        "result.scores_html": tiers.recommend(), "result.comparison_table": tiers.recommend(),
        "result.verdict_html": finetune.plan(S, "lora", "a100-80gb"), "result.hours_html": finetune.plan(S, "lora", "a100-80gb"),
        "memory": finetune.training_memory(S, "lora"), "rows": catalog.load_catalog().head(3),
        "expected": 1.0, "passed": True, "hint": "try again", "known": [M], "arch_id": M,
        "contexts": np.zeros((1, tinylm.CONTEXT), dtype=np.int64), "params": Factory(lambda: tiny().params),
        "x": Factory(lambda: _forward_example(tiny())[0]), "h": Factory(lambda: _forward_example(tiny())[1]),
        "d_logits": Factory(lambda: _forward_example(tiny())[2]), "loss_and_grads": _zero_gradients,
        "name.fit": "tuned", "contexts.context_curve": [1024, 2048],
        "vocab.windows": tinylm.tiny_vocab(),
        "results": Factory(lambda: fine_tuning.starting_point_experiment(sizes=(0, 10), steps=5, pretrain_steps=5)),
        # the experiments run small here: the hostile value is what is tested, not the training
        "sizes.data_size_experiment": (10,), "steps.data_size_experiment": 5,
        "sizes.starting_point_experiment": (0, 10), "steps.starting_point_experiment": 5,
        "pretrain_steps.starting_point_experiment": 5, "steps.pretrain": 20, "steps.instruct": 5,
        "n_examples.instruct": 10, "steps.fine_tune": 5, "steps.instruction_tune": 5, "steps.train": 5,
        "my_smart_resize": lambda h, w, f, lo, hi: (h, w), "version_info": (3, 11, 7), "message": "x",
        # lesson 3: a few held-out pairs, a short DPO run, the default stage table (trained once per worker)
        "pairs": Factory(lambda: preference.preference_pairs("heldout", 2)), "reference": tiny, "split": "train",
        "n_pairs": 4, "beta": 0.1, "policy_chosen": -1.0, "policy_rejected": -2.0, "reference_chosen": -1.5,
        "reference_rejected": -1.5, "steps.dpo_train": 3, "logps": np.array([[-1.0, -2.0]]),
        "reference_logps": np.array([[-1.5, -1.5]]),
        "table.smoothing_verdict": Factory(lambda: preference_tuning.stage_table(progress=False)),
        "table.closing_lines": Factory(lambda: preference_tuning.stage_table(progress=False)),
        "table.stage_figure": Factory(lambda: preference_tuning.stage_table(progress=False)),
        **audio_examples(),
    }


def audio_examples() -> dict:
    """Lesson 6: valid values for the audio functions (a generation with audio, clip lengths, a WAV file)."""
    import io
    import wave

    from qwen_lessons import audio

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(b"\0\0" * 1600)
    wav = buffer.getvalue()
    omni = ("sound_track_layout", "sound_track_report_html", "sound_track_widget")
    return {
        **{f"samples.{name}": 16_000 for name in ("audio_frames", "audio_tokens", "audio_sequence_tokens",
                                                 "explain_audio")},
        # qwen2.5-omni is a key of both audio and vision, whose functions share names (generation_info)
        **{f"generation.{name}": "qwen2.5-omni" for name in (
            "generation_info", "audio_frames", "audio_tokens", "audio_sequence_tokens", "audio_tokens_for_seconds",
            "audio_tokens_many", "tokens_per_second", "max_seconds", "explain_audio", "audio_counter_widget",
            "clip_report_html", *omni)},
        "seconds": 12.5, "sample_counts": np.array([16_000, 480_001]), "grid_t": 10, "tokens_per_group": 598,
        "audio_token_count": 500, "source": wav, "header": audio.read_audio_header(wav),
        "audios": [10.0],
        "use_audio_in_video": False, "fps.sound_track_layout": 2.0, "fps.sound_track_report_html": 2.0, "my_audio_tokens": lambda samples: 0, "formula": lambda *arguments: 0,
    }


def vision_bytes() -> bytes:
    from qwen_lessons import pictures, vision
    return pictures.sample_bytes(vision.samples_table()["file"].iloc[0])


NEVER_VALID = {"True": True, "NaN": float("nan"), "inf": float("inf"), "pd.NA": pd.NA, "object()": object(),
               "a list": [1, 2], "a dict": {"a": 1}, "np.timedelta64(7)": np.timedelta64(7, "s"),
               "an array": np.array([7])}
MAYBE_VALID = {"None": None, "-10**18": -10**18, "10**18": 10**18, "-1": -1, "0": 0, "''": "",
               "a 1 MB string": "x" * 1_000_000, "np.int64(7)": np.int64(7), "'7'": "7",
               "5e-324": 5e-324, "Fraction(15, 2)": fractions.Fraction(15, 2), "Decimal('7')": decimal.Decimal("7")}
MAX_MESSAGE_CHARS = 300  # issue 29: a refusal is one line of at most this many characters
CAP_CPU_SECONDS = 2  # issue 29: the worst case inside an argument's cap (its longest list or text) runs within this
# Arguments whose cap bounds work that is long by design: the experiment trains a toy model per size (a progress
# bar shows it); its sizes are capped at 10 and its steps by the steps rule.
CAP_EXEMPT = {("qwen_lessons.lessons.fine_tuning.starting_point_experiment", "sizes"): "a fine-tuning per size"}


def numbers_in(value, depth: int = 0):
    """Every number inside a result (dicts, sequences, dataclasses, pandas objects), as floats."""
    if depth > 4:
        return
    if isinstance(value, bool | np.bool_):
        return
    if isinstance(value, numbers.Number):
        yield float(value)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        yield from (float(v) for v in value.ravel()[:1000])
    elif isinstance(value, pd.DataFrame):
        for column in value.select_dtypes("number").columns[:50]:
            yield from (float(v) for v in value[column].dropna().to_numpy()[:200])
    elif isinstance(value, pd.Series) and pd.api.types.is_numeric_dtype(value) and not pd.api.types.is_bool_dtype(value):
        yield from (float(v) for v in value.dropna().to_numpy()[:200])
    elif isinstance(value, dict):
        for item in list(value.values())[:200]:
            yield from numbers_in(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value[:200]:
            yield from numbers_in(item, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from numbers_in(getattr(value, field.name), depth + 1)


def call(function, arguments: dict):
    """function(**arguments) within CALL_CPU_SECONDS of CPU time. The timer raises Slow at the next Python bytecode;
    a call stuck inside C code for twice the budget meets RLIMIT_CPU instead, which ends the worker (the test
    reports the module it was probing and starts another worker)."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    backstop = math.ceil(_cpu_used() + 2 * CALL_CPU_SECONDS + 5)
    resource.setrlimit(resource.RLIMIT_CPU, (backstop if hard == resource.RLIM_INFINITY else min(backstop, hard), hard))
    signal.setitimer(signal.ITIMER_PROF, CALL_CPU_SECONDS)
    try:
        return function(**arguments)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


def baseline(qualified, function, owner, examples):
    """Valid keyword arguments for a call, or None with the reason when a required parameter has no example."""
    arguments = {}
    parameters = list(inspect.signature(function).parameters.values())
    if owner is not None:
        arguments[parameters[0].name] = INSTANCES[owner]()
        parameters = parameters[1:]
    short = qualified.rsplit(".", 1)[-1]
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        key = f"{parameter.name}.{short}"
        if key in examples:
            value = examples[key]
        elif parameter.default is not inspect.Parameter.empty:
            continue
        elif parameter.name in examples:
            value = examples[parameter.name]
        else:
            return None, f"no example value for parameter {parameter.name!r}"
        arguments[parameter.name] = value() if isinstance(value, Factory) else value
    return arguments, None


def probe(qualified, function, owner, examples):
    """Yield one finding (a dict) per hostile value the function mishandles."""
    arguments, reason = baseline(qualified, function, owner, examples)
    if arguments is None:
        yield {"function": qualified, "argument": "-", "value": "-", "problem": reason}
        return
    try:
        valid = call(function, arguments)
    except (ValueError, Slow):
        valid = None  # the example may not fit this function: hostile values are still tried
    except Exception as error:  # noqa: BLE001 - reported, not hidden
        yield {"function": qualified, "argument": "-", "value": "valid example",
               "problem": f"{type(error).__name__}: {error}"[:200]}
        return
    valid_signs = [value >= 0 for value in numbers_in(valid)]
    parameters = [p for p in inspect.signature(function).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)][1 if owner else 0:]
    for parameter in parameters:
        if parameter.name == "progress" or parameter.name.startswith("_"):
            continue  # a progress display, or a placeholder the function ignores (a formatter's tick position)
        rule = getattr(function, "__checked__", {}).get(parameter.name)
        for label, hostile in {**NEVER_VALID, **MAYBE_VALID}.items():
            if hostile is None and parameter.default is None:
                continue
            example = arguments.get(parameter.name, parameter.default)
            if isinstance(example, bool) and label == "True":
                continue
            if label == "a list" and rule is validation.text_or_ids:
                continue  # a prompt may be token ids
            if label in ("a list", "a dict", "an array") and (
                    parameter.default is None or isinstance(example, list | tuple | Mapping | np.ndarray | pd.Series)):
                continue
            if label == "an array" and rule is validation.text_or_ids:
                continue
            finding = {"function": qualified, "argument": parameter.name, "value": label}
            try:
                result = call(function, {**arguments, parameter.name: hostile})
            except Slow:
                yield finding | {"problem": f"still running after {CALL_CPU_SECONDS} s of CPU time"}
                continue
            except MemoryError:
                yield finding | {"problem": "MemoryError"}
                continue
            except ValueError as error:
                if qualified.startswith(ANSWER_CHECKERS) and parameter.name.startswith(("answer", "prompt", "model_id",
                                                                                          "my_", "key")):
                    yield finding | {"problem": f"an answer checker raised ValueError: {str(error)[:120]}"}
                elif "\n" in str(error) or len(str(error)) > MAX_MESSAGE_CHARS:
                    yield finding | {"problem": f"a refusal of {len(str(error)):,} characters over "
                                                f"{str(error).count(chr(10)) + 1} lines: {str(error)[:100]}"}
                continue
            except Exception as error:  # noqa: BLE001
                yield finding | {"problem": f"{type(error).__name__}: {str(error)[:160]}"}
                continue
            if label in NEVER_VALID and not qualified.startswith(ANSWER_CHECKERS):
                yield finding | {"problem": f"accepted silently, returned {type(result).__name__}"}
                continue
            found = list(numbers_in(result))
            if any(not math.isfinite(v) for v in found):
                yield finding | {"problem": "result holds inf or NaN"}
            elif valid_signs and any(v < 0 for v in found) and all(valid_signs):
                yield finding | {"problem": "result holds a negative number where a valid call's are not"}
    yield from probe_caps(qualified, function, arguments)
    yield from probe_callbacks(qualified, function, arguments)
    yield from probe_near_miss_ids(qualified, function, arguments, valid)


def _limited_call(function, arguments: dict, cpu_seconds: float):
    """call() with a smaller CPU budget."""
    global CALL_CPU_SECONDS
    budget, CALL_CPU_SECONDS = CALL_CPU_SECONDS, min(cpu_seconds, CALL_CPU_SECONDS)
    try:
        return call(function, arguments)
    finally:
        CALL_CPU_SECONDS = budget


def probe_caps(qualified, function, arguments):
    """Bounded work (issue 29): an argument at its rule's cap (the longest list or text it accepts, made of the
    example's own items) is answered within CAP_CPU_SECONDS of CPU time."""
    rules = getattr(function, "__checked__", {})
    for name, rule in rules.items():
        example = arguments.get(name)
        if (qualified, name) in CAP_EXEMPT:
            continue
        cap = getattr(rule, "max_items", None)
        if cap is not None and isinstance(example, list | tuple) and example:
            longest = [example[index % len(example)] for index in range(cap)]
        elif getattr(rule, "max_chars", None) is not None and isinstance(example, str) and example:
            longest = (example * (rule.max_chars // len(example) + 1))[:rule.max_chars]
        else:
            continue
        try:
            _limited_call(function, {**arguments, name: longest}, CAP_CPU_SECONDS)
        except Slow:
            yield {"function": qualified, "argument": name, "value": f"{len(longest):,} items (its cap)",
                   "problem": f"still running after {CAP_CPU_SECONDS} s of CPU time at the argument's cap"}
        except (ValueError, MemoryError):
            pass
        except Exception as error:  # noqa: BLE001
            yield {"function": qualified, "argument": name, "value": f"{len(longest):,} items (its cap)",
                   "problem": f"{type(error).__name__}: {str(error)[:160]}"}


def probe_callbacks(qualified, function, arguments):
    """Checks never switch off (issue 29): a callable the function takes from a learner (a progress callback, an
    answer function) that passes a bad value back into the package gets a ValueError there."""
    from qwen_lessons import finetune

    parameters = inspect.signature(function).parameters
    for name in parameters:
        if not (name == "progress" or callable(arguments.get(name))):
            continue
        accepted = []

        def learner_callback(*_args, accepted=accepted, **_kwargs):
            try:
                accepted.append(finetune.training_tokens(-5, 512))
            except ValueError:
                pass
            raise ValueError("the learner's callback stops here")

        try:
            _limited_call(function, {**arguments, name: learner_callback}, CALL_CPU_SECONDS)
        except Exception:  # noqa: BLE001 - only what happened inside the callback counts here
            pass
        if accepted:
            yield {"function": qualified, "argument": name, "value": "a callback calling training_tokens(-5, 512)",
                   "problem": f"checks were off inside the callback: it returned {accepted[0]!r}"}


NEAR_MISS_IDS = {"lower case": str.lower, "no 'Qwen/' prefix": lambda i: i.removeprefix("Qwen/"),
                 "padded with spaces": lambda i: f"  {i} ", "'-Instruct-Base'": lambda i: f"{i}-Base"}


def probe_near_miss_ids(qualified, function, arguments, valid):
    """Exact names or a clear error (issue 29): a near miss of the example's model id is refused with a
    ValueError or gives the numbers the canonical id gives."""
    example = arguments.get("model_id")
    if not isinstance(example, str) or valid is None or "Instruct" not in example:
        return
    expected = list(numbers_in(valid))
    for label, near in NEAR_MISS_IDS.items():
        try:
            result = _limited_call(function, {**arguments, "model_id": near(example)}, CALL_CPU_SECONDS)
        except (ValueError, Slow):
            continue
        except Exception as error:  # noqa: BLE001
            yield {"function": qualified, "argument": "model_id", "value": label,
                   "problem": f"{type(error).__name__}: {str(error)[:160]}"}
            continue
        if list(numbers_in(result)) != expected:
            yield {"function": qualified, "argument": "model_id", "value": label,
                   "problem": "resolved, but gave other numbers than the canonical id"}


def probe_module(module: str, examples: dict, functions: list | None = None) -> None:
    """Print a JSON line per finding for every public function defined in `module`, then one per function covered."""
    import matplotlib.pyplot as plt

    for qualified, function, owner in functions if functions is not None else public_functions():
        if function.__module__ != module:
            continue
        for finding in probe(qualified, function, owner, examples):
            print(json.dumps(finding), flush=True)
        print(json.dumps({"covered": qualified}), flush=True)
        plt.close("all")


def main(arguments: list[str]) -> None:
    install_limits()
    import matplotlib
    matplotlib.use("agg")
    examples = _examples()
    functions = public_functions()
    if arguments == ["--serve"]:
        for line in sys.stdin:
            probe_module(line.strip(), examples, functions)
            print(json.dumps({"done": line.strip()}), flush=True)
        return
    for module in arguments or sorted({function.__module__ for _, function, _ in functions}):
        probe_module(module, examples, functions)


if __name__ == "__main__":
    main(sys.argv[1:])
