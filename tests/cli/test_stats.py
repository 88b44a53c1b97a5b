"""The report's sample-ratio test and always-valid intervals, against scipy and hand-worked
references computed independently here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from etalage.cli.stats import ConfidenceSequence, chi2_sf, sample_ratio_test

Z_95 = stats.norm.ppf(0.975)

# -- the sample-ratio test --------------------------------------------------------------------


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 8, 9])
@pytest.mark.parametrize("x", [0.0, 0.01, 0.5, 1.0, 3.84, 10.0, 42.0, 166.7])
def test_chi2_survival_matches_scipy(x, dof):
    assert chi2_sf(x, dof) == pytest.approx(stats.chi2.sf(x, dof), rel=1e-9, abs=1e-300)


def test_chi2_survival_with_one_degree_of_freedom_is_erfc():
    assert chi2_sf(6.635, 1) == pytest.approx(math.erfc(math.sqrt(6.635 / 2)), rel=1e-15)
    assert chi2_sf(6.635, 1) == pytest.approx(0.01, abs=1e-5)  # the textbook 1% critical value


@pytest.mark.parametrize(
    ("observed", "shares"),
    [
        ((1200, 300), (0.9, 0.1)),
        ((905, 95), (0.9, 0.1)),
        ((5010, 4990), (0.5, 0.5)),
        ((480, 260, 260), (0.5, 0.25, 0.25)),  # a variant is one more group
        ((1, 0), (0.9, 0.1)),
    ],
)
def test_sample_ratio_test_matches_scipy_chisquare(observed, shares):
    srm = sample_ratio_test(observed, shares)
    expected = [sum(observed) * share for share in shares]
    reference = stats.chisquare(observed, expected)
    assert srm.chi2 == pytest.approx(reference.statistic, rel=1e-12)
    assert srm.p_value == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-300)


def test_a_mismatch_is_flagged_below_p_one_in_a_thousand():
    # 1,200 vs 300 where 90:10 was drawn: expected 1,350 vs 150, chi2 = 16.67 + 150 = 166.67
    srm = sample_ratio_test((1200, 300), (0.9, 0.1))
    assert srm.chi2 == pytest.approx(150**2 / 1350 + 150**2 / 150)
    assert srm.mismatch
    assert not sample_ratio_test((905, 95), (0.9, 0.1)).mismatch  # p = 0.09: chance


def test_no_visitors_is_no_evidence_of_a_mismatch():
    srm = sample_ratio_test((0, 0), (0.9, 0.1))
    assert (srm.chi2, srm.p_value, srm.mismatch) == (0.0, 1.0, False)


@pytest.mark.parametrize(
    ("observed", "shares"), [((10,), (1.0,)), ((10, 5), (0.9,)), ((10, 5), (1.0, 0.0))]
)
def test_sample_ratio_test_rejects_malformed_groups(observed, shares):
    with pytest.raises(ValueError):
        sample_ratio_test(observed, shares)


# -- the always-valid confidence sequence -----------------------------------------------------


def msprt_halfwidth(variance, n, tuning=5000, alpha=0.05):
    """The mixture-SPRT form of the same boundary, written independently: for an estimate with
    standard error s (s^2 = `variance`) and a normal mixing distribution of variance tau^2,
    half-width = sqrt(s^2 (s^2 + tau^2) / tau^2 * (2 ln(1/alpha) + ln((s^2 + tau^2) / s^2))),
    with tau^2 = (per-observation variance) * rho^2 and GrowthBook's rho^2 for `tuning`."""
    log_term = -2 * np.log(alpha)
    rho2 = (log_term + np.log1p(log_term)) / tuning
    s2 = np.float64(variance)
    tau2 = variance * n * rho2
    return float(np.sqrt(s2 * (s2 + tau2) / tau2 * (log_term + np.log((s2 + tau2) / s2))))


def growthbook_doc_halfwidth(variance, n, tuning=5000, alpha=0.05):
    """GrowthBook's documented form: B = (1/N) sqrt((v N + r) ln((v N + r) / (r alpha^2))),
    v the per-observation variance, r = v S / (2 ln(1/alpha) + ln(1 + 2 ln(1/alpha)))."""
    v = variance * n
    r = v * tuning / (2 * np.log(1 / alpha) + np.log(1 + 2 * np.log(1 / alpha)))
    return float(np.sqrt((v * n + r) * np.log((v * n + r) / (r * alpha**2))) / n)


