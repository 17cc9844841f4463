"""Transcribe Qwen's Qwen2 and Qwen3 speed-benchmark tables into data/speed_benchmark_generations.csv.

Lesson 7 (07_choosing_a_tier) judges the expected-speed model on these rows; no constant is fitted on them.
Usage: python scripts/transcribe_speed_tables.py <git dir of github.com/QwenLM/Qwen3>
The two documents are read at the commits named below (git show), so the output is reproducible.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

QWEN2 = ("4da996c576418cc9ecdff35aeddfcdca814e9568", "docs/source/benchmark/speed_benchmark.rst")
QWEN3 = ("c7f51a1a1ce3d4bb750bc545cd2673fff4c5a8f9", "docs/source/getting_started/speed_benchmark.md")
OUT = Path(__file__).resolve().parents[1] / "data" / "speed_benchmark_generations.csv"
COLUMNS = ["table", "model_id", "quantization", "framework", "framework_version", "gpu", "gpu_id", "gpu_num",
           "batch_size", "input_length", "output_length", "tokens_per_s", "speed_definition", "note", "source"]
QWEN2_ENV = {"transformers": "transformers 4.38.2, PyTorch 2.1.2, Flash Attention 2.3.3, AutoGPTQ 0.7.1, AutoAWQ 0.2.4",
             "vLLM": "vLLM 0.4.2, PyTorch 2.3.0, Flash Attention 2.5.6"}
QWEN3_ENV = {"transformers": "transformers 4.51.3, PyTorch 2.6.0, Flash Attention 2.7.4, GPTQModel 2.2.0, AutoAWQ 0.2.9",
             "SGLang": "SGLang 0.4.6.post1, PyTorch 2.6.0, sgl-kernel 0.1.0"}
QWEN2_SETTINGS = {"[Setting 1]": "gpu_memory_utilization=0.98 max_model_len=4096 enforce_eager=True",
                  "[Setting 2]": "gpu_memory_utilization=1.0 max_model_len=4096 enforce_eager=True",
                  "[Setting 3]": "gpu_memory_utilization=1.0 max_model_len=8192 enforce_eager=True"}


def show(repo: str, commit: str, path: str) -> str:
    return subprocess.run(["git", f"--git-dir={repo}", "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def qwen2_rows(text: str):
    framework = None
    carried: list[str] = []
    for line in text.splitlines():
        heading = re.match(r"^-\s+([\dA-Z.\-]+) \((Transformer|vLLM)\)", line)
        if heading:
            framework = "transformers" if heading.group(2) == "Transformer" else "vLLM"
            carried = []
            continue
        if line.startswith("Note:"):
            framework = None  # the vLLM throughput table that follows is batched, not a speed row of this benchmark
        if framework is None or not line.startswith("|") or "Input Length" in line or "# Prompts" in line:
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) < 5:
            continue
        cells = [cell or (carried[i] if i < len(carried) and i < 2 else "") for i, cell in enumerate(cells)]
        carried = cells
        model, length, quant, gpus, speed = cells[:5]
        extra = cells[5] if len(cells) > 5 else ""
        note = QWEN2_SETTINGS.get(extra, "") if framework == "vLLM" else ""
        if framework == "vLLM" and not note:
            note = "gpu_memory_utilization=0.9 max_model_len=32768 enforce_eager=False (default setting)"
        yield {
            "table": "Qwen2 docs (2024-09)", "model_id": f"Qwen/{model}", "quantization": quant,
            "framework": framework, "framework_version": QWEN2_ENV[framework], "gpu": "NVIDIA A100 80GB",
            "gpu_id": "a100-80gb", "gpu_num": gpus, "batch_size": 1, "input_length": length, "output_length": 2048,
            "tokens_per_s": speed,
            "speed_definition": "generated tokens (2048) / wall time incl. prefill (as the Qwen2.5 table)",
            "note": note, "source": f"repo:QwenLM/Qwen3@{QWEN2[0]}:{QWEN2[1]}",
        }


class _Tables(HTMLParser):
    """Rows of the Qwen3 document's HTML tables, rowspans expanded, each tagged with the section heading above it."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[str, list[str]]] = []
        self.heading = ""
        self._spans: dict[int, list] = {}
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._span = 1

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._row = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("; ")
        elif tag == "td" and self._row is not None:
            self._cell, self._span = [], int(dict(attrs).get("rowspan", 1))

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for line in data.splitlines():
            if line.startswith("### "):
                self.heading, self._spans = line[4:].strip(), {}

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._row.append(("".join(self._cell).strip(), self._span))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            full, given = [], iter(self._row)
            column = 0
            while True:
                held = self._spans.get(column)
                if held and held[1] > 0:
                    full.append(held[0])
                    held[1] -= 1
                else:
                    try:
                        value, span = next(given)
                    except StopIteration:
                        break
                    full.append(value)
                    if span > 1:
                        self._spans[column] = [value, span - 1]
                column += 1
            if full:
                self.rows.append((self.heading, full))
            self._row = None


def qwen3_rows(text: str):
    parser = _Tables()
    parser.feed(text)
    for heading, cells in parser.rows:
        match = re.match(r"(Qwen3-[\w.\-]+)\s+\((SGLang|Transformers)\)", heading)  # the document uses a no-break space
        if not match or len(cells) < 5:
            continue
        framework = "SGLang" if match.group(2) == "SGLang" else "transformers"
        model, length, quant, gpus, speed = cells[:5]
        note = cells[-1] if framework == "SGLang" else (cells[6] if len(cells) > 6 else "")
        if speed in ("-", ""):
            continue  # "MoE Kernel Unsupported": no measurement
        yield {
            "table": "Qwen3 docs (2025-05)", "model_id": f"Qwen/{model}", "quantization": quant,
            "framework": framework, "framework_version": QWEN3_ENV[framework], "gpu": "NVIDIA H20 96GB",
            "gpu_id": "h20", "gpu_num": gpus, "batch_size": 1, "input_length": length, "output_length": 2048,
            "tokens_per_s": speed,
            "speed_definition": "(prompt tokens + generated tokens (2048)) / wall time, as the document states",
            "note": note, "source": f"repo:QwenLM/Qwen3@{QWEN3[0]}:{QWEN3[1]}",
        }


def main(repo: str) -> None:
    rows, seen = [], set()
    for row in [*qwen2_rows(show(repo, *QWEN2)), *qwen3_rows(show(repo, *QWEN3))]:
        key = tuple(str(row[column]) for column in ("model_id", "quantization", "framework", "gpu_num", "input_length"))
        if key in seen:
            continue  # the Qwen2 document prints the 72B vLLM 30720 block twice, with the same numbers
        seen.add(key)
        rows.append(row)
    with OUT.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
