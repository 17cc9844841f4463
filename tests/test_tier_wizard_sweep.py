"""Issue 25: the tier wizard's first line never disagrees with its own steps.

A sweep over modality x purpose x hardware (every kind of machine) x context x quality need checks the structured
answer of tiers.recommend: the headline names the option it chose and its numbers; "more memory" is never the advice
when no model meets the quality need; a machine is offered only formats whose kernels run on it
(data/wizard_formats.csv); an image or audio need is answered with image or audio checkpoints; the comparison's rows
are what their names say.
"""

from __future__ import annotations

import itertools

import pytest

from qwen_lessons import tiers
from qwen_lessons.catalog import context_limit, lines_taking, load_catalog
from qwen_lessons.data import read_table
from qwen_lessons.hardware import get_gpu, load_hardware

# one machine of every kind, the smallest and a large one where the kind has both
HARDWARE = ("rtx-4060-ti-8gb", "rtx-4090", "l4", "h200-sxm", "apple-m4-16gb", "apple-m4-max-128gb", "cpu-ddr5-32gb")
CONTEXTS = (2048, 32768, 131072)
SCORES = (0, 60, 75, 88)
CASES = list(itertools.product(tiers.MODALITIES, tiers.PURPOSES, HARDWARE, CONTEXTS, SCORES))


def test_the_sweep_covers_every_kind_of_machine_and_modality():
    assert {get_gpu(gpu_id)["kind"] for gpu_id in HARDWARE} == set(load_hardware()["kind"])
    assert {case[0] for case in CASES} == set(tiers.MODALITIES)


def kernels() -> dict[str, set[str]]:
    table = read_table("wizard_formats.csv")
    return {kind: set(rows["quantization"]) for kind, rows in table.groupby("kind")}


def modality_ids(modality: str) -> set[str] | None:
    """The checkpoints an image or audio answer may name (None: any text checkpoint)."""
    lines = lines_taking(modality)
    return None if not lines else set(load_catalog().query("line in @lines")["model_id"])


FORMAT_NAMES = ("bf16", "fp8", "gptq-int8", "gptq-int4", "awq", "q8_0", "q4_k_m", "mlx-8bit", "mlx-4bit")


