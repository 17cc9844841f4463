"""Lesson 7 (07_choosing_a_tier): choosing a tier. Speed bounds from bandwidth and compute, quality by size, and the tier wizard.

Memory comes from qwen_lessons.memory, hardware from qwen_lessons.hardware, the speed bounds from qwen_lessons.speed
(re-exported here), published scores from data/benchmarks.csv, the formats each machine runs from
data/wizard_formats.csv. Every figure the lesson shows is computed here from those tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

import numpy as np
import pandas as pd

from qwen_lessons import memory, models
from qwen_lessons.catalog import GENERATIONS, context_limit, load_catalog
from qwen_lessons.data import read_table
from qwen_lessons.hardware import get_gpu, hardware_ids, memory_gib
from qwen_lessons.speed import (  # noqa: F401  (the lesson reads the speed bounds from tiers)
    achieved_fraction_summary,
    decode_bytes_per_token,
    decode_tokens_per_s_bound,
    generation_tokens_per_s_bound,
    prefill_flops,
    prefill_seconds_bound,
    published_speed_comparison,
)
from qwen_lessons.validation import checked, choices, instance, integer, key

BENCHMARKS_FILE = "benchmarks.csv"
DEFAULT_HEADROOM = 0.10  # course choice: keep 10% free for the CUDA context, fragmentation and other processes
WIZARD_FORMATS_FILE = "wizard_formats.csv"  # which formats the wizard tries on each kind of machine, and by which engine
MODALITIES = ("text", "code", "image", "audio")
PURPOSES = ("deploy (instruct)", "fine-tune (base)")
REPORTS = ("Qwen2.5 blog", "Qwen3 report")  # the two sources of data/benchmarks.csv, as load_benchmarks labels them


# ---------------------------------------------------------------------------------------------------------------
# Quality by size
# ---------------------------------------------------------------------------------------------------------------



@lru_cache(maxsize=1)
def _benchmarks() -> pd.DataFrame:
    table = read_table(BENCHMARKS_FILE)
    table["score_value"] = pd.to_numeric(table["score"], errors="coerce")
    table["group"] = table["variant"].map(variant_group)
    table["report"] = np.where(table["source"].str.contains("Qwen3 Technical Report"), REPORTS[1], REPORTS[0])
    table["arch_model_id"] = [arch_model_id(m, g) for m, g in zip(table["model"], table["group"], strict=True)]
    counts = [_counts_or_nan(arch_id) for arch_id in table["arch_model_id"]]
    table["params_b"] = [total for total, _ in counts]
    table["active_params_b"] = [active for _, active in counts]
    return table


@checked
def load_benchmarks() -> pd.DataFrame:
    """Published scores (data/benchmarks.csv) with numeric score, variant group, report and size columns added."""
    return _benchmarks().copy()


GROUPS = ("base", "instruct", "thinking", "non-thinking", "mode not stated")
# A post-trained checkpoint's score in the mode it runs in by default: an Instruct model's own; a hybrid (Qwen3) or
# a Qwen3.5/3.6 model thinks unless told not to; Qwen2.5-Instruct appears as a baseline in Qwen3's tables.
DEFAULT_MODE_ORDER = ("instruct", "post-trained (thinking mode)", "post-trained (mode not stated)",
                      "instruct (baseline in thinking table)", "instruct (baseline in non-thinking table)")


@checked
def variant_group(variant: str) -> str:
    """Collapse the published variant labels to base / instruct / thinking / non-thinking."""
    text = str(variant)
    if text == "base":
        return "base"
    if not text.startswith(("instruct", "post-trained")):  # a label the published tables do not use
        raise ValueError(f"variant must be 'base', 'instruct ...' or 'post-trained (... mode)'; got {text[:60]!r}")
    if "mode not stated" in text:
        return "mode not stated"
    if "non-thinking" in text:
        return "non-thinking"
    if "thinking" in text and text.startswith("post-trained"):
        return "thinking"
    return "instruct"


@checked(model=key)
def arch_model_id(model: str, group: str) -> str | None:
    """The architecture row with this benchmark row's dimensions (None for API-only or unlisted models).

    A post-trained score may be reported under the base name ('Qwen2.5-7B', instruct); its '-Instruct' row is
    tried first, then the name itself."""
    candidates = [f"{model}-Instruct", model] if group == "instruct" else [model]
    for candidate in candidates:
        try:
            return models.resolve(candidate).model_id
        except ValueError:
            continue
    return None


def _counts_or_nan(arch_id: str | None) -> tuple[float, float]:
    """(total, active) in billions, or NaN when the benchmark row has no architecture the memory model covers."""
    if not isinstance(arch_id, str) or not models.resolve(arch_id).memory_modelled:
        return np.nan, np.nan
    total, active = models.count_parameters(arch_id)
    return total / 1e9, active / 1e9


def _check_benchmark(benchmark: str) -> None:
    """Refuse a benchmark name the published tables do not use (a typo must not read as "no score")."""
    known = sorted(set(_benchmarks()["benchmark"]))
    if benchmark not in known:
        raise ValueError(f"benchmark {benchmark!r} is not in {BENCHMARKS_FILE}; it must be {choices(known, 'benchmarks')}")


@checked
def quality_by_size(benchmark: str, group: str = "base", report: str | None = None) -> pd.DataFrame:
    """Scores of one benchmark vs total parameters for one variant group (base and instruct never mixed)."""
    table = _benchmarks()
    _check_benchmark(benchmark)
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    rows = table[(table["benchmark"] == benchmark) & (table["group"] == group)]
    rows = rows[rows["params_b"].notna() & rows["score_value"].notna()]
    if report is not None:
        if report not in REPORTS:
            raise ValueError(f"report must be one of {REPORTS} or None, got {report!r}")
        rows = rows[rows["report"] == report]
    # the general line only ("Qwen2.5-7B"): a Coder or Math model of the same size is another curve
    rows = rows[rows["model"].str.match(r"^Qwen[0-9.]+-[0-9]")]
    rows = rows.assign(generation=rows["model"].str.extract(r"^(Qwen[0-9.]+)")[0])
    columns = ["model", "generation", "params_b", "active_params_b", "score_value", "shots_or_setting", "report"]
    return rows[columns].sort_values(["report", "generation", "params_b"]).reset_index(drop=True)


@checked
def gains_per_doubling(benchmark: str, group: str = "base", generation: str = "Qwen2.5", report: str | None = None):
    """Points gained per doubling of parameters between consecutive sizes (diminishing returns show as a falling column)."""
    rows = quality_by_size(benchmark, group, report)
    if generation not in set(rows["generation"]):
        raise ValueError(f"generation must be one of {sorted(set(rows['generation']))} for {benchmark} ({group}), "
                         f"got {generation!r}")
    rows = rows[rows["generation"] == generation]
    if report is None and rows["report"].nunique() > 1:
        rows = rows[rows["report"] == rows["report"].iloc[0]]
    rows = rows.sort_values("params_b").drop_duplicates("params_b")
    sizes, scores = rows["params_b"].to_numpy(), rows["score_value"].to_numpy()
    out = pd.DataFrame(
        {
            "from_model": rows["model"].to_numpy()[:-1],
            "to_model": rows["model"].to_numpy()[1:],
            "size_ratio": sizes[1:] / sizes[:-1],
            "points_gained": scores[1:] - scores[:-1],
        }
    )
    out["points_per_doubling"] = out["points_gained"] / np.log2(out["size_ratio"])
    return out


@checked
@cache
def base_score(arch_id: str, benchmark: str) -> float | None:
    """Published base-model score (Qwen3 report, same settings for both generations) for a checkpoint's size."""
    table = _benchmarks()
    _check_benchmark(benchmark)
    base_arch = arch_id.replace("-Instruct", "")
    rows = table[(table["benchmark"] == benchmark) & (table["group"] == "base") & (table["report"] == "Qwen3 report")]
    rows = rows[rows["model"].map(lambda m: f"Qwen/{m}") == base_arch]
    return None if rows.empty else float(rows["score_value"].iloc[0])


