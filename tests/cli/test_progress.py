"""The progress label speaks py302's words, the provider's beside them."""

from __future__ import annotations

import pytest

from py302 import TaskSnapshot, TaskStatus
from py302.cli._progress import status_label


@pytest.mark.parametrize(
    ("status", "provider", "label"),
    [
        (TaskStatus.QUEUED, None, "queued"),
        (TaskStatus.QUEUED, "Pending", "queued (Pending)"),
        (TaskStatus.RUNNING, "processing", "running (processing)"),
        (TaskStatus.RUNNING, "RUNNING", "running"),
        (TaskStatus.SUCCEEDED, "Ready", "succeeded (Ready)"),
    ],
)
def test_the_label_always_leads_with_py302s_word(
    status: TaskStatus, provider: str | None, label: str
) -> None:
    assert status_label(TaskSnapshot(status=status, provider_status=provider)) == label
