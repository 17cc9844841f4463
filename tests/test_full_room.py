"""scripts/write_sizing.py: hub sizing from the benchmark's measurements, and the table in docs/full_room.md."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "full_room.md"


def load_script():
    spec = importlib.util.spec_from_file_location("write_sizing", ROOT / "scripts" / "write_sizing.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


sizing = load_script()

# The format benchmarks/run.py prints (see bench_notebooks.py), with a kernel warning in between as it happens.
BENCH = """Measured 2026-11-29 on AMD EPYC, 2 cores, 24 GiB RAM, Linux x86_64, Python 3.11.7.

| case | median | target | meets target | notes |
| --- | --- | --- | --- | --- |
[IPKernelApp] WARNING | Kernel is running over TCP without encryption.
| notebook 00_start_here.ipynb (fresh kernel) | 710.0 ms | < 20.00 s | yes | kernel peak memory: 150 MB (< 500 MB: yes); kernel CPU: 1.1 s |
| notebook 02_base_vs_instruct.ipynb (fresh kernel) | 7.87 s | < 20.00 s | yes | kernel peak memory: 230 MB (< 500 MB: yes); kernel CPU: 6.8 s |
| notebook solutions/03_fine_tuning_solutions.ipynb (fresh kernel) | 3.00 s | < 20.00 s | yes | kernel peak memory: 260 MB (< 500 MB: yes); kernel CPU: 3.0 s |
| all lesson notebooks together (sum of medians) | 27.13 s | < 90.00 s | yes | notebooks: 7 |
"""


def test_parse_reads_every_notebook_row_and_the_machine():
    machine, rows = sizing.parse_benchmark(BENCH)
    assert machine.startswith("Measured 2026-11-29 on AMD EPYC")
    assert [(r.name, r.seconds, r.peak_mib, r.cpu_s) for r in rows] == [
        ("00_start_here.ipynb", 0.71, 150.0, 1.1),
        ("02_base_vs_instruct.ipynb", 7.87, 230.0, 6.8),
        ("solutions/03_fine_tuning_solutions.ipynb", 3.0, 260.0, 3.0),
    ]


def test_parse_refuses_output_without_notebook_rows():
    with pytest.raises(ValueError, match="no 'notebook"):
        sizing.parse_benchmark("| import qwen_lessons | 120 ms | < 500 ms | yes | |")


def test_heaviest_takes_memory_and_cpu_maxima_separately():
    _, rows = sizing.parse_benchmark(BENCH)
    inputs = sizing.heaviest(rows, server_mib=90)
    assert (inputs.heaviest_memory_notebook, inputs.kernel_peak_mib) == ("solutions/03_fine_tuning_solutions.ipynb", 260)
    assert (inputs.heaviest_cpu_notebook, inputs.kernel_cpu_s) == ("02_base_vs_instruct.ipynb", 6.8)


def test_room_size_by_hand():
    inputs = sizing.Inputs("test", "a", 300.0, "b", 6.0, 100.0)
    room = sizing.size_room(30, inputs)
    # per learner: (2 kernels x 300 + 100 server) x 1.3 headroom = 910 MiB
    assert room.per_learner_mib == pytest.approx(910)
    # total: 30 x 910 + 128 = 27,428 MiB = 26.79 GiB
    assert room.memory_gib == pytest.approx(27428 / 1024)
    # cores: 30 learners x 6 CPU-s / 60 s + 0.2 = 3.2 -> 4
    assert room.cores == 4
    assert room.engine.startswith("The Littlest JupyterHub")


def test_large_room_goes_to_kubernetes_with_enough_nodes():
    inputs = sizing.Inputs("test", "a", 300.0, "b", 6.0, 100.0)
    room = sizing.size_room(300, inputs)
    # memory 300 x 910 + 128 = 273,128 MiB = 266.7 GiB over 28.8 usable GiB per node -> 10 nodes;
    # cores 300 x 6 / 60 + 0.2 = 30.2 -> 31, over 8 vCPU -> 4 nodes; memory decides
    assert room.cores == 31
    assert room.engine == "Zero to JupyterHub, 10 nodes of 8 vCPU / 32 GiB"


def test_assumptions_move_the_answer_the_right_way():
    inputs = sizing.Inputs("test", "a", 300.0, "b", 6.0, 100.0)
    base = sizing.size_room(60, inputs)
    patient = sizing.size_room(60, inputs, sizing.Assumptions(burst_wait_s=120))
    lean = sizing.size_room(60, inputs, sizing.Assumptions(kernels_per_learner=1))
    assert patient.cores < base.cores and patient.memory_gib == base.memory_gib
    assert lean.memory_gib < base.memory_gib


@pytest.mark.parametrize("learners", [0, -5, 2.5, "30"])
def test_bad_room_size_is_refused(learners):
    with pytest.raises(ValueError, match="learners"):
        sizing.size_room(learners, sizing.Inputs("test", "a", 300.0, "b", 6.0, 100.0))


def test_missing_measurement_is_refused():
    with pytest.raises(ValueError, match="kernel_cpu_s"):
        sizing.size_room(30, sizing.Inputs("test", "a", 300.0, "b", 0.0, 100.0))


def test_memory_limit_rounds_up_to_half_gib():
    assert sizing.memory_limit_gib(965) == 1.0
    assert sizing.memory_limit_gib(1025) == 1.5
    assert sizing.memory_limit_gib(1536) == 1.5


def test_table_in_the_doc_is_computed_from_its_stored_inputs():
    text = DOC.read_text(encoding="utf-8")
    block = text[text.index(sizing.START):text.index(sizing.END) + len(sizing.END)]
    inputs, assumptions = sizing.stored_inputs(block)
    assert block == sizing.sizing_block(inputs, assumptions)
    assert inputs.kernel_peak_mib > 0 and inputs.kernel_cpu_s > 0 and inputs.server_mib > 0


def test_doc_rows_cover_30_to_300_learners():
    text = DOC.read_text(encoding="utf-8")
    learners = [int(line.split("|")[1]) for line in text.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert min(learners) == 30 and max(learners) == 300


def test_writing_twice_gives_the_same_doc(tmp_path):
    doc = tmp_path / "full_room.md"
    doc.write_text(f"intro\n{sizing.START}\n{sizing.END}\noutro\n", encoding="utf-8")
    bench = tmp_path / "bench.txt"
    bench.write_text(BENCH, encoding="utf-8")
    assert sizing.main([str(bench), "--server-mib", "90", "--doc", str(doc)]) == 0
    first = doc.read_text(encoding="utf-8")
    assert sizing.main([str(bench), "--server-mib", "90", "--doc", str(doc), "--check"]) == 0
    assert first.startswith("intro\n") and first.endswith("\noutro\n") and "| 300 |" in first
    # per learner here: (2 x 260 + 90) x 1.3 = 793 MiB
    assert "| 30 | 793 MiB |" in first
    assert math.isclose(sizing.stored_inputs(first)[0].kernel_peak_mib, 260)
