"""How well each technique's model supports estimating a production prior from unlabelled texts (issue 25).

A model whose probabilities cannot be corrected is worth knowing about before it ships: ``imblab prior``, ``predict
--deploy-prior estimate`` and the server's live estimate all run EM (Saerens et al. 2002) on its outputs. For each
run, its test split is resampled (with replacement, within each class, from one seeded generator) to a few
minority shares — 2 %, the test split's own, 50 % — and EM, on the run's posteriors recalibrated on its validation
split (vector scaling, as Alexandari et al. 2020 recommend), estimates the minority share back without labels.
Reported: the mean absolute error in points over seeds and draws. Runs stored without validation predictions use
EM on the plain posteriors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..evaluation import em_prior, vector_scaling

if TYPE_CHECKING:
    from ._outcome import RunOutcome

__all__ = ["DRAWS", "prior_support"]

DRAWS = 10  # resampled test splits per run and share


def _shares(y: np.ndarray, minority: int) -> list[float]:
    own = float(np.mean(y == minority))
    return sorted({0.02, round(own, 4), 0.5})


def _run_errors(run: RunOutcome, minority: int, shares: list[float], rng: np.random.Generator) -> dict[float, float]:
    y, proba = run.y_true, run.proba_corrected
    k = proba.shape[1]
    prior = np.bincount(y, minlength=k) / len(y)
    base = prior
    if run.val_y is not None and run.val_proba_corrected is not None and len(np.unique(run.val_y)) == k:
        recalibration = vector_scaling(run.val_proba_corrected, run.val_y)
        proba = recalibration.apply(proba)
        base = recalibration.apply(run.val_proba_corrected).mean(axis=0)
    rows_of = [np.flatnonzero(y == c) for c in range(k)]
    errors = {}
    for share in shares:
        rest = prior.copy()
        rest[minority] = 0.0
        target = (1.0 - share) * rest / rest.sum()
        target[minority] = share
        found = []
        for _ in range(DRAWS):
            sizes = rng.multinomial(len(y), target)
            rows = np.concatenate([rng.choice(rows_of[c], n, replace=True) for c, n in enumerate(sizes) if n])
            found.append(abs(em_prior(proba[rows], base)[minority] - share))
        errors[share] = float(np.mean(found))
    return errors


def prior_support(runs: dict[str, list[RunOutcome]], minority: int) -> pd.DataFrame:
    """Per technique and minority share: EM's mean absolute error of the share, in points (``mae_points``)."""
    rows = []
    for technique, outcomes in runs.items():
        rng = np.random.default_rng(0)
        shares = _shares(outcomes[0].y_true, minority)
        per_run = [_run_errors(run, minority, shares, rng) for run in outcomes]
        for share in shares:
            rows.append({"technique": technique, "share": share,
                         "mae_points": 100 * float(np.mean([e[share] for e in per_run]))})
    return pd.DataFrame(rows, columns=["technique", "share", "mae_points"])
