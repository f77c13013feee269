"""Each of StockTool's changes to kombu (stocktool/kombu_fixes.py), shown against the kombu installed: the bug
is there without the fix (kombu's own code, kept as ``kombu_original``), and gone with it."""


import pytest
from kombu.asynchronous.hub import Hub
from kombu.transport import SQS

from stocktool import kombu_fixes


def test_every_fix_is_applied_to_the_kombu_installed():
    import kombu

    assert kombu_fixes.applies(kombu.__version__)
    assert [(fix.name, fix.applied) for fix in kombu_fixes.apply()] == [
        ("survive failed polls", True), ("no idle waits in the event loop", True),
        ("SQS clients behind the breaker", True)]  # (already, when Celery's app loaded)


def test_a_failed_poll_is_an_empty_one_not_a_dead_worker(monkeypatch):
    monkeypatch.setattr(kombu_fixes.time, "sleep", lambda seconds: None)
    fixed = SQS.Channel._on_messages_ready
    with pytest.raises(AttributeError, match="'list' object has no attribute 'get'"):
        fixed.kombu_original(None, None, "analysis", [])  # kombu's own: the worker would die here
    assert fixed(None, None, "analysis", []) == 0  # fixed: nothing received, poll again


def test_callbacks_run_in_the_order_they_were_queued():
    hub = Hub()
    callbacks = [hub.call_soon(lambda: None) for _ in range(200)]
    assert list(hub._pop_ready()) == callbacks  # fixed: acks before the poll queued after them
    kombu = Hub.__new__(Hub)
    Hub.__init__.kombu_original(kombu)  # kombu's own
    for callback in callbacks:
        kombu._ready.add(callback)
    assert list(Hub._pop_ready.kombu_original(kombu)) != callbacks  # a set: its own order


def test_callbacks_a_timer_queued_run_without_the_idle_wait():
    hub = Hub()
    hub.call_later(0, lambda: hub.call_soon(lambda: None))  # as pycurl's timer completing a request
    assert Hub.fire_timers.kombu_original(hub, min_delay=1) == 1  # kombu's own: the loop would wait 1 s...
    hub.call_later(0, lambda: hub.call_soon(lambda: None))
    assert hub.fire_timers(min_delay=1) == 0  # ...fixed: it runs them at once
    hub.call_later(0, lambda: None)
    assert hub.fire_timers(min_delay=1) == 1  # a timer that queued nothing: the usual wait


@pytest.mark.integration
def test_kombus_sqs_clients_are_behind_the_circuit_breaker(aws, settings):
    from stocktool.celery import app

    settings.AWS_BREAKER_ENABLED = True
    with app.connection_for_write() as connection:
        sqs = connection.default_channel.sqs()
    handlers = sqs.meta.events._emitter._unique_id_handlers
    assert {"stocktool-breaker-send", "stocktool-breaker-observe"} <= set(handlers)


def test_a_kombu_release_the_fixes_were_not_written_for_gets_none_of_them():
    targets = [(SQS.Channel, "_on_messages_ready"), (Hub, "fire_timers"), (Hub, "_pop_ready"), (Hub, "__init__"),
               (SQS.Channel, "_new_boto_client")]
    try:
        kombu_fixes.undo()
        assert not any(hasattr(getattr(owner, name), "kombu_original") for owner, name in targets)
        skipped = kombu_fixes.apply("5.8.0")
        assert [fix.applied for fix in skipped] == [False] * 3 and "5.8.0" in skipped[0].why
        assert not any(hasattr(getattr(owner, name), "kombu_original") for owner, name in targets)
    finally:
        assert all(fix.applied for fix in kombu_fixes.apply())  # as the app runs
    assert all(hasattr(getattr(owner, name), "kombu_original") for owner, name in targets)
    assert [kombu_fixes.applies(v) for v in ("5.7.0", "5.7.12", "5.6.2", "5.8.0", "6.0")] == [
        True, True, False, False, False]
