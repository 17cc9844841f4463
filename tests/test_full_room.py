"""scripts/write_sizing.py: the hub sizing from the measured rooms of benchmarks/bench_room.py, and the table and
figure in docs/full_room.md."""

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


def row(n, peak, peak_max, run, run_max, kernel=300, cpu=9.0, hub=220):
    label = f"{n} learner{'s' if n > 1 else ''}"
    return (f"| hub room: {label} at once, every lesson | {run_max:.2f} s | - | - | per-learner peak memory: {peak} MiB "
            f"(max {peak_max} MiB); server start: 5.0 s (max 6.5 s); first cell: 9.0 s (max 11.0 s); Run All: {run} s "
            f"(max {run_max} s); largest kernel: {kernel} MiB; heaviest notebook CPU: {cpu} s (04_fine_tuning.ipynb); "
            f"hub + proxy + culler: {hub} MiB |")


# The format benchmarks/run.py prints (see bench_room.py), with a log line in between as it happens.
BENCH = "\n".join([
    "Measured 2026-12-01 on AMD EPYC, 2 cores, 24 GiB RAM, Linux x86_64, Python 3.11.7.",
    "",
    "| case | median | target | meets target | notes |",
    "| --- | --- | --- | --- | --- |",
    row(1, 420, 420, 50.0, 50.0, cpu=8.5),
    "[W 2026-12-01 IdleCuller] Could not load pycurl",
    row(2, 430, 431, 70.0, 72.0),
    row(8, 436, 440, 220.0, 228.5, kernel=317, cpu=9.4, hub=227),
    "| notebook 00_start_here.ipynb (fresh kernel) | 710.0 ms | < 20.00 s | yes | kernel peak memory: 150 MiB |",
])


def test_parse_reads_every_room_row_and_the_machine():
    inputs = sizing.parse_benchmark(BENCH)
    assert inputs.machine.startswith("Measured 2026-12-01 on AMD EPYC")
    assert [(r.learners, r.peak_mib, r.peak_max_mib, r.run_s, r.run_max_s) for r in inputs.rooms] == [
        (1, 420, 420, 50.0, 50.0), (2, 430, 431, 70.0, 72.0), (8, 436, 440, 220.0, 228.5)]
    eight = inputs.rooms[-1]
    assert (eight.start_s, eight.start_max_s, eight.first_s, eight.first_max_s) == (5.0, 6.5, 9.0, 11.0)
    assert (eight.kernel_mib, eight.cpu_s, eight.cpu_notebook, eight.hub_mib) == (317, 9.4, "04_fine_tuning.ipynb", 227)


def test_parse_refuses_output_without_room_rows():
    with pytest.raises(ValueError, match="no 'hub room"):
        sizing.parse_benchmark("| import qwen_lessons | 120 ms | < 500 ms | yes | |")


def test_room_size_by_hand():
    inputs = sizing.parse_benchmark(BENCH)
    room = sizing.size_room(30, inputs)
    # per learner: (largest learner 440 + 1 extra kernel of 317) x 1.3 headroom = 984.1 MiB
    assert room.per_learner_mib == pytest.approx(984.1)
    # total: 30 x 984.1 + the largest measured hub 227 = 29,750 MiB
    assert room.memory_gib == pytest.approx((30 * 984.1 + 227) / 1024)
    # cores: 30 learners x 9.4 CPU-s / 60 s + 0.2 = 4.9 -> 5
    assert room.cores == 5
    assert room.engine.startswith("The Littlest JupyterHub")


def test_large_room_goes_to_kubernetes_with_enough_nodes():
    room = sizing.size_room(300, sizing.parse_benchmark(BENCH))
    # memory 300 x 984.1 + 227 = 295,457 MiB = 288.5 GiB over 28.8 usable GiB per node -> 11 nodes;
    # cores 300 x 9.4 / 60 + 0.2 = 47.2 -> 48, over 8 vCPU -> 6 nodes; memory decides
    assert room.cores == 48
    assert room.engine == "Zero to JupyterHub, 11 nodes of 8 vCPU / 32 GiB"


def test_assumptions_move_the_answer_the_right_way():
    inputs = sizing.parse_benchmark(BENCH)
    base = sizing.size_room(60, inputs)
    patient = sizing.size_room(60, inputs, sizing.Assumptions(burst_wait_s=120))
    lean = sizing.size_room(60, inputs, sizing.Assumptions(extra_kernels=0))
    assert patient.cores < base.cores and patient.memory_gib == base.memory_gib
    assert lean.memory_gib < base.memory_gib