@checked
def post_trained_score(model_id: str, benchmark: str) -> float | None:
    """A post-trained checkpoint's published score in its default mode (None when no source gives one)."""
    _check_benchmark(benchmark)
    found = _post_trained_row(model_id, benchmark)
    return None if found is None else found[0]


def _post_trained_row(model_id: str, benchmark: str) -> tuple[float, str, str] | None:
    """(score, variant as published, setting) of the first default-mode row for this checkpoint."""
    index = _post_trained_index(benchmark)
    name = model_id.removeprefix("Qwen/")
    # Qwen2.5-7B-Instruct is reported as 'Qwen2.5-7B', instruct
    for variant in DEFAULT_MODE_ORDER:
        for candidate in (name, name.removesuffix("-Instruct")):
            if (candidate, variant) in index:
                return index[(candidate, variant)]
    return None


@lru_cache(maxsize=16)
def _post_trained_index(benchmark: str) -> dict:
    """(model, variant) -> (score, variant, setting) of the first post-trained row, read once per benchmark."""
    table = _benchmarks()
    rows = table[(table["benchmark"] == benchmark) & (table["group"] != "base") & table["score_value"].notna()]
    index: dict = {}
    for row in rows.itertuples(index=False):
        index.setdefault((row.model, row.variant), (float(row.score_value), row.variant, str(row.shots_or_setting)))
    return index


