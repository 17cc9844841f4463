"""Lesson 7 (07_choosing_a_tier): choosing a tier. Speed bounds from bandwidth and compute, quality by size, and the tier wizard.

Memory comes from qwen_lessons.memory, hardware from qwen_lessons.hardware, the speed bounds from qwen_lessons.speed
and quality by size from qwen_lessons.scores (both re-exported here), the checkpoints from the resolved catalog
(qwen_lessons.catalog_view), the formats each machine runs from data/wizard_formats.csv. Every figure the lesson
shows is computed from those tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from qwen_lessons import memory
from qwen_lessons.catalog import general_chat_lines, generations, lines_taking
from qwen_lessons.catalog_view import CatalogEntry, CatalogView, catalog_view
from qwen_lessons.data import built_from, read_table
from qwen_lessons.hardware import DEFAULT_HEADROOM, machine_row, machine_rule  # an id, or a Machine typed in
from qwen_lessons.language import translate as _
from qwen_lessons.scores import (  # noqa: F401  (lesson 7 and its tests read quality by size from tiers)
    BENCHMARKS_FILE,
    DEFAULT_MODE_ORDER,
    GROUPS,
    REPORTS,
    arch_model_id,
    base_score,
    gains_per_doubling,
    load_benchmarks,
    post_trained_score,
    quality_by_size,
    variant_group,
)
from qwen_lessons.speed import (  # noqa: F401  (the lesson reads the speed bounds from tiers)
    achieved_fraction_summary,
    decode_bytes_per_token,
    decode_tokens_per_s_bound,
    expected_decode_tokens_per_s,
    generation_tokens_per_s_bound,
    prefill_flops,
    prefill_seconds_bound,
    published_speed_comparison,
)
from qwen_lessons.units import GB, GIB
from qwen_lessons.validation import checked, instance, integer, one_of

WIZARD_FORMATS_FILE = "wizard_formats.csv"  # which formats the wizard tries on each kind of machine, and by which engine
MODALITIES = ("text", "code", "image", "audio")
PURPOSES = ("deploy (instruct)", "fine-tune (base)")
# The wizard's own rules (the rest are validation.RULES by parameter name): a context holds a prompt and an answer
CHOICE_RULES = {"modality": one_of(*MODALITIES), "purpose": one_of(*PURPOSES)}
WIZARD_CONTEXT = integer(2, 10_000_000, "tokens: at least one of prompt and one of answer")
WIZARD_GPUS = integer(1, 16, "GPUs, a layer split of the smallest candidate's 24+ layers")


# ---------------------------------------------------------------------------------------------------------------
# Tier wizard: pure logic
# ---------------------------------------------------------------------------------------------------------------

QUALITY_BENCHMARK = {"text": "MMLU", "code": "EvalPlus", "image": "MMLU", "audio": "MMLU"}
# Deploying a text model: the post-trained checkpoints' own published score, in their default mode. Base-model MMLU
# (Qwen3 report) judges fine-tuning starts; it exists for no Qwen3-2507, Qwen3.5 or Qwen3.6 checkpoint.
DEPLOY_TEXT_BENCHMARK = "MMLU-Redux"
# What the comparison shows, in this order
CHOICES = ("best quality that fits", "least memory", "fastest")
OUTCOMES = ("fits", "no model passes", "context too long", "too little memory")


def _quality(modality: str, purpose: str) -> tuple[str, bool]:
    """(benchmark, whether post-trained scores judge) for a modality and purpose."""
    if modality == "text" and purpose == PURPOSES[0]:
        return DEPLOY_TEXT_BENCHMARK, True
    return QUALITY_BENCHMARK[modality], False


@checked(**CHOICE_RULES)
def quality_label(modality: str = "text", purpose: str = PURPOSES[0]) -> str:
    """The score that judges the quality need, with its benchmark and mode ('MMLU-Redux, post-trained, default mode')."""
    benchmark, _post_trained = _quality(modality, purpose)
    return f"{benchmark}, {_quality_mode(modality, purpose)}"


def _quality_mode(modality: str, purpose: str) -> str:
    """Which scores judge, in the current language ('post-trained, default mode'); quality_label adds the benchmark."""
    if _quality(modality, purpose)[1]:
        return _("post-trained, default mode")
    if lines_taking(modality):  # image or audio: data/lines.csv names the lines that take it
        return _("base, of the text model with the same decoder")
    return _("base")


@checked(**CHOICE_RULES)
def slider_label(modality: str = "text", purpose: str = PURPOSES[0]) -> str:
    """The quality slider's short name: the benchmark and whether base or post-trained scores judge."""
    benchmark, post_trained = _quality(modality, purpose)
    return (_("Min {benchmark} (post-trained)") if post_trained else _("Min {benchmark} (base)")).format(
        benchmark=benchmark)


