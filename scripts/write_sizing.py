"""Size a JupyterHub for a full room from the benchmark's measured kernel memory and CPU; write docs/full_room.md.

Usage:
    python benchmarks/run.py --only notebook > bench.txt
    python scripts/write_sizing.py bench.txt [--server-mib N] [--check]

The benchmark prints, per notebook, the kernel's peak memory and CPU seconds in a fresh kernel. This script
takes the heaviest notebook, adds one measured JupyterLab server per learner, and applies The Littlest
JupyterHub's estimation rules (docs/howto/admin/resource-estimation in jupyterhub/the-littlest-jupyterhub):
memory = concurrent users x max memory per user + 128 MB, with 20-40 % headroom per user; CPU = concurrent
users x CPU per user + 20 % of a core. The table goes between two markers of docs/full_room.md, with its
inputs, so tests/test_full_room.py can recompute it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "full_room.md"
START = "<!-- sizing:start (written by scripts/write_sizing.py from the benchmark's output; do not edit by hand) -->"
END = "<!-- sizing:end -->"
INPUTS_TAG = "sizing-inputs:"

ROOM_SIZES = (30, 60, 100, 300)
TLJH_MAX_USERS = 100  # TLJH README: "Jupyter Notebooks to 1-100 users on a single server"
HUB_OVERHEAD_MIB = 128  # TLJH resource-estimation page: overhead of the hub and its services
HUB_OVERHEAD_CORES = 0.2  # same page: "around 20% of a single modern CPU"

ROW = re.compile(
    r"^\| notebook (?P<name>\S+\.ipynb) \(fresh kernel\) \| (?P<median>[\d.]+) (?P<unit>ms|s) \|"
    r".*?kernel peak memory: (?P<peak>[\d.]+) Mi?B.*?kernel CPU: (?P<cpu>[\d.]+) s",
    re.MULTILINE,
)


@dataclass(frozen=True)
class NotebookUsage:
    """One notebook's benchmark row: wall seconds, kernel peak memory (MiB) and kernel CPU seconds."""

    name: str
    seconds: float
    peak_mib: float
    cpu_s: float


@dataclass(frozen=True)
class Assumptions:
    """The choices the sizing makes (not measurements); each is stated in docs/full_room.md."""

    kernels_per_learner: int = 2  # the lesson and its solutions notebook open at once
    headroom: float = 0.3  # TLJH: add 20-40 % to the measured peak
    burst_wait_s: float = 60  # everyone presses Run All on the heaviest notebook: all done within this
    node_vcpu: int = 8  # Kubernetes node size used for the Z2JH rows
    node_gib: int = 32


@dataclass(frozen=True)
class Inputs:
    """Everything the table is computed from; stored in the doc so a test can recompute the table."""

    machine: str
    heaviest_memory_notebook: str
    kernel_peak_mib: float
    heaviest_cpu_notebook: str
    kernel_cpu_s: float
    server_mib: float


@dataclass(frozen=True)
class RoomSize:
    learners: int
    per_learner_mib: float
    memory_gib: float
    cores: int
    engine: str


def parse_benchmark(text: str) -> tuple[str, list[NotebookUsage]]:
    """The machine line and the notebook rows of benchmarks/run.py output; ValueError when there are none."""
    machine = next((line.strip() for line in text.splitlines() if line.startswith(("Measured", "Machine"))), "")
    rows = [
        NotebookUsage(m["name"], float(m["median"]) / (1000 if m["unit"] == "ms" else 1), float(m["peak"]), float(m["cpu"]))
        for m in ROW.finditer(text)
    ]
    if not rows:
        raise ValueError("no 'notebook ... (fresh kernel)' rows with kernel peak memory and CPU in the benchmark output")
    return machine, rows


def heaviest(rows: list[NotebookUsage], server_mib: float, machine: str = "") -> Inputs:
    """The inputs of the sizing: the largest kernel peak and the largest kernel CPU time over all notebooks."""
    by_memory = max(rows, key=lambda row: row.peak_mib)
    by_cpu = max(rows, key=lambda row: row.cpu_s)
    return Inputs(machine, by_memory.name, by_memory.peak_mib, by_cpu.name, by_cpu.cpu_s, server_mib)


