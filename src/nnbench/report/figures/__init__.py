"""The report's figures (seaborn on matplotlib's Agg backend), one module per kind, and the process pool that
renders them: :mod:`.base` (the :class:`Figure` record, the theme, SVG/PNG rendering), :mod:`.heatmaps`, :mod:`.curves`,
:mod:`.grid`, :mod:`.ranks` (the grid's figures), :mod:`.studies` (the studies' figures), :mod:`.pool` (:class:`FigureTask`, :func:`render_figures`).

Every figure function takes plain tables / arrays (never the trainer) and returns a :class:`Figure`.
"""

from .base import MAX_CURVE_POINTS, PNG_DPI, Figure, hover, render_png, render_svg, safe_name, setup, tx
from .curves import curve_band, learning_curves
from .grid import decision_boundaries, main_effects, overfitting_gap
from .heatmaps import heatmap
from .pool import FIGURE_COST, FigureTask, fill, render_figures
from .ranks import cross_dataset_ranks
from .studies import (
    DIFF_FLOOR,
    STUDY,
    study_batch,
    study_depth,
    study_depth_outcome,
    study_gradcheck,
    study_schedules,
    study_search,
)

__all__ = [
    "DIFF_FLOOR",
    "FIGURE_COST",
    "MAX_CURVE_POINTS",
    "PNG_DPI",
    "STUDY",
    "Figure",
    "FigureTask",
    "cross_dataset_ranks",
    "curve_band",
    "decision_boundaries",
    "fill",
    "heatmap",
    "hover",
    "learning_curves",
    "main_effects",
    "overfitting_gap",
    "render_figures",
    "render_png",
    "render_svg",
    "safe_name",
    "setup",
    "study_batch",
    "study_depth",
    "study_depth_outcome",
    "study_gradcheck",
    "study_schedules",
    "study_search",
    "tx",
]
