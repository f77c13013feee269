"""What each figure of an analysis means, in one line, and the knowledge document that explains it further.

The analysis page shows each metric as a card with this line and a link to the document (when the knowledge
base holds it); the CSV download carries the same names.
"""

import csv
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    key: str  # in the job's result
    label: str
    kind: str  # how it is written: percent, percent2 (two decimals), ratio
    meaning: str
    document: str  # the knowledge document that explains it (its name under the knowledge prefix)


METRICS = (
    Metric("total_return", "Total return", "percent",
           "What the portfolio gained or lost over the whole period.", "simple-and-log-returns.md"),
    Metric("annualised_return", "Annualised return", "percent",
           "The same, as a yearly rate compounded over the period.", "simple-and-log-returns.md"),
    Metric("annualised_volatility", "Annualised volatility", "percent",
           "How widely daily returns swing, scaled to a year: the higher, the bumpier the ride.", "volatility.md"),
    Metric("sharpe_ratio", "Sharpe ratio", "ratio",
           "Return above the risk-free rate for each unit of volatility; above 1 is usually good.",
           "sharpe-ratio.md"),
    Metric("sortino_ratio", "Sortino ratio", "ratio",
           "Like the Sharpe ratio, but counting only the swings down.", "sortino-ratio.md"),
    Metric("max_drawdown", "Maximum drawdown", "percent",
           "The worst fall from a high to a later low during the period.", "maximum-drawdown.md"),
    Metric("beta", "Beta", "ratio",
           "How strongly the portfolio moved with the benchmark: 1 moves with it, above 1 amplifies it.",
           "beta.md"),
    Metric("var_95", "95% daily value at risk", "percent2",
           "On 19 days out of 20 the day's loss was smaller than this.", "value-at-risk.md"),
    Metric("expected_shortfall_95", "95% expected shortfall", "percent2",
           "The average loss on the worst day in 20.", "expected-shortfall.md"),
    Metric("average_correlation", "Average pairwise correlation", "ratio",
           "How much the holdings move together, from −1 to 1: the lower, the more they diversify each other.",
           "diversification-and-correlation.md"),
    Metric("diversification_ratio", "Diversification ratio", "ratio",
           "The holdings' average volatility over the portfolio's: above 1, mixing them lowered the risk.",
           "diversification-and-correlation.md"),
    Metric("best_day", "Best day", "percent2", "The portfolio's largest one-day gain.", "volatility.md"),
    Metric("worst_day", "Worst day", "percent2", "The portfolio's largest one-day loss.", "value-at-risk.md"),
)
CONCENTRATION = Metric("concentration", "Concentration (HHI)", "hhi",
                       "The sum of the squared weights: 1 for a single holding; its inverse is the number of "
                       "equal holdings that would spread risk as evenly.", "herfindahl-concentration.md")
DOCUMENTS = frozenset(m.document for m in (*METRICS, CONCENTRATION))


def metric_cards(result: dict, links: dict[str, str]) -> list[dict]:
    """The result's metrics in display order, each with its value, meaning and link (``links``: document name ->
    page)."""
    cards = []
    for metric in (*METRICS, CONCENTRATION):
        value = result.get(metric.key)
        if value is None:
            continue
        label = metric.label + (f" vs {result['benchmark']}" if metric.key == "beta" and result.get("benchmark")
                                else "")
        cards.append({"key": metric.key, "label": label, "kind": metric.kind, "value": value,
                      "meaning": metric.meaning, "url": links.get(metric.document)})
    return cards


def holdings(result: dict) -> list[dict]:
    """One row per holding: its weight, its own return and volatility, and its share of the portfolio's risk."""
    per_symbol = result.get("per_symbol") or {}
    shares = result.get("risk_contribution") or []
    weights = result.get("weights") or []
    rows = []
    for i, symbol in enumerate(result.get("symbols") or []):
        own = per_symbol.get(symbol) or {}
        rows.append({"symbol": symbol, "weight": weights[i] if i < len(weights) else None,
                     "annualised_return": own.get("annualised_return"),
                     "annualised_volatility": own.get("annualised_volatility"),
                     "risk_share": shares[i] if i < len(shares) else None})
    return rows


def result_csv(result: dict) -> str:
    """The metrics (name, value, meaning), a blank line, then one row per holding; numbers unrounded, as
    fractions (0.123 is 12.3%)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "value", "meaning"])
    for card in metric_cards(result, {}):
        value = card["value"]["hhi"] if card["kind"] == "hhi" else card["value"]
        writer.writerow([card["label"], value, card["meaning"]])
    for key in ("start", "end", "days", "period", "source", "benchmark"):
        if result.get(key) is not None:
            writer.writerow([key, result[key], ""])
    writer.writerow([])
    writer.writerow(["symbol", "weight", "annualised_return", "annualised_volatility", "risk_share"])
    for row in holdings(result):
        writer.writerow([row["symbol"], *("" if row[k] is None else row[k] for k in
                                          ("weight", "annualised_return", "annualised_volatility", "risk_share"))])
    return out.getvalue()
