"""An analysis of 20 symbols over 5 years of daily prices: the maths alone, and the whole computation
(price histories through the DynamoDB stock cache, then the maths), against a plain-Python reference.

    .venv/bin/python benchmarks/bench_analysis.py

Target: under 200 ms.
"""

import math
import statistics
import time

from harness import measure, report, setup


def reference_risk(prices, symbols):
    """The same volatility and Sharpe in plain Python loops: the peer the NumPy code is compared with."""
    dates = sorted(set.intersection(*(set(prices[s]) for s in symbols)))
    w = 1.0 / len(symbols)
    rp = [sum(w * (prices[s][b] / prices[s][a] - 1) for s in symbols) for a, b in zip(dates, dates[1:])]
    vol = statistics.stdev(rp) * math.sqrt(252)
    return vol, statistics.mean(rp) / statistics.stdev(rp) * math.sqrt(252)


def main():
    server, label = setup()
    try:
        from analysis import risk, services
        from analysis.market_data.providers.demo import DemoProvider
        from analysis.market_data.providers.demo_universe import BENCHMARK, LISTINGS
        from analysis.models import AnalysisJob

        symbols = [listing.symbol for listing in LISTINGS if listing.symbol != BENCHMARK][:20]
        demo = DemoProvider()
        prices = {s: {b["date"]: b["close"] for b in demo.history(s, "5y")} for s in symbols + [BENCHMARK]}
        days = len(prices[symbols[0]])
        print(f"endpoint: {label}; {len(symbols)} symbols + {BENCHMARK}, {days} daily prices each")
        job = AnalysisJob(symbols=symbols, weights=None, analysis_type="risk_assessment", period="5y")
        start = time.perf_counter()
        services.analysis_compute(job=job)  # fills the stock cache
        cold = (time.perf_counter() - start) * 1000
        maths = lambda: risk.analyse(analysis_type="risk_assessment", symbols=symbols, weights=None,  # noqa: E731
                                     prices=prices)
        report("Risk assessment, 20 symbols x 5 years", [
            ("plain-Python reference (vol + Sharpe only)", measure(lambda: reference_risk(prices, symbols), 10, 2)),
            ("analysis.risk.analyse (NumPy, every metric)", measure(maths, 30, 3)),
            ("services.analysis_compute (warm cache + maths)", measure(lambda: services.analysis_compute(job=job), 20, 2)),
        ], baseline="plain-Python reference (vol + Sharpe only)")
        print(f"  first computation, cold cache (demo provider + 21 cache writes): {cold:.1f} ms")
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