def test_confidence_sequence_hand_worked():
    # 150/1000 vs 100/1000: s^2 = .15*.85/1000 + .10*.90/1000 = 0.0002175, N = 2000, S = 5000
    # c = 2 ln 20 + ln(1 + 2 ln 20) = 5.991465 + 1.944690 = 7.936155; rho^2 = c / S = 0.00158723
    # N rho^2 = 3.174462; B^2 = s^2 (N rho^2 + 1) / (N rho^2) ln((N rho^2 + 1) / alpha^2)
    #   = 0.0002175 * 1.315017 * ln(1669.785) = 0.0002175 * 1.315017 * 7.420451 = 0.00212236
    # B = 0.046069, against the fixed-horizon 1.959964 * 0.0147479 = 0.028905
    half = ConfidenceSequence().halfwidth(0.0002175, 2000)
    assert half == pytest.approx(0.046069, abs=1e-6)


@pytest.mark.parametrize("n", [10, 200, 2000, 5000, 50_000, 10**7])
@pytest.mark.parametrize("variance", [1e-6, 0.0002175, 0.01])
@pytest.mark.parametrize("tuning", [500, 5000, 100_000])
def test_confidence_sequence_matches_the_msprt_and_documented_forms(variance, n, tuning):
    half = ConfidenceSequence(tuning=tuning).halfwidth(variance, n)
    assert half == pytest.approx(msprt_halfwidth(variance, n, tuning), rel=1e-10)
    assert half == pytest.approx(growthbook_doc_halfwidth(variance, n, tuning), rel=1e-10)


@pytest.mark.parametrize("n", [100, 1000, 5000, 20_000, 10**6])
def test_a_confidence_sequence_is_wider_than_the_fixed_horizon_interval(n):
    variance = 0.2 / n  # an estimate whose variance shrinks as 1/n
    assert ConfidenceSequence().halfwidth(variance, n) > Z_95 * math.sqrt(variance)


def test_a_confidence_sequence_shrinks_as_visitors_accrue():
    widths = [ConfidenceSequence().halfwidth(0.2 / n, n) for n in (100, 1000, 5000, 20_000)]
    assert widths == sorted(widths, reverse=True)


def test_the_sequence_is_closest_to_the_fixed_interval_near_the_tuning_size():
    def ratio(n):
        return ConfidenceSequence(tuning=5000).halfwidth(0.2 / n, n) / (Z_95 * math.sqrt(0.2 / n))

    best = min(range(500, 50_001, 500), key=ratio)
    assert 4000 <= best <= 6000


def test_peeking_every_day_keeps_the_false_positive_rate_of_the_sequence_below_alpha():
    """A/A experiments read at 20 looks: the fixed-horizon interval excludes zero at some look
    far more often than 5%, the confidence sequence less often than 5%."""
    rng = np.random.default_rng(13)
    experiments, looks, step, rate = 400, 20, 250, 0.1
    treated = rng.binomial(step, rate, size=(experiments, looks)).cumsum(axis=1)
    holdout = rng.binomial(step, rate, size=(experiments, looks)).cumsum(axis=1)
    fixed = sequential = 0
    for t_row, h_row in zip(treated, holdout, strict=True):
        fixed_hit = sequence_hit = False
        for look in range(looks):
            n = step * (look + 1)
            pt, ph = t_row[look] / n, h_row[look] / n
            variance = pt * (1 - pt) / n + ph * (1 - ph) / n
            diff = abs(pt - ph)
            fixed_hit |= diff > Z_95 * math.sqrt(variance)
            sequence_hit |= diff > ConfidenceSequence().halfwidth(variance, 2 * n)
        fixed += fixed_hit
        sequential += sequence_hit
    assert fixed / experiments > 0.10
    assert sequential / experiments < 0.05


@pytest.mark.parametrize("settings", [{"alpha": 0}, {"alpha": 1}, {"tuning": 0}])
def test_confidence_sequence_settings_are_checked(settings):
    with pytest.raises(ValueError):
        ConfidenceSequence(**settings)
