"""Size a JupyterHub for a full room from the measured hub rooms of the benchmark; write docs/full_room.md (every lesson).

Usage:
    python benchmarks/run.py --only "at once" > bench.txt
    python scripts/write_sizing.py bench.txt [--check]

benchmarks/bench_room.py runs a real JupyterHub on loopback with 1, 2, 4 and 8 learners at once, each running every
lesson notebook through their own server, and prints per room: each learner's peak memory (server + kernels), the
time to a started server, to the first cell and to the end of every lesson, the heaviest notebook's kernel CPU
seconds and the hub's own memory. This script writes those measurements as a table and a figure
(docs/full_room_measured.png), then extrapolates them to 30-300 learners with The Littlest JupyterHub's estimation
rules (docs/howto/admin/resource-estimation in jupyterhub/the-littlest-jupyterhub): memory = users x memory per user
+ the hub's, with 20-40 % headroom; CPU = users x CPU per user + 20 % of a core. The block goes between two markers of
docs/full_room.md with its inputs, so tests/test_full_room.py can recompute it.

The staggered rooms (python benchmarks/run.py --only staggered: 8, 16 and 24 learners arriving over two minutes and
running the lessons cell by cell with reading time) go into a second block: their measurements beside the all-at-once
ones, and a sizing from the two measurements that do not depend on what else the machine runs: memory per learner
and CPU seconds per learner-minute at the plan's pace. Their waiting times are shown with the load average they were
measured under. Either kind of row may come alone; the other block stays as it is.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "full_room.md"
FIGURE = ROOT / "docs" / "full_room_measured.png"
START = "<!-- sizing:start (written by scripts/write_sizing.py from the benchmark's output; do not edit by hand) -->"
END = "<!-- sizing:end -->"
INPUTS_TAG = "sizing-inputs:"

ROOM_SIZES = (30, 60, 100, 300)
TLJH_MAX_USERS = 100  # TLJH README: "Jupyter Notebooks to 1-100 users on a single server"
HUB_OVERHEAD_CORES = 0.2  # TLJH resource-estimation page: "around 20% of a single modern CPU"

_PAIR = r"(?P<{0}>[\d.]+) {1} \(max (?P<{0}_max>[\d.]+) {1}\)"
ROW = re.compile(
    r"^\| hub room: (?P<learners>\d+) learners? at once, every lesson \|.*?"
    + r"per-learner peak memory: " + _PAIR.format("peak", "MiB") + r"; "
    + r"server start: " + _PAIR.format("start", "s") + r"; "
    + r"first cell: " + _PAIR.format("first", "s") + r"; "
    + r"Run All: " + _PAIR.format("run", "s") + r"; "
    + r"largest kernel: (?P<kernel>[\d.]+) MiB; "
    + r"heaviest notebook CPU: (?P<cpu>[\d.]+) s \((?P<notebook>[^)]+)\); "
    + r"hub \+ proxy \+ culler: (?P<hub>[\d.]+) MiB",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Room:
    """One measured room: medians and maxima over its learners (memory in MiB, times in seconds)."""

    learners: int
    peak_mib: float
    peak_max_mib: float
    start_s: float
    start_max_s: float
    first_s: float
    first_max_s: float
    run_s: float
    run_max_s: float
    kernel_mib: float
    cpu_s: float
    cpu_notebook: str
    hub_mib: float


@dataclass(frozen=True)
class Assumptions:
    """The choices the extrapolation makes (not measurements); each is stated in docs/full_room.md."""

    extra_kernels: int = 1  # the measured learner had one kernel at a time; a real one keeps the solutions open too
    headroom: float = 0.3  # TLJH: add 20-40 % to the measured peak
    burst_wait_s: float = 60  # everyone presses Run All on the heaviest notebook: all done within this
    node_vcpu: int = 8  # Kubernetes node size used for the Z2JH rows
    node_gib: int = 32


@dataclass(frozen=True)
class Inputs:
    machine: str
    rooms: tuple[Room, ...]


@dataclass(frozen=True)
class RoomSize:
    learners: int
    per_learner_mib: float
    memory_gib: float
    cores: int
    engine: str


def parse_benchmark(text: str) -> Inputs:
    """The machine line and the hub room rows of benchmarks/run.py output; ValueError when there are none."""
    machine = next((line.strip() for line in text.splitlines() if line.startswith(("Measured", "Machine"))), "")
    rooms = []
    for m in ROW.finditer(text):
        numbers = {key: float(value) for key, value in m.groupdict().items() if key not in ("learners", "notebook")}
        rooms.append(Room(int(m["learners"]), numbers["peak"], numbers["peak_max"], numbers["start"],
                          numbers["start_max"], numbers["first"], numbers["first_max"], numbers["run"],
                          numbers["run_max"], numbers["kernel"], numbers["cpu"], m["notebook"], numbers["hub"]))
    if not rooms:
        raise ValueError("no 'hub room: N learners at once' rows in the benchmark output (benchmarks/bench_room.py)")
    return Inputs(machine, tuple(sorted(rooms, key=lambda room: room.learners)))


def per_learner_mib(inputs: Inputs, assumptions: Assumptions = Assumptions()) -> float:
    """Memory to plan per learner: the largest measured peak of one learner (server + kernel, any room size), plus
    the extra kernels a learner keeps open at the largest measured kernel size, plus headroom."""
    peak = max(room.peak_max_mib for room in inputs.rooms)
    kernel = max(room.kernel_mib for room in inputs.rooms)
    return (peak + assumptions.extra_kernels * kernel) * (1 + assumptions.headroom)


def size_room(learners: int, inputs: Inputs, assumptions: Assumptions = Assumptions()) -> RoomSize:
    """Memory and cores for `learners` working at once (a workshop: everyone is concurrent), extrapolated."""
    if not isinstance(learners, int) or isinstance(learners, bool) or learners < 1:
        raise ValueError(f"learners must be a whole number >= 1, got {learners!r}")
    if not inputs.rooms:
        raise ValueError("rooms must hold at least one measured room")
    for room in inputs.rooms:
        for name in ("peak_max_mib", "kernel_mib", "cpu_s", "hub_mib"):
            if not getattr(room, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(room, name)!r} (room of {room.learners})")
    per_learner = per_learner_mib(inputs, assumptions)
    hub_mib = max(room.hub_mib for room in inputs.rooms)
    cpu_s = max(room.cpu_s for room in inputs.rooms)
    memory_gib = (learners * per_learner + hub_mib) / 1024
    cores = math.ceil(learners * cpu_s / assumptions.burst_wait_s + HUB_OVERHEAD_CORES)
    if learners <= TLJH_MAX_USERS:
        engine = "The Littlest JupyterHub, one server"
    else:
        nodes = max(math.ceil(memory_gib / (assumptions.node_gib * 0.9)), math.ceil(cores / assumptions.node_vcpu))
        engine = f"Zero to JupyterHub, {nodes} nodes of {assumptions.node_vcpu} vCPU / {assumptions.node_gib} GiB"
    return RoomSize(learners, per_learner, memory_gib, cores, engine)


def memory_limit_gib(per_learner: float) -> float:
    """The per-learner memory limit to configure: memory per learner rounded up to the next half GiB."""
    return math.ceil(per_learner / 512) / 2


def machine_cores(machine: str) -> int | None:
    match = re.search(r"(\d+) cores", machine)
    return int(match.group(1)) if match else None


def draw_figure(inputs: Inputs):
    """Two panels over the measured room sizes: memory per learner, and the times a learner waits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from qwen_lessons.plotting import OKABE_ITO, use_course_style

    use_course_style()
    rooms = inputs.rooms
    x = [room.learners for room in rooms]
    fig, (memory, times) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    memory.plot(x, [r.peak_mib for r in rooms], "o-", color=OKABE_ITO[0], label="median learner")
    memory.plot(x, [r.peak_max_mib for r in rooms], "s--", color=OKABE_ITO[1], label="largest learner")
    memory.set_ylim(0, max(r.peak_max_mib for r in rooms) * 1.3)
    memory.set_xlabel("learners at once")
    memory.set_ylabel("peak memory per learner (MiB)")
    memory.set_title("Server + kernels of one learner")
    memory.legend(loc="lower right")
    times.plot(x, [r.run_s for r in rooms], "o-", color=OKABE_ITO[0], label="every lesson, Run All (median)")
    times.plot(x, [r.first_s for r in rooms], "s--", color=OKABE_ITO[2], label="to the first cell (median)")
    times.plot(x, [r.start_s for r in rooms], "^:", color=OKABE_ITO[3], label="to a running server (median)")
    times.set_ylim(0, max(r.run_max_s for r in rooms) * 1.15)
    times.set_xlabel("learners at once")
    times.set_ylabel("time a learner waits (s)")
    times.set_title("What each learner waits for")
    times.legend(loc="upper left")
    for ax in (memory, times):
        ax.set_xticks(x)
    cores = machine_cores(inputs.machine)
    lo, hi = min(r.peak_max_mib for r in rooms), max(r.peak_max_mib for r in rooms)
    slowdown = rooms[-1].run_s / rooms[0].run_s
    fig.suptitle(f"A learner peaks at {lo:.0f}–{hi:.0f} MiB with {rooms[0].learners} to {rooms[-1].learners} in the room; "
                 f"Run All takes {slowdown:.1f}× as long with {rooms[-1].learners}" + (f" ({cores} cores)" if cores else ""),
                 fontweight="bold")
    return fig