# ---------------------------------------------------------------------------------------------------------------
# Tier wizard: pure logic
# ---------------------------------------------------------------------------------------------------------------

QUALITY_BENCHMARK = {"text": "MMLU", "code": "EvalPlus", "image": "MMLU", "audio": "MMLU"}
# Deploying a text model: the post-trained checkpoints' own published score, in their default mode. Base-model MMLU
# (Qwen3 report) judges fine-tuning starts; it exists for no Qwen3-2507, Qwen3.5 or Qwen3.6 checkpoint.
DEPLOY_TEXT_BENCHMARK = "MMLU-Redux"
# The catalog lines whose checkpoints take each non-text input (an omni model takes both)
MODALITY_LINES = {"image": ("vision-language", "omni"), "audio": ("audio", "omni")}
# What the comparison shows, in this order
CHOICES = ("best quality that fits", "least memory", "fastest")
OUTCOMES = ("fits", "no model passes", "context too long", "too little memory")


def _quality(modality: str, purpose: str) -> tuple[str, bool]:
    """(benchmark, whether post-trained scores judge) for a modality and purpose."""
    if modality == "text" and purpose == PURPOSES[0]:
        return DEPLOY_TEXT_BENCHMARK, True
    return QUALITY_BENCHMARK[modality], False


@checked
def quality_label(modality: str = "text", purpose: str = PURPOSES[0]) -> str:
    """The score that judges the quality need, with its benchmark and mode ('MMLU-Redux, post-trained, default mode')."""
    _validate_choice(modality, purpose)
    benchmark, post_trained = _quality(modality, purpose)
    if post_trained:
        return f"{benchmark}, post-trained, default mode"
    if modality in MODALITY_LINES:
        return f"{benchmark}, base, of the text model with the same decoder"
    return f"{benchmark}, base"


@checked
def slider_label(modality: str = "text", purpose: str = PURPOSES[0]) -> str:
    """The quality slider's short name: the benchmark and whether base or post-trained scores judge."""
    _validate_choice(modality, purpose)
    benchmark, post_trained = _quality(modality, purpose)
    return f"Min {benchmark} ({'post-trained' if post_trained else 'base'})"


def _score(arch_id: str, shown: str, benchmark: str, post_trained: bool) -> float | None:
    return post_trained_score(shown, benchmark) if post_trained else base_score(arch_id, benchmark)


@lru_cache(maxsize=1)
def _wizard_formats() -> dict[str, tuple[tuple[str, str], ...]]:
    table = read_table(WIZARD_FORMATS_FILE)
    out: dict[str, list] = {}
    for row in table.itertuples(index=False):
        out.setdefault(row.kind, []).append((memory.normalize_quantization(row.quantization), row.engine))
    return {kind: tuple(rows) for kind, rows in out.items()}


@checked
def wizard_formats(gpu_id: str = "rtx-4090") -> tuple[str, ...]:
    """The formats the wizard tries on this machine, highest precision first: those whose kernels run on its kind of
    hardware (data/wizard_formats.csv), so a CPU or a Mac is never offered a GPU-only format."""
    return tuple(quant for quant, _ in _wizard_formats().get(get_gpu(gpu_id)["kind"], ()))


def _engine(kind: str, quant: str) -> str:
    return dict(_wizard_formats()[kind])[quant]


@dataclass(frozen=True)
class WizardOption:
    """One model in one format on the chosen hardware: what it takes and what it gives."""

    model: str
    quantization: str
    engine: str
    memory_gib: float
    tokens_per_s_bound: float
    score: float


