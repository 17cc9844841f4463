"""The key formula in the lesson (issue 28): every lesson shows, in a code cell the learner can read and change, the
few lines behind its headline number, and this file holds each of those functions against the package on many
inputs (as `check_smart_resize` holds a learner's `my_smart_resize`).

A formula cell is a code cell whose first line starts with `# Formula:`. Only its imports and function definitions
are executed here (the rest of the cell is the lesson's demonstration, which the notebook run checks); each function
is then called on inputs drawn by hypothesis or on a grid over every checkpoint, and compared with the package.
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from qwen_lessons import audio, finetune, hardware, local_formats, local_runtime, memory, models, preference, vision
from qwen_lessons.units import GIB

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
MARK = "# Formula:"
LESSONS = sorted(path for path in NOTEBOOKS.glob("[0-8][0-9]_*.ipynb") if path.name[:2] != "00")
# Lessons whose headline numbers have no few-line formula to show, and why (the test below keeps this list honest).
WITHOUT_FORMULA = {
    "02_base_vs_instruct": "its numbers are token ids and counts from the real tokenizer, and measurements of the "
                           "tiny model's training; no arithmetic of a few lines gives them",
}
# no deadline (the suite runs on busy cores); no "explain" phase, which traces a failing case line by line, slowly
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]
PROPERTY = settings(max_examples=150, deadline=None, phases=PHASES, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(PROPERTY, max_examples=40)  # each example reads a whole checkpoint's tensors


def formula_cells(notebook: Path) -> list[str]:
    """The sources of the notebook's formula cells, in order."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    return [source for source in sources if source.startswith(MARK)]


def formula_functions(notebook: Path) -> dict[str, object]:
    """Every function a formula cell of the notebook defines, executed from the cell's own text."""
    functions = {}
    for source in formula_cells(notebook):
        tree = ast.parse(source)
        kept = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef)]
        namespace: dict = {}
        exec(compile(ast.Module(body=kept, type_ignores=[]), f"<{notebook.stem} formula cell>", "exec"), namespace)
        functions.update({node.name: namespace[node.name] for node in kept if isinstance(node, ast.FunctionDef)})
    return functions


def _function(stem: str, name: str):
    functions = formula_functions(NOTEBOOKS / f"{stem}.ipynb")
    assert name in functions, f"{stem} has no formula cell defining {name}()"
    return functions[name]


# ------------------------------------------------------------------------------------ 01 · parameters from a config


def _dense_ids() -> list[str]:
    return [m for m in models.model_ids()
            if {kind for layer in models.resolve(m).layers for kind in layer} == {"dense_mlp", "full_attention"}]


def check_dense_parameters(dense_parameters) -> None:
    checked_ids = _dense_ids()
    assert len(checked_ids) >= 20
    for model_id in checked_ids:
        c = models.resolve(model_id)
        by_hand = dense_parameters(c["vocab_size"], c["hidden_size"], c["num_hidden_layers"], c["num_attention_heads"],
                                   c["num_key_value_heads"], c["head_dim"], c["intermediate_size"],
                                   c["tie_word_embeddings"], c["attention_bias"], c["qk_norm"])
        assert by_hand == models.count_parameters(model_id)[0], model_id


# ------------------------------------------------------------------------------------ 03 · the DPO loss and its gradient

LOGPROB = st.floats(-200.0, 0.0, allow_nan=False)
INSIDE = st.floats(-200.0, -0.01, allow_nan=False)  # room for the finite differences below 0
BETA = st.floats(0.001, 1.0, allow_nan=False)


