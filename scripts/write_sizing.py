"""Size a JupyterHub for a full room from the measured hub rooms of the benchmark; write docs/full_room.md (every lesson).

Usage:
    python benchmarks/run.py --only "hub room" > bench.txt
    python scripts/write_sizing.py bench.txt [--check]

benchmarks/bench_room.py runs a real JupyterHub on loopback with 1, 2, 4 and 8 learners at once, each running every
lesson notebook through their own server, and prints per room: each learner's peak memory (server + kernels), the
time to a started server, to the first cell and to the end of every lesson, the heaviest notebook's kernel CPU
seconds and the hub's own memory. This script writes those measurements as a table and a figure
(docs/full_room_measured.png), then extrapolates them to 30-300 learners with The Littlest JupyterHub's estimation
rules (docs/howto/admin/resource-estimation in jupyterhub/the-littlest-jupyterhub): memory = users x memory per user
+ the hub's, with 20-40 % headroom; CPU = users x CPU per user + 20 % of a core. The block goes between two markers of
docs/full_room.md with its inputs, so tests/test_full_room.py can recompute it.
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


def stored_inputs(text: str) -> tuple[Inputs, Assumptions]:
    """Read back the inputs and assumptions a previous run stored in the doc."""
    match = re.search(rf"<!-- {INPUTS_TAG} (\{{.*\}}) -->", text)
    if match is None:
        raise ValueError(f"no '{INPUTS_TAG}' comment in the sizing block")
    stored = json.loads(match.group(1))
    rooms = tuple(Room(**room) for room in stored["inputs"]["rooms"])
    return Inputs(stored["inputs"]["machine"], rooms), Assumptions(**stored["assumptions"])


def replace_block(text: str, block: str, where: str) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{where} has no '{START}' ... '{END}' block to write the sizing into")
    return text[:start] + block + text[end + len(END):]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark_output", type=Path, help="saved output of benchmarks/run.py (- for stdin)")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--check", action="store_true", help="only report whether the table is out of date")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if str(args.benchmark_output) == "-" else args.benchmark_output.read_text(encoding="utf-8")
    inputs = parse_benchmark(text)
    figure = args.doc.with_name(FIGURE.name)
    block = sizing_block(inputs, figure_name=figure.name)
    current = args.doc.read_text(encoding="utf-8")
    updated = replace_block(current, block, str(args.doc))
    if args.check:
        print("up to date" if updated == current else f"{args.doc}: the sizing table is out of date")
        return int(updated != current)
    args.doc.write_text(updated, encoding="utf-8")
    fig = draw_figure(inputs)
    fig.savefig(figure, dpi=100)
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