@pytest.mark.parametrize("learners", [0, -5, 2.5, "30", True])
def test_bad_room_size_is_refused(learners):
    with pytest.raises(ValueError, match="learners"):
        sizing.size_room(learners, sizing.parse_benchmark(BENCH))


def test_missing_measurement_is_refused():
    inputs = sizing.parse_benchmark(BENCH.replace("heaviest notebook CPU: 9.4 s", "heaviest notebook CPU: 0 s"))
    with pytest.raises(ValueError, match="cpu_s"):
        sizing.size_room(30, inputs)


def test_memory_limit_rounds_up_to_half_gib():
    assert sizing.memory_limit_gib(965) == 1.0
    assert sizing.memory_limit_gib(1025) == 1.5
    assert sizing.memory_limit_gib(1536) == 1.5


def doc_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(sizing.START):text.index(sizing.END) + len(sizing.END)]


def test_table_in_the_doc_is_computed_from_its_stored_measurements():
    inputs, assumptions = sizing.stored_inputs(doc_block())
    assert doc_block() == sizing.sizing_block(inputs, assumptions)
    assert [room.learners for room in inputs.rooms] == [1, 2, 4, 8], "the doc's rooms come from bench_room.py"
    assert all(room.peak_max_mib > 100 and room.run_s > 0 and room.hub_mib > 0 for room in inputs.rooms)