def sizing_block(inputs: Inputs, assumptions: Assumptions = Assumptions(), figure_name: str = FIGURE.name) -> str:
    """The Markdown written between the markers: measured rooms, assumptions and the extrapolated table."""
    a = assumptions
    machine = re.sub(r"^(Measured|Machine:?)\s*", "", inputs.machine).rstrip(".")
    stored = {"machine": inputs.machine, "rooms": [asdict(room) for room in inputs.rooms]}
    biggest = inputs.rooms[-1]
    busiest = max(inputs.rooms, key=lambda room: room.cpu_s)
    lines = [
        START,
        f"<!-- {INPUTS_TAG} {json.dumps({'inputs': stored, 'assumptions': asdict(a)})} -->",
        "",
        f"**Measured** ({machine or 'machine not recorded'}; `benchmarks/bench_room.py`): a JupyterHub with the "
        "configuration of `deploy/jupyterhub/`, learners logging in with the shared password at the same moment, each "
        "starting a server and running every lesson notebook top to bottom through it. Medians over the learners, "
        "largest in brackets.",
        "",
        "| learners at once | peak memory per learner | to a running server | to the first cell | Run All, every lesson "
        "| hub + proxy + culler |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in inputs.rooms:
        lines.append(f"| {r.learners} | {r.peak_mib:.0f} MiB ({r.peak_max_mib:.0f}) | {r.start_s:.1f} s ({r.start_max_s:.1f}) "
                     f"| {r.first_s:.1f} s ({r.first_max_s:.1f}) | {r.run_s:.0f} s ({r.run_max_s:.0f}) | {r.hub_mib:.0f} MiB |")
    per_learner = per_learner_mib(inputs, a)
    lines += [
        "",
        f"![Measured per-learner memory and waiting times at 1 to {biggest.learners} learners]({figure_name})",
        "",
        f"Largest kernel: **{max(r.kernel_mib for r in inputs.rooms):.0f} MiB**; heaviest notebook: "
        f"**{busiest.cpu_s:.1f} CPU-seconds** of its kernel ({busiest.cpu_notebook}, median learner of the room of "
        f"{busiest.learners}; {inputs.rooms[0].cpu_s:.1f} with {inputs.rooms[0].learners} in the room: CPU time grows "
        "when processes share cores, and the sizing takes the largest).",
        "",
        f"**Extrapolated, not measured**, from the rows above: memory per learner = the largest measured learner plus "
        f"{a.extra_kernels} more kernel{'s' if a.extra_kernels != 1 else ''} open (the solutions notebook), plus "
        f"{a.headroom:.0%} headroom (TLJH advises 20–40 %); total = learners × that + the measured hub; cores: when all "
        f"press *Run All* on the heaviest notebook at once, all finish within {a.burst_wait_s:.0f} s, plus "
        f"{HUB_OVERHEAD_CORES} core for the hub (TLJH).",
        "",
        "| learners (extrapolated) | memory per learner | total memory | CPU cores | engine |",
        "| --- | --- | --- | --- | --- |",
    ]
    for learners in ROOM_SIZES:
        room = size_room(learners, inputs, a)
        lines.append(f"| {learners} | {room.per_learner_mib:,.0f} MiB | {room.memory_gib:,.1f} GiB | {room.cores} | "
                     f"{room.engine} |")
    lines += [
        "",
        f"Per-learner settings for the hub: memory limit **{memory_limit_gib(per_learner):g}G** (memory per learner, "
        "rounded up to the next half GiB), CPU limit 1 core; CPU guarantee = CPU cores / learners of your row.",
        END,
    ]
    return "\n".join(lines)


STAGGERED_START = ("<!-- staggered:start (written by scripts/write_sizing.py from the benchmark's output; "
                   "do not edit by hand) -->")
STAGGERED_END = "<!-- staggered:end -->"
STAGGERED_TAG = "staggered-inputs:"
STAGGERED_ROW = re.compile(r"^\| hub room: (?P<learners>\d+) learners staggered, every lesson \|.*\| (?P<notes>[^|]*) \|$",
                           re.MULTILINE)
_MEDIAN_MAX = re.compile(r"^(?P<median>[\d.]+) (?P<unit>\S+) \(max (?P<max>[\d.]+) (?P=unit)\)$")


@dataclass(frozen=True)
class StaggeredRoom:
    """One measured staggered room (benchmarks/bench_room.py, measure_staggered): medians and maxima over its learners;
    the load averages of the machine before the room and (median, max) while it ran, this room included."""

    learners: int
    peak_mib: float
    peak_max_mib: float
    start_s: float
    start_max_s: float
    first_s: float
    first_max_s: float
    p95_cell_s: float
    cells: int
    reconnects: int
    cpu_s: float  # CPU seconds of one learner's server and kernels over every lesson
    cpu_max_s: float
    cpu_per_min_s: float  # those CPU seconds per minute of the learner at the plan's pace
    cpu_per_min_max_s: float
    pace_min: float  # a learner's minutes at the plan's pace: reading + own CPU time
    room_min: float  # a learner's minutes really spent in the room (the waiting the load added included)
    hub_mib: float
    hub_cpu_s: float
    load_before: float
    load_during: float
    load_during_max: float
    plan: str


@dataclass(frozen=True)
class StaggeredInputs:
    machine: str
    rooms: tuple[StaggeredRoom, ...]


@dataclass(frozen=True)
class StaggeredAssumptions:
    """The choices the staggered sizing makes (not measurements); each is stated in docs/full_room.md."""

    headroom: float = 0.3  # TLJH: 20-40 % on the measured peak; the same on the average CPU, so cores never run full
    node_vcpu: int = 8
    node_gib: int = 32


def _median_max(notes: dict, key: str) -> tuple[float, float]:
    match = _MEDIAN_MAX.match(notes.get(key, ""))
    if match is None:
        raise ValueError(f"staggered row: {key!r} must read 'MEDIAN UNIT (max MAX UNIT)', got {notes.get(key)!r}")
    return float(match["median"]), float(match["max"])


def parse_staggered(text: str) -> StaggeredInputs:
    """The machine line and the staggered room rows of benchmarks/run.py output (none: an empty tuple of rooms)."""
    machine = next((line.strip() for line in text.splitlines() if line.startswith(("Measured", "Machine"))), "")
    rooms = []
    for m in STAGGERED_ROW.finditer(text):
        notes = dict(part.split(": ", 1) for part in m["notes"].split("; "))
        p95 = re.match(r"([\d.]+) s over (\d+) cells", notes["p95 cell latency"])
        during = re.match(r"median ([\d.]+) \(max ([\d.]+)\)", notes["load during"])
        rooms.append(StaggeredRoom(
            int(m["learners"]), *_median_max(notes, "per-learner peak memory"), *_median_max(notes, "server start"),
            *_median_max(notes, "first cell"), float(p95[1]), int(p95[2]), int(notes["websocket reconnects"]),
            *_median_max(notes, "CPU per learner"), *_median_max(notes, "CPU per learner-minute"),
            _median_max(notes, "learner minutes at the plan's pace")[0],
            _median_max(notes, "learner minutes in the room")[0],
            float(notes["hub + proxy + culler"].split()[0]), float(notes["hub CPU"].split()[0]),
            float(notes["load before"].split()[0]), float(during[1]), float(during[2]), notes["plan"]))
    return StaggeredInputs(machine, tuple(sorted(rooms, key=lambda room: room.learners)))


def staggered_per_learner_mib(inputs: StaggeredInputs, assumptions: StaggeredAssumptions = StaggeredAssumptions()) -> float:
    """Memory to plan per learner: the largest measured learner of any staggered room (server + the kernels of the
    lessons they keep open, measured), plus headroom."""
    return max(room.peak_max_mib for room in inputs.rooms) * (1 + assumptions.headroom)


def staggered_cpu_per_min(inputs: StaggeredInputs) -> float:
    """CPU seconds per learner-minute to plan with: the largest of the rooms' medians (a room's total is its learners'
    sum, so the typical learner counts, in the most demanding room)."""
    return max(room.cpu_per_min_s for room in inputs.rooms)


def size_staggered(learners: int, inputs: StaggeredInputs,
                   assumptions: StaggeredAssumptions = StaggeredAssumptions()) -> RoomSize:
    """Memory and cores for `learners` working as the staggered plan does: memory per learner x learners + the hub;
    cores = learners x CPU seconds per learner-minute / 60 s, plus headroom, plus the hub's 0.2 core (TLJH)."""
    if not isinstance(learners, int) or isinstance(learners, bool) or learners < 1:
        raise ValueError(f"learners must be a whole number >= 1, got {learners!r}")
    if not inputs.rooms:
        raise ValueError("rooms must hold at least one measured staggered room")
    for room in inputs.rooms:
        for name in ("peak_max_mib", "cpu_per_min_s", "hub_mib"):
            if not getattr(room, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(room, name)!r} (staggered room of {room.learners})")
    per_learner = staggered_per_learner_mib(inputs, assumptions)
    memory_gib = (learners * per_learner + max(room.hub_mib for room in inputs.rooms)) / 1024
    cores = math.ceil(learners * staggered_cpu_per_min(inputs) / 60 * (1 + assumptions.headroom) + HUB_OVERHEAD_CORES)
    if learners <= TLJH_MAX_USERS:
        engine = "The Littlest JupyterHub, one server"
    else:
        nodes = max(math.ceil(memory_gib / (assumptions.node_gib * 0.9)), math.ceil(cores / assumptions.node_vcpu))
        engine = f"Zero to JupyterHub, {nodes} nodes of {assumptions.node_vcpu} vCPU / {assumptions.node_gib} GiB"
    return RoomSize(learners, per_learner, memory_gib, cores, engine)


def staggered_block(inputs: StaggeredInputs, worst: Inputs, assumptions: StaggeredAssumptions = StaggeredAssumptions(),
                    worst_assumptions: Assumptions = Assumptions()) -> str:
    """The Markdown between the staggered markers: the staggered rooms beside the all-at-once ones, then the sizing
    from the staggered measurement with the all-at-once sizing as the worst case."""
    a = assumptions
    machine = re.sub(r"^(Measured|Machine:?)\s*", "", inputs.machine).rstrip(".")
    stored = {"machine": inputs.machine, "rooms": [asdict(room) for room in inputs.rooms]}
    plans = sorted({room.plan for room in inputs.rooms})
    lines = [
        STAGGERED_START,
        f"<!-- {STAGGERED_TAG} {json.dumps({'inputs': stored, 'assumptions': asdict(a)})} -->",
        "",
        f"**Measured, staggered** ({machine or 'machine not recorded'}; `benchmarks/bench_room.py`, "
        f"`--only staggered`): the same hub; learners arrive one by one ({'; '.join(plans)}) and run every lesson cell "
        "by cell. Medians over the learners, largest in brackets; the all-at-once room of the same size, from the "
        "table above, beside it.",
        "",
        "**Shared machine.** These rooms ran on a machine other work shared: the *load average* column is the "
        "machine's 1-minute load average just before the first learner arrived (other work and the idle hub; the "
        "machine has "
        f"{machine_cores(inputs.machine) or 'an unrecorded number of'} cores), and its median while the room ran "
        "(that work plus the room). The waiting times (to a server, to the first cell, cell latency) grew with that "
        "load and are upper bounds for a machine of your own; memory does not depend on it and CPU seconds far less "
        "(see below), and the sizing below uses only those two.",
        "",
        "| learners | arrive | peak memory per learner | to a running server | to the first cell | p95 cell latency "
        "| CPU per learner-minute | websocket reconnects | load average before (during) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    worst_by_size = {room.learners: room for room in worst.rooms}
    for r in inputs.rooms:
        lines.append(f"| {r.learners} | staggered | {r.peak_mib:.0f} MiB ({r.peak_max_mib:.0f}) | {r.start_s:.1f} s "
                     f"({r.start_max_s:.1f}) | {r.first_s:.1f} s ({r.first_max_s:.1f}) | {r.p95_cell_s:.2f} s "
                     f"(of {r.cells:,} cells) | {r.cpu_per_min_s:.2f} s ({r.cpu_per_min_max_s:.2f}) | {r.reconnects} "
                     f"| {r.load_before:.1f} ({r.load_during:.1f}) |")
        if r.learners in worst_by_size:
            w = worst_by_size[r.learners]
            lines.append(f"| {w.learners} | all at once | {w.peak_mib:.0f} MiB ({w.peak_max_mib:.0f}) | {w.start_s:.1f} s "
                         f"({w.start_max_s:.1f}) | {w.first_s:.1f} s ({w.first_max_s:.1f}) | – | – | – | not recorded |")
    busiest = max(inputs.rooms, key=lambda room: room.cpu_per_min_s)
    per_learner = staggered_per_learner_mib(inputs, a)
    lines += [
        "",
        "*CPU per learner-minute*: the CPU seconds of a learner's server and kernels over every lesson "
        f"({', '.join(f'{r.cpu_s:.0f} s with {r.learners}' for r in inputs.rooms)} in the room, median learner), "
        "divided by their minutes at the plan's pace (their reading time plus those CPU seconds: "
        f"{busiest.pace_min:.1f} min for the median learner of the room of {busiest.learners}; the minutes they really "
        f"spent, {busiest.room_min:.1f}, also hold the waiting the load added). The hub, proxy and culler used "
        f"{', '.join(f'{r.hub_cpu_s:.0f} CPU-seconds with {r.learners}' for r in inputs.rooms)}.",
        "",
        f"**Sized from the staggered rooms, extrapolated**: memory per learner = the largest staggered learner "
        "(their server and the kernels they had open, measured) plus "
        f"{a.headroom:.0%} headroom; total = learners × that + the measured hub; cores = learners × "
        f"{staggered_cpu_per_min(inputs):.2f} CPU-seconds per learner-minute (the largest room median) / 60, plus "
        f"{a.headroom:.0%} so the cores are not run full, plus {HUB_OVERHEAD_CORES} core for the hub (TLJH). "
        "*Worst case for the cores* is the all-at-once sizing above: every learner presses *Run All* on the heaviest "
        "notebook at the same moment. The staggered plan reads only a few seconds per cell, faster than a real room "
        "reads, so its CPU per minute is, if anything, high.",
        "",
        "| learners | memory per learner | total memory | CPU cores, staggered | CPU cores, all at once (worst case) "
        "| engine |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for learners in (30, 300):
        room, bad = size_staggered(learners, inputs, a), size_room(learners, worst, worst_assumptions)
        lines.append(f"| {learners} | {room.per_learner_mib:,.0f} MiB | {room.memory_gib:,.1f} GiB | {room.cores} | "
                     f"{bad.cores} | {room.engine} |")
    limit = memory_limit_gib(per_learner_mib(worst, worst_assumptions))
    worst_learner = per_learner_mib(worst, worst_assumptions)
    if per_learner <= limit * 1024:
        verdict = f"holds the staggered learner with headroom ({per_learner:,.0f} MiB)."
    else:
        verdict = (f"is **below** the staggered learner with headroom ({per_learner:,.0f} MiB, against "
                   f"{worst_learner:,.0f} MiB from the all-at-once rooms): see *What the staggered rooms showed* below.")
    lines += [
        "",
        f"The per-learner memory limit of the configuration ({limit:g}G, from the all-at-once rooms) {verdict}",
        STAGGERED_END,
    ]
    return "\n".join(lines)


def stored_staggered(text: str) -> tuple[StaggeredInputs, StaggeredAssumptions]:
    """Read back the staggered inputs and assumptions a previous run stored in the doc."""
    match = re.search(rf"<!-- {STAGGERED_TAG} (\{{.*\}}) -->", text)
    if match is None:
        raise ValueError(f"no '{STAGGERED_TAG}' comment in the staggered block")
    stored = json.loads(match.group(1))
    rooms = tuple(StaggeredRoom(**room) for room in stored["inputs"]["rooms"])
    return StaggeredInputs(stored["inputs"]["machine"], rooms), StaggeredAssumptions(**stored["assumptions"])


def stored_inputs(text: str) -> tuple[Inputs, Assumptions]:
    """Read back the inputs and assumptions a previous run stored in the doc."""
    match = re.search(rf"<!-- {INPUTS_TAG} (\{{.*\}}) -->", text)
    if match is None:
        raise ValueError(f"no '{INPUTS_TAG}' comment in the sizing block")
    stored = json.loads(match.group(1))
    rooms = tuple(Room(**room) for room in stored["inputs"]["rooms"])
    return Inputs(stored["inputs"]["machine"], rooms), Assumptions(**stored["assumptions"])


def replace_block(text: str, block: str, where: str, start_tag: str = START, end_tag: str = END) -> str:
    start, end = text.find(start_tag), text.find(end_tag)
    if start < 0 or end < start:
        raise ValueError(f"{where} has no '{start_tag}' ... '{end_tag}' block to write the sizing into")
    return text[:start] + block + text[end + len(end_tag):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark_output", type=Path, help="saved output of benchmarks/run.py (- for stdin)")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--check", action="store_true", help="only report whether the table is out of date")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if str(args.benchmark_output) == "-" else args.benchmark_output.read_text(encoding="utf-8")
    staggered = parse_staggered(text)
    current = args.doc.read_text(encoding="utf-8")
    updated, inputs = current, None
    if ROW.search(text) or not staggered.rooms:  # all-at-once rows (none of either kind: parse_benchmark says so)
        inputs = parse_benchmark(text)
        figure = args.doc.with_name(FIGURE.name)
        updated = replace_block(updated, sizing_block(inputs, figure_name=figure.name), str(args.doc))
    if staggered.rooms:
        worst = inputs or stored_inputs(updated)[0]  # the all-at-once rooms: this output's, else the doc's
        updated = replace_block(updated, staggered_block(staggered, worst), str(args.doc), STAGGERED_START, STAGGERED_END)
    if args.check:
        print("up to date" if updated == current else f"{args.doc}: the sizing table is out of date")
        return int(updated != current)
    args.doc.write_text(updated, encoding="utf-8")
    if inputs is not None:
        draw_figure(inputs).savefig(figure, dpi=100)
    print(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
