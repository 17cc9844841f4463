"""CONTRIBUTING.md proven (issue 28): each data checklist, performed on a copy of data/, reaches every calculator,
wizard, lesson table and widget it should, with no code edit; and each checklist names exactly the files its
test touches.

Each case copies data/, appends the rows the checklist asks for, and asks a fresh Python process (QWEN_LESSONS_DATA
pointing at the copy, so no cache of this process is involved) what the course now shows.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRIBUTING = ROOT / "CONTRIBUTING.md"

# --- the contributor's rows ----------------------------------------------------------------------------------------

NEW_ID = "Qwen/Qwen9-7B"  # a dense checkpoint of a generation the catalog has never seen
ARCHITECTURE_ROW = {  # Qwen3-8B's dimensions under a new name
    "model_id": NEW_ID, "architecture": "qwen3", "num_hidden_layers": 36, "hidden_size": 4096,
    "intermediate_size": 12288, "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128,
    "vocab_size": 151936, "max_position_embeddings": 40960, "tie_word_embeddings": "false",
    "torch_dtype": "bfloat16", "num_experts": 0, "num_experts_per_tok": 0, "moe_intermediate_size": 0,
    "shared_expert_intermediate_size": 0, "full_attention_interval": 1, "linear_num_key_heads": 0,
    "linear_num_value_heads": 0, "linear_key_head_dim": 0, "linear_value_head_dim": 0, "linear_conv_kernel_dim": 0,
    "attention_output_gate": "false", "attention_bias": "false", "qk_norm": "true",
    "source": "synthetic row written by tests/test_contributing.py",
}
CATALOG_ROW = {
    "model_id": NEW_ID, "generation": "Qwen9", "series": "Qwen9", "line": "text", "variant": "instruct",
    "params_b": 8.2, "active_params_b": 8.2, "params_basis": "card", "context_length": 32768,
    "extended_context": 131072, "extension_method": "YaRN", "license": "Apache-2.0", "release": "2099-12",
    "source": "synthetic row written by tests/test_contributing.py",
}
SCORE_ROW = {"model": "Qwen9-7B", "variant": "instruct", "benchmark": "MMLU-Redux", "score": 80.0,
             "shots_or_setting": "5-shot", "source": "synthetic row written by tests/test_contributing.py"}
VISION_ROW = {  # a generation with 20-pixel patches: 448 is not a multiple of patch x merge (40)
    "generation": "qwen9-vl", "name": "Qwen9-VL", "image_input": "native", "patch_size": 20, "spatial_merge_size": 2,
    "resize_factor": 40, "temporal_patch_size": 2, "wrapper_tokens": 2, "helper": "transformers", "frame_rounding": "floor",
    "video_min_tokens": 128, "video_max_tokens": 768, "video_total_pixels": 128000 * 40 * 40 * 0.9, "video_fps": 2.0,
    "video_min_frames": 4, "video_max_frames": 768, "frame_factor": 2, "video_timestamps": "true",
    "source": "synthetic row written by tests/test_contributing.py", "vocabulary": "qwen3.5",
}
VL_CATALOG_ROW = {**CATALOG_ROW, "model_id": "Qwen/Qwen9-VL-7B-Instruct", "series": "Qwen9-VL",
                  "line": "vision-language", "vision_generation": "qwen9-vl"}
AUDIO_ROW = {  # Qwen2-Audio's rule under a new name
    "generation": "qwen9-audio", "name": "Qwen9-Audio", "sampling_rate": 16000, "hop_length": 160,
    "max_samples": 480000, "frame_rule": "ceil", "ceil_halvings": 1, "floor_halvings": 1, "wrapper_tokens": 2,
    "processor": "synthetic", "source": "synthetic row written by tests/test_contributing.py",
}
LINE_ROW = {"line": "world-model", "language_model": "false", "general_chat": "false", "meaning": "a new line",
            "source": "synthetic row written by tests/test_contributing.py"}
LINE_CATALOG_ROW = {**CATALOG_ROW, "model_id": "Qwen/Qwen9-World-7B", "series": "Qwen9-World", "line": "world-model"}


def data_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(ROOT / "data", folder, ignore=shutil.ignore_patterns("__pycache__", "images"))
    (folder / "images").symlink_to(ROOT / "data" / "images")  # the pictures are read, never changed
    return folder


class Contributor:
    """Appends rows to a copy of data/ and records which files it touched."""

    def __init__(self, folder: Path):
        self.folder, self.touched = folder, set()

    def add(self, file: str, row: dict) -> None:
        path = self.folder / file
        with path.open(encoding="utf-8") as handle:
            columns = next(csv.reader(handle))
        assert set(row) <= set(columns), f"{file}: no column {sorted(set(row) - set(columns))}"
        with path.open("a", encoding="utf-8", newline="") as handle:
            csv.DictWriter(handle, fieldnames=columns, lineterminator="\n").writerow(
                {column: row.get(column, "") for column in columns})
        self.touched.add(f"data/{file}")

    def ask(self, code: str) -> dict:
        """Run `code` (which fills a dict `found`) in a fresh process reading this copy of data/."""
        env = {**os.environ, "QWEN_LESSONS_DATA": str(self.folder), "MPLBACKEND": "Agg"}
        program = "import json\nfound = {}\n" + code + "\nprint('FOUND ' + json.dumps(found, default=str))\n"
        done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True,
                              timeout=600, cwd=self.folder)  # a guard against a hang only
        assert done.returncode == 0, done.stderr[-3000:]
        line = next(line for line in done.stdout.splitlines() if line.startswith("FOUND "))
        return json.loads(line.removeprefix("FOUND "))


def checklist_files(title: str) -> set[str]:
    """The data/ files a CONTRIBUTING.md checklist (a bold title and its numbered steps) names."""
    text = CONTRIBUTING.read_text(encoding="utf-8")
    match = re.search(r"^\*\*" + re.escape(title) + r"\*\*.*?(?=^\*\*|^## |\Z)", text, flags=re.MULTILINE | re.DOTALL)
    assert match, f"CONTRIBUTING.md has no checklist **{title}**"
    return set(re.findall(r"`(data/[a-z_0-9]+\.csv)`", match.group(0)))


# --- a dense checkpoint of a new generation: 2 rows (+1 score row for the quality wizard) ------------------------

DENSE_PROBE = f"""
from qwen_lessons import catalog, finetune, local_runtime, memory, models, tiers
from qwen_lessons.lessons import family_map as lesson1
from qwen_lessons.widgets import family_map as explorer
new = {NEW_ID!r}
found["generations"] = list(catalog.generations())
found["filtered"] = list(catalog.filter_catalog(generation="Qwen9")["model_id"])
found["coverage"] = list(lesson1.coverage().index)
found["context_table"] = list(lesson1.context_by_generation().index)
found["flagships"] = list(lesson1.flagships()["model_id"])
ax = lesson1.plot_size_ladder()
found["size_ladder_ticks"] = [tick.get_text() for tick in ax.get_xticklabels()]
found["explorer_rows"] = list(explorer.explorer_selection(generation="Qwen9")["model_id"])
found["calculators"] = new in models.model_ids(memory_modelled=True)
found["inference_gib"] = memory.inference_memory(new, "bf16", 2048, 512).total_gib
found["lora_params"] = finetune.lora_trainable_params(new, 8)
found["decode_bound"] = tiers.decode_tokens_per_s_bound(new, "bf16", "a100-80gb")
found["laptop"] = sorted(set(local_runtime.laptop_options("rtx-3060-12gb")["model"]))
result = tiers.recommend(modality="text", gpu_id="rtx-4090", min_score=0)
found["wizard_scores"] = dict(zip(result.scores["model"], result.scores["score"]))
"""


def _assert_everywhere(found: dict) -> None:
    assert found["generations"][-1] == "Qwen9"  # released last (a synthetic 2099-12): the newest generation
    assert found["filtered"] == [NEW_ID]
    for table in ("coverage", "context_table", "size_ladder_ticks"):
        assert "Qwen9" in found[table], table
    assert NEW_ID in found["flagships"] and found["explorer_rows"] == [NEW_ID]
    assert found["calculators"] and found["inference_gib"] > 15 and found["lora_params"] > 0
    assert found["decode_bound"] > 0
    assert NEW_ID in found["laptop"]  # lesson 8's laptop options: a post-trained text checkpoint


@pytest.mark.slow  # two fresh processes, each running the tier wizard and the laptop options: about 15 s
def test_a_dense_checkpoint_is_two_rows_and_a_score_row_enters_the_quality_wizard(tmp_path):
    contributor = Contributor(data_copy(tmp_path))
    contributor.add("architectures.csv", ARCHITECTURE_ROW)
    contributor.add("catalog.csv", CATALOG_ROW)
    found = contributor.ask(DENSE_PROBE)
    _assert_everywhere(found)
    # the wizard judges by a published score: without one the checkpoint is not a candidate, even at min_score=0
    assert NEW_ID not in found["wizard_scores"]
    assert contributor.touched == checklist_files("Add a checkpoint") - {"data/benchmarks.csv"}

    contributor.add("benchmarks.csv", SCORE_ROW)
    found = contributor.ask(DENSE_PROBE)
    _assert_everywhere(found)
    assert found["wizard_scores"][NEW_ID] == SCORE_ROW["score"]
    assert contributor.touched == checklist_files("Add a checkpoint")


# --- a vision generation: 1 row; a checkpoint that uses it names it -------------------------------------------

VISION_PROBE = """
from qwen_lessons import prompts, vision
from qwen_lessons.lessons import family_map as lesson1, vision_token_budgets as lesson5
from qwen_lessons.widgets import vision_token_budgets as widgets5
found["keys"] = vision.generation_keys()
found["tokens_448"] = vision.image_tokens(448, 448, "qwen9-vl")
found["options"] = [key for _, key in widgets5.generation_options()]
found["tile_claim"] = lesson5.tile_claim().to_string()
found["budget"] = prompts.plan_prompt("hi", [(1080, 1920)], generation="qwen9-vl").image_tokens
try:
    found["lesson1"] = lesson1.image_tokens_square("Qwen/Qwen9-VL-7B-Instruct", 448)
    found["claim"] = lesson1.claim_image_tokens().evidence
