"""plotly figure builders for the course, one module per kind of figure. Every builder takes the
title from its caller, who states the finding measured on the reader's own run; builders only
draw: they never train or load (first used in 01_train)."""

from course_utils.plots.accuracy import (
    accuracy_budget_figure,
    accuracy_vs_rank,
    compression_quality_figure,
    fine_tune_figure,
    training_curve,
)
from course_utils.plots.digits import digit_grid
from course_utils.plots.spectra import (
    explained_variance_figure,
    normalized_spectra_figure,
    reconstruction_error_figure,
    scree_plot,
    svd_steps_figure,
    variance_vs_parameters_figure,
)
from course_utils.plots.storage import storage_figure
from course_utils.plots.style import COLORS, as_float32, log_axis, log_ticks, styled

__all__ = [
    "COLORS",
    "accuracy_budget_figure",
    "accuracy_vs_rank",
    "as_float32",
    "compression_quality_figure",
    "digit_grid",
    "explained_variance_figure",
    "fine_tune_figure",
    "log_axis",
    "log_ticks",
    "normalized_spectra_figure",
    "reconstruction_error_figure",
    "scree_plot",
    "storage_figure",
    "styled",
    "svd_steps_figure",
    "training_curve",
    "variance_vs_parameters_figure",
]
