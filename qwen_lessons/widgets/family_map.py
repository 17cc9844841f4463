"""Lesson 1 (01_family_map): the catalog explorer. Filters drive a table and a scatter plot.

``explorer_selection`` and ``selection_html`` are the pure steps (widget values in, what is shown out);
``build_explorer`` only lays out the controls and wires them with ``qwen_lessons.ui.wire``.
"""

from __future__ import annotations

from types import SimpleNamespace

import html

import pandas as pd

from qwen_lessons import ui
from qwen_lessons.catalog import UNVERIFIED, allowed_values, filter_catalog, generations, lines, load_catalog
from qwen_lessons.lessons.family_map import decimal_year, line_styles
from qwen_lessons.plotting import log_scale
from qwen_lessons.ui import TABLE_TOP_ROWS, guarded, show, table_html, wire
from qwen_lessons.validation import checked
from qwen_lessons.language import figure_text
from qwen_lessons.language import translate as _

ANY = "any"


def _size_stops() -> tuple[float, ...]:
    """0, 0.5 and powers of two of billions, up to the first that holds the catalog's largest checkpoint, so every
    range the slider offers means what it says (the top stop is a real bound, not "and above")."""
    largest = float(load_catalog()["params_b"].max())
    stops = [0, 0.5, 1]
    while stops[-1] < largest:
        stops.append(stops[-1] * 2)
    return tuple(stops)


SIZE_STOPS = _size_stops()


CONTEXT_STOPS = {"any": 0, "≥ 8K": 8192, "≥ 32K": 32768, "≥ 128K": 131072, "≥ 256K": 262144, "≥ 1M": 1_000_000}


TABLE_COLUMNS = ("model_id", "generation", "line", "variant", "params_b", "active_params_b", "context_length",
                 "extended_context", "license", "release")


@checked
def selection_canvas(table: pd.DataFrame | None = None) -> SimpleNamespace:
    """A reusable figure for the explorer: fixed axes and one scatter per line, so a redraw only moves points.

    Returns a namespace with .render(rows) -> PNG bytes and .figure. Axis ranges cover the whole catalog, so
    the picture keeps its scale while filters change.
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator

    table = load_catalog() if table is None else table
    years = decimal_year(table["release"])
    figure = Figure(figsize=(6.4, 3.0), dpi=100)  # shown at its own pixel size: sharp, never upscaled
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0.1, 0.17, 0.66, 0.78))  # room on the right for the legend at 8 pt
    log_scale(ax, "y")
    ax.set_ylim(0.3, 1.5 * float(table["params_b"].max()))
    ax.set_xlim(np.floor(np.nanmin(years)), np.ceil(np.nanmax(years)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_yticks([1, 10, 100, 1000], ["1", "10", "100", "1000"])
    whole_years = range(int(np.floor(np.nanmin(years))), int(np.ceil(np.nanmax(years))) + 1)
    ax.set_xticks(list(whole_years), [str(y) for y in whole_years])
    ax.set_xlabel(figure_text("release (year)"))
    ax.set_ylabel(figure_text("parameters (billions, log)"))
    points = {line: ax.scatter([], [], s=22, color=colour, marker=marker, label=line)
              for line, (colour, marker) in line_styles().items()}
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.02), fontsize=8, labelspacing=0.2, borderaxespad=0.2,
              handletextpad=0.3)  # 8 pt: the PNG is shown at its own size
    # Draw axes, ticks and legend once; each update restores that picture and draws only the points (blitting).
    figure.canvas.draw()
    background = figure.canvas.copy_from_bbox(figure.bbox)

    def render(rows: pd.DataFrame) -> bytes:
        import io

        from PIL import Image

        sized = rows[rows["params_b"].notna() & rows["release"].notna()]  # an undated checkpoint has no x
        x, y = decimal_year(sized["release"]), sized["params_b"].to_numpy(dtype=float)
        lines = sized["line"].to_numpy()
        figure.canvas.restore_region(background)
        for line, scatter in points.items():
            mask = lines == line
            scatter.set_offsets(np.column_stack([x[mask], y[mask]]) if mask.any() else np.empty((0, 2)))
            ax.draw_artist(scatter)
        image = Image.frombuffer("RGBA", figure.canvas.get_width_height(), figure.canvas.buffer_rgba())
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    return SimpleNamespace(render=render, figure=figure, axes=ax)


@checked
def selection_png(rows: pd.DataFrame, table: pd.DataFrame | None = None) -> bytes:
    """Release year vs total size (log) of the selected rows, coloured by line, as PNG bytes."""
    return selection_canvas(table).render(rows)


@checked
def explorer_selection(line=ANY, generation=ANY, variant=ANY, license=ANY, size_range=(0, SIZE_STOPS[-1]), min_context="any",
                       table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The explorer's pure step: turn widget values into a filtered catalog."""
    if min_context not in CONTEXT_STOPS:
        raise ValueError(f"min_context must be one of {list(CONTEXT_STOPS)}, got {min_context!r}")
    if not isinstance(size_range, (tuple, list)) or len(size_range) != 2:
        raise ValueError(f"size_range must be a (low, high) pair of billions from {list(SIZE_STOPS)}, got {size_range!r}")
    low, high = size_range
    sizes = {}
    if low > 0:
        sizes["min_params_b"] = low
    if high < SIZE_STOPS[-1]:  # the top stop holds every checkpoint; leaving it out keeps rows of unknown size
        sizes["max_params_b"] = high
    return filter_catalog(
        table,
        line=None if line == ANY else line,
        generation=None if generation == ANY else generation,
        variant=None if variant == ANY else variant,
        license=None if license == ANY else license,
        min_context=CONTEXT_STOPS[min_context] or None,
        **sizes,
    )


