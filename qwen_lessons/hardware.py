"""Lessons 4 and 7 (04_fine_tuning, 07_choosing_a_tier): the hardware table: GPUs, Apple unified-memory machines and CPU-only boxes, with memory, bandwidth and bf16 throughput."""

from __future__ import annotations

from functools import cache

import pandas as pd

from qwen_lessons.data import read_table
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


@cache
def _rows() -> dict[str, tuple]:
    table = load_hardware()
    return {
        row["gpu_id"]: tuple((key, None if pd.isna(value) else value) for key, value in row.items())
        for row in table.to_dict("records")
    }


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
