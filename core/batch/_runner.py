"""A worker that takes a job's items from the queue, submits each once, collects it.

Any number of workers (processes, machines) may run one job at once; each stays until
every item of the job has ended, so that it can take over the items of a worker that
died (see `py302.batch._queue` for the leases and the states).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from py302._client import AsyncClient
from py302._errors import Py302Error, TaskError, TaskTimeoutError
from py302._observers import submit_outcome
from py302._results import Result
from py302._task_handles import AsyncTask

from ._files import append_manifest, place_files, prepared_out, staging_folder, write_manifest
from ._jobs import JobItem, file_stem
from ._queue import FINAL_STATES, UNFINISHED_STATES, Claimed, Queue

__all__ = ["BatchProgress", "BatchRunner", "BatchSummary"]

logger = logging.getLogger("py302.batch")


@attrs.define(kw_only=True)
class BatchProgress:
    """What this worker has done so far, for a progress display."""

    total: int
    already_done: int = 0
    succeeded: int = 0
    failed: int = 0
    uncertain: int = 0
    running: int = 0
    submits: int = 0
    started: float = attrs.field(factory=time.monotonic)

    @property
    def finished(self) -> int:
        """Items that ended in this run."""
        return self.succeeded + self.failed + self.uncertain

    @property
    def requests_per_second(self) -> float:
        """Submits per second since the run started."""
        return self.submits / max(time.monotonic() - self.started, 1e-9)

    def eta_seconds(self) -> float | None:
        """Seconds until every item has ended, at this run's pace so far."""
        left = self.total - self.already_done - self.finished
        elapsed = time.monotonic() - self.started
        if self.finished == 0 or left <= 0:
            return None if left > 0 else 0.0
        return left * elapsed / self.finished


@attrs.frozen(kw_only=True)
class BatchSummary:
    """How a job stands after a run: items in each state, and where the manifest is."""

    job: str
    counts: dict[str, int]
    manifest: Path
    seconds: float
    stopped_early: bool = False

    @property
    def complete(self) -> bool:
        """Whether every item has ended."""
        return not any(self.counts.get(state) for state in UNFINISHED_STATES)

    @property
    def all_succeeded(self) -> bool:
        """Whether every item ended with its files saved."""
        return self.complete and set(self.counts) <= {"succeeded"}


_HOST = socket.gethostname()


def _dead_here(owner: str) -> bool:
    """Whether `owner` was a process on this machine that no longer runs (a crashed
    run's items need not wait for its leases to run out)."""
    host, _, rest = owner.partition("/")
    pid = rest.partition("/")[0]
    if host != _HOST or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False


class _Pace:
    """At most `per_second` submits a second, spread evenly."""

    def __init__(self, per_second: float | None) -> None:
        self._interval = 1.0 / per_second if per_second else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        at = max(now, self._next)
        self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)


