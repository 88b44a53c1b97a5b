"""Statistics of `etalage report` beyond the fixed-horizon interval, in plain `math`.

- The sample-ratio test: Pearson's chi-square of the visitors per group against the shares the
  groups were drawn with, and its p-value (k groups: k - 1 degrees of freedom).
- An always-valid confidence sequence for a difference of means (here: of conversion rates),
  the normal-mixture boundary GrowthBook runs when sequential testing is on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SRM_P_VALUE = 0.001  # below this, the groups were not split the way they were drawn
DEFAULT_TUNING = 5000  # GrowthBook's default "estimated sample size" for sequential testing


def chi2_sf(x: float, dof: int) -> float:
    """P(X >= x) for a chi-square variable with `dof` (a positive integer) degrees of freedom.

    Closed forms of the regularized upper incomplete gamma function Q(dof / 2, x / 2): for even
    dof ``exp(-y) sum_{i < dof/2} y^i / i!``; for odd dof ``erfc(sqrt y)`` plus
    ``exp(-y) sum_{i=1}^{(dof-1)/2} y^(i - 1/2) / Gamma(i + 1/2)``, with ``y = x / 2``. For one
    degree of freedom that is ``erfc(sqrt(x / 2))``.
    """
    if dof < 1:
        raise ValueError(f"degrees of freedom must be a positive integer, not {dof}")
    if x <= 0:
        return 1.0
    y = x / 2
    if dof % 2 == 0:
        term = total = math.exp(-y)
        for i in range(1, dof // 2):
            term *= y / i
            total += term
        return min(total, 1.0)
    total = math.erfc(math.sqrt(y))
    term = math.exp(-y) * math.sqrt(y) / math.gamma(1.5)
    for i in range(1, (dof + 1) // 2):
        total += term
        term *= y / (i + 0.5)
    return min(total, 1.0)


@dataclass(frozen=True)
class SampleRatio:
    """Visitors per group against the shares they were drawn with, and Pearson's chi-square."""

    observed: tuple[int, ...]
    shares: tuple[float, ...]
    chi2: float
    p_value: float

    @property
    def mismatch(self) -> bool:
        """True when the split is too unlikely to be chance (p below 0.001)."""
        return self.p_value < SRM_P_VALUE


def sample_ratio_test(observed: Sequence[int], shares: Sequence[float]) -> SampleRatio:
    """Pearson's chi-square goodness of fit of the group sizes to the drawn shares.

    ``chi2 = sum (o - e)^2 / e`` with ``e = share * total``; the shares are normalized to sum
    to 1. Raises ValueError unless there are two or more groups with positive shares.
    """
    if len(observed) != len(shares) or len(observed) < 2:
        raise ValueError("need one share per group and at least two groups")
    if any(share <= 0 for share in shares):
        raise ValueError("every group's share must be positive")
    total, weight = sum(observed), sum(shares)
    if not total:
        return SampleRatio(tuple(observed), tuple(shares), 0.0, 1.0)
    expected = [total * share / weight for share in shares]
    chi2 = sum((o - e) ** 2 / e for o, e in zip(observed, expected, strict=True))
    return SampleRatio(tuple(observed), tuple(shares), chi2, chi2_sf(chi2, len(observed) - 1))


@dataclass(frozen=True)
class ConfidenceSequence:
    """An always-valid (1 - alpha) confidence sequence: honest however often it is looked at.

    `tuning` is the total sample size (both groups) where the sequence is tightest relative
    to the fixed-horizon interval; set it to where decisions are usually taken, and keep it
    fixed for the life of an experiment.
    """

    tuning: float = DEFAULT_TUNING
    alpha: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1, not {self.alpha}")
        if not self.tuning > 0:
            raise ValueError(f"the tuning sample size must be positive, not {self.tuning}")

    @property
    def rho_squared(self) -> float:
        """The mixing parameter: ``rho^2 = (2 ln(1/alpha) + ln(1 + 2 ln(1/alpha))) / tuning``."""
        log_term = 2 * math.log(1 / self.alpha)
        return (log_term + math.log(1 + log_term)) / self.tuning

    def halfwidth(self, variance: float, n: int) -> float:
        """Half-width at `n` observations of an estimate whose variance is `variance`.

        The two-sided normal-mixture boundary (Howard et al. 2021, "Time-uniform, nonparametric,
        nonasymptotic confidence sequences", arXiv:1810.08240; as an asymptotic confidence
        sequence in Waudby-Smith et al., arXiv:2103.06476, eq. 9, with rho from their eq. 161),
        which is what GrowthBook documents for sequential testing
        (https://docs.growthbook.io/statistics/sequential, "GAVI" confidence sequences):

            B = sqrt(s2) * sqrt(2 (n rho^2 + 1) / (n rho)^2 * ln(sqrt(n rho^2 + 1) / alpha))

        where ``s2 = variance * n`` is the per-observation variance and ``n`` the sample size of
        both groups together. GrowthBook's page writes the same boundary as
        ``(1/N) sqrt((s2 N + r) ln((s2 N + r) / (r alpha^2)))`` with ``r = s2 S / c`` (S: the
        tuning size, c: the numerator of `rho_squared`); the page prints ``2 S`` and
        ``r + alpha^2`` there, but it is ``r alpha^2`` in Howard et al., and ``S`` (not ``2 S``)
        is the r that makes the sequence tightest at ``N = S``, as the page says it should be.
        """
        if n < 1 or variance <= 0:
            return 0.0
        n_rho2 = n * self.rho_squared  # s2 / (n rho)^2 = variance / (n rho^2)
        spread = 2 * (n_rho2 + 1) / n_rho2 * math.log(math.sqrt(n_rho2 + 1) / self.alpha)
        return math.sqrt(variance * spread)
