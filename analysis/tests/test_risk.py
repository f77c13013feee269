"""Risk maths against a plain-Python reference computed from the same prices (to 0.5%)."""

import math
import random
import statistics

import pytest

from analysis import risk


def _prices(seed=1, days=400, symbols=("AAA", "BBB", "SPY")):
    rnd = random.Random(seed)
    out = {s: {} for s in symbols}
    level = {s: 100.0 for s in symbols}
    for d in range(days):
        date = f"2025-{1 + d // 28 % 12:02d}-{1 + d % 28:02d}-{d:04d}"
        market = rnd.gauss(0.0004, 0.01)
        for i, s in enumerate(symbols):
            level[s] *= 1 + market * (0.8 + 0.4 * i) + rnd.gauss(0.0002, 0.008)
            out[s][date] = level[s]
    return out


def _ref_returns(series):
    dates = sorted(series)
    return [series[b] / series[a] - 1 for a, b in zip(dates, dates[1:])]


def _close(a, b, rel=0.005):
    return abs(a - b) <= rel * max(abs(b), 1e-12)


def test_risk_assessment_matches_a_plain_python_reference():
    prices = _prices()
    result = risk.analyse(analysis_type="risk_assessment", symbols=["AAA", "BBB"], weights=[3, 1],
                          prices=prices, rf=0.02)
    ra, rb, rs = (_ref_returns(prices[s]) for s in ("AAA", "BBB", "SPY"))
    rp = [0.75 * a + 0.25 * b for a, b in zip(ra, rb)]
    n = len(rp)
    growth = math.prod(1 + x for x in rp)
    ann = growth ** (252 / n) - 1
    vol = statistics.stdev(rp) * math.sqrt(252)
    excess = [x - 0.02 / 252 for x in rp]
    sharpe = statistics.mean(excess) / statistics.stdev(rp) * math.sqrt(252)
    downside = math.sqrt(sum(min(x, 0) ** 2 for x in excess) / n)
    sortino = statistics.mean(excess) / downside * math.sqrt(252)
    wealth, peak, mdd = 1.0, 1.0, 0.0
    for x in rp:
        wealth *= 1 + x
        peak = max(peak, wealth)
        mdd = min(mdd, wealth / peak - 1)
    mp, ms = statistics.mean(rp), statistics.mean(rs)
    cov = sum((p - mp) * (s - ms) for p, s in zip(rp, rs)) / (n - 1)
    beta = cov / statistics.variance(rs)
    assert result["days"] == n
    assert _close(result["annualised_return"], ann)
    assert _close(result["annualised_volatility"], vol)
    assert _close(result["sharpe_ratio"], sharpe)
    assert _close(result["sortino_ratio"], sortino)
    assert _close(result["max_drawdown"], mdd)
    assert _close(result["beta"], beta)
    assert result["weights"] == [0.75, 0.25]
    assert _close(result["concentration"]["hhi"], 0.625)
    assert result["benchmark"] == "SPY"


def test_value_at_risk_and_expected_shortfall_on_a_known_distribution():
    import numpy as np

    r = np.linspace(-0.05, 0.05, 101)  # the 5th percentile is the 6th smallest: -0.045
    var, es = risk.historical_var_es(r)
    assert var == pytest.approx(0.045)
    assert es == pytest.approx(0.0475)  # mean of -0.050 ... -0.045


def test_max_drawdown_of_a_rise_fall_and_recovery():
    import numpy as np

    r = np.array([0.10, -0.50, 0.20, 1.0])  # wealth 1.1, 0.55, 0.66, 1.32
    assert risk.max_drawdown(r) == pytest.approx(-0.5)


def test_constant_growth_has_the_expected_annual_return_and_no_volatility():
    import numpy as np

    r = np.full(252, 0.001)
    assert risk.annualised_return(r) == pytest.approx(1.001 ** 252 - 1)
    assert risk.annualised_volatility(r) == pytest.approx(0.0)
    assert risk.sharpe_ratio(r) is None


