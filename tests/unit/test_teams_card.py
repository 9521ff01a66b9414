"""The Teams Adaptive Card (pure) and TeamsNotifier against a loopback HTTP receiver."""
from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from shared.adapters.teams import ADAPTIVE_CARD, TEAMS_LIMIT_BYTES, TeamsNotifier, adaptive_card, encode, message
from shared.ports import Notification

APPROVE = "https://app.example.net/api/approvals/a-1/approve?token=1800000000.c2lnbmF0dXJlLWFwcHJvdmU"
REJECT = "https://app.example.net/api/approvals/a-1/reject?token=1800000000.c2lnbmF0dXJlLXJlamVjdA"
DETAILS = "https://app.example.net/api/approvals/a-1"


@pytest.fixture(autouse=True)
def notifications_logger_enabled():
    """import-linter's lint_imports (test_architecture) runs logging.dictConfig, which disables every
    logger that already exists, "notifications" included: re-enable it so caplog sees our records."""
    logger = logging.getLogger("notifications")
    disabled, logger.disabled = logger.disabled, False
    yield
    logger.disabled = disabled


def approval(**overrides) -> Notification:
    fields = dict(
        kind="approval.requested",
        title="Approve diabetes-classifier v7?",
        text="Candidate v7 beats the champion v6 on AUC; review and decide.",
        facts={"model": "diabetes-classifier", "candidate": "7", "champion": "6", "training set": "ts-0042"},
        links={"Approve": APPROVE, "Reject": REJECT, "Details": DETAILS},
        table=(("metric", "candidate v7", "champion v6"), ("auc", "0.871", "0.853"), ("accuracy", "0.792", "0.781")),
    )
    fields.update(overrides)
    return Notification(**fields)