@dataclass
class WizardResult:
    """What the wizard decided and why.

    headline: the whole answer in one sentence; outcome: one of OUTCOMES; choice: the option the headline names
    (None unless outcome is 'fits'); comparison: CHOICES -> option; steps: short reasoning steps; scores: the
    candidates' scores (quality_label says which); fit: every passing model x format tried."""

    headline: str = ""
    outcome: str = ""
    choice: WizardOption | None = None
    comparison: dict[str, WizardOption] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit: pd.DataFrame = field(default_factory=pd.DataFrame)
    quality: str = ""
    formats: tuple[str, ...] = ()
    usable_gib: float = 0.0

    @property
    def recommended(self) -> str | None:
        """'model (format)' of the headline's choice, None when nothing fits."""
        return None if self.choice is None else f"{self.choice.model} ({self.choice.quantization})"

    @property
    def recommendation(self) -> str:
        """The headline (the name earlier lessons and scripts used)."""
        return self.headline


@cache
def _candidates(purpose: str, benchmark: str, post_trained: bool = False) -> tuple[tuple[str, str], ...]:
    """(shown checkpoint id, architecture id) for every general-purpose checkpoint of the catalog in the purpose's
    training states that the memory model covers and that has a published score to judge it by; smallest first.
    Deploying considers every post-trained state (instruct, hybrid, thinking, and Qwen3.5/3.6, whose ids carry no
    suffix); the natively multimodal Qwen3.5/3.6 count as general-purpose text models too."""
    catalog = load_catalog()
    variant = catalog["variant"].fillna("")
    if purpose == PURPOSES[1]:
        rows = catalog[(catalog["line"] == "text") & (variant == "base")]
    else:
        lines = ("text", "vision-language") if post_trained else ("text",)
        wanted = variant != "base" if post_trained else variant.isin(["instruct", "hybrid"])
        rows = catalog[catalog["line"].isin(lines) & wanted]
    out = []
    for model_id in rows["model_id"]:
        try:
            ckpt = models.resolve(model_id, memory_modelled=True)
        except ValueError:
            continue
        if _score(ckpt.model_id, model_id, benchmark, post_trained) is not None:
            out.append((model_id, ckpt.model_id))
    return tuple(sorted(out, key=lambda pair: models.count_parameters(pair[1])[0]))


@cache
def _text_decoder_twins() -> dict[tuple[str, tuple[int, int]], str]:
    """(generation, (total, active) parameters) -> the general base text checkpoint of that generation with exactly
    that decoder size and a Qwen3-report MMLU (its architecture id)."""
    catalog = load_catalog()
    rows = catalog[(catalog["line"] == "text") & (catalog["variant"].fillna("") == "base")]
    twins: dict[tuple[str, tuple[int, int]], str] = {}
    for model_id, generation in zip(rows["model_id"], rows["generation"], strict=True):
        try:
            arch = models.resolve(model_id, memory_modelled=True).model_id
        except ValueError:
            continue
        if base_score(arch, "MMLU") is not None:
            twins.setdefault((generation, models.count_parameters(arch)), arch)
    return twins


@cache
def _modality_checkpoints(modality: str, purpose: str) -> tuple[tuple[str, str, str | None], ...]:
    """(shown id, architecture id, text twin or None) for the image or audio checkpoints the memory model covers,
    smallest first. The twin is the general text model whose decoder has exactly the same parameter count: its base
    MMLU is the only published score the course can judge these checkpoints by. Fine-tuning starts from a base
    checkpoint when one is modelled, else from the post-trained ones (the only releases)."""
    catalog = load_catalog()
    rows = catalog[catalog["line"].isin(MODALITY_LINES[modality])]
    modelled = []
    for model_id, variant, generation in zip(rows["model_id"], rows["variant"].fillna(""), rows["generation"],
                                             strict=True):
        try:
            arch = models.resolve(model_id, memory_modelled=True).model_id
        except ValueError:
            continue
        modelled.append((model_id, variant == "base", arch, (generation, models.count_parameters(arch))))
    any_base = any(is_base for _, is_base, _, _ in modelled)
    wanted = (lambda is_base: is_base or not any_base) if purpose == PURPOSES[1] else (lambda is_base: not is_base)
    out = [(model_id, arch, _text_decoder_twins().get(shape))
           for model_id, is_base, arch, shape in modelled if wanted(is_base)]
    return tuple(sorted(out, key=lambda row: models.count_parameters(row[1])[0]))