def check_dpo_loss(dpo_loss) -> None:
    @PROPERTY
    @given(LOGPROB, LOGPROB, LOGPROB, LOGPROB, BETA)
    def agrees(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
        pair = (policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta)
        assert dpo_loss(*pair) == pytest.approx(preference.dpo_loss(*pair), rel=1e-9, abs=1e-12)

    agrees()


def check_dpo_loss_gradient(dpo_loss_gradient) -> None:
    @PROPERTY
    @given(INSIDE, INSIDE, LOGPROB, LOGPROB, BETA)
    def agrees(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta):
        pair = (policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta)
        package = preference.dpo_loss_gradient(*pair)
        assert dpo_loss_gradient(*pair) == pytest.approx(package, rel=1e-9, abs=1e-15)
        # and the package's gradient is the loss's: central differences of preference.dpo_loss
        step = 1e-4
        numeric = ((preference.dpo_loss(policy_chosen + step, *pair[1:]) - preference.dpo_loss(policy_chosen - step, *pair[1:])) / (2 * step),
                   (preference.dpo_loss(policy_chosen, policy_rejected + step, *pair[2:])
                    - preference.dpo_loss(policy_chosen, policy_rejected - step, *pair[2:])) / (2 * step))
        assert package == pytest.approx(numeric, rel=1e-4, abs=1e-8)

    agrees()


# ------------------------------------------------------------------------------------ 04 · LoRA's parameter count


def check_lora_params(lora_params) -> None:
    model_ids = models.model_ids(memory_modelled=True)

    @PROPERTY
    @given(st.sampled_from(model_ids), st.integers(1, 256), st.data())
    def agrees(model_id, rank, data):
        ckpt = models.resolve(model_id, memory_modelled=True)
        names = sorted({m.name for m in ckpt.decoder_matrices})
        targets = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        adapted = [(m.in_features, m.out_features, m.copies, m.layers) for m in ckpt.decoder_matrices
                   if m.name in targets]
        assume(rank <= min(min(fan_in, fan_out) for fan_in, fan_out, _, _ in adapted))
        assert lora_params(rank, adapted) == finetune.lora_trainable_params(model_id, rank, targets)

    agrees()


# ------------------------------------------------------------------------------------ 05 · visual tokens of a picture


def check_visual_tokens(visual_tokens) -> None:
    native = [key for key in vision.generation_keys() if not vision.generation_info(key).fixed_input]

    @PROPERTY
    @given(st.sampled_from(native), st.sampled_from(vision.budget_keys()), st.integers(1, 9000), st.integers(1, 9000))
    def agrees(generation, budget, height, width):
        assume(max(height, width) <= vision.MAX_RATIO * min(height, width))
        info = vision.generation_info(generation)
        try:
            expected = vision.image_tokens(height, width, generation, budget=budget)
        except ValueError:  # a budget that does not apply to this generation
            assume(False)
        resized_h, resized_w = vision.resized_size(height, width, generation, budget=budget)
        assert visual_tokens(resized_h, resized_w, info.patch_size, info.merge_size) == expected

    agrees()


# ------------------------------------------------------------------------------------ 06 · audio samples to tokens


def check_qwen2_audio_tokens(qwen2_audio_tokens) -> None:
    edges = [1, 159, 160, 161, 319, 320, 321, 479_999, 480_000, 480_001, 960_000]

    @PROPERTY
    @given(st.one_of(st.sampled_from(edges), st.integers(1, 2_000_000)))
    def agrees(samples):
        assert qwen2_audio_tokens(samples) == audio.audio_tokens(samples, "qwen2-audio")

    agrees()


# ------------------------------------------------------------------------------------ 07 · peak inference memory


def check_peak_bytes(peak_bytes) -> None:
    model_ids = models.model_ids(memory_modelled=True)

    @PROPERTY
    @given(st.sampled_from(model_ids), st.sampled_from(list(memory.QUANTIZATIONS)), st.integers(1, 65536),
           st.integers(1, 8192), st.integers(1, 8))
    def agrees(model_id, quantization, prompt_tokens, output_tokens, batch):
        ckpt = models.resolve(model_id, memory_modelled=True)
        limit = ckpt["max_position_embeddings"]
        assume(limit is None or prompt_tokens + output_tokens <= limit)
        result = memory.inference_memory(model_id, quantization, prompt_tokens, output_tokens, batch)
        # the cell leaves out what its docstring says it leaves out
        assume(result.quant_scratch_gib == 0 and result.linear_state_gib == 0 and result.peak_phase != "loading")
        by_hand = peak_bytes(sum(memory.weights_bytes(model_id, quantization).values()),
                             memory.kv_bytes_per_token(model_id), memory.prefill_bytes_per_token(model_id),
                             ckpt["vocab_size"], prompt_tokens, output_tokens, batch)
        assert by_hand / GIB == pytest.approx(result.total_gib, rel=1e-12)

    agrees()


# ------------------------------------------------------------------------------------ 08 · GGUF, KV cache, decode bound

GGUF_TYPES = local_formats.local_quantizations("llama.cpp")


def check_gguf_tensor_bytes(gguf_tensor_bytes) -> None:
    blocks = local_formats.gguf_type_table().set_index("ggml_type")

    @FEW
    @given(st.sampled_from(models.model_ids()), st.sampled_from(GGUF_TYPES))
    def agrees(model_id, quantization):
        tensors = local_formats.gguf_tensor_types(model_id, quantization)
        for row in tensors.itertuples(index=False):
            block = blocks.loc[row.ggml_type]
            weights = row.row_width * row.rows * row.copies
            assert gguf_tensor_bytes(weights, block.block_weights, block.block_bytes) == row.bytes, (model_id, row.tensor)

    agrees()


def check_kv_bytes_per_token(kv_bytes_per_token) -> None:
    for model_id, cache_type in itertools.product(models.model_ids(memory_modelled=True), memory.KV_CACHE_BYTES):
        ckpt = models.resolve(model_id, memory_modelled=True)
        by_hand = kv_bytes_per_token(ckpt.kv_layers, ckpt["num_key_value_heads"], ckpt["head_dim"],
                                     memory.KV_CACHE_BYTES[cache_type])
        assert int(by_hand) == memory.kv_bytes_per_token(model_id, cache_type), (model_id, cache_type)


def check_decode_bound(decode_bound) -> None:
    one_memory = [row.gpu_id for row in hardware.load_hardware().itertuples() if row.kind in ("apple", "cpu")]

    @FEW
    @given(st.sampled_from(models.model_ids(memory_modelled=True)), st.sampled_from(GGUF_TYPES),
           st.sampled_from(one_memory), st.integers(1, 131072), st.sampled_from(local_runtime.KV_TYPES))
    def agrees(model_id, quantization, gpu_id, context, cache_type):
        ckpt = models.resolve(model_id, memory_modelled=True)
        limit = ckpt["max_position_embeddings"]
        assume(limit is None or context <= limit)
        decoder = ckpt.decoder_matrices
        share = sum(m.active_weights for m in decoder) / sum(m.weights for m in decoder)  # a MoE: routed experts
        tensors = local_formats.gguf_tensor_types(model_id, quantization)
        layers = len(ckpt.layers)
        read = (share * tensors.loc[tensors["layer"].between(0, layers - 1), "bytes"].sum()
                + tensors.loc[tensors["layer"] == layers, "bytes"].sum())
        used = local_runtime.llama_cpp_memory(model_id, quantization, context, cache_type)
        cache = (used.gpu_kv_gib + used.cpu_kv_gib + 2 * used.state_gib) * GIB  # a hybrid's state: read and written
        bandwidth = hardware.get_gpu(gpu_id)["memory_bandwidth_gbs"]
        expected = local_runtime.decode_tokens_per_s_bound(model_id, quantization, gpu_id, context, cache_type)
        assert decode_bound(bandwidth, read, cache) == pytest.approx(expected, rel=1e-9)

    agrees()


# Every function of every formula cell, with what holds it against the package.
CHECKS = {
    ("01_family_map", "dense_parameters"): check_dense_parameters,
    ("03_preference_tuning", "dpo_loss"): check_dpo_loss,
    ("03_preference_tuning", "dpo_loss_gradient"): check_dpo_loss_gradient,
    ("04_fine_tuning", "lora_params"): check_lora_params,
    ("05_vision_token_budgets", "visual_tokens"): check_visual_tokens,
    ("06_audio_token_budgets", "qwen2_audio_tokens"): check_qwen2_audio_tokens,
    ("07_choosing_a_tier", "peak_bytes"): check_peak_bytes,
    ("08_local_inference", "gguf_tensor_bytes"): check_gguf_tensor_bytes,
    ("08_local_inference", "kv_bytes_per_token"): check_kv_bytes_per_token,
    ("08_local_inference", "decode_bound"): check_decode_bound,
}


@pytest.mark.parametrize("notebook", LESSONS, ids=[path.stem for path in LESSONS])
def test_every_lesson_shows_its_formula_in_a_cell(notebook):
    if notebook.stem in WITHOUT_FORMULA:
        assert not formula_cells(notebook), f"{notebook.stem} has a formula cell now: remove it from WITHOUT_FORMULA"
        pytest.skip(f"{notebook.stem}: {WITHOUT_FORMULA[notebook.stem]}")
    assert formula_cells(notebook), f"{notebook.stem} shows no formula cell (a code cell starting '{MARK}')"


def test_every_formula_function_is_held_against_the_package():
    shown = {(notebook.stem, name) for notebook in [*LESSONS, *NOTEBOOKS.glob("[09][0-9]_*.ipynb")]
             for name in formula_functions(notebook)}
    unchecked = sorted(shown - set(CHECKS))
    assert not unchecked, f"formula cells define functions no check holds against the package: {unchecked}"
    missing = sorted(set(CHECKS) - shown)
    assert not missing, f"checks for functions no formula cell defines any more: {missing}"


@pytest.mark.parametrize("stem,name", sorted(CHECKS), ids=[f"{stem}-{name}" for stem, name in sorted(CHECKS)])
def test_formula_cell_computes_what_the_package_computes(stem, name):
    CHECKS[stem, name](_function(stem, name))


def test_a_changed_formula_is_caught():
    # the checks can fail: a formula with one term wrong is refused by each kind of check
    with pytest.raises(AssertionError):
        check_kv_bytes_per_token(lambda layers, kv_heads, head_dim, size: layers * kv_heads * head_dim * size)
    with pytest.raises(AssertionError):
        check_lora_params(lambda rank, adapted: sum(rank * (i + o) * c for i, o, c, _ in adapted))
    with pytest.raises(AssertionError):
        check_dpo_loss(lambda pc, pr, rc, rr, beta: float(preference.dpo_loss(pc, pr, rc, rr, beta)) + 1e-6)


def test_only_the_definitions_of_a_formula_cell_run(tmp_path):
    notebook = tmp_path / "01_x.ipynb"
    cells = [{"cell_type": "code", "source": ["# Formula: twice\n", "import math\n", "def twice(x):\n",
                                                "    return math.prod((2, x))\n", "raise SystemExit('demo')\n"]},
             {"cell_type": "code", "source": ["def not_a_formula():\n", "    pass\n"]}]
    notebook.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    functions = formula_functions(notebook)
    assert list(functions) == ["twice"] and functions["twice"](21) == 42
