"""Two hosts of one app on one storage account (scale-out): timers and the blob scan run on one of them,
queue messages are each handled once."""
from __future__ import annotations

import collections
import time

import pytest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from devhost.singleton import LOCKS_CONTAINER, BLOB_SCAN_LOCK, timer_lock_id

from .conftest import read_records, sample_env, unique_container, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def two_hosts(azurite, start_host, tmp_path, monkeypatch):
    """Start two hosts of the sample app on one Azurite, the timer firing every second.

    The settings are set in the environment first: both hosts run in this process, and
    a stopping host restores the variables it found.
    """
    records = tmp_path / "records.jsonl"
    env = sample_env(records, azurite, unique_container(), schedule="* * * * * *", queue=unique_container())
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    def start(**kwargs):
        return start_host(env, blob_poll_interval=0.2, **kwargs), start_host(env, blob_poll_interval=0.2, **kwargs)

    return start, records, env


def ticks_per_second(records) -> collections.Counter:
    return collections.Counter(int(r["at"]) for r in read_records(records, "timer"))


def timer_holder(hosts):
    holders = [h for h in hosts if h.timers[0].listener is not None]
    return holders[0] if len(holders) == 1 else None


def test_a_timer_runs_once_per_tick_and_moves_to_the_other_host_on_stop(two_hosts):
    start, records, _ = two_hosts
    hosts = start()
    assert wait_for(lambda: len(read_records(records, "timer")) >= 4, timeout=15)
    counts = ticks_per_second(records)
    assert max(counts.values()) == 1, f"a tick ran on both hosts: {counts}"

    holder = wait_for(lambda: timer_holder(hosts))
    assert holder is not None, "exactly one host holds the timer's lock"
    other = next(h for h in hosts if h is not holder)
    holder.stop()
    before = len(read_records(records, "timer"))
    assert wait_for(lambda: len(read_records(records, "timer")) >= before + 3, timeout=15), "no failover"
    assert other.timers[0].listener is not None
    assert max(ticks_per_second(records).values()) == 1


def test_the_timer_lock_is_a_lease_on_the_real_hosts_lock_blob(azurite, two_hosts):
    start, _, _ = two_hosts
    hosts = start()
    assert wait_for(lambda: timer_holder(hosts))
    locks = BlobServiceClient.from_connection_string(azurite).get_container_client(LOCKS_CONTAINER)
    for lock_id in (timer_lock_id("tick"), BLOB_SCAN_LOCK):
        props = locks.get_blob_client(f"locks/sample-app/{lock_id}").get_blob_properties()
        assert props.lease.state == "leased" and props.lease.duration == "fixed"


def test_a_blob_fires_once_with_two_hosts(azurite, two_hosts):
    start, records, env = two_hosts
    container = BlobServiceClient.from_connection_string(azurite).create_container(env["SAMPLE_CONTAINER"])
    start()
    for i in range(5):
        container.upload_blob(f"incoming/{i}.txt", b"x")
    assert wait_for(lambda: len(read_records(records, "blob")) >= 5, timeout=15)
    time.sleep(1.5)
    names = collections.Counter(r["name"] for r in read_records(records, "blob"))
    assert len(names) == 5 and set(names.values()) == {1}, names


def test_each_queue_message_is_handled_once_with_two_hosts(azurite, two_hosts):
    start, records, env = two_hosts
    sender = QueueClient.from_connection_string(azurite, env["SAMPLE_QUEUE"],
                                                message_encode_policy=TextBase64EncodePolicy())
    sender.create_queue()
    hosts = start()
    bodies = [f"sleep:0.{i % 5} #{i}" for i in range(30)]
    for body in bodies:
        sender.send_message(body)
    assert wait_for(lambda: len(read_records(records, "queue-done")) >= 30, timeout=30)
    time.sleep(1.5)
    seen = collections.Counter(r["body"] for r in read_records(records, "queue"))
    assert set(seen) == set(bodies) and set(seen.values()) == {1}, seen
    assert all(r["dequeue_count"] == 1 for r in read_records(records, "queue"))
    assert sum(h.queue_listeners[0].stats.messages for h in hosts) == 30


def test_a_restarted_host_takes_its_own_lock_back_at_once(azurite, start_host, tmp_path, monkeypatch):
    """A crashed host's lease would block its successor for up to listenerLockPeriod; the same instance
    (same instance id) proposes the same lease id and gets it back."""
    from devhost.singleton import ListenerLock, instance_lease_id

    lease_id = instance_lease_id("/app", 7071, {})
    crashed = ListenerLock(azurite, "restart-test", "Host.Functions.t.Listener", lease_id, 60)
    assert crashed.acquire()  # and never released: the process "died"
    assert ListenerLock(azurite, "restart-test", "Host.Functions.t.Listener", lease_id, 60).acquire()
    other = instance_lease_id("/app", 7072, {})
    assert not ListenerLock(azurite, "restart-test", "Host.Functions.t.Listener", other, 60).acquire()
    assert instance_lease_id("/app", 7071, {"WEBSITE_INSTANCE_ID": "a"}) != instance_lease_id("/app", 7071, {})



def test_a_host_that_loses_its_lock_stops_the_timer_until_the_lock_is_free(azurite, two_hosts):
    from azure.storage.blob import BlobLeaseClient

    from devhost.singleton import ListenerLock

    start, records, _ = two_hosts
    hosts = start()
    assert wait_for(lambda: timer_holder(hosts))
    blob = BlobServiceClient.from_connection_string(azurite).get_blob_client(
        LOCKS_CONTAINER, f"locks/sample-app/{timer_lock_id('tick')}")
    BlobLeaseClient(blob).break_lease(lease_break_period=0)
    intruder = ListenerLock(azurite, "sample-app", timer_lock_id("tick"), "00000000-0000-4000-8000-000000000001", 15)
    assert intruder.acquire()

    # The holder finds out at its next renewal (half of the 15 s lease) and stops its timer.
    assert wait_for(lambda: all(h.timers[0].listener is None for h in hosts), timeout=12)
    stopped = len(read_records(records, "timer"))
    time.sleep(2)
    assert len(read_records(records, "timer")) == stopped, "a timer ran without the lock"
    intruder.release()
    assert wait_for(lambda: len(read_records(records, "timer")) >= stopped + 2, timeout=10)
    assert timer_holder(hosts) is not None
    assert max(ticks_per_second(records).values()) == 1
