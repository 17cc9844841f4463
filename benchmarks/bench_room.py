"""A workshop room on JupyterHub (docs/full_room.md, every lesson): 1, 2, 4 and 8 learners at once, each running every
lesson notebook through their own server, on a hub started here on loopback (tests/hub_room.py).

Per room size: each learner's peak resident memory (their Jupyter server plus its kernels, sampled every 0.5 s), the
time from asking for a server to its start and to the first notebook cell's reply, the time to run every lesson top
to bottom, the heaviest notebook's kernel CPU seconds, and the hub's own memory (hub, proxy, culler).
scripts/write_sizing.py turns these rows into docs/full_room.md's sizing table and figure. Minutes per room: left out
by --skip-notebooks, like the other benchmarks that execute notebooks. Needs configurable-http-proxy (npm).

Staggered rooms (issue 30) of 8, 16 and 24 learners: learners arrive spread over two minutes, run each lesson cell by
cell with a few seconds of reading between cells and keep the two lessons before the current one open
(hub_room.Staggered); per room the per-learner peak memory, the time to a running server and to the first cell's
reply, the 95th percentile of every cell's latency, the websocket reconnections and the servers' ping timeouts, and
what does not depend on a shared machine's load: each learner's CPU seconds (server and kernels) and those per
minute of the plan's pace; with the load average before and during the room. Select them with --only "staggered".
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import sys
import tempfile
from pathlib import Path

from run import Case

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hub_room  # noqa: E402

ROOM_SIZES = (1, 2, 4, 8)
STAGGERED_SIZES = (8, 16, 24)
_STATE: dict = {}


def median_max(values, unit: str, digits: int = 1) -> str:
    """The median and the largest of a room's values, as one table cell."""
    return f"{statistics.median(values):.{digits}f} {unit} (max {max(values):.{digits}f} {unit})"


def _prepare() -> None:
    """Build the course environment (wheel, non-editable) once for every room size."""
    if "python" in _STATE:
        return
    chp = hub_room.find_chp()
    if chp is None:
        raise RuntimeError("configurable-http-proxy not found (npm install --prefix .ci/hub-proxy configurable-http-proxy)")
    _STATE["workdir"] = Path(tempfile.mkdtemp(prefix="bench-room-"))
    _STATE["chp"] = chp
    _STATE["python"] = hub_room.build_course_env(_STATE["workdir"])


def measure_room(learners: int) -> dict:
    """Run one room of `learners`; the row's time is the slowest learner's Run All of every lesson."""
    workdir = Path(tempfile.mkdtemp(prefix=f"room{learners}-", dir=_STATE["workdir"]))
    hub = hub_room.start_hub(workdir, _STATE["python"], _STATE["chp"])
    try:
        room = hub_room.run_room(hub, learners)
    finally:
        hub_room.stop_hub(hub)
    if room.errors:
        raise RuntimeError("\n".join(room.errors[:5]))
    peaks = [room.peak_mib[learner.name] for learner in room.learners]
    runs = room.learners
    cpu_by_notebook = {name: statistics.median(run.notebooks[name]["cpu_s"] for run in runs) for name in runs[0].notebooks}
    heaviest = max(cpu_by_notebook, key=cpu_by_notebook.get)

    return {
        "_seconds": max(run.run_all_s for run in runs),
        "per-learner peak memory": median_max(peaks, "MiB", 0),
        "server start": median_max([run.server_start_s for run in runs], "s"),
        "first cell": median_max([run.first_cell_s for run in runs], "s"),
        "Run All": median_max([run.run_all_s for run in runs], "s"),
        "largest kernel": f"{max(nb['peak_mib'] for run in runs for nb in run.notebooks.values()):.0f} MiB",
        "heaviest notebook CPU": f"{cpu_by_notebook[heaviest]:.1f} s ({heaviest})",
        "hub + proxy + culler": f"{room.hub_peak_mib:.0f} MiB",
    }


def measure_staggered(learners: int) -> dict:
    """Run one staggered room; the row's time is the slowest learner's way through every lesson."""
    workdir = Path(tempfile.mkdtemp(prefix=f"staggered{learners}-", dir=_STATE["workdir"]))
    hub = hub_room.start_hub(workdir, _STATE["python"], _STATE["chp"])
    plan = hub_room.Staggered()
    try:
        room = hub_room.run_staggered_room(hub, learners, plan)
    finally:
        hub_room.stop_hub(hub)
    raw = workdir / "room.json"  # every learner's numbers, the reconnects' close codes and the hub log beside it
    raw.write_text(json.dumps({"learners": [dataclasses.asdict(run) for run in room.learners],
                               "peak_mib": room.peak_mib, "cpu_s": {str(k): v for k, v in room.cpu_s.items()},
                               "load_before": room.load_before, "load_during": room.load_during}, default=str))
    print(f"staggered room of {learners}: raw results in {raw}", file=sys.stderr, flush=True)
    if room.errors:
        raise RuntimeError("\n".join(room.errors[:5]))
    runs = room.learners
    peaks = [room.peak_mib[run.name] for run in runs]
    cells = [seconds for run in runs for seconds in run.cell_s]
    cpu = [room.cpu_s.get(run.name, 0.0) for run in runs]
    # a learner's minutes at the plan's pace: their reading plus their own CPU time; the minutes they really spent
    # also hold the waiting a loaded machine adds, which would make the demand per minute look smaller
    notebooks = hub_room.lesson_notebooks()
    minutes = [(plan.reading_s(index, notebooks) + seconds) / 60 for index, seconds in enumerate(cpu)]

    return {
        "_seconds": max(run.run_all_s for run in runs),
        "per-learner peak memory": median_max(peaks, "MiB", 0),
        "server start": median_max([run.server_start_s for run in runs], "s"),
        "first cell": median_max([run.first_cell_s for run in runs], "s"),
        "p95 cell latency": f"{hub_room.percentile(cells, 0.95):.2f} s over {len(cells)} cells",
        "websocket reconnects": str(sum(len(run.reconnects) for run in runs)),
        # the learners' servers close a kernel websocket whose client answered no ping for 90 s, and log it
        "server ping timeouts": str(hub.log_tail(10**9).count("WebSocket ping timeout")),
        # CPU time does not depend on the neighbours' load the way waiting times do
        "CPU per learner": median_max(cpu, "s"),
        "CPU per learner-minute": median_max([c / m for c, m in zip(cpu, minutes, strict=True)], "s", 2),
        "learner minutes at the plan's pace": median_max(minutes, "min"),
        "learner minutes in the room": median_max([(run.server_start_s + run.run_all_s) / 60 for run in runs], "min"),
        "hub CPU": f"{room.cpu_s.get(None, 0.0):.1f} s",
        "load before": room.load_before,
        "load during": f"median {statistics.median(room.load_during):.2f} (max {max(room.load_during):.2f})",
        "plan": f"arrivals over {plan.spread_s:.0f} s, {plan.think_s:.0f} s reading per cell, {plan.open_lessons} lessons open",
        "hub + proxy + culler": f"{room.hub_peak_mib:.0f} MiB",
    }


def cases() -> list[Case]:
    return [Case(f"hub room: {n} learner{'s' if n > 1 else ''} at once, every lesson", None,
                 lambda n=n: measure_room(n), repeats=1, setup=_prepare) for n in ROOM_SIZES] + [
            Case(f"hub room: {n} learners staggered, every lesson", None, lambda n=n: measure_staggered(n), repeats=1,
                 setup=_prepare) for n in STAGGERED_SIZES]
