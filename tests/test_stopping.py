"""GCG's stopping rule (plasticity.stopping) on synthetic accuracy curves."""

import numpy as np

from plasticity.stopping import decide, fit_logistic, logistic

RULE = dict(epsilon=0.005, min_stages=4, fallback_gain=0.001, fallback_stages=2)
TRUE = (0.10, 0.90, 3.0, -1.5)  # low, high, slope, midpoint in log10(density)


def stages(count: int) -> list[float]:
    return [0.02 * 1.25 ** s for s in range(count)]


def first_stop(accuracy_of) -> tuple[int, str] | None:
    for count in range(1, 25):
        densities = stages(count)
        decision = decide(densities, [accuracy_of(d) for d in densities], **RULE)
        if decision.stop:
            return count, decision.reason
    return None


def test_stops_where_the_logistic_comes_within_epsilon_of_its_full_density_value():
    curve = lambda d: float(logistic(np.log10(d), *TRUE))  # noqa: E731
    full = curve(1.0)
    expected = next(i + 1 for i, d in enumerate(stages(25)) if curve(d) >= full - RULE["epsilon"])
    assert first_stop(curve) == (expected, "fit")
    densities = stages(expected)
    assert np.allclose(fit_logistic(densities, [curve(d) for d in densities]), TRUE, atol=1e-4)


def test_needs_the_minimum_number_of_stages():
    decision = decide(stages(3), [0.5, 0.5, 0.5], **RULE)
    assert not decision.stop and decision.reason == "too few stages"


def test_falls_back_to_two_stages_without_gain_when_the_fit_fails():
    # Accuracy that falls with density: no rising logistic fits, so the fallback decides.
    falling = [0.80, 0.79, 0.78, 0.77]
    assert fit_logistic(stages(4), falling) is None
    decision = decide(stages(4), falling, **RULE)
    assert decision.stop and decision.reason == "fallback" and decision.parameters is None
    # A failed fit with a stage that still gained enough goes on.
    still_gaining = [0.80, 0.70, 0.60, 0.65]
    decision = decide(stages(4), still_gaining, **RULE)
    assert fit_logistic(stages(4), still_gaining) is None and not decision.stop and decision.reason == "continue"
