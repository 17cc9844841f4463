"""Lesson 8: a real llama.cpp (the [runtime] extra) checks the course's predictions on random-weight Qwen-shaped
files written here, one tiny shape per generation (Qwen2, Qwen2.5, Qwen3, Qwen3-MoE, Qwen3.5): every tensor's type
and bytes as llama.cpp's own quantizer writes them, and the KV cache, recurrent state and compute buffer llama.cpp
allocates. Skipped, with the reason, only when the extra is not installed; .ci/run sets
QWEN_LESSONS_REQUIRE_RUNTIME=1, under which a missing extra fails instead."""

from __future__ import annotations

import os

import pytest

from qwen_lessons import local_formats, local_runtime, real_llama_cpp

pytestmark = pytest.mark.runtime
MISSING = real_llama_cpp.available()
REQUIRE_ENV = "QWEN_LESSONS_REQUIRE_RUNTIME"
FORMATS = local_formats.local_quantizations("llama.cpp")


@pytest.fixture(scope="module")
def runtime_installed():
    """Skip with the reason when the [runtime] extra is missing; fail instead where CI requires it."""
    if MISSING:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {MISSING}")
        pytest.skip(f"real llama.cpp not run: {MISSING}")


needs_runtime = pytest.mark.usefixtures("runtime_installed")


@pytest.fixture(scope="module")
def f16_files(runtime_installed, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gguf")
    return {name: real_llama_cpp.write_random_gguf(name, folder / f"{name}-f16.gguf") for name in real_llama_cpp.SHAPES}


@pytest.fixture(scope="module")
def quantized(f16_files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantized")
    return {(name, quant): real_llama_cpp.quantize(path, folder / f"{name}-{quant}.gguf", quant)
            for name, path in f16_files.items() for quant in FORMATS}


@needs_runtime
@pytest.mark.parametrize("quant", FORMATS)
@pytest.mark.parametrize("name", list(real_llama_cpp.SHAPES))
def test_every_tensor_has_the_type_and_bytes_the_course_predicts(quantized, name, quant):
    written = real_llama_cpp.file_tensors(quantized[name, quant])
    course = local_formats.gguf_tensor_types(real_llama_cpp.shape(name), quant)
    big = course[course["ggml_type"] != "F32"]
    predicted = {("token_embd" if row.layer == -1 else "output" if row.tensor == "output" else
                  f"blk.{row.layer}.{row.tensor}") + ".weight": (row.ggml_type, row.bytes) for row in big.itertuples()}
    actual = {row.tensor: (row.ggml_type, row.bytes) for row in written.itertuples() if row.ggml_type != "F32"}
    assert actual == predicted
    # the file's whole tensor data, the F32 norms and biases included, to the byte
    assert int(written["bytes"].sum()) == real_llama_cpp.course_tensor_bytes(name, quant)


@needs_runtime
@pytest.mark.parametrize("name", list(real_llama_cpp.SHAPES))
def test_llama_cpp_allocates_the_kv_cache_the_course_predicts(quantized, name):
    context = 512
    run = real_llama_cpp.run(quantized[name, "q8_0"], context, prompt_tokens=16, generate_tokens=4)
    assert run["n_ctx"] == context
    # llama.cpp logs MiB with two decimals; these shapes make the cache a whole number of 1/4 MiB, so equal is exact
    assert run["kv_buffer_mib"] == real_llama_cpp.course_kv_mib(name, context)
    assert run["decode_tokens_per_s"] > 0 and run["prompt_tokens_per_s"] > 0
    # the compute buffer llama.cpp reserves for one micro-batch, within 5% of the course's estimate
    course = local_runtime.llama_cpp_memory(real_llama_cpp.shape(name), "q8_0", context,
                                            flash_attention=run["flash_attention"])
    assert run["compute_buffer_mib"] == pytest.approx(course.compute_gib * 1024, rel=0.05)
    # the Gated DeltaNet state (Qwen3.5 only), logged in MiB with two decimals
    if real_llama_cpp.shape(name).linear_layers:
        assert run["state_buffer_mib"] == round(course.state_gib * 1024, 2)
    else:
        assert run["state_buffer_mib"] is None and course.state_gib == 0


def test_the_five_generations_are_checked():
    """Issue 27: Qwen2, Qwen2.5, Qwen3, Qwen3-MoE and Qwen3.5 shapes, each through its own llama.cpp loader."""
    shapes = [real_llama_cpp.shape(name) for name in real_llama_cpp.SHAPES]
    assert [s["architecture"] for s in shapes] == ["qwen2", "qwen2", "qwen3", "qwen3_moe", "qwen3_5"]
    assert [bool(s["tie_word_embeddings"]) for s in shapes[:2]] == [True, False]
    assert shapes[3].is_moe and shapes[4].linear_layers and shapes[4].kv_layers


def test_without_the_extra_the_reason_names_the_install():
    reason = real_llama_cpp.available("a_module_that_is_not_installed")
    assert "a_module_that_is_not_installed not installed" in reason and "qwen-lessons[runtime]" in reason
