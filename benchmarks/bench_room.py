"""A workshop room on JupyterHub (docs/full_room.md, every lesson): 1, 2, 4 and 8 learners at once, each running every
lesson notebook through their own server, on a hub started here on loopback (tests/hub_room.py).

Per room size: each learner's peak resident memory (their Jupyter server plus its kernels, sampled every 0.5 s), the
time from asking for a server to its start and to the first notebook cell's reply, the time to run every lesson top
to bottom, the heaviest notebook's kernel CPU seconds, and the hub's own memory (hub, proxy, culler).
scripts/write_sizing.py turns these rows into docs/full_room.md's sizing table and figure. Minutes per room: left out
by --skip-notebooks, like the other benchmarks that execute notebooks. Needs configurable-http-proxy (npm).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from run import Case

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hub_room  # noqa: E402

ROOM_SIZES = (1, 2, 4, 8)
_STATE: dict = {}


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

    def median_max(values, unit, digits=1):
        return f"{statistics.median(values):.{digits}f} {unit} (max {max(values):.{digits}f} {unit})"

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


def cases() -> list[Case]:
    return [Case(f"hub room: {n} learner{'s' if n > 1 else ''} at once, every lesson", None,
                 lambda n=n: measure_room(n), repeats=1, setup=_prepare) for n in ROOM_SIZES]