def size_room(learners: int, inputs: Inputs, assumptions: Assumptions = Assumptions()) -> RoomSize:
    """Memory and cores for `learners` working at once (a workshop: everyone is concurrent)."""
    if not isinstance(learners, int) or learners < 1:
        raise ValueError(f"learners must be a whole number >= 1, got {learners!r}")
    for name in ("kernel_peak_mib", "kernel_cpu_s", "server_mib"):
        if not getattr(inputs, name) > 0:
            raise ValueError(f"{name} must be > 0, got {getattr(inputs, name)!r}")
    per_learner = (assumptions.kernels_per_learner * inputs.kernel_peak_mib + inputs.server_mib) * (1 + assumptions.headroom)
    memory_gib = (learners * per_learner + HUB_OVERHEAD_MIB) / 1024
    cores = math.ceil(learners * inputs.kernel_cpu_s / assumptions.burst_wait_s + HUB_OVERHEAD_CORES)
    if learners <= TLJH_MAX_USERS:
        engine = "The Littlest JupyterHub, one server"
    else:
        nodes = max(math.ceil(memory_gib / (assumptions.node_gib * 0.9)), math.ceil(cores / assumptions.node_vcpu))
        engine = f"Zero to JupyterHub, {nodes} nodes of {assumptions.node_vcpu} vCPU / {assumptions.node_gib} GiB"
    return RoomSize(learners, per_learner, memory_gib, cores, engine)


def memory_limit_gib(per_learner_mib: float) -> float:
    """The per-learner memory limit to configure: memory per learner rounded up to the next half GiB."""
    return math.ceil(per_learner_mib / 512) / 2


def sizing_block(inputs: Inputs, assumptions: Assumptions = Assumptions()) -> str:
    """The Markdown written between the markers: inputs, assumptions and the table."""
    a = assumptions
    machine = re.sub(r"^(Measured|Machine:?)\s*", "", inputs.machine).rstrip(".")
    lines = [
        START,
        f"<!-- {INPUTS_TAG} {json.dumps({'inputs': asdict(inputs), 'assumptions': asdict(a)})} -->",
        "",
        f"Measured inputs ({machine or 'machine not recorded'}):",
        "",
        f"- heaviest kernel: **{inputs.kernel_peak_mib:.0f} MiB** peak ({inputs.heaviest_memory_notebook}, benchmark row);",
        f"- most CPU: **{inputs.kernel_cpu_s:.1f} CPU-seconds** to run {inputs.heaviest_cpu_notebook} top to bottom "
        "(benchmark row);",
        f"- one JupyterLab server with no kernel: **{inputs.server_mib:.0f} MiB** (measured by `scripts/write_sizing.py`).",
        "",
        f"Assumptions: {a.kernels_per_learner} kernels open per learner; {a.headroom:.0%} headroom on memory (TLJH advises "
        f"20–40 %); every learner active at once; when all press *Run All* on the heaviest notebook at the same moment, "
        f"all finish within {a.burst_wait_s:.0f} s; hub overhead {HUB_OVERHEAD_MIB} MB and {HUB_OVERHEAD_CORES} core (TLJH).",
        "",
        "| learners | memory per learner | total memory | CPU cores | engine |",
        "| --- | --- | --- | --- | --- |",
    ]
    for learners in ROOM_SIZES:
        room = size_room(learners, inputs, a)
        lines.append(f"| {learners} | {room.per_learner_mib:,.0f} MiB | {room.memory_gib:,.1f} GiB | {room.cores} | "
                     f"{room.engine} |")
    per_learner = size_room(ROOM_SIZES[0], inputs, a).per_learner_mib
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
    return Inputs(**stored["inputs"]), Assumptions(**stored["assumptions"])


def replace_block(text: str, block: str, where: str) -> str:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{where} has no '{START}' ... '{END}' block to write the sizing into")
    return text[:start] + block + text[end + len(END):]


def measure_server_mib() -> float:
    """Start a JupyterLab server on loopback, load its page once, and return its resident memory in MiB."""
    import psutil

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "JUPYTER_CONFIG_DIR": home, "JUPYTER_RUNTIME_DIR": home,
               "JUPYTER_DATA_DIR": home}
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             "--LabApp.extension_manager=readonly", f"--ServerApp.root_dir={ROOT}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("JupyterLab did not start") from None
                    time.sleep(0.3)
            time.sleep(1)  # let the first page's lazy imports settle
            return psutil.Process(proc.pid).memory_info().rss / 2**20
        finally:
            proc.terminate()
            proc.wait(20)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark_output", type=Path, help="saved output of benchmarks/run.py (- for stdin)")
    parser.add_argument("--server-mib", type=float, default=None, help="skip measuring the JupyterLab server")
    parser.add_argument("--doc", type=Path, default=DOC)
    parser.add_argument("--check", action="store_true", help="only report whether the table is out of date")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if str(args.benchmark_output) == "-" else args.benchmark_output.read_text(encoding="utf-8")
    machine, rows = parse_benchmark(text)
    server = args.server_mib if args.server_mib is not None else measure_server_mib()
    block = sizing_block(heaviest(rows, round(server), machine))
    current = args.doc.read_text(encoding="utf-8")
    updated = replace_block(current, block, str(args.doc))
    if args.check:
        print("up to date" if updated == current else f"{args.doc}: the sizing table is out of date")
        return int(updated != current)
    args.doc.write_text(updated, encoding="utf-8")
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
