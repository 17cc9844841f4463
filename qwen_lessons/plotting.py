"""The course's look for every lesson: plot settings and colours, set in code so no named matplotlib style is needed."""

from __future__ import annotations

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


def use_course_style() -> None:
    """Apply the course's matplotlib settings: Okabe-Ito colours, light grid, no top/right spines."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(COURSE_RC)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=list(OKABE_ITO))