@attrs.define(kw_only=True)
class BatchRunner:
    """Runs `job` (its `items`) from `queue` with `client`, saving into `out`.

    `concurrency`: items in flight at once; `rate`: submits per second at most;
    `max_failures`: stop submitting after this many items failed in this run (those in
    flight are still collected); `lease`: seconds an item stays this worker's without a
    heartbeat; `task_timeout`: how long one task is waited for in this run (it is then
    given back, still running, for a later run to collect).
    """

    client: AsyncClient
    queue: Queue
    job: str
    items: Sequence[JobItem]
    out: Path
    concurrency: int = 16
    rate: float | None = None
    max_failures: int | None = None
    retry_failed: bool = False
    lease: float = 30.0
    task_timeout: float = 1800.0
    on_progress: Callable[[BatchProgress], None] | None = None
    owner: str = attrs.field(factory=lambda: f"{_HOST}/{os.getpid()}/{uuid.uuid4().hex[:8]}")
    _progress: BatchProgress = attrs.field(init=False)
    _pace: _Pace = attrs.field(init=False)
    _stopping: bool = attrs.field(init=False, default=False)
    #: Items this run gave back unfinished (a wait that ran out, polls that kept
    #: failing): not taken again in this run, so it ends instead of spinning on them.
    _given_back: set[str] = attrs.field(init=False, factory=set)

    def __attrs_post_init__(self) -> None:
        self._progress = BatchProgress(total=len(self.items))
        self._pace = _Pace(self.rate)

    async def run(self) -> BatchSummary:
        """Work until every item of the job has ended (or `max_failures` stops it)."""
        started = time.monotonic()
        prepared_out(self.out)
        await self.queue.add(self.job, self.items)
        if self.retry_failed:
            await self.queue.retry_failed(self.job)
        for holder in await self.queue.owners(self.job):
            if _dead_here(holder):
                await self.queue.end_lease(self.job, holder)
        await self.queue.expire(self.job)
        counts = await self.queue.counts(self.job)
        self._progress.already_done = sum(counts.get(state, 0) for state in FINAL_STATES)
        self._progress.total = sum(counts.values())
        self._tell()
        heartbeat = asyncio.create_task(self._heartbeat())
        active: set[asyncio.Task[None]] = set()
        try:
            await self._work(active)
        finally:
            heartbeat.cancel()
            for task in active:
                task.cancel()
            await asyncio.gather(heartbeat, *active, return_exceptions=True)
        counts = await self.queue.counts(self.job)
        rows = [row.as_json() for row in await self.queue.rows(self.job)]
        manifest = write_manifest(self.out, rows)
        return BatchSummary(
            job=self.job,
            counts=counts,
            manifest=manifest,
            seconds=time.monotonic() - started,
            stopped_early=self._stopping,
        )

    async def _work(self, active: set[asyncio.Task[None]]) -> None:
        idle = min(1.0, self.lease / 3)
        while True:
            free = self.concurrency - len(active)
            if free > 0 and not self._stopping:
                for claimed in await self.queue.claim(self.job, self.owner, free, self.lease):
                    if claimed.key in self._given_back:
                        await self.queue.release(self.job, claimed.key, self.owner)
                    else:
                        active.add(asyncio.create_task(self._item(claimed)))
            if not active:
                counts = await self.queue.counts(self.job)
                unfinished = sum(counts.get(state, 0) for state in UNFINISHED_STATES)
                if self._stopping or unfinished <= len(self._given_back):
                    return
                await asyncio.sleep(idle)  # another worker holds the rest: stay to take over
                continue
            done, _ = await asyncio.wait(active, timeout=idle, return_when=asyncio.FIRST_COMPLETED)
            active.difference_update(done)
            for task in done:
                task.result()  # a queue error ends the run (the items stay where they are)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.queue.heartbeat(self.job, self.owner, self.lease)
                await self.queue.expire(self.job)
            except Py302Error as exc:  # the next beat may reach it; the leases are long
                logger.warning("batch %s: heartbeat failed (%s)", self.job, exc)

    async def _item(self, item: Claimed) -> None:
        self._progress.running += 1
        self._tell()
        try:
            result = await self._collected(item)
            if result is not None:
                await self._succeeded(item, result)
        finally:
            self._progress.running -= 1
            self._tell()

    async def _collected(self, item: Claimed) -> Result[Any] | None:
        """The item's result, or None when it ended otherwise (written down) or was
        given back."""
        try:
            if item.state == "running" and item.task_id:
                task = await self.client.resume_task(
                    item.operation, item.task_id, path=item.submit_path
                )
                return await task.wait(timeout=self.task_timeout)
            return await self._submitted(item)
        except asyncio.CancelledError:  # interrupted: the next run takes it up at once
            await self.queue.release(self.job, item.key, self.owner)
            raise
        except TaskTimeoutError:
            await self._give_back(item, "its task is still running")
        except TaskError as exc:
            await self._ended(item, "failed", str(exc))
        except Py302Error as exc:  # polling failed past its retries: a later run goes on
            await self._give_back(item, str(exc))
        return None

    async def _give_back(self, item: Claimed, why: str) -> None:
        logger.warning("batch %s line %d: %s; the next run collects it", self.job, item.line, why)
        self._given_back.add(item.key)
        await self.queue.release(self.job, item.key, self.owner)

    async def _submitted(self, item: Claimed) -> Result[Any] | None:
        await self._pace.wait()
        if self._stopping or not await self.queue.submitting(
            self.job, item.key, self.owner, self.lease
        ):
            await self.queue.release(self.job, item.key, self.owner)
            return None
        self._progress.submits += 1
        try:
            outcome = await self._call(item)
        except asyncio.CancelledError:
            await self._ended(item, "uncertain", "interrupted while its submit was on its way")
            raise
        except Exception as exc:  # every way a submit can fail says whether a task exists
            state = {"not_submitted": "failed", "lost": "lost"}.get(
                submit_outcome(exc), "uncertain"
            )
            await self._ended(item, state, f"{type(exc).__name__}: {exc}")
            return None
        if isinstance(outcome, AsyncTask):
            await self.queue.submitted(
                self.job, item.key, self.owner, outcome.id, outcome.submit_path
            )
            result: Result[Any] = await outcome.wait(timeout=self.task_timeout)
            return result
        return outcome  # type: ignore[no-any-return]

    async def _call(self, item: Claimed) -> Any:
        provider, _, name = item.operation.partition(".")
        return await getattr(self.client.provider(provider), name)(**item.arguments)

    async def _succeeded(self, item: Claimed, result: Result[Any]) -> None:
        urls = [asset.url for asset in result.assets if asset.url]
        error = None
        try:
            files = await self._save(item, result)
        except (Py302Error, OSError) as exc:
            if result.task_id or item.task_id:  # a later run polls it and saves again
                await self._give_back(item, f"its files could not be saved ({exc})")
                return
            # A plain call cannot be asked again: its URLs are written down instead.
            files, error = [], f"its files could not be saved ({exc}); see urls"
        usage = None
        if result.usage is not None:
            usage = {k: v for k, v in attrs.asdict(result.usage).items() if v is not None}
        if await self.queue.finish(
            self.job, item.key, "succeeded", files=files, urls=urls, usage=usage, error=error
        ):
            self._progress.succeeded += 1
            self._append(
                item,
                "succeeded",
                task_id=result.task_id or item.task_id,
                files=files,
                urls=urls,
                usage=usage,
                error=error,
            )

    async def _save(self, item: Claimed, result: Result[Any]) -> list[str]:
        stem = file_stem(item.key, item.line, item.name)
        staged = staging_folder(self.out, item.key)
        saved = await result.asave(staged) if result.assets else []
        if result.text and not result.assets:
            text_file = staged / "text.txt"
            text_file.write_text(result.text, encoding="utf-8")
            saved = [text_file]
        return place_files(saved, self.out, stem)

    async def _ended(self, item: Claimed, state: str, error: str) -> None:
        if not await self.queue.finish(self.job, item.key, state, error=error):
            return
        if state == "failed":
            self._progress.failed += 1
        else:
            self._progress.uncertain += 1
        self._append(item, state, error=error)
        failures = self._progress.failed + self._progress.uncertain
        if self.max_failures is not None and failures >= self.max_failures:
            self._stopping = True

    def _append(self, item: Claimed, status: str, **fields: Any) -> None:
        """The item's manifest line, as it ends (the end of the run rewrites the
        manifest from the queue, with the timings)."""
        row = {
            "line": item.line,
            "key": item.key,
            "name": item.name,
            "operation": item.operation,
            "status": status,
            **fields,
        }
        try:
            append_manifest(self.out, row)
        except OSError as exc:  # the queue has it; the manifest is rewritten at the end
            logger.warning("batch %s: could not append to the manifest (%s)", self.job, exc)

    def _tell(self) -> None:
        if self.on_progress is not None:
            with contextlib.suppress(Exception):  # a display must never stop the run
                self.on_progress(self._progress)
