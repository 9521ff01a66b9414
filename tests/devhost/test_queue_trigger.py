"""Queue triggers against a real Azurite: delivery, retries, poison queue, back-off, renewal, stop."""
from __future__ import annotations

import base64
import time

import pytest
from azure.storage.queue import QueueClient, TextBase64EncodePolicy

from .conftest import read_records, sample_env, unique_container, wait_for

pytestmark = pytest.mark.integration

MAX_DEQUEUE = 3  # sample_app/host.json extensions.queues.maxDequeueCount


@pytest.fixture
def queue_name() -> str:
    return unique_container()


@pytest.fixture
def sender(azurite, queue_name):
    """Sends as the app's adapter does: base64 text (the Functions default encoding)."""
    client = QueueClient.from_connection_string(azurite, queue_name, message_encode_policy=TextBase64EncodePolicy())
    try:
        client.create_queue()
    except Exception:  # noqa: BLE001 - the host may have created it first
        pass
    return client


def raw_queue(azurite, name) -> QueueClient:
    return QueueClient.from_connection_string(azurite, name)


def peek(azurite, name) -> list[str]:
    try:
        return [m.content for m in raw_queue(azurite, name).peek_messages(max_messages=32)]
    except Exception:  # noqa: BLE001 - the poison queue appears with its first message
        return []


def deliveries(records, body=None) -> list[dict]:
    return [r for r in read_records(records, "queue") if body is None or r["body"] == body]


def test_a_message_is_delivered_once_with_its_properties(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    sent = sender.send_message("hello queue")
    assert base64.b64decode(peek(azurite, queue_name)[0]) == b"hello queue"  # base64 on the wire
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name))

    got = wait_for(lambda: deliveries(records))
    assert got, "the message was not delivered"
    message = got[0]
    assert message["body"] == "hello queue" and message["id"] == sent.id
    assert message["dequeue_count"] == 1 and message["pop_receipt"] and message["is_queue_message"]
    assert message["inserted"] and message["expires"] and message["next_visible"]
    assert wait_for(lambda: not peek(azurite, queue_name)), "a handled message is deleted"
    polls = host.queue_listeners[0].stats.polls
    assert wait_for(lambda: host.queue_listeners[0].stats.polls >= polls + 3)
    assert len(deliveries(records)) == 1


def test_a_failing_message_is_retried_then_moved_to_the_poison_queue(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name))
    sender.send_message("fail always")

    assert wait_for(lambda: peek(azurite, f"{queue_name}-poison"), timeout=15), "no poison message"
    poison = peek(azurite, f"{queue_name}-poison")
    assert [base64.b64decode(text) for text in poison] == [b"fail always"]  # the message as it was stored
    assert [r["dequeue_count"] for r in deliveries(records)] == list(range(1, MAX_DEQUEUE + 1))
    polls = host.queue_listeners[0].stats.polls
    assert wait_for(lambda: host.queue_listeners[0].stats.polls >= polls + 3)
    assert peek(azurite, queue_name) == [] and len(deliveries(records)) == MAX_DEQUEUE
    assert host.queue_listeners[0].stats.poisoned == 1


def test_a_message_dequeued_too_often_by_crashed_hosts_is_poisoned_without_running(
        azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    sender.send_message("crashed thrice")
    raw = raw_queue(azurite, queue_name)
    for _ in range(MAX_DEQUEUE):  # received and never completed, as by a host that died
        message = next(iter(raw.receive_messages(max_messages=1, visibility_timeout=30)))
        raw.update_message(message.id, pop_receipt=message.pop_receipt, visibility_timeout=0)
    start_host(sample_env(records, azurite, unique_container(), queue=queue_name))

    assert wait_for(lambda: peek(azurite, f"{queue_name}-poison"), timeout=10)
    assert deliveries(records) == []


def test_a_body_that_is_not_base64_goes_to_the_poison_queue(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    raw_queue(azurite, queue_name).send_message("not base64 at all!")
    start_host(sample_env(records, azurite, unique_container(), queue=queue_name))

    assert wait_for(lambda: peek(azurite, f"{queue_name}-poison"), timeout=10) == ["not base64 at all!"]
    assert deliveries(records) == []


def test_an_empty_queue_is_polled_less_often_up_to_max_polling_interval(
        azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name))
    stats = host.queue_listeners[0].stats
    assert wait_for(lambda: len(stats.waits) >= 8, timeout=15)
    waits = list(stats.waits)[:8]
    assert waits[0] < 0.25, waits  # from the 100 ms minimum
    assert all(a <= b for a, b in zip(waits, waits[1:])), waits
    assert waits[-1] == 1.0, waits  # maxPollingInterval of sample_app/host.json, and no further

    before = len(stats.waits)
    sender.send_message("wake up")
    assert wait_for(lambda: deliveries(records), timeout=5)
    assert wait_for(lambda: len(stats.waits) > before)
    assert list(stats.waits)[before] < 0.25, "a message resets the back-off"


def test_a_long_running_function_keeps_its_message_invisible(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name), queue_message_visibility=2)
    sender.send_message("sleep:5")  # 2.5 times the receive visibility

    assert wait_for(lambda: read_records(records, "queue-done"), timeout=15)
    assert [r["dequeue_count"] for r in deliveries(records)] == [1]
    assert wait_for(lambda: not peek(azurite, queue_name))
    assert host.queue_listeners[0].stats.messages == 1


def test_stop_waits_for_a_running_message_and_completes_it(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name))
    sender.send_message("sleep:1.5")
    assert wait_for(lambda: deliveries(records))
    host.stop()
    assert read_records(records, "queue-done")
    assert peek(azurite, queue_name) == []


def test_a_disabled_queue_function_leaves_its_messages(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    env = {**sample_env(records, azurite, unique_container(), queue=queue_name), "AzureWebJobs.on_message.Disabled": "true"}
    sender.send_message("not for now")
    host = start_host(env)
    time.sleep(1.5)
    assert host.queue_listeners == [] and deliveries(records) == []
    assert len(peek(azurite, queue_name)) == 1


def test_admin_run_of_a_queue_function_passes_the_input_as_body(azurite, queue_name, start_host, tmp_path):
    import requests

    from .conftest import MASTER_KEY

    records = tmp_path / "r.jsonl"
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name))
    response = requests.post(f"{host.url}/admin/functions/on_message", json={"input": "by hand"},
                             params={"code": MASTER_KEY}, timeout=5)
    assert response.status_code == 202
    assert wait_for(lambda: deliveries(records, "by hand"))[0]["dequeue_count"] == 1


def test_batches_of_batch_size_and_a_new_batch_at_the_threshold(azurite, queue_name, sender, start_host, tmp_path):
    records = tmp_path / "r.jsonl"
    bodies = ["sleep:0.2 #0", "sleep:0.2 #1"] + [f"sleep:3 #{i}" for i in range(2, 10)]
    for body in bodies:  # sample_app/host.json: batchSize 4, newBatchThreshold 4 / 2 = 2
        sender.send_message(body)
    host = start_host(sample_env(records, azurite, unique_container(), queue=queue_name))
    stats = host.queue_listeners[0].stats

    assert wait_for(lambda: len(read_records(records, "queue-done")) == 10, timeout=30)
    assert list(stats.batches)[0] == 4 and max(stats.batches) == 4, stats.batches
    # The first batch of 4; two quick ones finish; 2 still running <= threshold: 4 more.
    assert stats.most_running == 6, stats.most_running