def problems(case) -> list[str]:
    modality, purpose, gpu_id, context, need = case
    result = tiers.recommend(modality, purpose, gpu_id, 1, context, 1, need)
    kind, out = get_gpu(gpu_id)["kind"], []
    allowed = kernels()[kind]
    text = " ".join([result.headline, *result.steps])
    if result.outcome not in tiers.OUTCOMES:
        out.append(f"unknown outcome {result.outcome!r}")
    # formats: only those with kernels on this kind of machine, in the fit, the answer and any text
    if not set(result.fit["quantization"]) <= allowed or not set(result.formats) <= allowed:
        out.append(f"formats without kernels on {kind}: {sorted(set(result.fit['quantization']) - allowed)}")
    named = {name for name in FORMAT_NAMES if f" {name} " in f" {text} ".replace("(", " ").replace(",", " ")}
    if not named <= allowed:
        out.append(f"text names formats without kernels on {kind}: {sorted(named - allowed)}")
    # modality: an image or audio need is answered with image or audio checkpoints
    wanted = modality_ids(modality)
    offered = set(result.fit["model"]) | {option.model for option in result.comparison.values()}
    if wanted is not None and not offered <= wanted:
        out.append(f"{modality} offers {sorted(offered - wanted)}")
    passing = result.scores[result.scores["passes"]]
    if (passing["score"] < need).any() or (result.scores[~result.scores["passes"]]["score"] >= need).any():
        out.append("the scores table's 'passes' disagrees with the need")
    if f"{len(passing)} of {len(result.scores)} candidates pass" not in text:
        out.append("the quality step's count disagrees with the scores table")
    if result.outcome == "fits":
        choice = result.choice
        row = result.fit[(result.fit["model"] == choice.model) & (result.fit["quantization"] == choice.quantization)]
        if row.empty or not bool(row["fits"].iloc[0]) or choice.memory_gib > result.usable_gib:
            out.append("the headline's choice does not fit")
        if choice.score < need:
            out.append("the headline's choice does not meet the need")
        short = choice.model.removeprefix("Qwen/")
        for piece in (short, choice.quantization, choice.engine, f"{choice.memory_gib:.1f} of", f"{choice.tokens_per_s_bound:,.0f} tokens/s"):
            if piece not in result.headline:
                out.append(f"the headline lacks {piece!r}")
        fitting = result.fit[result.fit["fits"].astype(bool)]
        comparison = result.comparison
        if list(comparison) != list(tiers.CHOICES):
            out.append(f"comparison rows {list(comparison)}")
        elif (comparison["best quality that fits"].score != fitting["score"].max()
              or comparison["least memory"].memory_gib != fitting["memory_gib"].min()
              or comparison["fastest"].tokens_per_s_bound != fitting["tokens_per_s_bound"].max()):
            out.append("a comparison row is not what its name says")
    else:
        if result.choice is not None or result.comparison:
            out.append("no answer, yet a choice or a comparison")
        said_memory = any(word in result.headline for word in ("use hardware", "add memory", "GiB"))
        if result.outcome == "no model passes":
            if len(passing) or not result.fit.empty:
                out.append("'no model passes' while some pass")
            if said_memory and "would not help" not in result.headline:
                out.append("advises memory while no model meets the need")
            judged = result.scores["score"].dropna()
            if len(judged) and f"lower the need to {int(judged.max())}" not in result.headline:
                out.append("the suggested need is not the best score available")
        elif result.outcome == "context too long":
            limits = [context_limit(model) for model in passing["model"]]
            if not all(limit is not None and limit < context for limit in limits):
                out.append("'context too long' while a passing model takes the context")
            if f"shorten the context to {max(limits):,}" not in result.headline:
                out.append("the context advice is not the longest documented context")
        elif result.outcome == "too little memory":
            if passing.empty or result.fit["fits"].any():
                out.append("'too little memory' while none passes or one fits")
            least = result.fit["memory_gib"].min()
            if f"at {least:.1f} GiB" not in result.headline or least <= result.usable_gib:
                out.append("the memory advice is not the least a passing model takes")
    return out


@pytest.mark.slow  # 672 wizard answers, about 10 s of CPU: out of the fast loop, in the full suite
@pytest.mark.parametrize("modality", tiers.MODALITIES)
def test_the_first_line_and_the_steps_agree(modality):
    failures = {}
    for case in CASES:
        if case[0] == modality:
            found = problems(case)
            if found:
                failures[case[1:]] = found
    assert not failures, "\n".join(f"{case}: {found}" for case, found in list(failures.items())[:15])


def test_the_advice_when_nothing_passes_works():
    # following the headline's one change gives an answer
    result = tiers.recommend("text", tiers.PURPOSES[1], "a100-80gb", 1, 8192, 1, 88)
    assert result.outcome == "no model passes"
    lowered = int(result.headline.split("lower the need to ")[1].split(" ")[0])
    assert tiers.recommend("text", tiers.PURPOSES[1], "a100-80gb", 1, 8192, 1, lowered).outcome == "fits"


@pytest.mark.parametrize(("case", "outcome"), [
    (("text", tiers.PURPOSES[0], "rtx-4090", 2048, 60), "fits"),
    (("text", tiers.PURPOSES[1], "rtx-4060-ti-8gb", 2048, 88), "no model passes"),
    (("code", tiers.PURPOSES[0], "cpu-ddr5-32gb", 131072, 60), "context too long"),
    (("text", tiers.PURPOSES[0], "rtx-4060-ti-8gb", 131072, 75), "too little memory"),
])
def test_the_sweep_reaches_every_outcome(case, outcome):
    # the grid above holds these cases, so each kind of answer is checked there, not only the easy one
    assert case in CASES
    modality, purpose, gpu_id, context, need = case
    assert tiers.recommend(modality, purpose, gpu_id, 1, context, 1, need).outcome == outcome
    assert not problems(case)
