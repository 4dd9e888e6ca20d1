"""Power of a paired comparison before a run: the smallest difference n cases detect, or the cases a difference
needs, at two-sided level alpha with the given power.

Right/wrong scores: McNemar's test, with Connor's (1987) sample size for paired proportions,
    n = (z_{1-alpha/2} sqrt(psi) + z_power sqrt(psi - delta^2))^2 / delta^2,
where psi is the share of cases the two models answer differently (discordance) and delta the difference in
accuracy (|delta| <= psi). Continuous scores: the normal approximation n = ((z_{1-alpha/2} + z_power) sd / delta)^2
with sd the standard deviation of the per-case differences. The same formulas `scoring.stats` uses after a run.
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["DEFAULT_DISCORDANCE", "DEFAULT_DIFF_SD", "cases_for", "detectable"]

#: assumed when no stored run of these models says better: two models disagree on a quarter of the cases
DEFAULT_DISCORDANCE = 0.25
#: assumed standard deviation of per-case differences of a continuous metric in [0, 1] (ROUGE-L)
DEFAULT_DIFF_SD = 0.2

_N = NormalDist()


def _z(alpha: float, power: float) -> tuple[float, float]:
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError("alpha and power lie in (0, 1)")
    return _N.inv_cdf(1 - alpha / 2), _N.inv_cdf(power)


def cases_for(delta: float, *, binary: bool, spread: float, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Paired cases needed to detect a difference `delta` (`spread`: discordance for binary scores, else the sd of
    the differences). None when no number of cases can (a difference larger than the discordance allows)."""
    delta = abs(delta)
    za, zb = _z(alpha, power)
    if delta == 0 or spread <= 0:
        return None
    if binary:
        if delta > spread:
            return None
        need = (za * math.sqrt(spread) + zb * math.sqrt(max(spread - delta * delta, 0.0))) ** 2 / (delta * delta)
    else:
        need = ((za + zb) * spread / delta) ** 2
    return math.ceil(need - 1e-9)


def detectable(n: int, *, binary: bool, spread: float, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest difference `n` paired cases detect (None with no cases)."""
    if n <= 0 or spread <= 0:
        return None
    za, zb = _z(alpha, power)
    if not binary:
        return (za + zb) * spread / math.sqrt(n)
    lo, hi = 0.0, spread  # cases_for falls as delta grows: bisect for the delta that needs exactly n
    for _ in range(60):
        mid = (lo + hi) / 2
        need = cases_for(mid, binary=True, spread=spread, alpha=alpha, power=power)
        if need is not None and need <= n:
            hi = mid
        else:
            lo = mid
    need = cases_for(hi, binary=True, spread=spread, alpha=alpha, power=power)
    return hi if need is not None and need <= n else None
