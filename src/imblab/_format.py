"""Numbers as the report's tables and sentences show them: a real minus sign, a dash where there is no value."""

from __future__ import annotations

import numpy as np

__all__ = ["DASH", "MINUS", "number", "signed"]

MINUS = "\u2212"
DASH = "—"


def number(x: float | None, digits: int = 3) -> str:
    """``x`` with ``digits`` decimals and a real minus sign; ``—`` for None or a non-finite value."""
    if x is None or not np.isfinite(x):
        return DASH
    return f"{x:.{digits}f}".replace("-", MINUS)


def signed(x: float, digits: int) -> str:
    """``x`` with an explicit sign (``+1.2``, ``−0.3``); ``—`` for a non-finite value."""
    if not np.isfinite(x):
        return DASH
    return ("+" if x >= 0 else MINUS) + f"{abs(x):.{digits}f}"
