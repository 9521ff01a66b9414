"""host.json queue and singleton settings, the poll back-off and the message helpers (no servers)."""
from __future__ import annotations

import base64

import pytest

from devhost.queue_listener import Backoff
from devhost.queue_messages import checked_queue_name, decode_body
from devhost.queue_options import RECEIVE_VISIBILITY, QueueOptions
from devhost.settings import timespan_seconds
from devhost.singleton import SingletonOptions


def test_the_real_hosts_defaults():
    options = QueueOptions.from_host_json({})
    assert (options.batch_size, options.new_batch_threshold, options.max_polling_interval) == (16, 8, 60.0)
    assert (options.visibility_timeout, options.max_dequeue_count, options.message_encoding) == (0.0, 5, "base64")
    assert options.receive_visibility == RECEIVE_VISIBILITY == 600 and options.max_concurrency == 24
    assert SingletonOptions.from_host_json({}) == SingletonOptions(60.0, 60.0)


def test_host_json_values_are_read_case_insensitively():
    options = QueueOptions.from_host_json({"extensions": {"Queues": {
        "batchSize": 4, "maxPollingInterval": "00:00:02", "visibilityTimeout": "00:00:30",
        "maxDequeueCount": 2, "MessageEncoding": "None"}}}, receive_visibility=5)
    assert (options.batch_size, options.new_batch_threshold, options.max_polling_interval) == (4, 2, 2.0)
    assert (options.visibility_timeout, options.max_dequeue_count, options.message_encoding) == (30.0, 2, "none")
    assert options.receive_visibility == 5
    assert QueueOptions.from_host_json({"extensions": {"queues": {"newBatchThreshold": 0}}}).new_batch_threshold == 0


@pytest.mark.parametrize("queues, named", [
    ({"batchSize": 33}, "batchSize"), ({"batchSize": 0}, "batchSize"), ({"batchSize": "8"}, "batchSize"),
    ({"maxDequeueCount": 0}, "maxDequeueCount"), ({"maxPollingInterval": "00:00:00.05"}, "maxPollingInterval"),
    ({"maxPollingInterval": "soon"}, "maxPollingInterval"), ({"messageEncoding": "utf-16"}, "messageEncoding"),
    ({"visibilityTimeout": "8.00:00:00"}, "visibilityTimeout"),
])
def test_bad_values_fail_naming_the_setting(queues, named):
    with pytest.raises(ValueError, match=named):
        QueueOptions.from_host_json({"extensions": {"queues": queues}})


def test_singleton_lease_period_must_be_a_blob_lease_length():
    assert SingletonOptions.from_host_json({"singleton": {"listenerLockPeriod": "00:00:15",
                                                          "listenerLockRecoveryPollingInterval": "00:00:01"}}) \
        == SingletonOptions(15.0, 1.0)
    for bad in ("00:00:10", "00:02:00"):
        with pytest.raises(ValueError, match="listenerLockPeriod"):
            SingletonOptions.from_host_json({"singleton": {"listenerLockPeriod": bad}})


def test_timespans():
    assert timespan_seconds("00:01:00", "x") == 60 and timespan_seconds("1.02:00:00.5", "x") == 93600.5
    assert timespan_seconds(2000, "x") == 2.0  # a bare number is milliseconds (v1 host.json)
    for bad in ("1 minute", True, "00:00"):
        with pytest.raises(ValueError):
            timespan_seconds(bad, "x")


def test_backoff_doubles_from_100ms_randomised_up_to_the_maximum_and_resets():
    backoff = Backoff(maximum=2.0)
    waits = [backoff.next(found_messages=False) for _ in range(10)]
    assert 0.17 < waits[0] < 0.23 and 0.25 < waits[1] < 0.35  # 100 ms + 1x / 2x 100 ms, +-20%
    assert waits == sorted(waits) and waits[-1] == 2.0 and waits.count(2.0) >= 3
    assert backoff.next(found_messages=True) == 0.1
    assert backoff.next(found_messages=False) < 0.25


def test_bodies_are_base64_by_default_or_taken_as_text():
    assert decode_body(base64.b64encode("héllo".encode()).decode(), "base64") == "héllo".encode()
    assert decode_body("plain text", "none") == b"plain text"
    with pytest.raises(ValueError, match="messageEncoding"):
        decode_body("plain text!", "base64")


@pytest.mark.parametrize("name", ["ab", "Upper", "a--b", "-ab", "ab-", "a" * 64, "a_b", "../x"])
def test_bad_queue_names_are_refused(name):
    with pytest.raises(ValueError, match="invalid queue name"):
        checked_queue_name(name)


def test_good_queue_names():
    assert checked_queue_name("steps-v1") == "steps-v1" and checked_queue_name("a" * 63) == "a" * 63


class FlakyLock:
    """A listener lock whose storage can be switched off (the real one is tested on Azurite)."""

    name = "locks/test/Host.Functions.t.Listener"

    def __init__(self):
        self.down = False
        self.released = False

    def acquire(self) -> bool:
        if self.down:
            raise OSError("storage down")
        return True

    def renew(self) -> None:
        if self.down:
            raise OSError("storage down")

    def forget(self) -> None:
        pass

    def release(self) -> None:
        self.released = True


class Recorder:
    def __init__(self, log):
        self.log = log

    def start(self):
        self.log.append("start")

    def stop(self):
        self.log.append("stop")


def test_a_lease_that_cannot_be_renewed_before_it_ends_stops_the_listener_until_it_is_back():
    import time

    from devhost.singleton import SingletonListener

    events, lock = [], FlakyLock()
    singleton = SingletonListener(lock, lambda: Recorder(events), SingletonOptions(3.0, 0.2))
    singleton.start()
    try:
        deadline = time.monotonic() + 2
        while events != ["start"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert events == ["start"]
        lock.down = True  # renewals at 1.5 s fail; 1 s before the 3 s lease ends the listener stops
        deadline = time.monotonic() + 6
        while events != ["start", "stop"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert events == ["start", "stop"] and singleton.listener is None
        lock.down = False
        deadline = time.monotonic() + 3
        while singleton.listener is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert events == ["start", "stop", "start"] and singleton.acquisitions == 2
    finally:
        singleton.stop()
    assert events[-1] == "stop" and lock.released
