"""Portfolio risk and performance maths: pure functions over price series (NumPy).

Conventions (also in knowledge_base/, so the assistant can explain them):
- Daily simple returns ``r_t = P_t / P_{t-1} - 1`` on the dates every symbol has; the portfolio is
  rebalanced daily to its weights, so ``r_p = R @ w``.
- 252 trading days a year. ``rf`` is the annual risk-free rate, ``rf_d = rf / 252`` its daily share.
- Annualised return is geometric: ``prod(1 + r) ** (252 / n) - 1``.
- Annualised volatility: ``std(r, ddof=1) * sqrt(252)``.
- Sharpe: ``mean(r - rf_d) / std(r, ddof=1) * sqrt(252)``.
- Sortino: ``mean(r - rf_d) / sqrt(mean(min(r - rf_d, 0) ** 2)) * sqrt(252)`` (downside deviation).
- Maximum drawdown: the worst fall of the wealth curve ``prod(1 + r)`` from its running peak (negative).
- Beta against the benchmark: ``cov(r_p, r_b) / var(r_b)`` (both with ddof=1).
- Historical 95% value at risk: the loss at the 5th percentile of daily returns, as a positive fraction;
  expected shortfall: the mean loss on the days at or beyond that percentile.
- Concentration: Herfindahl-Hirschman index ``sum(w ** 2)`` and its effective number of holdings ``1 / HHI``.
- Risk contribution of holding i: ``w_i * (S w)_i / (w' S w)``, S the covariance of daily returns (sums to 1).
"""

from collections.abc import Mapping, Sequence

import numpy as np

TRADING_DAYS = 252


class AnalysisInputError(ValueError):
    """The portfolio or its prices cannot be analysed (too few prices, bad weights)."""


def normalise_weights(symbols: Sequence[str], weights: Sequence[float] | None) -> np.ndarray:
    """Return weights summing to 1: equal when none are given; refuse negatives, NaNs and zero totals."""
    if weights is None or len(weights) == 0:
        return np.full(len(symbols), 1.0 / len(symbols))
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(symbols),):
        raise AnalysisInputError(f"{len(weights)} weights given for {len(symbols)} symbols")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise AnalysisInputError("weights must be finite and not negative")
    if w.max() <= 0:
        raise AnalysisInputError("weights must not all be zero")
    w = w / w.max()  # first, so huge weights (1e308 each) cannot overflow the sum to inf and come out as zeros
    return w / w.sum()


