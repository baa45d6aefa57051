"""Evaluation: one implementation of each metric, its metadata, the evaluation a run stores, and costs.

* :mod:`._catalogue` — names, titles, directions ("higher is better") and table order of every metric.
* :mod:`._metrics` — the metric functions (decisions, probabilities, ranking), vectorised over example
  weights so that the comparison's bootstrap calls the very same code; tested against scikit-learn.
* :mod:`._calibration` — the expected calibration error and reliability-diagram data, in the one binning.
* :mod:`._evaluate` — :func:`evaluate` (one split, as ``metrics.json`` stores it) and :func:`flatten_metrics`.
* :mod:`._costs`, :mod:`._cost_tuning`, :mod:`._cost_curves` — costs and decisions: Bayes decisions,
  expected cost, the validation-tuned rule, cost curves.
* :mod:`._cost_setting` — :func:`resolve_costs`: ``--costs``/``--deploy-prior`` (or a stored model's) as one
  :class:`CostSetting` that every command decides with.

Nothing here imports scikit-learn (the classification report and the precision-recall curve are filled from
the metric functions above, in scikit-learn's formats; the tests compare them with scikit-learn's), so reading
a finished study and writing its report stay fast.
"""

from ._calibration import expected_calibration_error, reliability_curve
from ._catalogue import (
    AGGREGATES,
    METRICS,
    PER_LABEL,
    higher_is_better,
    is_proportion,
    metric_info,
    metric_order,
    metric_title,
    normalise_metric,
    per_label_metrics,
)
from ._cost_curves import (
    Cheapest,
    CostCurve,
    cheapest,
    cheapest_sentences,
    cost_curve,
    cost_ratio,
    one_error_tolerance,
    probability_cost,
)
from ._cost_setting import CostDecisions, CostSetting, RunCosts, resolve_costs, run_costs
from ._cost_tuning import CostRule, tune_cost_threshold
from ._costs import Costs, bayes_decisions, cost_from_confusion, expected_cost, parse_prior
from ._prior import class_prior, correct_prior, effective_prior, normalise
from ._prior_shift import (PRIOR_METHODS, EMCalibration, PriorEstimate, Recalibration, bbse_prior, em_calibration,
                           em_prior, estimate_prior_from_outputs, naive_prior, vector_scaling)
from ._evaluate import classification_report, classification_report_text, evaluate, flatten_metrics
from ._metrics import (
    class_f1,
    macro_f1,
    DEFAULT_BINS,
    all_metrics,
    calibration_bins,
    confusion_matrices,
    confusion_metrics,
    example_terms,
    metrics_from_sums,
    precision_recall_curve,
    probability_metrics,
    ranking_metrics,
)

__all__ = [
    "AGGREGATES",
    "class_f1",
    "class_prior",
    "correct_prior",
    "PRIOR_METHODS",
    "PriorEstimate",
    "EMCalibration",
    "Recalibration",
    "bbse_prior",
    "em_calibration",
    "em_prior",
    "vector_scaling",
    "estimate_prior_from_outputs",
    "naive_prior",
    "effective_prior",
    "macro_f1",
    "normalise",
    "Cheapest",
    "CostCurve",
    "CostDecisions",
    "CostRule",
    "CostSetting",
    "Costs",
    "DEFAULT_BINS",
    "METRICS",
    "PER_LABEL",
    "RunCosts",
    "all_metrics",
    "bayes_decisions",
    "calibration_bins",
    "cheapest",
    "cheapest_sentences",
    "classification_report",
    "classification_report_text",
    "confusion_matrices",
    "confusion_metrics",
    "cost_curve",
    "cost_from_confusion",
    "cost_ratio",
    "evaluate",
    "example_terms",
    "expected_calibration_error",
    "expected_cost",
    "flatten_metrics",
    "higher_is_better",
    "is_proportion",
    "metric_info",
    "metric_order",
    "metric_title",
    "metrics_from_sums",
    "normalise_metric",
    "one_error_tolerance",
    "parse_prior",
    "per_label_metrics",
    "precision_recall_curve",
    "probability_cost",
    "probability_metrics",
    "ranking_metrics",
    "reliability_curve",
    "resolve_costs",
    "run_costs",
    "tune_cost_threshold",
]
