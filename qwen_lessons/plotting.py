"""The course's look for every lesson: plot settings and colours, set in code so no named matplotlib style is needed."""

from __future__ import annotations

import re
from qwen_lessons.language import figure_fonts
from qwen_lessons.validation import checked

# Okabe & Ito (2008) colour-blind-safe palette. In greyscale only the first three stay clearly apart, so plots with
# more series should also vary markers or line styles.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)

# Text colours for verdicts and messages: darkened Okabe-Ito green and vermillion, because the palette's own
# shades are below 4.5:1 contrast on white as text.
GOOD_TEXT_COLOUR = "#007A5A"
BAD_TEXT_COLOUR = "#B34700"
ERROR_TEXT_COLOUR = "#B00020"

COURSE_RC = {
    "figure.figsize": (7.5, 4.2),
    "figure.dpi": 100,
    "figure.facecolor": "white",  # readable on dark JupyterLab themes too
    "axes.facecolor": "white",
    "axes.edgecolor": "#333333",
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.frameon": False,
    "font.size": 10.5,
    "lines.linewidth": 2.0,
    "lines.markersize": 6,
}

# How a figure reaches the reader: as a PNG at the figure's dpi, one image pixel to one CSS pixel, scaled down to fit
# the column. 800 CSS px is the course's reading column (the website's text column; JupyterLab on a laptop with the
# file browser open), so a figure wider than that shrinks, and its text with it.
DISPLAY_COLUMN_PX = 800
MIN_DISPLAY_PT = 8.0  # smallest text a reader should have to read (1 CSS pt = 4/3 CSS px)


@checked
def plain_number(value: float, _position=None) -> str:
    """A tick label as a plain number: 1, 10, 100, 0.5, 1,000 (no powers of ten where the reader needs none)."""
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(value) >= 1 else f"{value:g}"


@checked
def log_scale(ax, axis: str = "x", base: float = 10) -> None:
    """Put one axis on a log scale whose tick labels are plain numbers (1, 10, 100), not powers of ten."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log", base=base)
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(plain_number))
    target.set_minor_formatter(NullFormatter())


@checked
def use_course_style() -> None:
    """Apply the course's matplotlib settings: Okabe-Ito colours, light grid, no top/right spines."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(COURSE_RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))
    mpl.rcParams["font.family"] = figure_fonts()  # with Chinese spoken, a CJK font draws its labels


def _is_number(text: str) -> bool:
    """True for tick labels such as '1,000', '0.5', '−2', '40%', '$\\mathdefault{10^{2}}$'."""
    cleaned = text.replace("$", "").replace("\\mathdefault", "").replace("{", "").replace("}", "")
    cleaned = cleaned.replace(",", "").replace("%", "").replace("\u2212", "-").replace("^", "e").strip()
    try:
        float(cleaned)
    except ValueError:
        return False
    return True


