"""The circuit breaker: its states as plain logic, then over HTTP through a proxy that takes the endpoint away."""

import time
import uuid

import pytest

from stocktool.aws import AWSUnavailable, breaker, get_dynamodb_service
from tests.faultproxy import FaultProxy


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def circuit():
    return breaker.Circuit("dynamodb@test", failures=3, reset_seconds=5, clock=Clock())


def test_it_stays_closed_below_the_threshold_and_a_success_resets_the_count(circuit):
    for _ in range(2):
        circuit.record(False)
    circuit.record(True)
    circuit.record(False)
    circuit.record(False)
    circuit.before_call()
    assert circuit.state == "closed"


def test_it_opens_after_the_threshold_and_refuses_without_calling(circuit):
    for _ in range(3):
        circuit.record(False)
    assert circuit.state == "open"
    with pytest.raises(breaker.CircuitOpen, match=r"circuit open for 5\.0 s"):
        circuit.before_call()
    assert circuit.refused == 1 and circuit.opened == 1


def test_after_the_reset_period_one_trial_goes_and_the_others_wait(circuit):
    for _ in range(3):
        circuit.record(False)
    circuit.clock.now += 5
    assert circuit.state == "half-open"
    circuit.before_call()  # the trial
    with pytest.raises(breaker.CircuitOpen):
        circuit.before_call()  # another caller while the trial is out
    circuit.record(True)
    assert circuit.state == "closed"
    circuit.before_call()


def test_a_failed_trial_opens_it_for_another_period(circuit):
    for _ in range(3):
        circuit.record(False)
    circuit.clock.now += 5
    circuit.before_call()
    circuit.record(False)
    assert circuit.state == "open"
    circuit.clock.now += 4.9
    with pytest.raises(breaker.CircuitOpen):
        circuit.before_call()
    assert circuit.opened == 2


def test_throttling_and_client_errors_prove_the_endpoint_alive():
    class Resp:
        def __init__(self, status):
            self.status_code = status

    assert breaker._attempt_ok((Resp(400), {}), None) is True  # ThrottlingException, ValidationException
    assert breaker._attempt_ok((Resp(200), {}), None) is True
    assert breaker._attempt_ok((Resp(503), {}), None) is False
    assert breaker._attempt_ok(None, breaker.CircuitOpen(service="s3", remaining=1)) is None


# --- Over HTTP -------------------------------------------------------------------------------------------


@pytest.fixture
def proxied(behind_proxy):
    """The app's AWS endpoint, behind a proxy the test can take down; short timeouts and reset period."""
    return behind_proxy(FaultProxy, AWS_CONNECT_TIMEOUT=1, AWS_READ_TIMEOUT=1, AWS_BREAKER_FAILURES=5,
                        AWS_BREAKER_RESET_SECONDS=1.0)


def _timed(fn):
    start = time.perf_counter()
    try:
        fn()
        return None, time.perf_counter() - start
    except AWSUnavailable as exc:
        return exc, time.perf_counter() - start


@pytest.mark.integration
@pytest.mark.faults
@pytest.mark.parametrize("mode", ["refuse", "hang"])
def test_a_dead_endpoint_opens_the_circuit_stops_the_calls_and_recovers_without_a_restart(proxied, mode, figures):
    cache = get_dynamodb_service("cache")
    key = f"breaker-{uuid.uuid4().hex}"
    cache.put_cache_item(key, {"price": 1.5}, ttl_seconds=300)

    proxied.down(mode)
    first, first_took = _timed(lambda: cache.get_cache_item(key))
    assert isinstance(first, AWSUnavailable)
    # One call's retries (3 attempts) plus a second call's open the circuit (5 failed attempts).
    second, _ = _timed(lambda: cache.get_cache_item(key))
    assert isinstance(second, AWSUnavailable)
    reached = proxied.connections
    refused = [_timed(lambda: cache.get_cache_item(key)) for _ in range(20)]
    assert all(isinstance(exc, AWSUnavailable) and "circuit open" in str(exc) for exc, _ in refused)
    assert max(took for _, took in refused) < 0.05  # fail fast: no network, no timeout
    during_open = proxied.connections - reached
    assert during_open == 0  # nothing more reached the endpoint
    # Each of the first calls waited no longer than its attempts' timeouts (3 x 1 s, plus back-off).
    assert first_took < 4.5

    proxied.up()
    time.sleep(1.1)  # the reset period: the next call is the trial
    back, back_took = _timed(lambda: cache.get_cache_item(key))
    assert back is None  # the data survived; the circuit closed
    assert cache.get_cache_item(key) == {"price": 1.5}
    figures(f"first failed call {first_took:.2f} s (3 attempts, 1 s timeouts); 20 calls while open: max "
            f"{max(t for _, t in refused) * 1000:.2f} ms, {during_open} reached the endpoint; "
            f"first call after recovery {back_took * 1000:.1f} ms")
    assert breaker.circuit_for(proxied.url, "dynamodb").state == "closed"
