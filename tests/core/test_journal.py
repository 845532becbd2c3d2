"""The task journal: written before the id is handed back, kept current, never the key."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from py302 import InternalServerError, Journal, ResponseShapeError, TaskTimeoutError
from tests.core.mock_api import MockAPI

SUBMIT = "/flux/v1/flux-pro-1.1"
POLL = "/flux/v1/get_result"
TICKET = httpx.Response(200, json={"id": "t-1"})
PENDING = httpx.Response(200, json={"id": "t-1", "status": "Pending", "progress": 0.3})
READY = httpx.Response(
    200, json={"id": "t-1", "status": "Ready", "result": {"sample": "https://x/t.jpg"}}
)


def test_row_is_written_before_the_submit_is_sent_and_kept_current(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    seen_during_submit = []

    def submit(request: httpx.Request) -> httpx.Response:
        seen_during_submit.extend(journal.entries())
        return TICKET

    api = MockAPI().on("POST", SUBMIT, submit).on("GET", POLL, PENDING, READY)
    with api.client(journal=journal) as client:
        task = client.flux.generate(model="flux-pro-1.1", prompt="x")
        (row,) = journal.entries()
        assert (row.task_id, row.state, row.operation) == ("t-1", "queued", "flux.generate")
        assert task.journal_entry == row.entry
        task.wait()

    (during,) = seen_during_submit
    assert (during.state, during.task_id) == ("submitting", None)
    (row,) = journal.entries()
    assert row.state == "succeeded"
    assert row.result_urls == ("https://x/t.jpg",)
    assert not row.unfinished


@pytest.mark.parametrize(
    ("answer", "error", "state"),
    [
        (httpx.Response(400, json={"message": "bad"}), Exception, "not_submitted"),
        (httpx.Response(502, json={"message": "gateway"}), InternalServerError, "uncertain"),
        (httpx.Response(200, json={"no": "id"}), ResponseShapeError, "lost"),
    ],
)
def test_failed_submits_say_whether_a_task_may_exist(
    tmp_path: Path, answer: httpx.Response, error: type[Exception], state: str
) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    api = MockAPI().on("POST", SUBMIT, answer)
    with api.client(journal=journal) as client, pytest.raises(error):
        client.flux.generate(model="flux-pro-1.1", prompt="x")
    (row,) = journal.entries()
    assert row.state == state
    assert row.message


def test_a_wait_that_times_out_leaves_a_resumable_row(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    api = MockAPI().on("POST", SUBMIT, TICKET).on("GET", POLL, PENDING)
    with api.client(journal=journal) as client, pytest.raises(TaskTimeoutError):
        client.flux.generate(model="flux-pro-1.1", prompt="x").wait(timeout=5)
    (row,) = journal.entries(unfinished=True)
    assert row.state == "timed_out"
    assert row.progress == pytest.approx(0.3)

    api.routes[("GET", POLL)] = [READY]
    with api.client(journal=journal) as client:
        result = client.resume_task(row.operation, row.task_id or "").wait()
    assert result.asset.url == "https://x/t.jpg"
    assert journal.entries(unfinished=True) == []
    assert journal.find("t-1").state == "succeeded"  # type: ignore[union-attr]


def test_the_journal_never_holds_the_key(tmp_path: Path) -> None:
    secret = "sk-canary-journal-5c1e"
    path = tmp_path / "journal.sqlite3"
    api = MockAPI().on("POST", SUBMIT, TICKET).on("GET", POLL, READY)
    with api.client(journal=path, api_key=secret) as client:
        client.flux.generate(model="flux-pro-1.1", prompt="x").wait()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in stored
    assert b"t-1" in stored


def test_library_clients_keep_no_journal_unless_asked() -> None:
    with MockAPI().client() as client:
        assert client.journal is None