@checked
def figure_problems(figure) -> list[str]:
    """What a reader would trip over in a drawn figure, from matplotlib's own bounding boxes after layout:
    texts that overlap (titles, axis labels, tick labels, legends, annotations), an axis with tick labels but
    no label, a log axis printed as powers of ten where plain numbers fit, text under MIN_DISPLAY_PT points at
    the size the figure is shown (see displayed_scale), and a legend drawn over data (bars, lines, points, areas).
    An empty list means the figure reads cleanly. Used by the course's figure test over every notebook."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    texts: list[tuple[str, object]] = []
    problems: list[str] = []

    seen: set[int] = set()

    def add(role: str, artist) -> None:
        if artist is not None and artist.get_visible() and str(artist.get_text()).strip() and id(artist) not in seen:
            seen.add(id(artist))
            texts.append((role, artist))

    if figure._suptitle is not None:
        add("suptitle", figure._suptitle)
    for text in figure.texts:
        add("figure text", text)
    for legend in figure.legends:
        for text in legend.get_texts():
            add("legend", text)
    for index, ax in enumerate(figure.axes):
        name = f"axes {index + 1}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        for title in (ax.title, ax._left_title, ax._right_title):
            add(f"{name} title", title)
        if not ax.axison:
            for text in ax.texts:
                add(f"{name} text", text)
            continue
        for axis, letter in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            low, high = sorted(axis.get_view_interval())
            labels = [tick.label1 for tick in axis.get_major_ticks()
                      if tick.label1.get_visible() and low - 1e-12 <= tick.get_loc() <= high + 1e-12]
            labels += [tick.label2 for tick in axis.get_major_ticks()
                       if tick.label2.get_visible() and low - 1e-12 <= tick.get_loc() <= high + 1e-12]
            shown = [label for label in labels if label.get_text().strip()]
            for label in shown:
                add(f"{name} {letter} tick", label)
            # a number needs its unit on the axis label; category names (methods, generations) speak for themselves
            numeric = any(_is_number(label.get_text()) for label in shown)
            shared = ax.get_shared_x_axes() if letter == "x" else ax.get_shared_y_axes()
            labelled_sibling = any((other.xaxis if letter == "x" else other.yaxis).label.get_text().strip()
                                   for other in shared.get_siblings(ax) if other is not ax)
            if numeric and not axis.label.get_text().strip() and not labelled_sibling:
                problems.append(f"{name}: the {letter} axis has tick labels but no label (say the unit or 'count')")
            add(f"{name} {letter} label", axis.label)
            if axis.get_scale() == "log" and any("^{" in label.get_text() for label in shown):
                if 1e-3 <= low and high <= 1e5:
                    problems.append(f"{name}: the log {letter} axis prints powers of ten; plain numbers fit "
                                    f"({low:g} to {high:g})")
        for text in ax.texts:
            add(f"{name} text", text)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            for text in legend.get_texts():
                add(f"{name} legend", text)
            add(f"{name} legend title", legend.get_title())

    problems += _small_text(figure, renderer, texts)
    problems += _legends_over_data(figure, renderer)
    boxes = [(role, artist, artist.get_window_extent(renderer)) for role, artist in texts]
    for i, (role_a, artist_a, a) in enumerate(boxes):
        for role_b, artist_b, b in boxes[i + 1:]:
            overlap_w = min(a.x1, b.x1) - max(a.x0, b.x0)
            overlap_h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if overlap_w > 1 and overlap_h > 1:
                problems.append(f"{role_a} {artist_a.get_text()!r} overlaps {role_b} {artist_b.get_text()!r}")
    return problems


@checked
def displayed_scale(figure) -> float:
    """How much a drawn figure shrinks when shown: its PNG (cropped tight, as Jupyter and the website show it) is
    DISPLAY_COLUMN_PX wide at most, so 1 when it fits and less for a wider figure."""
    figure.canvas.draw()
    width_px = figure.get_tightbbox(figure.canvas.get_renderer()).width * figure.dpi
    return min(1.0, DISPLAY_COLUMN_PX / width_px)


def _small_text(figure, renderer, texts) -> list[str]:
    """Texts whose size on screen, after the figure shrinks to the column, is under MIN_DISPLAY_PT."""
    scale = displayed_scale(figure)
    points_per_font_point = figure.dpi / 72 * scale * 0.75  # font pt -> image px -> shown CSS px -> CSS pt
    small: dict[tuple[str, float], list[str]] = {}
    for role, artist in texts:
        shown = artist.get_fontsize() * points_per_font_point
        if shown < MIN_DISPLAY_PT - 1e-9:
            kind = re.sub(r"^axes \d+( \(.*?\))? ", "", role)  # one line per kind of text, over all panels
            small.setdefault((kind, round(shown, 1)), []).append(str(artist.get_text()))
    width = DISPLAY_COLUMN_PX if scale < 1 else figure.get_tightbbox(renderer).width * figure.dpi
    return [f"{kind} text {names[0]!r}" + (f" and {len(names) - 1} more" if len(names) > 1 else "")
            + f" reads at {size:g} pt when the figure is shown {width:.0f} px wide (under {MIN_DISPLAY_PT:g} pt): "
            f"make the figure narrower or the text larger" for (kind, size), names in small.items()]


def _legends_over_data(figure, renderer) -> list[str]:
    """Legends whose box covers drawn data: a bar, a line, a marker or a filled area of any axes."""
    legends = [(f"figure legend {index + 1}", legend) for index, legend in enumerate(figure.legends)]
    legends += [(f"legend of axes {index + 1}", ax.get_legend()) for index, ax in enumerate(figure.axes)]
    problems = []
    for name, legend in legends:
        if legend is None or not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer).padded(-1)  # a shared edge is not an overlap
        covered = [what for index, ax in enumerate(figure.axes) for what in _data_under(ax, index, box, renderer)]
        if covered:
            problems.append(f"{name} is drawn over data ({', '.join(covered[:3])}): place it where there is none "
                            f"(loc='best', another corner, or outside the axes)")
    return problems


def _data_under(ax, index: int, box, renderer) -> list[str]:
    """Which data artists of one axes reach into a display-coordinate box (clipped to the axes, as drawn)."""
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Bbox

    region = Bbox.intersection(box, ax.bbox)
    if region is None or region.width <= 0 or region.height <= 0:
        return []
    found = []
    where = f"axes {index + 1}"
    for line in ax.lines:
        if not line.get_visible():
            continue
        path = line.get_transform().transform_path(line.get_path())
        drawn = line.get_linestyle() not in ("None", "none", " ", "") and path.intersects_bbox(region, filled=False)
        marked = line.get_marker() not in (None, "None", "none", " ", "") and _any_inside(region, path.vertices)
        if drawn or marked:
            found.append(f"{where} line {line.get_label()!r}")
    for patch in ax.patches:
        if not patch.get_visible():
            continue
        extent = patch.get_window_extent(renderer)
        if Bbox.intersection(extent, region) is not None and min(extent.x1, region.x1) - max(extent.x0, region.x0) > 1 \
                and min(extent.y1, region.y1) - max(extent.y0, region.y0) > 1:
            found.append(f"{where} {type(patch).__name__.lower()} {patch.get_label()!r}")
    for collection in ax.collections:
        if not collection.get_visible():
            continue
        if isinstance(collection, PathCollection):  # scatter points: their centres
            offsets = collection.get_offset_transform().transform(collection.get_offsets())
            if _any_inside(region, offsets):
                found.append(f"{where} points {collection.get_label()!r}")
            continue
        transform = collection.get_transform()
        filled = len(collection.get_facecolor()) > 0
        if any(transform.transform_path(path).intersects_bbox(region, filled=filled)
               for path in collection.get_paths()):
            found.append(f"{where} {type(collection).__name__} {collection.get_label()!r}")
    return found


def _any_inside(region, points) -> bool:
    """Whether any of these display-coordinate points lies inside the box."""
    import numpy as np

    points = np.asarray(points, dtype=float).reshape(-1, 2)
    return bool(((points[:, 0] >= region.x0) & (points[:, 0] <= region.x1)
                 & (points[:, 1] >= region.y0) & (points[:, 1] <= region.y1)).any())
