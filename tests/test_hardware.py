"""The sourced hardware table and its accessors."""

from __future__ import annotations

import pytest

from qwen_lessons import hardware


def test_table_covers_every_class_of_machine_the_lesson_needs():
    table = hardware.load_hardware()
    consumer = table[table["kind"] == "consumer"]
    assert {8, 12, 16, 24} <= set(consumer["memory_gb"].astype(int))
    ids = set(table["gpu_id"])
    assert {"l4", "a10g", "a100-40gb", "a100-80gb", "h100-sxm", "h200-sxm"} <= ids
    assert (table["kind"] == "apple").sum() >= 2
    assert (table["kind"] == "cpu").sum() >= 1
    assert table["gpu_id"].is_unique


def test_every_row_is_sourced_and_numbers_are_positive_or_empty():
    table = hardware.load_hardware()
    assert table["source"].str.strip().str.len().gt(20).all()
    assert (table["memory_gb"] > 0).all()
    assert (table["memory_bandwidth_gbs"].dropna() > 0).all()
    assert (table["bf16_tflops"].dropna() > 0).all()
    # Apple and CPU vendors publish no bf16 tensor figure: the cell must stay empty, not be guessed
    assert table.loc[table["kind"].isin(["apple", "cpu"]), "bf16_tflops"].isna().all()


def test_dense_bf16_is_the_datasheet_sparse_figure_halved():
    # NVIDIA datasheets print bf16 "with sparsity": H100 SXM 1,979, H100 PCIe 1,513, L4 242 TFLOPS
    assert hardware.get_gpu("h100-sxm")["bf16_tflops"] == pytest.approx(1979 / 2, abs=0.2)  # datasheet rounds
    # where the vendor prints the dense figure itself, that figure is kept: the Hopper whitepaper's 756, not 1513 / 2
    assert hardware.get_gpu("h100-pcie")["bf16_tflops"] == 756
    assert hardware.get_gpu("l4")["bf16_tflops"] == pytest.approx(242 / 2)
    # A100 datasheet: 312 dense / 624 sparse
    assert hardware.get_gpu("a100-80gb")["bf16_tflops"] == 312


def test_published_ratios_between_related_parts():
    # H200 = H100 SXM die with more, faster memory: 141 vs 80 GB, 4.8 vs 3.35 TB/s, same compute
    h100, h200 = hardware.get_gpu("h100-sxm"), hardware.get_gpu("h200-sxm")
    assert h200["memory_bandwidth_gbs"] / h100["memory_bandwidth_gbs"] == pytest.approx(4.8 / 3.35)
    assert h200["bf16_tflops"] == h100["bf16_tflops"]
    # the 16 GB RTX 4060 Ti keeps the 8 GB card's 128-bit bus: same bandwidth, twice the memory
    small, large = hardware.get_gpu("rtx-4060-ti-8gb"), hardware.get_gpu("rtx-4060-ti-16gb")
    assert small["memory_bandwidth_gbs"] == large["memory_bandwidth_gbs"]
    assert large["memory_gb"] == 2 * small["memory_gb"]


def test_get_gpu_returns_plain_values_and_none_for_empty_cells():
    a10g = hardware.get_gpu("a10g")
    assert a10g["memory_gb"] == 24 and a10g["bf16_tflops"] is None
    assert a10g["kind"] == "datacenter"


def test_unknown_gpu_lists_valid_ids():
    with pytest.raises(ValueError, match=r"gpu_id 'rtx-9090' is unknown; it must be one of \d+ ids, e.g. .*; see hardware.hardware_ids\(\)"):
        hardware.get_gpu("rtx-9090")


def test_memory_gib_reads_vendor_gb_as_decimal():
    # 80 GB x 10^9 bytes / 2^30 bytes per GiB = 74.505...
    assert hardware.memory_gib("a100-80gb") == pytest.approx(80e9 / 1073741824)
    assert hardware.hardware_ids()[0] == "rtx-4060-ti-8gb"