@cache
def _candidate_generations(purpose: str, benchmark: str, post_trained: bool = False) -> tuple[str, ...]:
    """The catalog generations the wizard's candidates come from, oldest first (data decides, not code)."""
    catalog = load_catalog().set_index("model_id")
    present = {catalog.at[shown, "generation"] for shown, _ in _candidates(purpose, benchmark, post_trained)}
    return tuple(generation for generation in GENERATIONS if generation in present)


@cache
def _catalog_ids(lines: tuple[str, ...], generations: tuple[str, ...]) -> tuple[str, ...]:
    catalog = load_catalog()
    rows = catalog[catalog["line"].isin(lines) & catalog["generation"].isin(generations)]
    return tuple(rows["model_id"])


def _same_shape_as_general(coder_ids: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split code checkpoints into those whose config gives the same count as the general model of the same size
    ('Qwen2.5-Coder-7B-Instruct' vs 'Qwen2.5-7B') and those the course cannot compare (no config row)."""
    same, unknown = [], []
    for coder in coder_ids:
        general = coder.replace("-Coder", "").replace("-Instruct", "")
        try:
            equal = models.count_parameters(coder) == models.count_parameters(general)
        except ValueError:
            equal = False
        (same if equal else unknown).append(coder)
    return same, unknown


def _validate_choice(modality, purpose):
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    if purpose not in PURPOSES:
        raise ValueError(f"purpose must be one of {PURPOSES}, got {purpose!r}")


def _validate_wizard(modality, purpose, gpu_id, num_gpus, context_tokens, batch, min_score, headroom):
    _validate_choice(modality, purpose)
    if gpu_id not in hardware_ids():
        raise ValueError(f"gpu_id {gpu_id!r} is unknown; it must be {choices(hardware_ids(), 'ids', 'hardware.hardware_ids()')}")
    for name, value, low in (("num_gpus", num_gpus, 1), ("context_tokens", context_tokens, 2), ("batch", batch, 1)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    if not 0 <= min_score <= 100:
        raise ValueError(f"min_score must be between 0 and 100, got {min_score!r}")
    if not 0 <= headroom < 1:
        raise ValueError(f"headroom must be in [0, 1), got {headroom!r}")


@checked
def split_context(context_tokens: int) -> tuple[int, int]:
    """Course convention for a context budget: up to 1,024 tokens (at most half) reserved for the answer."""
    output = min(1024, context_tokens // 2)
    return context_tokens - output, output


def _short(model_id: str) -> str:
    return model_id.removeprefix("Qwen/")


def _scored(modality: str, purpose: str, benchmark: str, post_trained: bool):
    """(shown, arch, score or None, judged by) for every candidate of a modality, smallest first."""
    if modality in MODALITY_LINES:
        return [(shown, arch, None if twin is None else base_score(twin, benchmark),
                 "no text model with its decoder" if twin is None else f"{_short(twin)} base")
                for shown, arch, twin in _modality_checkpoints(modality, purpose)]
    return [(shown, arch, _score(arch, shown, benchmark, post_trained), "its own score")
            for shown, arch in _candidates(purpose, benchmark, post_trained)]


@checked(num_gpus=integer(1, 16, "GPUs, a layer split of the smallest candidate's 24+ layers"))
def recommend(
    modality: str = "text",
    purpose: str = PURPOSES[0],
    gpu_id: str = "rtx-4090",
    num_gpus: int = 1,
    context_tokens: int = 8192,
    batch: int = 1,
    min_score: float = 70.0,
    headroom: float = DEFAULT_HEADROOM,
) -> WizardResult:
    """Walk modality -> purpose -> hardware -> context/batch -> quality -> fit; answer in one sentence (headline),
    compare three options (best quality that fits, least memory, fastest) and keep every step of the reasoning."""
    _validate_wizard(modality, purpose, gpu_id, num_gpus, context_tokens, batch, min_score, headroom)
    num_gpus, context_tokens, batch = int(num_gpus), int(context_tokens), int(batch)
    benchmark, post_trained = _quality(modality, purpose)
    label = quality_label(modality, purpose)
    gpu = get_gpu(gpu_id)
    kind = gpu["kind"]
    formats = wizard_formats(gpu_id)
    capacity = memory_gib(gpu_id) * num_gpus
    usable = capacity * (1 - headroom)
    multi = f"{num_gpus} x " if num_gpus > 1 else ""
    machine = f"{multi}{gpu['name']}"
    result = WizardResult(quality=label, formats=formats, usable_gib=usable)
    steps = result.steps

    # 1. modality
    scored = _scored(modality, purpose, benchmark, post_trained)
    if modality == "text":
        generations = _candidate_generations(purpose, benchmark, post_trained)
        steps.append(f"Modality text: {len(scored)} general-purpose checkpoints ({', '.join(generations)}) with a "
                     "published score.")
    elif modality == "code":
        generations = _candidate_generations(purpose, benchmark, post_trained)
        coders = [i for i in _catalog_ids(("code",), generations) if "Instruct" in i]
        same, unknown = _same_shape_as_general(tuple(coders))
        steps.append(
            "Modality code: the general checkpoints are ranked by their code score; "
            + (f"the code-specialised {', '.join(_short(i) for i in same)} have exactly the decoder of the general "
               "model of the same size, so the memory shown holds for them too" if same else
               "no code-specialised checkpoint has a config row yet")
            + (f"; {', '.join(_short(i) for i in unknown)} cannot be compared here." if unknown else ".")
        )
    else:
        unjudged = sum(score is None for _, _, score, _ in scored)
        steps.append(
            f"Modality {modality}: {len(scored)} {modality} checkpoints the course models (in the scores table). "
            f"Memory counts the language decoder only (the {'vision' if modality == 'image' else 'audio'} encoder "
            "and its input tokens add more)."
            + (f" {unjudged} have no text model of their generation with the same decoder, so no published score "
               "judges them and they cannot meet a quality need." if unjudged else "")
        )

    # 2. purpose
    if purpose == PURPOSES[1]:
        steps.append(f"Purpose fine-tune: start from base checkpoints where they are released, judged by {label}; "
                     "the memory shown is to serve the result (lesson 4 sizes the training).")
    else:
        steps.append(f"Purpose deploy: post-trained checkpoints, judged by {label}.")

    # 3. hardware and formats
    engines = ", ".join(f"{quant} ({_engine(kind, quant)})" for quant in formats)
    shared = " This memory is shared with the operating system and other programs." if kind in ("apple", "cpu") else ""
    steps.append(
        f"Hardware {machine}: {capacity:.1f} GiB, {headroom:.0%} kept free leaves {usable:.1f} GiB; "
        f"{gpu['memory_bandwidth_gbs']:g} GB/s{' per device' if num_gpus > 1 else ''} bounds decode speed.{shared} "
        f"Formats with kernels here, tried from highest precision: {engines}."
    )

    # 4. context and batch
    input_tokens, output_tokens = split_context(context_tokens)
    steps.append(f"Context {context_tokens:,} tokens x batch {batch}: {input_tokens:,} prompt + {output_tokens:,} answer "
                 "tokens per sequence; the KV cache grows with tokens x batch.")

    # 5. quality
    result.scores = pd.DataFrame(
        [{"model": shown, "judged by": judge, "score": score, "passes": score is not None and score >= min_score}
         for shown, _, score, judge in scored],
        columns=["model", "judged by", "score", "passes"],
    )
    passing = [(s, a, q) for s, a, q, _ in scored if q is not None and q >= min_score]
    steps.append(f"Quality need: {label} >= {min_score:g}. {len(passing)} of {len(scored)} candidates pass "
                 "(scores in the table).")

    # 6. fit
    rows = []
    for shown, arch_id, score in passing:
        arch = models.resolve(arch_id, memory_modelled=True)  # once per candidate, for every format tried
        limit = context_limit(shown)  # the documented context, not the config's larger position limit
        for quant in formats:
            if limit is not None and context_tokens > limit:
                rows.append({"model": shown, "quantization": quant, "engine": _engine(kind, quant), "fits": False,
                             "memory_gib": np.nan, "tokens_per_s_bound": np.nan, "score": score,
                             "why": f"context > {limit:,}", "limit": limit})
                continue
            est = memory.inference_memory(arch, quant, input_tokens, output_tokens, batch, num_gpus=num_gpus)
            speed = decode_tokens_per_s_bound(arch, quant, gpu_id, context_tokens, batch)
            rows.append({"model": shown, "quantization": quant, "engine": _engine(kind, quant),
                         "fits": bool(est.total_gib <= usable), "memory_gib": est.total_gib,
                         "tokens_per_s_bound": speed, "score": score, "why": f"peak in {est.peak_phase}",
                         "limit": limit})
    columns = ["model", "quantization", "engine", "fits", "memory_gib", "tokens_per_s_bound", "score", "why"]
    table = pd.DataFrame(rows, columns=[*columns, "limit"])
    result.fit = table[columns]
    fitting = table[table["fits"].astype(bool)]  # an empty object column would select columns, not rows
    steps.append(f"Fit: {fitting['model'].nunique()} of {len(passing)} passing models fit in {usable:.1f} GiB in at "
                 "least one format. Check that the format is published for that checkpoint." if passing else
                 "Fit: no candidate passes the quality need, so none is sized.")

    # the answer: the smallest passing model that fits, at the highest precision that fits
    need = f"{benchmark} ({label.split(', ', 1)[1]}) >= {min_score:g}"
    if not passing:
        judged = [(s, q) for s, _, q, _ in scored if q is not None]
        best_model, best_score = max(judged, key=lambda pair: pair[1]) if judged else (None, None)
        result.outcome = OUTCOMES[1]
        result.headline = (
            f"No {modality} checkpoint meets {need} (the best, {_short(best_model)}, scores {best_score:.1f}): lower "
            f"the need to {int(best_score)} or less; more memory would not help." if judged else
            f"No {modality} checkpoint has a published score to meet {need}: set the need to 0 or choose another "
            "modality."
        )
    elif fitting.empty:
        measured = table[table["memory_gib"].notna()]
        if measured.empty:
            longest = int(table["limit"].max())
            result.outcome = OUTCOMES[2]
            result.headline = (f"No checkpoint meeting {need} is documented for {context_tokens:,} tokens of context: "
                               f"shorten the context to {longest:,} tokens or less.")
        else:
            least = measured.loc[measured["memory_gib"].idxmin()]
            result.outcome = OUTCOMES[3]
            result.headline = (
                f"Nothing meeting {need} fits in the {usable:.1f} GiB of {machine}: the least it takes is "
                f"{_short(least['model'])} in {least['quantization']} at {least['memory_gib']:.1f} GiB, so use "
                f"hardware with at least {least['memory_gib'] / (1 - headroom):.1f} GiB.")
    else:
        def option(row) -> WizardOption:
            return WizardOption(row["model"], row["quantization"], row["engine"], float(row["memory_gib"]),
                                float(row["tokens_per_s_bound"]), float(row["score"]))

        result.outcome = OUTCOMES[0]
        result.choice = option(fitting.iloc[0])
        # idxmax/idxmin: the first (smallest model, highest precision) of equal rows (Qwen3.5 and Qwen3.6 share a
        # config, so their bounds tie)
        result.comparison = {
            CHOICES[0]: option(fitting.loc[fitting["score"].idxmax()]),
            CHOICES[1]: option(fitting.loc[fitting["memory_gib"].idxmin()]),
            # smallest by total parameters is not always fastest: a MoE reads only its routed experts per token
            CHOICES[2]: option(fitting.loc[fitting["tokens_per_s_bound"].idxmax()]),
        }
        pick = result.choice
        result.headline = (
            f"{'Run' if purpose == PURPOSES[0] else 'Fine-tune from'} {_short(pick.model)}"
            f"{'' if purpose == PURPOSES[0] else ' and serve it'} in {pick.quantization} ({pick.engine}) on {machine}: "
            f"{pick.memory_gib:.1f} of "
            f"{usable:.1f} GiB, decode bound {pick.tokens_per_s_bound:,.0f} tokens/s at batch {batch}; the smallest "
            f"model whose {benchmark} ({label.split(', ', 1)[1]}) reaches {min_score:g} (it scores {pick.score:.1f}), "
            "at the highest precision that fits."
        )
    return result


@checked(result=instance(WizardResult, what="a WizardResult (from tiers.recommend)"))
def comparison_table(result: WizardResult) -> pd.DataFrame:
    """The comparison as a table: one row per choice (best quality that fits, least memory, fastest)."""
    rows = [{"choice": choice, "model": option.model, "format": option.quantization, "engine": option.engine,
             "memory (GiB)": option.memory_gib, "decode bound (tokens/s)": option.tokens_per_s_bound,
             "score": option.score} for choice, option in result.comparison.items()]
    return pd.DataFrame(rows, columns=["choice", "model", "format", "engine", "memory (GiB)",
                                       "decode bound (tokens/s)", "score"])

