"""Benchmark: listing and sweeping do not slow down as history grows.

    .venv/bin/python bench/listing.py [--sizes 100,10000] [--runs 15]

Starts its own Azurite on free ports (temporary folder). For each size it fills a fresh state
container with that many decided approvals and drift checks (the history; one approval and one
candidate stay open), then measures, with the real blob adapters and the app's composition root
(ML platform and endpoint faked: they are not what is measured):
  GET /api/approvals?limit=20   the blueprint called in process with a func.HttpRequest
  GET /api/drift?limit=20       likewise
  a sweeper run                 reminders, expiry, reconciliation, stuck work
and, as a baseline, Azurite itself: one name-only listing of 21 keys under the approvals index
(the least any newest-first page costs). Quotes medians and each size's ratio to the smallest
size, measured in the same run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import azure.functions as func  # noqa: E402

import shared.bootstrap as bootstrap  # noqa: E402
from devstack.processes import azurite_connection_string, free_port, start_azurite  # noqa: E402
from shared.adapters.blob_audit import BlobAuditLog  # noqa: E402
from shared.adapters.blob_storage import BlobDocumentStore, BlobFileStore, blob_service  # noqa: E402
from shared.domain.candidates import APPROVED, Approval  # noqa: E402
from shared.domain.clock import iso  # noqa: E402
from shared.domain.models import ModelRegistered  # noqa: E402
from shared.services.repositories.paging import NewestFirstIndex  # noqa: E402
from tests.builders import MODEL, unit_settings  # noqa: E402
from tests.fakes import FakeClock, FakeDeliveryPlatform, FakeNotifier, FakeOnlineEndpoints, FakeStepQueue  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def seed_history(documents: BlobDocumentStore, size: int) -> None:
    """`size` decided approvals and `size` drift checks, written as the app writes them (doc + index marker)."""
    approvals, checks = NewestFirstIndex(documents, "index/approvals/"), NewestFirstIndex(documents, "index/drift/")

    def one(n: int) -> None:
        at = START + timedelta(minutes=n)
        approval = Approval(f"{MODEL}-v{n + 1}-{n:08x}", MODEL, str(n + 1), f"d-v{n + 1}", None, None, {}, {}, {},
                            iso(at), iso(at + timedelta(hours=72)), status=APPROVED, decided_by="ada")
        approvals.add(approval.id, at)
        documents.create(f"approvals/{approval.id}", approval.to_dict())
        check_id = f"{at:%Y%m%dT%H%M%S}-{n:06x}"
        checks.add(check_id, at)
        documents.create(f"monitoring/drift/{check_id}", {"id": check_id, "at": iso(at), "trigger": "timer",
                                                          "verdict": "no_drift", "rows": 1000})

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(one, range(size)))


def build(connection: str, container: str, clock: FakeClock):
    service = blob_service(connection)
    documents = BlobDocumentStore(service, container)
    endpoints, queue = FakeOnlineEndpoints(), FakeStepQueue()
    services = bootstrap.build_services(
        unit_settings(STATE_CONTAINER=container), documents=documents, files=BlobFileStore(service),
        platform=FakeDeliveryPlatform(), notifier=FakeNotifier(), endpoints=endpoints,
        audit=BlobAuditLog(service, container), queue=queue, clock=clock)
    queue.runner = services.steps  # the queued steps run inline, as the host would run them
    return documents, services


def timed(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def measure(connection: str, size: int, runs: int) -> dict:
    clock = FakeClock(START + timedelta(days=30))
    documents, services = build(connection, f"bench-{uuid.uuid4().hex[:8]}", clock)
    seeded = time.perf_counter()
    seed_history(documents, size)
    seeded = time.perf_counter() - seeded
    services.candidates.handle_registered(ModelRegistered(MODEL, str(size + 1), "mlflow-webhook", "bench"))
    bootstrap._services = services
    from blueprints.approvals import list_approvals
    from blueprints.monitoring import drift_results

    list_function = list_approvals.build().get_user_function()
    drift_function = drift_results.build().get_user_function()

    def get(function, route):
        response = function(func.HttpRequest("GET", f"http://localhost/api/{route}", params={"limit": "20"}, body=b""))
        assert response.status_code == 200, response.get_body()[:300]

    result = {
        "size": size, "seed_s": round(seeded, 1),
        "approvals_ms": timed(lambda: get(list_function, "approvals"), runs),
        "drift_ms": timed(lambda: get(drift_function, "drift"), runs),
        "sweep_ms": timed(services.sweeper.sweep, runs),
        "azurite_list_ms": timed(lambda: documents.list_keys("index/approvals/", 21), runs),
    }
    assert len(services.approvals.list(limit=20).items) == 20 or size < 19
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        blob, queue = free_port(), free_port()
        azurite = start_azurite(Path(folder) / "azurite", Path(folder) / "logs", blob, queue).wait_ready()
        try:
            results = [measure(azurite_connection_string(blob, queue), size, args.runs) for size in sizes]
        finally:
            azurite.stop()
    base = results[0]
    keys = ("approvals_ms", "drift_ms", "sweep_ms", "azurite_list_ms")
    print(f"{'records':>8} {'seed s':>7} {'GET approvals ms':>17} {'GET drift ms':>13} {'sweep ms':>9} "
          f"{'Azurite list ms':>16}   ratios vs {base['size']} (same order)")
    for r in results:
        ratios = " / ".join(f"{r[k] / base[k]:.2f}" for k in keys)
        print(f"{r['size']:>8} {r['seed_s']:>7} {r['approvals_ms']:>17.1f} {r['drift_ms']:>13.1f} {r['sweep_ms']:>9.1f} "
              f"{r['azurite_list_ms']:>16.1f}   {ratios}")


if __name__ == "__main__":
    main()
