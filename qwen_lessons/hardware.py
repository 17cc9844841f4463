"""Lessons 4 and 7 (04_fine_tuning, 07_choosing_a_tier): the hardware table: GPUs, Apple unified-memory machines and CPU-only boxes, with memory, bandwidth and bf16 throughput."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType

import pandas as pd

from qwen_lessons.data import cached, read_table
from qwen_lessons.units import GB, GIB
from qwen_lessons.validation import checked, choices, key

HARDWARE_FILE = "hardware.csv"
KINDS = ("consumer", "datacenter", "apple", "cpu")
DEFAULT_HEADROOM = 0.10  # course choice: keep 10% free for the CUDA context, fragmentation and other processes



@checked
def load_hardware() -> pd.DataFrame:
    """The sourced hardware table (one row per gpu_id); memory in GB as sold, bandwidth in GB/s, dense bf16 TFLOPS."""
    table = read_table(HARDWARE_FILE)
    unknown = sorted(set(table["kind"]) - set(KINDS))
    if unknown:
        raise ValueError(f"{HARDWARE_FILE}: kind must be one of {KINDS}, found {unknown}")
    return table


@checked
def hardware_ids() -> list[str]:
    """All gpu_id values, in table order (smallest consumer card first)."""
    return list(_rows())


@cached
def _rows() -> MappingProxyType:
    table = load_hardware()
    return MappingProxyType({
        row["gpu_id"]: tuple((key, None if pd.isna(value) else value) for key, value in row.items())
        for row in table.to_dict("records")
    })


@checked
def get_gpu(gpu_id: str) -> dict:
    """One row of the hardware table as a dict (empty cells become None); ValueError lists the valid ids."""
    rows = _rows()
    if gpu_id not in rows:
        raise ValueError(f"gpu_id {gpu_id!r} is unknown; it must be {choices(rows, 'ids', 'hardware.hardware_ids()')}")
    return dict(rows[gpu_id])


@checked
def memory_gib(gpu_id: str) -> float:
    """The memory as sold converted to GiB, reading the vendor's GB as 10**9 bytes (a conservative reading)."""
    return get_gpu(gpu_id)["memory_gb"] * GB / GIB


# ---------------------------------------------------------------------------------------------------------------
# A machine the table does not list: the learner types in its memory and bandwidth
# ---------------------------------------------------------------------------------------------------------------
MACHINE_KINDS = {"gpu": "consumer", "apple": "apple", "cpu": "cpu"}  # typed kind -> the table's kind
# Course choice: the widest memory systems sold in each class (B200-class HBM3e 8 TB/s, M-series Ultra 819 GB/s,
# 12-channel DDR5 servers about 600 GB/s per socket) with room to spare; beyond these a typed value is a typo
PLAUSIBLE_BANDWIDTH_GBS = {"gpu": (50.0, 10_000.0), "apple": (50.0, 1_500.0), "cpu": (5.0, 1_500.0)}


@dataclass(frozen=True)
class Machine:
    """A machine typed in by the learner: memory in GB as sold, memory bandwidth in GB/s, kind one of 'gpu',
    'apple' (unified memory) or 'cpu' (system RAM), dense bf16 TFLOPS when known. Checked for physical sense."""

    name: str
    memory_gb: float
    bandwidth_gbs: float
    kind: str
    bf16_tflops: float | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValueError(f"name must be a non-empty text; got {self.name!r}")
        if self.kind not in MACHINE_KINDS:
            raise ValueError(f"kind must be one of {list(MACHINE_KINDS)}; got {self.kind!r}")
        if not _real(self.memory_gb) or not 0.5 <= self.memory_gb <= 4_096:
            raise ValueError(f"memory_gb must be a number from 0.5 to 4,096 GB; got {self.memory_gb!r}")
        low, high = PLAUSIBLE_BANDWIDTH_GBS[self.kind]
        if not _real(self.bandwidth_gbs) or not low <= self.bandwidth_gbs <= high:
            raise ValueError(f"bandwidth_gbs must be from {low:g} to {high:,g} GB/s for kind {self.kind!r}; got "
                             f"{self.bandwidth_gbs!r}")
        if self.bf16_tflops is not None and (not _real(self.bf16_tflops) or not 0 < self.bf16_tflops <= 20_000):
            raise ValueError(f"bf16_tflops must be a number above 0 and up to 20,000, or None; got "
                             f"{self.bf16_tflops!r}")

    def as_row(self) -> dict:
        """The machine as a row of the hardware table (get_gpu's keys)."""
        return {"gpu_id": self.name, "name": self.name, "kind": MACHINE_KINDS[self.kind], "memory_gb": self.memory_gb,
                "memory_type": None, "memory_bandwidth_gbs": float(self.bandwidth_gbs),
                "bf16_tflops": None if self.bf16_tflops is None else float(self.bf16_tflops),
                "note": "typed in", "source": None, "source_kind": None}


def _real(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def machine_rule(name: str, value):
    """The validation rule of a `machine` argument: a hardware id of the table or a Machine typed in."""
    if isinstance(value, Machine) or (isinstance(value, str) and value in _rows()):
        return value
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    ids = choices(hardware_ids(), "ids", "hardware.hardware_ids()")
    if isinstance(value, str):
        raise ValueError((f"{name} {shown} is unknown; it must be {ids} (or a hardware.Machine with your machine's "
                          "memory and bandwidth)")[:300])
    raise ValueError(f"{name} must be a hardware id ({ids}) or a hardware.Machine; got {shown}"[:300])


@checked(machine=machine_rule)
def machine_row(machine) -> dict:
    """A hardware id of the table or a Machine, as a row of the table (get_gpu's keys)."""
    return machine.as_row() if isinstance(machine, Machine) else get_gpu(machine)
def of_kind(*kinds: str, role: str):
    """The rule of a parameter that names a machine in one role (a host's RAM, a training device): a known gpu_id
    whose kind is one of kinds; ValueError naming the argument, its role and the machine's kind otherwise."""

    def rule(name: str, value):
        kind = get_gpu(key(name, value))["kind"]
        if kind not in kinds:
            raise ValueError(f"{name} must be {role} (kind {' or '.join(kinds)}); {value!r} is a {kind} machine")
        return value

    return rule


HOST_CPU = of_kind("cpu", role="the CPU and RAM beside the GPU, e.g. 'cpu-ddr5-32gb'")
TRAINING_DEVICE = of_kind("consumer", "datacenter", "apple", role="a GPU or Apple machine to train on")