def walk(node):
    """Every dict in the card, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def texts(card) -> list[str]:
    return [n["text"] for n in walk(card) if n.get("type") == "TextBlock"]


def test_card_structure_and_actions():
    card = adaptive_card(approval())
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"

    title = card["body"][0]
    assert title == {"type": "TextBlock", "text": "Approve diabetes-classifier v7?", "wrap": True,
                     "size": "Large", "weight": "Bolder"}
    assert card["body"][1]["text"].startswith("Candidate v7 beats")
    facts = next(n for n in card["body"] if n["type"] == "FactSet")["facts"]
    assert {"title": "training set", "value": "ts-0042"} in facts and len(facts) == 4

    actions = card["actions"]
    assert [a["type"] for a in actions] == ["Action.OpenUrl"] * 3
    assert [(a["title"], a["url"]) for a in actions] == [("Approve", APPROVE), ("Reject", REJECT), ("Details", DETAILS)]
    assert [a.get("style") for a in actions] == ["positive", "destructive", None]
    assert not any("Submit" in str(n.get("type")) for n in walk(card)), "Action.Submit does not work in Workflows"


def test_table_is_side_by_side_with_a_bold_header():
    card = adaptive_card(approval())
    rows = [n for n in card["body"] if n["type"] == "ColumnSet"]
    assert len(rows) == 3
    cells = [[column["items"][0] for column in row["columns"]] for row in rows]
    assert [[c["text"] for c in row] for row in cells] == [
        ["metric", "candidate v7", "champion v6"], ["auc", "0.871", "0.853"], ["accuracy", "0.792", "0.781"]]
    assert all(c.get("weight") == "Bolder" for c in cells[0])
    assert not any(c.get("weight") for row in cells[1:] for c in row)
    assert all(column["type"] == "Column" for row in rows for column in row["columns"])


def test_no_table_no_columnsets_and_ragged_rows_are_padded():
    assert not [n for n in adaptive_card(approval(table=()))["body"] if n["type"] == "ColumnSet"]
    card = adaptive_card(approval(table=(("metric", "a", "b"), ("auc", 0.9), ("f1", None, 0.5, "extra"))))
    rows = [[c["items"][0]["text"] for c in n["columns"]] for n in card["body"] if n["type"] == "ColumnSet"]
    assert rows == [["metric", "a", "b"], ["auc", "0.9", ""], ["f1", "", "0.5"]]


def test_unusable_links_are_left_out_without_logging_them(caplog):
    caplog.set_level(logging.DEBUG)
    card = adaptive_card(approval(links={"Approve": APPROVE, "Run": "javascript:alert(1)",
                                         "Huge": "https://x.example/" + "a" * 5000}))
    assert [a["url"] for a in card["actions"]] == [APPROVE]
    assert "javascript" not in caplog.text and "aaaa" not in caplog.text


def test_huge_inputs_stay_well_under_28_kb():
    huge = "x" * 200_000
    emoji = "😀" * 50_000
    notification = Notification(
        kind="approval.requested",
        title=huge,
        text=emoji + "\x00" * 50_000,
        facts={f"fact {i} {huge[:500]}": {"nested": [huge]} for i in range(500)},
        links={"Approve": APPROVE + "&pad=" + "p" * 1900, "Reject": REJECT, "Details": DETAILS},
        table=tuple((f"metric {i}", huge, emoji, "\"" * 10_000) for i in range(1000)),
    )
    card = adaptive_card(notification)
    sent = len(encode(message(card)))  # the UTF-8 bytes TeamsNotifier posts
    escaped = len(json.dumps(message(card), ensure_ascii=True))  # the same JSON re-serialized ASCII-only
    assert sent <= escaped < TEAMS_LIMIT_BYTES * 0.9, (sent, escaped)
    assert card["body"][0]["text"].endswith("…")
    assert [a["title"] for a in card["actions"]] == ["Approve", "Reject", "Details"]  # links are never cut
    assert card["actions"][0]["url"].startswith(APPROVE)


def test_moderately_large_inputs_keep_the_table():
    notification = approval(facts={f"fact {i}": "v" * 300 for i in range(40)},
                            table=tuple((f"metric {i}", "0.1", "0.2") for i in range(25)))
    card = adaptive_card(notification)
    assert len(encode(message(card))) < TEAMS_LIMIT_BYTES
    assert [n for n in card["body"] if n["type"] == "ColumnSet"], "table kept"
    facts = next(n for n in card["body"] if n["type"] == "FactSet")["facts"]
    assert facts[-1]["title"] == "…" and facts[-1]["value"].endswith("more")


# --- over real HTTP -----------------------------------------------------------------------------

@contextmanager
def receiver(status: int):
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        path = "/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRETSIGNATURE123"
        yield f"http://127.0.0.1:{server.server_address[1]}{path}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_posts_the_card_to_the_workflow_webhook():
    with receiver(202) as (url, received):
        TeamsNotifier(url, timeout=5).notify(approval())
    assert len(received) == 1
    request = received[0]
    assert request["path"].endswith("sig=SECRETSIGNATURE123")
    assert request["headers"]["Content-Type"].startswith("application/json")
    payload = json.loads(request["body"].decode("utf-8"))
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    assert attachment["content"] == adaptive_card(approval())
    assert [a["url"] for a in attachment["content"]["actions"]] == [APPROVE, REJECT, DETAILS]


def test_a_failing_webhook_falls_back_to_the_log_without_the_url(caplog):
    caplog.set_level(logging.DEBUG)
    with receiver(500) as (url, received):
        notifier = TeamsNotifier(url, timeout=5)
        notifier.notify(approval())  # must not raise
    assert len(received) == 1
    assert "could not be delivered" in caplog.text and "HTTP 500" in caplog.text
    assert "Approve diabetes-classifier v7?" in caplog.text, "fallback: the notification is in the log"
    for secret in ("SECRETSIGNATURE123", url, "c2lnbmF0dXJl", "token="):
        assert secret not in caplog.text
    assert "SECRETSIGNATURE123" not in repr(notifier)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/nothing-listens?sig=SECRETSIGNATURE123",
                                 "not a url sig=SECRETSIGNATURE123", ""])
def test_unreachable_or_invalid_webhook_never_raises(url, caplog):
    caplog.set_level(logging.DEBUG)
    TeamsNotifier(url, timeout=2).notify(approval())
    assert "could not be delivered" in caplog.text
    assert "SECRETSIGNATURE123" not in caplog.text


def test_an_approval_request_with_every_gate_figure_fits_the_card_compactly():
    import numpy as np

    from shared.domain.evaluation import ScoredRows
    from shared.domain.gate import GatePolicy, judge_rows
    from shared.services.promotion.notifications import gate_facts

    rng = np.random.default_rng(1)
    labels = (rng.random(2000) < 0.35).astype(int)
    noise = rng.normal(0, 1, 2000)
    p = {v: tuple(1 / (1 + np.exp(-(s * labels + noise - s / 2)))) for v, s in (("2", 1.6), ("1", 1.5))}
    features = {"Age": tuple(rng.integers(21, 80, 2000) * 1.0), "BMI": tuple(rng.uniform(18, 50, 2000)),
                "Pregnancies": tuple(rng.integers(0, 5, 2000) * 1.0)}
    gate = judge_rows(GatePolicy(minimum=0.6), ScoredRows(tuple(labels), features, p, (("held out", 2000),)), "2", "1")
    gate_dict = {**gate.to_dict(), "disagreement": {"rows": 900, "share": 0.031, "examples": []}}
    card = adaptive_card(approval(facts=gate_facts(gate_dict), table=gate.table()))

    assert len(encode(message(card))) < TEAMS_LIMIT_BYTES
    shown = " ".join(texts(card)) + json.dumps(card, ensure_ascii=False)
    assert "95% CI" in shown and "3.1% of 900 recent rows" in shown and "Age ≥ 50" in shown
    assert "Brier" in shown and "sensitivity" in shown
