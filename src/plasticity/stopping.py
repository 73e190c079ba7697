"""GCG's stopping rule (PROTOCOL.md section 8): after each growth stage, fit a logistic curve of validation
accuracy against log10(density), extrapolate it to full density, and stop once the current density's
predicted accuracy is within epsilon of that; when the fit fails, stop after `fallback_stages` consecutive
stages that each gained less than `fallback_gain`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit


def logistic(x, low, high, slope, midpoint):
    return low + (high - low) / (1.0 + np.exp(-slope * (x - midpoint)))


@dataclass(frozen=True)
class Decision:
    stop: bool
    reason: str  # "fit": within epsilon of the extrapolation | "fallback" | "continue" | "too few stages"
    parameters: tuple[float, float, float, float] | None  # the logistic's (low, high, slope, midpoint)
    predicted_full: float | None  # the fit's accuracy at density 1


# Bounds of (low, high, slope, midpoint): accuracies are fractions, the curve rises with density, and its
# midpoint lies between density 1e-10 and 100 (log10).
BOUNDS = ([0.0, 0.0, 1e-3, -10.0], [1.0, 1.0, 100.0, 2.0])


def fit_logistic(densities, accuracies) -> tuple[float, float, float, float] | None:
    """Least-squares logistic in log10(density), within BOUNDS; None when the fit fails: no convergence, a
    non-finite parameter, or a curve that does not rise (high - low below 1e-6)."""
    x, y = np.log10(np.asarray(densities, float)), np.asarray(accuracies, float)
    start = np.clip((y.min(), y.max(), 4.0 / max(np.ptp(x), 1e-6), float(np.median(x))), *BOUNDS)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # covariance: exact fits with 4 points have none
            parameters, _ = curve_fit(logistic, x, y, p0=start, bounds=BOUNDS, maxfev=10_000)
    except (RuntimeError, ValueError):
        return None
    low, high, slope, midpoint = (float(p) for p in parameters)
    if not np.all(np.isfinite(parameters)) or high - low < 1e-6:
        return None
    return low, high, slope, midpoint


def decide(densities, accuracies, epsilon: float, min_stages: int, fallback_gain: float,
           fallback_stages: int) -> Decision:
    """Whether growth stops after the last of these stages (densities rising, validation accuracies as
    fractions; epsilon and fallback_gain in the same units)."""
    if len(densities) < min_stages:
        return Decision(False, "too few stages", None, None)
    parameters = fit_logistic(densities, accuracies)
    if parameters is not None:
        predicted_full = float(logistic(0.0, *parameters))
        current = float(logistic(np.log10(densities[-1]), *parameters))
        stop = current >= predicted_full - epsilon
        return Decision(stop, "fit" if stop else "continue", parameters, predicted_full)
    gains = np.diff(np.asarray(accuracies, float))[-fallback_stages:]
    stop = len(gains) == fallback_stages and bool(np.all(gains < fallback_gain))
    return Decision(stop, "fallback" if stop else "continue", None, None)