def test_correlation_of_a_series_with_itself_is_one():
    prices = _prices()
    prices["CCC"] = dict(prices["AAA"])
    result = risk.analyse(analysis_type="correlation", symbols=["AAA", "CCC", "BBB"], weights=None, prices=prices)
    assert result["correlation"][0][1] == pytest.approx(1.0)
    assert result["correlation"][0][0] == 1.0
    assert -1 <= result["correlation"][0][2] <= 1


def test_performance_reports_returns_and_a_wealth_curve():
    result = risk.analyse(analysis_type="performance", symbols=["AAA"], weights=None, prices=_prices())
    assert result["wealth"][0][1] > 0 and result["wealth"][-1][0] == result["end"]
    assert result["best_day"] > result["worst_day"]
    assert set(result["per_symbol"]) == {"AAA"}


@pytest.mark.parametrize("weights,message", [
    ([1], "2 symbols"), ([1, -1], "negative"), ([0, 0], "zero"), ([float("nan"), 1], "finite"),
])
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(risk.AnalysisInputError, match=message):
        risk.normalise_weights(["A", "B"], weights)


def test_too_few_common_days_is_refused():
    prices = {"A": {"d1": 1.0, "d2": 2.0}, "B": {"d2": 1.0, "d3": 1.0}}
    with pytest.raises(risk.AnalysisInputError, match="common trading days"):
        risk.analyse(analysis_type="performance", symbols=["A", "B"], weights=None, prices=prices)


def test_unknown_analysis_type_is_refused():
    with pytest.raises(risk.AnalysisInputError, match="unknown analysis type"):
        risk.analyse(analysis_type="astrology", symbols=["AAA"], weights=None, prices=_prices())


def test_risk_contributions_sum_to_one_and_follow_weight_and_volatility():
    rnd = random.Random(7)
    calm = [rnd.gauss(0, 0.01) for _ in range(2000)]
    wild = [rnd.gauss(0, 0.02) for _ in range(2000)]  # twice the volatility, independent
    returns = risk.np.array([calm, wild]).T
    equal = risk.risk_contributions(returns, risk.np.array([0.5, 0.5]))
    assert math.isclose(sum(equal), 1.0)
    # independent holdings: contribution ~ w^2 * var, so the wild one carries about 4/5 of the risk
    assert equal[1] == pytest.approx(0.8, abs=0.03)
    assert risk.risk_contributions(returns, risk.np.array([1.0, 0.0])) == [1.0, 0.0]
    # a hedge (perfectly opposite returns) has a negative share
    hedged = risk.risk_contributions(risk.np.array([calm, [-x for x in calm]]).T, risk.np.array([0.7, 0.3]))
    assert hedged[1] < 0 and math.isclose(sum(hedged), 1.0)
    assert risk.risk_contributions(risk.np.zeros((10, 2)), risk.np.array([0.5, 0.5])) is None


def test_a_risk_assessment_reports_each_holdings_share_of_the_risk():
    result = risk.analyse(analysis_type="risk_assessment", symbols=["AAA", "BBB"], weights=[3, 1],
                          prices=_prices(), benchmark="SPY")
    shares = result["risk_contribution"]
    assert len(shares) == 2 and math.isclose(sum(shares), 1.0) and shares[0] > shares[1]


def test_charts_get_the_drawdown_and_the_benchmarks_growth_on_the_same_dates():
    result = risk.analyse(analysis_type="risk_assessment", symbols=["AAA", "BBB"], weights=None,
                          prices=_prices(), benchmark="SPY")
    dates = [d for d, _ in result["wealth"]]
    assert [d for d, _ in result["drawdown"]] == dates == [d for d, _ in result["benchmark_wealth"]]
    assert all(v <= 0 for _, v in result["drawdown"])
    assert min(v for _, v in result["drawdown"]) >= result["max_drawdown"] - 1e-6  # sampled, so at most as deep
    first_wealth, first_drawdown = result["wealth"][0][1], result["drawdown"][0][1]
    assert math.isclose(first_drawdown, min(0.0, first_wealth - 1), abs_tol=1e-6)  # against the start's 1.0
