"""Lesson 1 (01_family_map): the catalog's summaries, parameters counted from configs against the model cards,
the eight popular claims decided from the data, and the lesson's figures."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from qwen_lessons.language import figure_text
from qwen_lessons.plotting import log_scale

from qwen_lessons import models, towers
from qwen_lessons.catalog import (CATALOG_FILE, UNVERIFIED, allowed_values, filter_catalog, generations, is_moe,
                                  language_model_lines, lines, load_catalog)
from qwen_lessons.data import read_table
from qwen_lessons.vision import band_verdict, generation_info, image_tokens
from qwen_lessons import validation
from qwen_lessons.validation import checked

# ---------------------------------------------------------------------------------------------------------------
# Summaries behind the lesson's tables and figures
# ---------------------------------------------------------------------------------------------------------------


OTHER_LINES = "other lines"


@checked
def coverage(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows per generation (rows, release order) and line (columns), with totals. The language-model lines of the
    common picture get a column each; the lines around them (embedding, reranker, guard, image, speech) share
    one "other lines" column, so the table fits a page."""
    table = load_catalog() if table is None else table
    own = language_model_lines()  # text ... reasoning: the lines a learner compares across generations
    shown_line = table["line"].where(table["line"].isin(own), OTHER_LINES)
    counts = pd.crosstab(table["generation"], shown_line, margins=True, margins_name="total")
    order = [g for g in generations(table) if g in counts.index] + ["total"]
    columns = [line for line in (*own, OTHER_LINES) if line in counts.columns] + ["total"]
    return counts.loc[order, columns]