@checked
def selection_html(rows: pd.DataFrame, top: int = TABLE_TOP_ROWS) -> str:
    """The selected checkpoints as a compact table (the first rows, then all on request), or a friendly message."""
    if rows.empty:
        return '<p class="qwen-empty">' + html.escape(_('No checkpoint matches these filters. Try widening the size '
                                                       'range or setting one of the filters back to "any".')) + "</p>"
    shown = rows.loc[:, list(TABLE_COLUMNS)]
    return "<p>" + _("<b>{count}</b> checkpoint(s) match.").format(count=len(rows)) + "</p>" + table_html(
        shown, top=top, caption="Matching checkpoints", sort=["generation", "params_b", "model_id"], decimals={"params_b": None, "active_params_b": None},
        missing="not published by the source (or, for active parameters, a dense model: all are active)")


@checked
def build_explorer():
    """Filters (line, generation, state, license, size, context) driving a table and a plot; returns a namespace."""
    import ipywidgets as widgets


    table = load_catalog()
    style = {"description_width": "110px"}
    line = widgets.Dropdown(options=[ANY, *lines()], value=ANY, description="Line", style=style)
    generation = widgets.Dropdown(options=[ANY, *generations(table)], value=ANY, description="Generation", style=style)
    variant = widgets.Dropdown(options=[ANY, *allowed_values("variant"), UNVERIFIED], value=ANY,
                               description="Training state", style=style)
    license_ = widgets.Dropdown(options=[ANY, *allowed_values("license"), UNVERIFIED], value=ANY, description="License",
                                style=style)
    size = widgets.SelectionRangeSlider(options=list(SIZE_STOPS), index=(0, len(SIZE_STOPS) - 1),
                                        description="Size (B)", style=style)
    context = widgets.Dropdown(options=list(CONTEXT_STOPS), value="any", description="Context", style=style)
    result = ui.html_output("qwen-explorer-table")
    canvas = selection_canvas(table)
    plot = ui.picture("qwen-explorer-plot", width_px=canvas.figure.canvas.get_width_height()[0],
                      alt="the selected checkpoints: parameters (billions, log scale) against release year, one marker per line")

    def render() -> str:
        rows = explorer_selection(line.value, generation.value, variant.value, license_.value, size.value,
                                  context.value, table=table)
        plot.value = canvas.render(rows)
        show(plot, True)
        return selection_html(rows)

    def update(_change=None):
        result.value = guarded(render)

    controls = (line, generation, variant, license_, size, context)
    wire(controls, update)
    box = widgets.VBox([ui.row([widgets.VBox(list(controls[:3])), widgets.VBox(list(controls[3:]))]),
                        plot, result])
    return SimpleNamespace(line=line, generation=generation, variant=variant, license=license_, size=size,
                           context=context, result=result, plot=plot, box=box, update=update)
