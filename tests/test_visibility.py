"""The visibility heartbeat's bookkeeping (stocktool/visibility.py): which held messages it extends, and when."""

from types import SimpleNamespace

from stocktool.visibility import VisibilityHeartbeat


def _request(receipt, queue="https://sqs/queue"):
    message = SimpleNamespace(delivery_tag=receipt, delivery_info={"sqs_queue": queue} if queue else {})
    return SimpleNamespace(_message=message)


def test_a_message_is_extended_once_held_a_third_of_the_timeout_and_forgotten_once_released():
    held, calls = [_request("r1")], []
    beat = VisibilityHeartbeat(30, held=lambda: held, extend=lambda *args: calls.append(args))
    assert beat.beat(now=100.0) == 0  # just received: a quick task needs nothing
    assert beat.beat(now=109.0) == 0
    assert beat.beat(now=110.0) == 1 and calls == [("https://sqs/queue", "r1", 30)]
    held.clear()
    assert beat.beat(now=120.0) == 0 and beat._since == {}  # acknowledged: nothing more to extend


def test_messages_of_other_brokers_are_left_alone_and_a_failed_call_is_retried_next_beat():
    failures = []

    def extend(queue, receipt, seconds):
        failures.append(receipt)
        raise RuntimeError("SQS down")

    beat = VisibilityHeartbeat(9, held=lambda: [_request("r1"), _request("r2", queue=None),
                                                SimpleNamespace()], extend=extend)
    beat.beat(now=0.0)
    assert beat.beat(now=3.0) == 0 and failures == ["r1"]
    assert beat.beat(now=6.0) == 0 and failures == ["r1", "r1"]
