"""Figures from daily bars for the assistant's answers: change, range, risk, and compact chart points."""

from datetime import date, timedelta

import numpy as np
from django.conf import settings

from analysis import risk

CHART_POINTS = 40


def bars_window(bars: list[dict], days: int | None = None, start: str | None = None, end: str | None = None) -> list[dict]:
    """Keep the bars of the last ``days`` calendar days, and those from ``start`` to ``end`` (ISO dates)."""
    if days and bars:
        first = (date.fromisoformat(bars[-1]["date"]) - timedelta(days=days)).isoformat()
        bars = [bar for bar in bars if bar["date"] > first]
    if start:
        bars = [bar for bar in bars if bar["date"] >= start]
    if end:
        bars = [bar for bar in bars if bar["date"] <= end]
    return bars


def bars_summary(bars: list[dict]) -> dict:
    """Start and end, change, high and low, annualised volatility, maximum drawdown and Sharpe of ``bars``."""
    closes = np.array([float(bar["close"]) for bar in bars])
    high = max(bars, key=lambda bar: bar["high"])
    low = min(bars, key=lambda bar: bar["low"])
    out = {
        "start_date": bars[0]["date"], "end_date": bars[-1]["date"], "trading_days": len(bars),
        "start_close": float(closes[0]), "end_close": float(closes[-1]),
        "change": round(float(closes[-1] - closes[0]), 4),
        "change_percent": round(float(closes[-1] / closes[0] - 1) * 100, 2),
        "high": float(high["high"]), "high_date": high["date"], "low": float(low["low"]), "low_date": low["date"],
        "average_volume": int(sum(bar["volume"] for bar in bars) / len(bars)),
        "volatility_percent": None, "max_drawdown_percent": None, "sharpe_ratio": None,
    }
    if len(closes) >= 3:
        returns = closes[1:] / closes[:-1] - 1.0
        out["volatility_percent"] = round(risk.annualised_volatility(returns) * 100, 2)
        out["max_drawdown_percent"] = round(risk.max_drawdown(returns) * 100, 2)
        sharpe = risk.sharpe_ratio(returns, _risk_free_rate())
        out["sharpe_ratio"] = None if sharpe is None else round(sharpe, 2)
    return out


def _risk_free_rate() -> float:
    return float(getattr(settings, "ANALYSIS_RISK_FREE_RATE", 0.0))


def _picked(count: int, n: int) -> list[int]:
    """At most ``n`` indexes evenly spread over ``count``, always the first and the last."""
    if count <= n:
        return list(range(count))
    step = (count - 1) / (n - 1)
    return [round(i * step) for i in range(n)]


def chart_points(values: list[float], n: int = CHART_POINTS) -> list[float]:
    """At most ``n`` values evenly picked from ``values``, always keeping the first and the last."""
    return [round(values[i], 2) for i in _picked(len(values), n)]


def chart_dates(bars: list[dict], n: int = CHART_POINTS) -> list[str]:
    """The dates of the bars that :func:`chart_points` and :func:`growth_points` pick (a chart's x values)."""
    return [bars[i]["date"] for i in _picked(len(bars), n)]


def growth_points(bars: list[dict], n: int = CHART_POINTS) -> list[float]:
    """The percentage change from the first close, sampled for a chart that puts several stocks on one axis."""
    first = float(bars[0]["close"])
    return chart_points([(float(bar["close"]) / first - 1) * 100 for bar in bars], n)