def test_doc_rows_cover_30_to_300_learners_and_say_they_are_extrapolated():
    block = doc_block()
    learners = [int(line.split("|")[1]) for line in block.splitlines()
                if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert {1, 2, 4, 8, 30, 300} <= set(learners)
    assert "**Extrapolated, not measured**" in block and "| learners (extrapolated) |" in block


def test_the_figure_is_in_the_doc_and_reads_cleanly():
    from qwen_lessons.plotting import figure_problems

    assert f"]({sizing.FIGURE.name})" in doc_block() and sizing.FIGURE.exists()
    inputs, _ = sizing.stored_inputs(doc_block())
    figure = sizing.draw_figure(inputs)
    assert figure_problems(figure) == []
    title = figure._suptitle.get_text()
    assert f"{min(r.peak_max_mib for r in inputs.rooms):.0f}–{max(r.peak_max_mib for r in inputs.rooms):.0f} MiB" in title


def test_the_deploy_config_limits_memory_as_the_doc_advises():
    config = (ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py").read_text(encoding="utf-8")
    values = (ROOT / "deploy" / "jupyterhub" / "values.yaml").read_text(encoding="utf-8")
    inputs, assumptions = sizing.stored_inputs(doc_block())
    limit = f"{sizing.memory_limit_gib(sizing.per_learner_mib(inputs, assumptions)):g}G"
    assert f'"QWEN_HUB_MEM_LIMIT", "{limit}"' in config
    assert f"limit: {limit}" in values and f"guarantee: {limit}" in values
    import yaml

    chart = yaml.safe_load(values)
    assert chart["singleuser"]["defaultUrl"].endswith("/00_start_here.ipynb") and chart["cull"]["enabled"]
    assert "repo2docker" in values and "binder/" in values
    assert 'default_url = f"/lab/tree/{LEARNER_FOLDER}/00_start_here.ipynb"' in config


def test_writing_twice_gives_the_same_doc(tmp_path):
    doc = tmp_path / "full_room.md"
    doc.write_text(f"intro\n{sizing.START}\n{sizing.END}\noutro\n", encoding="utf-8")
    bench = tmp_path / "bench.txt"
    bench.write_text(BENCH, encoding="utf-8")
    assert sizing.main([str(bench), "--doc", str(doc)]) == 0
    first = doc.read_text(encoding="utf-8")
    assert sizing.main([str(bench), "--doc", str(doc), "--check"]) == 0
    assert first.startswith("intro\n") and first.endswith("\noutro\n") and "| 300 |" in first
    assert "| 30 | 984 MiB |" in first and (tmp_path / sizing.FIGURE.name).exists()
    assert math.isclose(sizing.stored_inputs(first)[0].rooms[-1].peak_max_mib, 440)


def staggered_row(n, peak, peak_max, cpu_per_min, p95=1.5, load_before="9.87 8.53 5.70 13/185 18512", hub=230):
    """A staggered room's row as benchmarks/bench_room.py's measure_staggered prints it."""
    return (f"| hub room: {n} learners staggered, every lesson | 900.00 s | - | - | per-learner peak memory: {peak} MiB "
            f"(max {peak_max} MiB); server start: 4.0 s (max 9.0 s); first cell: 8.0 s (max 15.5 s); p95 cell latency: "
            f"{p95:.2f} s over {n * 199} cells; websocket reconnects: 1; CPU per learner: 60.0 s (max 70.0 s); "
            f"CPU per learner-minute: {cpu_per_min:.2f} s (max {cpu_per_min + 0.5:.2f} s); learner minutes at the plan's "
            "pace: 13.6 min (max 13.8 min); learner minutes in the room: 16.0 min (max 18.0 min); hub CPU: 40.0 s; "
            f"load before: {load_before}; load during: median 10.50 (max 12.00); plan: arrivals over 120 s, 4 s reading "
            f"per cell, 2 lessons open; hub + proxy + culler: {hub} MiB |")


STAGGERED_BENCH = "\n".join([
    "Measured 2026-12-07 on AMD EPYC, 2 cores, 24 GiB RAM, Linux x86_64, Python 3.11.7.",
    "",
    "| case | median | target | meets target | notes |",
    "| --- | --- | --- | --- | --- |",
    staggered_row(8, 600, 640, 4.40),
    "staggered room of 8: raw results in /tmp/x/room.json",
    staggered_row(16, 610, 650, 4.10, hub=240),
])


def test_parse_reads_the_staggered_rows_with_their_load():
    inputs = sizing.parse_staggered(STAGGERED_BENCH)
    assert [room.learners for room in inputs.rooms] == [8, 16]
    eight = inputs.rooms[0]
    assert (eight.peak_mib, eight.peak_max_mib, eight.start_s, eight.start_max_s, eight.first_s, eight.first_max_s) == (
        600, 640, 4.0, 9.0, 8.0, 15.5)
    assert (eight.p95_cell_s, eight.cells, eight.reconnects, eight.cpu_s, eight.cpu_per_min_s) == (1.5, 1592, 1, 60, 4.4)
    assert (eight.pace_min, eight.room_min, eight.hub_cpu_s, eight.hub_mib) == (13.6, 16.0, 40.0, 230)
    assert (eight.load_before, eight.load_during, eight.load_during_max) == (9.87, 10.5, 12.0)
    assert eight.plan == "arrivals over 120 s, 4 s reading per cell, 2 lessons open"
    assert sizing.parse_staggered(BENCH).rooms == (), "all-at-once rows are not staggered rows"


def test_staggered_sizing_by_hand():
    inputs = sizing.parse_staggered(STAGGERED_BENCH)
    room = sizing.size_staggered(30, inputs)
    # per learner: the largest staggered learner 650 x 1.3 headroom = 845 MiB; total 30 x 845 + the largest hub 240
    assert room.per_learner_mib == pytest.approx(845)
    assert room.memory_gib == pytest.approx((30 * 845 + 240) / 1024)
    # cores: 30 x 4.40 CPU-s per learner-minute (the larger room median) / 60 x 1.3 + 0.2 = 3.06 -> 4
    assert room.cores == 4
    big = sizing.size_staggered(300, inputs)
    # 300 x 4.4 / 60 x 1.3 + 0.2 = 28.8 -> 29 cores (4 nodes of 8); memory 300 x 845 + 240 = 247.8 GiB -> 9 nodes
    assert big.cores == 29 and big.engine == "Zero to JupyterHub, 9 nodes of 8 vCPU / 32 GiB"
    with pytest.raises(ValueError, match="learners"):
        sizing.size_staggered(0, inputs)
    with pytest.raises(ValueError, match="cpu_per_min_s"):
        sizing.size_staggered(30, sizing.parse_staggered(STAGGERED_BENCH.replace("4.40 s (max", "0.00 s (max")))


def staggered_doc_block() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index(sizing.STAGGERED_START):text.index(sizing.STAGGERED_END) + len(sizing.STAGGERED_END)]


def test_staggered_table_in_the_doc_is_computed_from_its_stored_measurements():
    inputs, assumptions = sizing.stored_staggered(staggered_doc_block())
    worst, _ = sizing.stored_inputs(doc_block())
    assert staggered_doc_block() == sizing.staggered_block(inputs, worst, assumptions)
    assert {room.learners for room in inputs.rooms} <= {8, 16, 24} and 8 in {room.learners for room in inputs.rooms}
    # measured, not invented: every room has learners' memory, CPU time and the load it ran under
    assert all(room.peak_max_mib > 100 and room.cpu_s > 0 and room.cells > 0 and room.load_before > 0
               for room in inputs.rooms)
    block = staggered_doc_block()
    assert "| 30 |" in block and "| 300 |" in block and "load average" in block


def test_staggered_rows_stand_beside_all_at_once_ones_and_say_whether_the_limit_holds():
    inputs, assumptions = sizing.stored_staggered(staggered_doc_block())
    worst, worst_assumptions = sizing.stored_inputs(doc_block())
    block = staggered_doc_block()
    assert "| 8 | all at once |" in block
    limit_mib = sizing.memory_limit_gib(sizing.per_learner_mib(worst, worst_assumptions)) * 1024
    fits = sizing.staggered_per_learner_mib(inputs, assumptions) <= limit_mib
    assert ("holds the staggered learner" in block) == fits and ("is **below** the staggered learner" in block) != fits
    if not fits:  # the doc must then explain why, under the heading the block points to
        assert "What the staggered rooms showed" in DOC.read_text(encoding="utf-8").split(sizing.STAGGERED_END)[1]


def test_writing_staggered_rows_keeps_the_all_at_once_block(tmp_path):
    doc = tmp_path / "full_room.md"
    bench = tmp_path / "bench.txt"
    bench.write_text(BENCH, encoding="utf-8")
    doc.write_text(f"intro\n{sizing.START}\n{sizing.END}\nmiddle\n{sizing.STAGGERED_START}\n{sizing.STAGGERED_END}\n",
                   encoding="utf-8")
    assert sizing.main([str(bench), "--doc", str(doc)]) == 0
    before = doc.read_text(encoding="utf-8")
    bench.write_text(STAGGERED_BENCH, encoding="utf-8")
    assert sizing.main([str(bench), "--doc", str(doc)]) == 0
    after = doc.read_text(encoding="utf-8")
    assert after[:after.index("middle")] == before[:before.index("middle")], "the all-at-once block stays"
    assert "| 16 | staggered | 610 MiB (650) |" in after and "| 8 | all at once | 436 MiB (440) |" in after
    assert sizing.main([str(bench), "--doc", str(doc), "--check"]) == 0


def test_the_staggered_findings_quote_the_stored_measurements():
    """The prose under the staggered block repeats a few of its numbers: they must be the stored ones."""
    import re

    inputs, assumptions = sizing.stored_staggered(staggered_doc_block())
    worst, worst_assumptions = sizing.stored_inputs(doc_block())
    text = DOC.read_text(encoding="utf-8").split(sizing.STAGGERED_END)[1].split("To refresh the tables")[0]
    text = " ".join(text.split())
    peak = float(re.search(r"A learner peaked at about ([\d.]+) GiB", text)[1])
    assert peak == round(max(room.peak_max_mib for room in inputs.rooms) / 1024, 1)
    low, high = re.search(r"took a learner's server and kernels (\d+) to (\d+) CPU-seconds", text).groups()
    assert (int(low), int(high)) == (round(min(room.cpu_s for room in inputs.rooms)),
                                     round(max(room.cpu_s for room in inputs.rooms)))
    per_minute = float(re.search(r"at most about ([\d.]+) CPU-seconds per minute", text)[1])
    assert per_minute == round(sizing.staggered_cpu_per_min(inputs), 1)
    cores = re.search(r"Thirty learners .*? need about (\d+) cores; .*? need (\d+) to finish", text)
    assert int(cores[1]) == sizing.size_staggered(30, inputs, assumptions).cores
    assert int(cores[2]) == sizing.size_room(30, worst, worst_assumptions).cores
    limit = re.search(r"set the limit from the staggered row above \(([\d.]+)G\)", text)
    assert float(limit[1]) == sizing.memory_limit_gib(sizing.staggered_per_learner_mib(inputs, assumptions))