except ValueError as error:
    found["lesson1"] = str(error)
"""


def test_a_vision_generation_is_one_row_and_a_checkpoint_names_it(tmp_path):
    contributor = Contributor(data_copy(tmp_path))
    contributor.add("vision_generations.csv", VISION_ROW)
    assert contributor.touched == checklist_files("Add a vision generation")
    contributor.add("catalog.csv", VL_CATALOG_ROW)
    found = contributor.ask(VISION_PROBE)
    assert found["keys"][-1] == "qwen9-vl" and found["options"][-1] == "qwen9-vl"
    assert found["tokens_448"] == 121  # 448 -> 440 (a multiple of 40): 11 x 11 merged patches
    assert "Qwen9-VL" in found["tile_claim"]
    assert found["budget"] > 0
    # lesson 1 counts with lesson 5's rules: patch 20 does not crash it (its own 448-px formula did)
    assert found["lesson1"] == 121 and "Qwen9-VL: 121 tokens" in found["claim"]


# --- an audio generation: 1 row ---------------------------------------------------------------------------------

AUDIO_PROBE = """
from qwen_lessons import audio
from qwen_lessons.widgets import audio_token_budgets as widgets6
found["keys"] = audio.generation_keys()
found["tokens_30s"] = audio.audio_tokens(480000, "qwen9-audio")
found["per_second"] = audio.tokens_per_second("qwen9-audio")
found["options"] = [key for _, key in widgets6.generation_options()]
found["report"] = widgets6.clip_report_html(30.0, "qwen9-audio")
found["reference"] = [audio.audio_tokens(480000, "qwen2-audio"), audio.tokens_per_second("qwen2-audio")]
"""


def test_an_audio_generation_is_one_row(tmp_path):
    contributor = Contributor(data_copy(tmp_path))
    contributor.add("audio_generations.csv", AUDIO_ROW)
    assert contributor.touched == checklist_files("Add an audio generation")
    found = contributor.ask(AUDIO_PROBE)
    assert found["keys"][-1] == "qwen9-audio" and found["options"][-1] == "qwen9-audio"
    assert [found["tokens_30s"], found["per_second"]] == found["reference"]  # Qwen2-Audio's rule, so its counts
    assert "Qwen9-Audio" in found["report"]


# --- a line (and its checkpoints): 1 row ------------------------------------------------------------------------

LINE_PROBE = """
from qwen_lessons import catalog
from qwen_lessons.lessons import family_map as lesson1
from qwen_lessons.widgets import family_map as explorer
found["lines"] = catalog.lines()
found["grid"] = list(lesson1.availability_grid().index)
found["by_line"] = list(lesson1.series_by_line().index)
found["styles"] = sorted(lesson1.line_styles())
found["explorer_rows"] = list(explorer.explorer_selection(line="world-model")["model_id"])
found["claim"] = lesson1.claim_four_lines().evidence
"""


def test_a_line_is_one_row(tmp_path):
    contributor = Contributor(data_copy(tmp_path))
    contributor.add("lines.csv", LINE_ROW)
    assert contributor.touched == checklist_files("Add a line, a training state or a licence") - {
        "data/catalog_values.csv"}
    contributor.add("catalog.csv", LINE_CATALOG_ROW)
    found = contributor.ask(LINE_PROBE)
    assert found["lines"][-1] == "world-model"
    for listed in ("grid", "by_line", "styles"):
        assert "world-model" in found[listed], listed
    assert found["explorer_rows"] == ["Qwen/Qwen9-World-7B"] and "world-model" in found["claim"]


def test_the_checklists_name_the_files_the_cases_touch():
    # runs in the fast loop: a checklist that names another file than its case touches fails here too
    assert checklist_files("Add a checkpoint") == {"data/catalog.csv", "data/architectures.csv",
                                                    "data/benchmarks.csv"}
    assert checklist_files("Add a vision generation") == {"data/vision_generations.csv"}
    assert checklist_files("Add an audio generation") == {"data/audio_generations.csv"}
    assert checklist_files("Add a line, a training state or a licence") == {"data/lines.csv",
                                                                             "data/catalog_values.csv"}