@checked
def availability_grid(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Lines x training states: how many checkpoints exist in each cell (0 = none released)."""
    table = load_catalog() if table is None else table
    variants = table["variant"].fillna(UNVERIFIED)
    grid = pd.crosstab(table["line"], variants)
    rows = [line for line in lines() if line in grid.index]
    columns = [v for v in (*allowed_values("variant"), UNVERIFIED) if v in grid.columns]
    return grid.loc[rows, columns]


@checked
def series_variants(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per series: its line, generation and the training states it was released in."""
    table = load_catalog() if table is None else table
    rows = []
    for series, group in table.groupby("series", sort=False):
        states = [v for v in allowed_values("variant") if v in set(group["variant"].dropna())]
        rows.append(
            {
                "series": series,
                "line": group["line"].iloc[0],
                "generation": group["generation"].iloc[0],
                "variants": ", ".join(states) if states else UNVERIFIED,
                "has_base": "base" in states,
                "checkpoints": len(group),
            }
        )
    return pd.DataFrame(rows)


@checked
def series_by_line(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per line: how many series and checkpoints it has, and which series came without a base checkpoint."""
    series = series_variants(table)
    rows = []
    for line, group in series.groupby("line", sort=False):
        without = group.loc[~group["has_base"], "series"].tolist()
        rows.append({"line": line, "series": len(group), "checkpoints": int(group["checkpoints"].sum()),
                     "series without a base checkpoint": ", ".join(without) if without else "none"})
    order = {line: index for index, line in enumerate(lines())}
    return pd.DataFrame(rows).sort_values("line", key=lambda column: column.map(order)).set_index("line")


@checked
def context_by_generation(table: pd.DataFrame | None = None, line: str = "text") -> pd.DataFrame:
    """Per generation (release order): the shortest and longest native context and the longest extended one."""
    table = load_catalog() if table is None else table
    subset = filter_catalog(table, line=line)
    grouped = subset.groupby("generation")
    summary = pd.DataFrame(
        {
            "native_min": grouped["context_length"].min(),
            "native_max": grouped["context_length"].max(),
            "extended_max": grouped["extended_context"].max(),
        }
    )
    # a generation whose text rows state no native context (the sources give none yet) has nothing to compare
    order = [g for g in generations(table) if g in summary.index and pd.notna(summary.loc[g, "native_max"])]
    return summary.loc[order]


@checked
def size_bucket(params_b: pd.Series) -> pd.Series:
    """Label total sizes as <2B, 2-10B, 10-40B, 40-100B or >=100B (ordered categorical)."""
    labels = ["<2B", "2–10B", "10–40B", "40–100B", "≥100B"]
    return pd.cut(params_b.astype(float), bins=[0, 2, 10, 40, 100, float("inf")], right=False, labels=labels)


@checked
def licenses_by_size(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Checkpoints per size bucket (rows) and license (columns); empty licenses are counted as 'unverified'."""
    table = load_catalog() if table is None else table
    known = table[table["params_b"].notna()]
    licenses = known["license"].fillna(UNVERIFIED)
    grid = pd.crosstab(size_bucket(known["params_b"]), licenses)
    columns = [lic for lic in (*allowed_values("license"), UNVERIFIED) if lic in grid.columns]
    return grid[columns]


@checked
def unverified_summary(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per column, how many rows are empty (not verified) and which series they belong to."""
    table = load_catalog() if table is None else table
    rows = []
    for column in ("variant", "params_b", "context_length", "extended_context", "license"):
        empty = table[table[column].isna()]
        rows.append(
            {
                "what": f"{column} empty",
                "rows": len(empty),
                "series": ", ".join(dict.fromkeys(empty["series"])) or "—",
            }
        )
    nominal = table[table["params_basis"] != "card"]
    rows.append(
        {
            "what": "params_b nominal or assumed (not from a card)",
            "rows": int(nominal["params_b"].notna().sum()),
            "series": ", ".join(dict.fromkeys(nominal.loc[nominal["params_b"].notna(), "series"])) or "—",
        }
    )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------------
# Parameter counts from configs, held against the model cards
# ---------------------------------------------------------------------------------------------------------------


@checked
def printed_decimals(model_id: str) -> int:
    """How many decimals the catalog prints for a model's published size (0 for '235', 2 for '0.49')."""
    return _printed_decimals(model_id, "params_b")


def _printed_decimals(model_id: str, column: str) -> int:
    raw = read_table(CATALOG_FILE, as_text=True)
    text = raw.loc[raw["model_id"] == model_id, column]
    if text.empty or pd.isna(text.iloc[0]):
        raise ValueError(f"model_id {model_id!r} has no published size in the catalog")
    return len(text.iloc[0].split(".")[1]) if "." in text.iloc[0] else 0


@checked
def matches_print(computed_b: float, published_b: float, decimals: int) -> bool:
    """True when a printed figure is the computed one rounded or cut to `decimals` places."""
    unit = 10.0**-decimals
    return published_b - unit / 2 - 1e-9 <= computed_b < published_b + unit


@checked
def published_vs_computed() -> pd.DataFrame:
    """Every model with a config and a model-card count: published vs computed totals and active counts.

    The computed count is the whole checkpoint: the language model plus any vision or audio tower
    data/towers.csv lists (a card's figure covers every weight it ships).

    `error_pct` = 100 x (computed - published) / published; `within_1pct` holds for total and active;
    `matches_print` is True when the card figure equals the computed count rounded or truncated to the
    digits the card prints (a card's 3.3 fits a computed 3.35, its 32.5 does not fit 32.76).
    """
    catalog = load_catalog().set_index("model_id")
    rows = []
    for model_id in models.model_ids():
        if model_id not in catalog.index or catalog.at[model_id, "params_basis"] != "card":
            continue
        total, active = towers.count_with_towers(model_id)  # a VL/Omni card counts its towers too
        decimals = printed_decimals(model_id)
        row = {
            "model_id": model_id,
            "published_b": float(catalog.at[model_id, "params_b"]),
            "computed_b": total / 1e9,
            "published_active_b": float(catalog.at[model_id, "active_params_b"]),
            "computed_active_b": active / 1e9,
        }
        row["error_pct"] = 100 * (row["computed_b"] / row["published_b"] - 1)
        row["active_error_pct"] = 100 * (row["computed_active_b"] / row["published_active_b"] - 1)
        row["within_1pct"] = abs(row["error_pct"]) <= 1 and abs(row["active_error_pct"]) <= 1
        # each figure as printed: Qwen2's blog gives 57.41B in total but "14B" activated
        active_decimals = _printed_decimals(model_id, "active_params_b")
        row["matches_print"] = matches_print(row["computed_b"], row["published_b"], decimals) and matches_print(
            row["computed_active_b"], row["published_active_b"], active_decimals
        )
        rows.append(row)
    columns = ["model_id", "published_b", "computed_b", "error_pct", "published_active_b", "computed_active_b",
               "active_error_pct", "within_1pct", "matches_print"]
    return pd.DataFrame(rows)[columns]


@checked
def image_tokens_square(model_id: str, side: int, table: pd.DataFrame | None = None) -> int:
    """Visual tokens for a side x side image in a checkpoint: lesson 5's count (`vision.image_tokens`) for the vision
    generation its catalog row names, with that generation's default pixel budget."""
    table = load_catalog() if table is None else table
    match = table[table["model_id"] == model_id]
    if match.empty or pd.isna(match["vision_generation"].iloc[0]):
        vision = table.loc[table["vision_generation"].notna(), "model_id"]
        where = "not in the catalog" if match.empty else "has no vision generation in the catalog"
        raise ValueError(f"model_id {model_id!r} {where}; it must be {validation.choices(vision, 'ids')}")
    return image_tokens(side, side, match["vision_generation"].iloc[0])


# ---------------------------------------------------------------------------------------------------------------
# "The common picture vs the data": one verdict function per popular claim
# ---------------------------------------------------------------------------------------------------------------


class Verdict(NamedTuple):
    """A claim, decided from the catalog: verdict is 'true', 'partly true' or 'false'."""

    key: str
    claim: str
    verdict: str
    evidence: str
    source: str


def _sources(rows: pd.DataFrame, limit: int = 4) -> str:
    """The first source of each evidence row, de-duplicated and capped, for a short citation."""
    firsts = dict.fromkeys(str(s).split(";")[0].split(" (")[0].strip() for s in rows["source"])
    listed = list(firsts)[:limit]
    more = len(firsts) - len(listed)
    return "; ".join(listed) + (f"; +{more} more (see the source column)" if more > 0 else "")


def _sizes(rows: pd.DataFrame) -> str:
    """'0.5–72B' style range of total sizes ('7B' when all are equal)."""
    low, high = rows["params_b"].min(), rows["params_b"].max()
    return f"{low:g}B" if low == high else f"{low:g}–{high:g}B"


# The popular claim's own four lines, as it words them (the claim is what is checked, so its words stay in code)
CLAIMED_LINES = frozenset({"text", "code", "vision-language", "audio"})


@checked
def claim_four_lines(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (a): four lines (text, code, vision-language, audio), each with a base and an instruct checkpoint."""
    table = load_catalog() if table is None else table
    present = [line for line in lines() if line in set(table["line"])]
    series = series_variants(table)
    no_base = series[~series["has_base"]]
    extra = [line for line in present if line not in CLAIMED_LINES]
    evidence = (
        f"{len(present)} lines in the catalog ({', '.join(present)}), so {len(extra)} beyond the four; "
        f"{len(no_base)} of {len(series)} series have no base checkpoint "
        f"({', '.join(no_base['series'])}); training states seen: "
        f"{', '.join(v for v in allowed_values('variant') if v in set(table['variant'].dropna()))}"
    )
    verdict = "false" if extra or len(no_base) else "true"
    return Verdict("a", "Four lines (text, code, VL, audio), each with base + instruct", verdict, evidence,
                   _sources(table[table["series"].isin(no_base["series"])]))


@checked
def claim_size_range(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (b): sizes span 0.5B to 100B+."""
    table = load_catalog() if table is None else table
    sized = table[table["params_b"].notna()]
    smallest = sized.loc[sized["params_b"].idxmin()]
    dense = sized[~is_moe(sized).astype(bool)]
    moe = sized[is_moe(sized).astype(bool)]
    big = sized[sized["params_b"] >= 100]
    big_dense = big[~is_moe(big).astype(bool)]
    evidence = (
        f"smallest: {smallest['model_id']} ({smallest['params_b']:g}B); largest dense: "
        f"{dense['params_b'].max():g}B; largest MoE: {moe['params_b'].max():g}B total but "
        f"{moe.loc[moe['params_b'].idxmax(), 'active_params_b']:g}B active; {len(big)} checkpoints reach 100B+, "
        f"{len(big_dense)} of them dense"
    )
    verdict = "true" if len(big_dense) else ("partly true" if len(big) else "false")
    return Verdict("b", "Sizes span 0.5B to 100B+", verdict, evidence, _sources(pd.DataFrame({"source": [smallest["source"], *big["source"]]})))


@checked
def flagships(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each generation's flagship (largest text checkpoint, or largest of any line if it has no text line)."""
    table = load_catalog() if table is None else table
    sized = table[table["params_b"].notna()]
    picks = []
    for generation in generations(table):
        rows = sized[sized["generation"] == generation]
        if (rows["line"] == "text").any():
            rows = rows[rows["line"] == "text"]  # a generation's flagship is its largest text model when it has one
        if not rows.empty:
            picks.append(rows.loc[rows["params_b"].idxmax()])
    result = pd.DataFrame(picks)[["generation", "model_id", "params_b", "license", "source"]]
    return result.reset_index(drop=True)


@checked
def claim_flagship_license(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (c): flagship releases are Apache 2.0."""
    table = load_catalog() if table is None else table
    tops = flagships(table)
    known = tops[tops["license"].notna()]
    apache = known[known["license"] == "Apache-2.0"]
    other = known[known["license"] != "Apache-2.0"]
    unknown = tops[tops["license"].isna()]
    evidence = (
        f"Apache-2.0: {', '.join(apache['model_id'])}; not Apache: "
        + ", ".join(f"{m} ({lic})" for m, lic in zip(other["model_id"], other["license"], strict=True))
        + (f"; license unverified: {', '.join(unknown['model_id'])}" if len(unknown) else "")
    )
    verdict = "true" if other.empty else ("partly true" if len(apache) else "false")
    return Verdict("c", "Flagship releases are Apache 2.0", verdict, evidence, _sources(known))


@checked
def claim_context_growth(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (d): text context grew from 8K/32K to 128K."""
    table = load_catalog() if table is None else table
    summary = context_by_generation(table)
    parts = []
    for generation, row in summary.iterrows():
        native = f"{_k(row['native_min'])}" if row["native_min"] == row["native_max"] else (
            f"{_k(row['native_min'])}–{_k(row['native_max'])}")
        extended = f", up to {_k(row['extended_max'])} extended" if pd.notna(row["extended_max"]) else ""
        parts.append(f"{generation}: {native} native{extended}")
    latest = summary["native_max"].dropna().max()
    starts_right = summary["native_min"].dropna().iloc[0] <= 8192
    # true only if the longest native context ends at 128K; shorter or longer makes the claim's endpoint wrong
    verdict = ("true" if latest == 131072 else "partly true") if starts_right else "false"
    rows = filter_catalog(table, line="text")
    return Verdict("d", "Text context went from 8K/32K to 128K", verdict, "; ".join(parts),
                   _sources(rows[rows["context_length"].notna()]))


def _k(tokens) -> str:
    """Tokens as 8K / 128K / 1M (binary K for powers of two, decimal M for the '1 million' figures)."""
    tokens = int(tokens)
    if tokens >= 1_000_000 and tokens % 1_000_000 == 0:
        return f"{tokens // 1_000_000}M"
    return f"{tokens // 1024}K" if tokens % 1024 == 0 else f"{tokens:,}"


@checked
def claim_code_line(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (e): the code line is 1.5B–32B with fill-in-the-middle."""
    table = load_catalog() if table is None else table
    code = filter_catalog(table, line="code")
    per_series = "; ".join(f"{s}: {_sizes(g)}" for s, g in code.groupby("series", sort=False))
    fim = code["fill_in_middle"].fillna(False).astype(bool)
    evidence = f"{per_series}; fill-in-the-middle documented for {int(fim.sum())} of {len(code)} code checkpoints"
    sizes_right = code["params_b"].min() == 1.5 and code["params_b"].max() == 32
    # an empty cell means "not documented", not "no": FIM documented for most of the line keeps the claim partly true
    verdict = "true" if sizes_right and fim.all() else ("partly true" if fim.mean() > 0.5 else "false")
    return Verdict("e", "Code line is 1.5B–32B with fill-in-the-middle", verdict, evidence, _sources(code))


@checked
def claim_vl_sizes(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (f): the vision-language line is 7B–72B."""
    table = load_catalog() if table is None else table
    vl = filter_catalog(table, line="vision-language")
    sized = vl[vl["params_b"].notna()]
    per_series = "; ".join(f"{s}: {_sizes(g)}" for s, g in sized.groupby("series", sort=False))
    verdict = "true" if (sized["params_b"].min(), sized["params_b"].max()) == (7, 72) else "false"
    return Verdict("f", "Vision-language line is 7B–72B", verdict, per_series + " (sizes are nominal, from the names)",
                   _sources(sized))


@checked
def claim_audio_line(table: pd.DataFrame | None = None) -> Verdict:
    """Claim (g): the audio line is 7B–72B under a 'Qwen Community License'."""
    table = load_catalog() if table is None else table
    audio = filter_catalog(table, line="audio")
    sized = audio[audio["params_b"].notna()]
    licenses = sorted(set(audio["license"].dropna()))
    community = [lic for lic in licenses if "Community" in lic]
    evidence = (
        f"{len(audio)} audio checkpoints; sizes {_sizes(sized) if len(sized) else 'unknown'} "
        f"({len(audio) - len(sized)} without a size in the name); licenses: {', '.join(licenses)}; "
        f"speech also in the omni line ({len(filter_catalog(table, line='omni'))} checkpoints)"
    )
    verdict = "true" if community and len(sized) and sized["params_b"].max() >= 72 else "false"
    return Verdict("g", "Audio line is 7B–72B under a Qwen Community License", verdict, evidence, _sources(audio))


@checked
def claim_image_tokens(table: pd.DataFrame | None = None, side: int = 448) -> Verdict:
    """Claim (h): a 448x448 image costs 256–512 tokens."""
    table = load_catalog() if table is None else table
    vision = table[table["vision_generation"].notna()]
    per_generation = {}
    for generation, group in vision.groupby("vision_generation", sort=False):
        # checkpoints that share one vision generation (Qwen3.5 and Qwen3.6) count once, under lesson 5's name for it
        per_generation[generation_info(generation).name] = image_tokens_square(group["model_id"].iloc[0], side, table)
    verdict, reading = band_verdict(per_generation, 256, 512)  # the same rule and words as lesson 5's claim check
    evidence = ("; ".join(f"{name}: {n} tokens" for name, n in per_generation.items())
                + f" (vision start/end markers excluded). {reading}")
    source = _sources(vision, limit=2) + "; patch and merge sizes: lesson 5's vision generations (HF vision configs)"
    return Verdict("h", f"A {side}×{side} image costs 256–512 tokens", verdict, evidence, source)


CLAIMS = (
    claim_four_lines,
    claim_size_range,
    claim_flagship_license,
    claim_context_growth,
    claim_code_line,
    claim_vl_sizes,
    claim_audio_line,
    claim_image_tokens,
)


@checked
def common_picture(table: pd.DataFrame | None = None) -> pd.DataFrame:
    """All popular claims with their verdicts, evidence and sources, decided from the catalog."""
    table = load_catalog() if table is None else table
    return pd.DataFrame([claim(table)._asdict() for claim in CLAIMS])


# ---------------------------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------------------------


# Okabe-Ito colours; the language-model lines are circles, the lines around them (embedding, guard, image, speech)
# squares in the same colours, so fourteen lines stay apart without a fifteen-colour palette.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")


@checked
def line_styles() -> dict[str, tuple[str, str]]:
    """line -> (colour, marker) for every line of data/lines.csv, in teaching order."""
    circles = set(language_model_lines())
    return {line: (_PALETTE[index % len(_PALETTE)], "o" if line in circles else "s")
            for index, line in enumerate(lines())}


@checked
def draw_training_states(table: pd.DataFrame | None = None, ax=None):
    """Diagram: pre-training gives a base checkpoint; post-training turns it into chat/instruct, thinking or
    hybrid checkpoints. Each box shows how many catalog checkpoints are in that state."""
    import matplotlib.pyplot as plt

    table = load_catalog() if table is None else table
    counts = table["variant"].value_counts()
    ax = ax or plt.subplots(figsize=(8, 3.2))[1]
    ax.set_axis_off()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 4)
    boxes = {
        "data": (1.0, 2, figure_text("web text, code,\nbooks, math\n(trillions of tokens)"), "#DDDDDD"),
        "base": (4.0, 2, figure_text("base\n{count} checkpoints").format(count=counts.get("base", 0)), "#56B4E9"),
        "chat": (8.3, 3.4, figure_text("instruct / chat\n{count} checkpoints").format(
            count=counts.get("instruct", 0) + counts.get("chat", 0)), "#E69F00"),
        "thinking": (8.3, 2, figure_text("thinking\n{count} checkpoints").format(count=counts.get("thinking", 0)),
                     "#CC79A7"),
        "hybrid": (8.3, 0.6, figure_text("hybrid (switchable)\n{count} checkpoints").format(
            count=counts.get("hybrid", 0)), "#009E73"),
    }
    for x, y, text, colour in boxes.values():
        ax.text(x, y, text, ha="center", va="center", fontsize=9,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#333333"})
    arrow = {"arrowstyle": "->", "color": "#333333", "lw": 1.5}
    ax.annotate("", xy=(3.2, 2), xytext=(2.25, 2), arrowprops=arrow)
    ax.text(2.7, 2.55, figure_text("pre-\ntraining"), ha="center", fontsize=8)
    for target in ("chat", "thinking", "hybrid"):
        ax.annotate("", xy=(7.0, boxes[target][1]), xytext=(4.85, 2), arrowprops=arrow)
    ax.text(5.7, 3.35, figure_text("post-training\n(SFT + RL)"), ha="center", fontsize=8)
    return ax


@checked
def plot_size_ladder(table: pd.DataFrame | None = None, ax=None):
    """Total size per checkpoint by generation on a log axis; MoE models show a line down to active size."""
    import matplotlib.pyplot as plt

    table = load_catalog() if table is None else table
    ax = ax or plt.subplots()[1]
    sized = table[table["params_b"].notna()].drop_duplicates(["generation", "params_b", "active_params_b"])
    order = generations(table)
    positions = {g: i for i, g in enumerate(order)}
    moe = is_moe(sized).astype(bool)
    for flag, marker, label in ((False, "o", figure_text("dense (total = active)")),
                                 (True, "D", figure_text("MoE total"))):
        rows = sized[moe == flag]
        x = rows["generation"].map(positions).astype(float)
        ax.scatter(x, rows["params_b"].astype(float), marker=marker, s=36, color="#0072B2" if not flag else "#D55E00",
                   label=label, zorder=3)
    rows = sized[moe]
    x = rows["generation"].map(positions).astype(float)
    ax.vlines(x, rows["active_params_b"].astype(float), rows["params_b"].astype(float), color="#D55E00", lw=1)
    ax.scatter(x, rows["active_params_b"].astype(float), marker="v", s=30, color="#E69F00", label=figure_text("MoE active"),
               zorder=3)
    log_scale(ax, "y")
    # upright labels: their boxes stay narrow, so eleven generations sit side by side without overlapping
    ax.set_xticks(range(len(order)), order, rotation=90)
    ax.set_xlabel(figure_text("generation"))
    ax.set_ylabel(figure_text("parameters (billions, log scale)"))
    ax.legend(loc="upper left")
    ax.figure.set_layout_engine("tight")  # at draw time: upright labels and a title set later stay inside the figure
    return ax


@checked
def plot_context(table: pd.DataFrame | None = None, ax=None, line: str = "text"):
    """Native vs extended context per generation (log scale) for one line."""
    import matplotlib.pyplot as plt

    summary = context_by_generation(table, line=line)
    ax = ax or plt.subplots()[1]
    x = range(len(summary))
    ax.bar([i - 0.2 for i in x], summary["native_max"].astype(float), width=0.4, color="#0072B2",
           label=figure_text("longest native context"))
    ax.bar([i + 0.2 for i in x], summary["extended_max"].astype(float), width=0.4, color="#E69F00",
           label=figure_text("longest extended context (YaRN or other)"))
    ax.set_yscale("log", base=2)
    ticks = [2**k for k in range(13, 21)]
    ax.set_yticks(ticks, [_k(t) if t < 2**20 else "1M" for t in ticks])
    ax.set_xticks(list(x), summary.index, rotation=90)  # upright: ten generations side by side without overlap
    ax.set_xlabel(figure_text("generation"))
    ax.set_ylabel(figure_text("context (tokens, log scale)"))
    # headroom above the tallest bar (three octaves on this axis) so the legend sits on white, not on the bars
    ax.set_ylim(top=8 * float(summary[["native_max", "extended_max"]].max().max()))
    ax.legend(loc="upper left")
    ax.figure.set_layout_engine("tight")  # at draw time: upright labels and a title set later stay inside the figure
    return ax


@checked
def plot_licenses(table: pd.DataFrame | None = None, ax=None):
    """Stacked bars: checkpoints per size bucket, split by license."""
    import matplotlib.pyplot as plt

    grid = licenses_by_size(table)
    ax = ax or plt.subplots()[1]
    bottom = None
    colours = ("#009E73", "#E69F00", "#D55E00", "#CC79A7", "#0072B2", "#BBBBBB")
    for colour, license_name in zip(colours, grid.columns, strict=False):
        values = grid[license_name].to_numpy()
        ax.bar(grid.index.astype(str), values, bottom=bottom, color=colour, label=license_name)
        bottom = values if bottom is None else bottom + values
    ax.set_xlabel(figure_text("total size"))
    ax.set_ylabel(figure_text("checkpoints"))
    ax.legend(fontsize=8, loc="upper right")
    return ax


@checked
def decimal_year(release: pd.Series):
    """'2024-09' -> 2024.71 (mid-month), as floats for a fast numeric time axis; an unknown month is NaN."""
    months = release.astype("string")
    years = pd.to_numeric(months.str.slice(0, 4), errors="coerce")
    month = pd.to_numeric(months.str.slice(5, 7), errors="coerce")
    return (years + (month - 0.5) / 12).astype(float).to_numpy()