def aligned_returns(prices: Mapping[str, Mapping[str, float]], symbols: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Daily simple returns on the dates all ``symbols`` share: (dates, matrix days x symbols)."""
    common = set.intersection(*(set(prices[s]) for s in symbols))
    dates = sorted(common)
    if len(dates) < 3:
        raise AnalysisInputError("fewer than 3 common trading days: choose a longer period")
    matrix = np.array([[float(prices[s][d]) for s in symbols] for d in dates])
    if np.any(matrix <= 0) or not np.all(np.isfinite(matrix)):
        raise AnalysisInputError("prices must be positive numbers")
    return dates[1:], matrix[1:] / matrix[:-1] - 1.0


def annualised_return(r: np.ndarray) -> float:
    return float(np.prod(1.0 + r) ** (TRADING_DAYS / len(r)) - 1.0)


def annualised_volatility(r: np.ndarray) -> float:
    return float(np.std(r, ddof=1) * np.sqrt(TRADING_DAYS))


def sharpe_ratio(r: np.ndarray, rf: float = 0.0) -> float | None:
    sd = np.std(r, ddof=1)
    return None if sd < 1e-12 else float(np.mean(r - rf / TRADING_DAYS) / sd * np.sqrt(TRADING_DAYS))


def sortino_ratio(r: np.ndarray, rf: float = 0.0) -> float | None:
    excess = r - rf / TRADING_DAYS
    downside = np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))
    return None if downside < 1e-12 else float(np.mean(excess) / downside * np.sqrt(TRADING_DAYS))


def max_drawdown(r: np.ndarray) -> float:
    wealth = np.cumprod(1.0 + r)
    peaks = np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:]
    return float(np.min(wealth / peaks - 1.0))


def beta(r: np.ndarray, benchmark: np.ndarray) -> float | None:
    var = np.var(benchmark, ddof=1)
    return None if var < 1e-24 else float(np.cov(r, benchmark, ddof=1)[0, 1] / var)


def historical_var_es(r: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Return (value at risk, expected shortfall) at ``level`` as positive daily loss fractions."""
    cutoff = np.percentile(r, (1.0 - level) * 100.0)
    tail = r[r <= cutoff]
    return float(-cutoff), float(-np.mean(tail))


def concentration(weights: np.ndarray) -> dict:
    hhi = float(np.sum(weights ** 2))
    return {"hhi": hhi, "effective_holdings": 1.0 / hhi, "max_weight": float(np.max(weights))}


def risk_contributions(returns: np.ndarray, weights: np.ndarray) -> list[float] | None:
    """Each holding's share of the portfolio's variance, ``w_i * (S w)_i / (w' S w)`` with S the covariance of
    daily returns: the shares sum to 1 (a holding that hedges the rest has a negative one). None when the
    portfolio does not move at all."""
    cov = np.atleast_2d(np.cov(returns, rowvar=False, ddof=1))
    variance = float(weights @ cov @ weights)
    if variance < 1e-24:
        return None
    return [float(x) for x in weights * (cov @ weights) / variance]


def correlation_matrix(returns: np.ndarray) -> np.ndarray:
    if returns.shape[1] == 1:
        return np.ones((1, 1))
    return np.corrcoef(returns, rowvar=False)


def analyse(*, analysis_type: str, symbols: Sequence[str], weights: Sequence[float] | None,
            prices: Mapping[str, Mapping[str, float]], benchmark: str = "SPY", rf: float = 0.0) -> dict:
    """Run one analysis (``risk_assessment``, ``performance`` or ``correlation``) on date->close prices."""
    w = normalise_weights(symbols, weights)
    wanted = list(symbols) + ([benchmark] if benchmark in prices and benchmark not in symbols else [])
    dates, returns = aligned_returns(prices, wanted)
    asset = returns[:, : len(symbols)]
    portfolio = asset @ w
    base = {
        "symbols": list(symbols),
        "weights": [round(float(x), 6) for x in w],
        "start": dates[0],
        "end": dates[-1],
        "days": len(dates),
    }
    if analysis_type == "correlation":
        corr = correlation_matrix(asset)
        off = corr[~np.eye(len(symbols), dtype=bool)]
        return base | {
            "correlation": [[round(float(x), 4) for x in row] for row in corr],
            "average_correlation": float(np.mean(off)) if off.size else 1.0,
            "diversification_ratio": float(
                (w @ (np.std(asset, axis=0, ddof=1))) / np.std(portfolio, ddof=1)
            ) if np.std(portfolio, ddof=1) > 0 else None,
        }
    out = base | {
        "annualised_return": annualised_return(portfolio),
        "annualised_volatility": annualised_volatility(portfolio),
        "sharpe_ratio": sharpe_ratio(portfolio, rf),
        "total_return": float(np.prod(1.0 + portfolio) - 1.0),
        "per_symbol": {
            s: {"annualised_return": annualised_return(asset[:, i]),
                "annualised_volatility": annualised_volatility(asset[:, i])}
            for i, s in enumerate(symbols)
        },
        "wealth": _sampled_wealth(dates, portfolio),
        "drawdown": _sampled_drawdown(dates, portfolio),
    }
    if analysis_type == "performance":
        return out | {"best_day": float(np.max(portfolio)), "worst_day": float(np.min(portfolio))}
    if analysis_type != "risk_assessment":
        raise AnalysisInputError(f"unknown analysis type {analysis_type!r}")
    var95, es95 = historical_var_es(portfolio)
    bench = returns[:, wanted.index(benchmark)] if benchmark in wanted else None
    corr = correlation_matrix(asset)
    return out | {
        "sortino_ratio": sortino_ratio(portfolio, rf),
        "max_drawdown": max_drawdown(portfolio),
        "beta": beta(portfolio, bench) if bench is not None else None,
        "benchmark": benchmark if bench is not None else None,
        "benchmark_wealth": _sampled_wealth(dates, bench) if bench is not None else None,
        "var_95": var95,
        "expected_shortfall_95": es95,
        "correlation": [[round(float(x), 4) for x in row] for row in corr],
        "concentration": concentration(w),
        "risk_contribution": risk_contributions(asset, w),
        "risk_free_rate": rf,
    }


def _sample_points(n: int, points: int = 120) -> list[int]:
    step = max(1, n // points)
    idx = list(range(0, n, step))
    if idx[-1] != n - 1:
        idx.append(n - 1)
    return idx


def _sampled_wealth(dates: list[str], r: np.ndarray, points: int = 120) -> list[list]:
    """The wealth curve (start = 1.0) at up to ``points`` dates, for charts."""
    wealth = np.cumprod(1.0 + r)
    return [[dates[i], round(float(wealth[i]), 6)] for i in _sample_points(len(wealth), points)]


def _sampled_drawdown(dates: list[str], r: np.ndarray, points: int = 120) -> list[list]:
    """How far below its running peak the wealth curve stands (0 at a peak, negative below), at the dates of
    ``_sampled_wealth``; its minimum over all days is ``max_drawdown``."""
    wealth = np.cumprod(1.0 + r)
    below = wealth / np.maximum.accumulate(np.concatenate(([1.0], wealth)))[1:] - 1.0
    return [[dates[i], round(float(below[i]), 6)] for i in _sample_points(len(wealth), points)]