@built_from(WIZARD_FORMATS_FILE)
def _wizard_formats() -> dict[str, tuple[tuple[str, str], ...]]:
    table = read_table(WIZARD_FORMATS_FILE)
    out: dict[str, list] = {}
    for row in table.itertuples(index=False):
        out.setdefault(row.kind, []).append((memory.normalize_quantization(row.quantization), row.engine))
    return {kind: tuple(rows) for kind, rows in out.items()}


@checked(gpu_id=machine_rule)
def wizard_formats(gpu_id: str = "rtx-4090") -> tuple[str, ...]:
    """The formats the wizard tries on this machine, highest precision first: those whose kernels run on its kind of
    hardware (data/wizard_formats.csv), so a CPU or a Mac is never offered a GPU-only format."""
    return tuple(quant for quant, _ in _wizard_formats().get(machine_row(gpu_id)["kind"], ()))


@dataclass(frozen=True)
class WizardOption:
    """One model in one format on the chosen hardware: what it takes and what it gives."""

    model: str
    quantization: str
    engine: str
    memory_gib: float
    tokens_per_s_bound: float
    score: float
    expected_tokens_per_s: float = float("nan")  # the runtime's expected speed (qwen_lessons.speed), under the bound


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


def _by_size(entries) -> list:
    return sorted(entries, key=lambda entry: entry.parameters[0])


def _candidates(view: CatalogView, purpose: str, benchmark: str, post_trained: bool = False) -> list[CatalogEntry]:
    """Every general-purpose checkpoint of the catalog in the purpose's training states that the memory model
    covers and that has a published score to judge it by; smallest first. Deploying considers every post-trained
    state (instruct, hybrid, thinking, and Qwen3.5/3.6, whose ids carry no suffix); the natively multimodal
    Qwen3.5/3.6 count as general-purpose text models too."""
    if purpose == PURPOSES[1]:
        wanted = lambda entry: entry.line == "text" and entry.variant == "base"  # noqa: E731
    elif post_trained:
        lines = general_chat_lines()
        wanted = lambda entry: entry.line in lines and entry.variant != "base"  # noqa: E731
    else:
        wanted = lambda entry: entry.line == "text" and entry.variant in ("instruct", "hybrid")  # noqa: E731
    return _by_size(entry for entry in view if wanted(entry) and entry.memory_modelled
                    and entry.score(benchmark, post_trained) is not None)


def _text_decoder_twins(view: CatalogView) -> dict[tuple[str, tuple[int, int]], CatalogEntry]:
    """(generation, (total, active) parameters) -> the general base text checkpoint of that generation with exactly
    that decoder size and a Qwen3-report MMLU."""
    twins: dict[tuple[str, tuple[int, int]], CatalogEntry] = {}
    for entry in view:
        if entry.line == "text" and entry.variant == "base" and entry.memory_modelled and "MMLU" in entry.base_scores:
            twins.setdefault((entry.generation, entry.parameters), entry)
    return twins


def _modality_checkpoints(view: CatalogView, modality: str, purpose: str) -> list[tuple[CatalogEntry, CatalogEntry | None]]:
    """(entry, text twin or None) for the image or audio checkpoints the memory model covers, smallest first. The
    twin is the general text model whose decoder has exactly the same parameter count: its base MMLU is the only
    published score the course can judge these checkpoints by. Fine-tuning starts from a base checkpoint when one
    is modelled, else from the post-trained ones (the only releases)."""
    lines = lines_taking(modality)
    modelled = [entry for entry in view if entry.line in lines and entry.memory_modelled]
    any_base = any(entry.variant == "base" for entry in modelled)
    if purpose == PURPOSES[1]:
        chosen = [entry for entry in modelled if entry.variant == "base" or not any_base]
    else:
        chosen = [entry for entry in modelled if entry.variant != "base"]
    twins = _text_decoder_twins(view)
    return [(entry, twins.get((entry.generation, entry.parameters))) for entry in _by_size(chosen)]


