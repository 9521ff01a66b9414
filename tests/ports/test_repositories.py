"""The repositories on both stores: keys, newest-first paging across listing pages, open sets, strict records."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.domain.batches import ACCEPTED, REJECTED, DataBatch
from shared.domain.candidates import EXPIRED, Approval
from shared.domain.clock import iso
from shared.domain.errors import InvalidInput
from shared.domain.records import UnknownFields
from shared.services.repositories import Repositories
from shared.services.repositories.paging import SCAN_PAGE

START = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def approval(n: int) -> Approval:
    created = START + timedelta(seconds=n)
    return Approval(f"m-v{n}-0000abcd", "m", str(n), f"m-v{n}", None, None, {}, {}, {}, iso(created),
                    iso(created + timedelta(hours=1)))


@pytest.fixture
def repos(documents) -> Repositories:
    return Repositories.on(documents, "m", lambda: START)


def test_approvals_page_newest_first_across_listing_pages(repos):
    total = SCAN_PAGE + 30
    for n in range(1, total + 1):
        repos.approvals.add(approval(n))

    seen, token = [], None
    while True:
        page = repos.approvals.newest(70, token)
        seen += [a.candidate_version for a in page.items]
        token = page.continuation
        if token is None:
            break
    assert seen == [str(n) for n in range(total, 0, -1)]


def test_filtered_pages_resume_exactly_where_they_stopped(repos):
    for n in range(1, 31):
        repos.approvals.add(approval(n))
        if n % 3 == 0:
            repos.approvals.change(approval(n).id, lambda a: a.close(EXPIRED, "system", "late", "system", START))
    first = repos.approvals.newest(4, status=EXPIRED)
    rest = repos.approvals.newest(10, first.continuation, status=EXPIRED)
    assert [a.candidate_version for a in first.items + rest.items] == [str(n) for n in range(30, 0, -3)]
    assert rest.continuation is None


def test_the_open_set_holds_only_what_is_still_open(repos):
    for n in range(1, 6):
        repos.approvals.add(approval(n))
    repos.approvals.change(approval(2).id, lambda a: a.close(EXPIRED, "system", "late", "system", START))
    assert [a.candidate_version for a in repos.approvals.open()] == ["1", "3", "4", "5"]


def test_batches_of_any_legal_name_get_short_keys_and_list_newest_first(repos, documents):
    long_name = "dossier/" + "é" * 500 + "/../patients.csv"
    for n, (name, status) in enumerate([(long_name, ACCEPTED), ("b.csv", REJECTED), ("c.csv", ACCEPTED)]):
        at = iso(START + timedelta(minutes=n))
        repos.batches.add(DataBatch("data", name, f'"0x{n}"', 10, status, received_at=at, decided_at=at))
    assert [b.name for b in repos.batches.newest(10).items] == ["c.csv", "b.csv", long_name]
    assert [b.name for b in repos.batches.newest(10, status=ACCEPTED).items] == ["c.csv", long_name]
    assert repos.batches.find(long_name, '"0x0"').name == long_name
    keys = documents.list_keys("", 100).keys
    assert max(len(k) for k in keys) < 80 and not any(".." in k for k in keys)


def test_a_stored_record_with_an_unknown_field_is_an_error(repos, documents):
    repos.approvals.add(approval(1))
    stored = documents.get("approvals/m-v1-0000abcd")
    documents.replace(stored.key, {**stored.doc, "staus": "approved"}, stored.etag)
    with pytest.raises(UnknownFields, match="staus"):
        repos.approvals.get("m-v1-0000abcd")


def test_ids_that_are_not_ours_never_become_keys(repos):
    for bad in ("../production/m", "a/b", "", "x" * 201, "a..b"):
        with pytest.raises(InvalidInput):
            repos.approvals.find(bad)
        with pytest.raises(InvalidInput):
            repos.jobs.find(bad)
        with pytest.raises(InvalidInput):
            repos.drift_checks.find(bad)
    with pytest.raises(InvalidInput):
        repos.candidates.find("1" * 400)


def test_malformed_events_past_a_minutes_cap_are_counted_exactly_by_interleaved_writers(documents):
    from shared.services.repositories.models import MalformedEvents

    first, second = MalformedEvents(documents), MalformedEvents(documents)
    for n in range(10):
        (first if n % 3 else second).note_dropped({"id": f"../x-{n}"}, "no name", START + timedelta(seconds=n))
    first.note_dropped({"id": "../x-0"}, "no name", START)  # the same event again: counted, named once
    first.keep({"id": "../kept"}, "no name", START)

    [summary] = first.dropped(10).items
    assert summary["count"] == 11 and len(summary["hashes"]) == 10
    assert first.kept_in_minute(START + timedelta(seconds=30), 50) == 1
    assert not any(".." in key for key in documents.list_keys("", 100).keys)


def test_every_version_of_one_name_is_found_and_the_training_data_keeps_the_newest(repos, documents):
    from shared.domain.batches import BatchRef

    name = "données/" + "模型" * 450 + ".csv"  # 910 characters
    for n in range(3):
        at = iso(START + timedelta(minutes=n))
        repos.batches.add(DataBatch("data", name, f'"0x{n}"', 10, ACCEPTED, received_at=at, decided_at=at))
        repos.accepted.add(BatchRef("data", name, f'"0x{n}"', f"{n}" * 64, "_accepted/" + f"{n}" * 64), at)
    repos.batches.add(DataBatch("data", "other.csv", '"0x9"', 10, ACCEPTED, received_at=iso(START), decided_at=iso(START)))

    assert [b.etag for b in repos.batches.versions_of(name)] == ['"0x2"', '"0x1"', '"0x0"']
    assert [b.etag for b in repos.accepted.all()] == ['"0x2"']
    assert max(len(k) for k in documents.list_keys("", 100).keys) < 80


def test_pages_neither_repeat_nor_skip_when_newer_items_arrive_between_them(repos):
    for n in range(1, 6):
        repos.approvals.add(approval(n))
    first = repos.approvals.newest(2)
    repos.approvals.add(approval(9))  # newer: it belongs before the first page
    rest = repos.approvals.newest(10, first.continuation)
    assert [a.candidate_version for a in first.items] == ["5", "4"]
    assert [a.candidate_version for a in rest.items] == ["3", "2", "1"]
