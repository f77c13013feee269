"""The analysis page's charts: growth of 1 invested against the benchmark and the drawdown, drawn by
stocktool.charts (an SVG with axes and values on hover, redrawn by uPlot where JavaScript runs), and the
colours of the correlation heat map."""

from stocktool.charts import Chart, Format, time_chart


def growth_chart(result: dict) -> Chart | None:
    growth = [("Portfolio", result.get("wealth") or [])]
    if result.get("benchmark_wealth"):
        growth.append((result["benchmark"], result["benchmark_wealth"]))
    return time_chart("Growth of 1 invested", growth, fmt=Format("number", 2))


def drawdown_chart(result: dict) -> Chart | None:
    return time_chart("Drawdown from the running high", [("Drawdown", result.get("drawdown") or [])],
                      fmt=Format("percent", 1))


def wealth_summary(result: dict) -> dict | None:
    """The portfolio's first and last dates, lowest and highest value, for the growth chart's caption."""
    points = [(d, float(v)) for d, v in result.get("wealth") or [] if v is not None]
    if len(points) < 2:
        return None
    values = [v for _, v in points]
    return {"first": points[0][0], "last": points[-1][0], "min": min(values), "max": max(values)}


def heat_colour(value: float) -> str:
    """A colour for a correlation in [-1, 1]: blue for negative, red for positive."""
    v = max(-1.0, min(1.0, float(value)))
    if v >= 0:
        return f"rgba(200, 40, 40, {0.12 + 0.6 * v:.2f})"
    return f"rgba(40, 90, 200, {0.12 + 0.6 * -v:.2f})"


HEAT_SCALE = [(v, heat_colour(v)) for v in (-1.0, -0.5, 0.0, 0.5, 1.0)]  # the heat map's key