def _generations(entries) -> tuple[str, ...]:
    """The catalog generations some entries come from, oldest first (data decides, not code)."""
    present = {entry.generation for entry in entries}
    return tuple(generation for generation in generations() if generation in present)


def _same_shape_as_general(view: CatalogView, coders: list[CatalogEntry]) -> tuple[list[str], list[str]]:
    """Split code checkpoints into those whose config gives the same count as the general model of the same size
    ('Qwen2.5-Coder-7B-Instruct' vs 'Qwen2.5-7B') and those the course cannot compare (no config row)."""
    same, unknown = [], []
    for coder in coders:
        general = view.get(coder.model_id.replace("-Coder", "").replace("-Instruct", ""))
        equal = coder.parameters is not None and general is not None and coder.parameters == general.parameters
        (same if equal else unknown).append(coder.model_id)
    return same, unknown


@checked
def split_context(context_tokens: int) -> tuple[int, int]:
    """Course convention for a context budget: up to 1,024 tokens (at most half) reserved for the answer."""
    output = min(1024, context_tokens // 2)
    return context_tokens - output, output


def _short(model_id: str) -> str:
    return model_id.removeprefix("Qwen/")


def _scored(view: CatalogView, modality: str, purpose: str, benchmark: str, post_trained: bool):
    """(entry, score or None, judged by) for every candidate of a modality, smallest first."""
    if lines_taking(modality):  # image or audio: data/lines.csv names the lines that take it
        return [(entry, None if twin is None else twin.base_scores.get(benchmark),
                 _("no text model with its decoder") if twin is None else
                 _("{model} base").format(model=_short(twin.arch_id)))
                for entry, twin in _modality_checkpoints(view, modality, purpose)]
    return [(entry, entry.score(benchmark, post_trained), _("its own score"))
            for entry in _candidates(view, purpose, benchmark, post_trained)]


@checked(context_tokens=WIZARD_CONTEXT, num_gpus=WIZARD_GPUS, gpu_id=machine_rule, **CHOICE_RULES)
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
    benchmark, post_trained = _quality(modality, purpose)
    label = quality_label(modality, purpose)
    gpu = machine_row(gpu_id)
    kind = gpu["kind"]
    engine_of = dict(_wizard_formats().get(kind, ()))  # format -> engine, in the wizard's order of precision
    formats = tuple(engine_of)
    capacity = gpu["memory_gb"] * GB / GIB * num_gpus  # GB as sold, read as 10**9 bytes
    usable = capacity * (1 - headroom)
    multi = f"{num_gpus} x " if num_gpus > 1 else ""
    machine = f"{multi}{gpu['name']}"
    result = WizardResult(quality=label, formats=formats, usable_gib=usable)
    steps = result.steps

    # 1. modality
    view = catalog_view()  # the catalog resolved once per table version: no id is looked up below
    scored = _scored(view, modality, purpose, benchmark, post_trained)
    if modality == "text":
        generations = _generations(entry for entry, _, _ in scored)
        steps.append(_("Modality text: {count} general-purpose checkpoints ({generations}) with a published "
                       "score.").format(count=len(scored), generations=", ".join(generations)))
    elif modality == "code":
        generations = _generations(entry for entry, _, _ in scored)
        coders = [entry for entry in view
                  if entry.line == "code" and entry.generation in generations and "Instruct" in entry.model_id]
        same, unknown = _same_shape_as_general(view, coders)
        steps.append(
            _("Modality code: the general checkpoints are ranked by their code score; ")
            + (_("the code-specialised {models} have exactly the decoder of the general model of the same size, so "
                 "the memory shown holds for them too").format(models=", ".join(_short(i) for i in same)) if same else
               _("no code-specialised checkpoint has a config row yet"))
            + (_("; {models} cannot be compared here.").format(models=", ".join(_short(i) for i in unknown))
               if unknown else _("."))
        )
    else:
        unjudged = sum(score is None for _, score, _ in scored)
        steps.append(
            (_("Modality image: {count} image checkpoints the course models (in the scores table). Memory counts the "
               "language decoder only (the vision encoder and its input tokens add more).") if modality == "image"
             else _("Modality audio: {count} audio checkpoints the course models (in the scores table). Memory counts "
                    "the language decoder only (the audio encoder and its input tokens add more).")
             ).format(count=len(scored))
            + (_(" {count} have no text model of their generation with the same decoder, so no published score "
                 "judges them and they cannot meet a quality need.").format(count=unjudged) if unjudged else "")
        )

    # 2. purpose
    if purpose == PURPOSES[1]:
        steps.append(_("Purpose fine-tune: start from base checkpoints where they are released, judged by {label}; "
                       "the memory shown is to serve the result (lesson 4 sizes the training).").format(label=label))
    else:
        steps.append(_("Purpose deploy: post-trained checkpoints, judged by {label}.").format(label=label))

    # 3. hardware and formats
    engines = ", ".join(f"{quant} ({engine_of[quant]})" for quant in formats)
    shared = _(" This memory is shared with the operating system and other programs.") if kind in ("apple", "cpu") else ""
    steps.append(
        (_("Hardware {machine}: {capacity} GiB, {headroom} kept free leaves {usable} GiB; {bandwidth} GB/s per "
           "device bounds decode speed.{shared} Formats with kernels here, tried from highest precision: {engines}.")
         if num_gpus > 1 else
         _("Hardware {machine}: {capacity} GiB, {headroom} kept free leaves {usable} GiB; {bandwidth} GB/s bounds "
           "decode speed.{shared} Formats with kernels here, tried from highest precision: {engines}.")
         ).format(machine=machine, capacity=f"{capacity:.1f}", headroom=f"{headroom:.0%}", usable=f"{usable:.1f}",
                  bandwidth=f"{gpu['memory_bandwidth_gbs']:g}", shared=shared, engines=engines)
    )

    # 4. context and batch
    input_tokens, output_tokens = split_context(context_tokens)
    steps.append(_("Context {context} tokens x batch {batch}: {prompt} prompt + {answer} answer tokens per sequence; "
                   "the KV cache grows with tokens x batch.").format(
        context=f"{context_tokens:,}", batch=batch, prompt=f"{input_tokens:,}", answer=f"{output_tokens:,}"))

    # 5. quality
    result.scores = pd.DataFrame(
        [{"model": entry.model_id, "judged by": judge, "score": score,
          "passes": score is not None and score >= min_score} for entry, score, judge in scored],
        columns=["model", "judged by", "score", "passes"],
    )
    passing = [(entry, score) for entry, score, _ in scored if score is not None and score >= min_score]
    steps.append(_("Quality need: {label} >= {need}. {passing} of {candidates} candidates pass (scores in the "
                   "table).").format(label=label, need=f"{min_score:g}", passing=len(passing), candidates=len(scored)))

    # 6. fit
    rows = []
    for entry, score in passing:
        shown, arch = entry.model_id, entry.checkpoint
        limit = entry.context_limit  # the documented context, not the config's larger position limit
        for quant in formats:
            if limit is not None and context_tokens > limit:
                rows.append({"model": shown, "quantization": quant, "engine": engine_of[quant], "fits": False,
                             "memory_gib": np.nan, "tokens_per_s_expected": np.nan, "tokens_per_s_bound": np.nan,
                             "score": score,
                             "why": _("context > {limit}").format(limit=f"{limit:,}"), "limit": limit})
                continue
            est = memory.inference_memory(arch, quant, input_tokens, output_tokens, batch, num_gpus=num_gpus)
            speed = decode_tokens_per_s_bound(arch, quant, gpu_id, context_tokens, batch)
            # the engine's expected speed (its runtime name is the engine's in lower case: vLLM -> vllm)
            expected = expected_decode_tokens_per_s(arch, quant, gpu_id, engine_of[quant].lower(), context_tokens,
                                                    batch)
            rows.append({"model": shown, "quantization": quant, "engine": engine_of[quant],
                         "fits": bool(est.total_gib <= usable), "memory_gib": est.total_gib,
                         "tokens_per_s_expected": expected, "tokens_per_s_bound": speed, "score": score, "why": _("peak in {phase}").format(phase=_(est.peak_phase)),
                         "limit": limit})
    columns = ["model", "quantization", "engine", "fits", "memory_gib", "tokens_per_s_expected", "tokens_per_s_bound",
               "score", "why"]
    table = pd.DataFrame(rows, columns=[*columns, "limit"])
    result.fit = table[columns]
    fitting = table[table["fits"].astype(bool)]  # an empty object column would select columns, not rows
    steps.append(_("Fit: {fitting} of {passing} passing models fit in {usable} GiB in at least one format. Check "
                   "that the format is published for that checkpoint.").format(
        fitting=fitting["model"].nunique(), passing=len(passing), usable=f"{usable:.1f}") if passing else
                 _("Fit: no candidate passes the quality need, so none is sized."))

    # the answer: the smallest passing model that fits, at the highest precision that fits
    mode = _quality_mode(modality, purpose)
    need = f"{benchmark} ({mode}) >= {min_score:g}"
    if not passing:
        judged = [(entry.model_id, score) for entry, score, _ in scored if score is not None]
        best_model, best_score = max(judged, key=lambda pair: pair[1]) if judged else (None, None)
        result.outcome = OUTCOMES[1]
        result.headline = (
            _("No {modality} checkpoint meets {need} (the best, {model}, scores {score}): lower the need to {lower} or "
              "less; more memory would not help.").format(modality=_(modality), need=need, model=_short(best_model),
                                                           score=f"{best_score:.1f}", lower=int(best_score))
            if judged else
            _("No {modality} checkpoint has a published score to meet {need}: set the need to 0 or choose another "
              "modality.").format(modality=_(modality), need=need)
        )
    elif fitting.empty:
        measured = table[table["memory_gib"].notna()]
        if measured.empty:
            longest = int(table["limit"].max())
            result.outcome = OUTCOMES[2]
            result.headline = _("No checkpoint meeting {need} is documented for {context} tokens of context: shorten "
                                "the context to {longest} tokens or less.").format(
                need=need, context=f"{context_tokens:,}", longest=f"{longest:,}")
        else:
            least = measured.loc[measured["memory_gib"].idxmin()]
            result.outcome = OUTCOMES[3]
            result.headline = _(
                "Nothing meeting {need} fits in the {usable} GiB of {machine}: the least it takes is {model} in "
                "{quantization} at {memory} GiB, so use hardware with at least {needed} GiB.").format(
                need=need, usable=f"{usable:.1f}", machine=machine, model=_short(least["model"]),
                quantization=least["quantization"], memory=f"{least['memory_gib']:.1f}",
                needed=f"{least['memory_gib'] / (1 - headroom):.1f}")
    else:
        def option(row) -> WizardOption:
            return WizardOption(row["model"], row["quantization"], row["engine"], float(row["memory_gib"]),
                                float(row["tokens_per_s_bound"]), float(row["score"]),
                                float(row["tokens_per_s_expected"]))

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
            _("Run {model} in {quantization} ({engine}) on {machine}: {memory} of {usable} GiB, expected about "
              "{expected} tokens/s at batch {batch} (ceiling: decode bound {bound} tokens/s); the smallest model whose "
              "{benchmark} ({mode}) reaches {need} (it scores {score}), at the highest precision that fits.")
            if purpose == PURPOSES[0] else
            _("Fine-tune from {model} and serve it in {quantization} ({engine}) on {machine}: {memory} of {usable} GiB, "
              "expected about {expected} tokens/s at batch {batch} (ceiling: decode bound {bound} tokens/s); the "
              "smallest model whose {benchmark} ({mode}) reaches {need} (it scores {score}), at the highest precision "
              "that fits.")
        ).format(model=_short(pick.model), quantization=pick.quantization, engine=pick.engine, machine=machine,
                 memory=f"{pick.memory_gib:.1f}", usable=f"{usable:.1f}", expected=f"{pick.expected_tokens_per_s:,.0f}",
                 batch=batch, bound=f"{pick.tokens_per_s_bound:,.0f}", benchmark=benchmark, mode=mode,
                 need=f"{min_score:g}", score=f"{pick.score:.1f}")
    return result


@checked(result=instance(WizardResult, what="a WizardResult (from tiers.recommend)"))
def comparison_table(result: WizardResult) -> pd.DataFrame:
    """The comparison as a table: one row per choice (best quality that fits, least memory, fastest)."""
    rows = [{"choice": choice, "model": option.model, "format": option.quantization, "engine": option.engine,
             "memory (GiB)": option.memory_gib, "expected (tokens/s)": option.expected_tokens_per_s,
             "decode bound (tokens/s)": option.tokens_per_s_bound, "score": option.score}
            for choice, option in result.comparison.items()]
    return pd.DataFrame(rows, columns=["choice", "model", "format", "engine", "memory (GiB)", "expected (tokens/s)",
                                       "decode bound (tokens/s)", "score"])

