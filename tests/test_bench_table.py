"""benchmarks/run_all.py: the seed's four rows, measured without AWS and on its own embedded emulator."""

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import run_all

pytestmark = pytest.mark.integration
NUMBER = re.compile(r"\d+(\.\d+)?")


def test_it_prints_the_four_rows_with_figures_beside_the_floor_and_the_seed():
    data = run_all.collect(["local", "emulator"], n=5, n_slow=5, localstack_endpoints=[])
    table = run_all.render(data)
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("| Metric |"))
    for column in ("median ms", "p95 ms", "raw boto3 floor", "ratio", "seed's figure"):
        assert column in header
    for title in ("Conversation retrieval", "Document upload", "Cache hit", "Queue latency"):
        assert any(line.startswith(f"| {title}") for line in lines), title
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in lines if line.startswith("| ")][1:]
    local = [r for r in rows if r[1] == "without AWS"]
    emulated = [r for r in rows if r[1] == "embedded moto server"]
    assert len(local) == len(emulated) == len(run_all.METRICS)
    for row in local + emulated:
        assert NUMBER.fullmatch(row[3]) and NUMBER.fullmatch(row[4]), row  # median, p95
    for row in emulated:
        floor_median, floor_p95 = row[5].split(" / ")
        assert NUMBER.fullmatch(floor_median) and NUMBER.fullmatch(floor_p95), row
        assert re.fullmatch(r"\d+\.\d\dx", row[6]), row
    assert "50ms (memory)" in table and "5ms (Production SQS)" in table  # the seed's own figures
    assert "cores" in lines[1] and re.search(r"\d{4}-\d\d-\d\d", lines[1])
