"""The batch queue in PostgreSQL, for workers on any number of machines.

Needs psycopg 3 and its pool (`pip install 'py302[postgres]'`). Each worker process
keeps a few connections, so that statements of different items overlap and the server
flushes their commits together; a claim is one `UPDATE ... WHERE key IN (SELECT ...
FOR UPDATE SKIP LOCKED)`, so workers claiming at the same moment each get different
items without waiting for one another. Only the writes that guard against a second
submit (an item leaving `pending`, its task id) wait for the server's disk; the rest
(claims, heartbeats, results) commit without waiting for it, which a crash of the
server itself can only take back into a state that is polled or collected again. The
tables are created on first use, under an advisory lock so that workers starting
together do not race to create them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._queue import _TABLES, SCHEMA_VERSION, Queue, QueueError, check_version

__all__ = ["PostgresQueue"]

#: The advisory lock taken while the tables are created ("302" twice).
_SCHEMA_LOCK = 302302
#: Connections per worker process: enough for commits to overlap, few enough that a
#: dozen workers stay well inside PostgreSQL's default limit of 100.
POOL_SIZE = 6
#: How long a statement may wait for a free connection. A server whose disk stalls
#: (a checkpoint's flush on a busy machine took over 30 s in a benchmark run) is
#: slow, not gone: the leases cover the wait, and only past this is it an error.
WAIT_SECONDS = 300.0


class PostgresQueue(Queue):
    """The queue in the PostgreSQL database at `url` (`postgresql://user@host/db`)."""

    _skip_locked = " FOR UPDATE SKIP LOCKED"
    _now = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool: Any = None
        self._opening = asyncio.Lock()

    @property
    def where(self) -> str:
        """The URL without its password."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))

    async def _opened(self) -> Any:
        async with self._opening:
            if self._pool is not None:
                return self._pool
            try:
                import psycopg
                from psycopg_pool import AsyncConnectionPool
            except ImportError as exc:
                raise QueueError(
                    self.where, "a PostgreSQL queue needs psycopg: pip install 'py302[postgres]'"
                ) from exc
            try:
                await self._create_tables(psycopg)
                pool = AsyncConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=POOL_SIZE,
                    kwargs={"autocommit": True},
                    open=False,
                    timeout=WAIT_SECONDS,
                )
                await pool.open(wait=True, timeout=30)
            except psycopg.Error as exc:
                raise QueueError(self.where, _reason(exc)) from exc
            self._pool = pool
            return pool

    async def _create_tables(self, psycopg: Any) -> None:
        connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        try:
            async with connection.transaction():
                await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for statement in _TABLES.split(";"):
                    if statement.strip():
                        await connection.execute(statement)
                cursor = await connection.execute("SELECT MAX(version) FROM py302_batch_schema")
                row = await cursor.fetchone()
                version = row[0] if row else None
                check_version(version, self.where)
                if version is None:
                    await connection.execute(
                        "INSERT INTO py302_batch_schema (version) VALUES (%s)", (SCHEMA_VERSION,)
                    )
        finally:
            await connection.close()

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s").replace("NOW", self._now)

    async def _run(
        self, sql: str, params: Sequence[Any] = (), *, durable: bool = True
    ) -> tuple[int, list[Any]]:
        import psycopg

        pool = await self._opened()
        try:
            async with pool.connection() as connection, connection.transaction():
                if not durable:
                    await connection.execute("SET LOCAL synchronous_commit = off")
                cursor = await connection.execute(self._sql(sql), params)
                rows = await cursor.fetchall() if cursor.description is not None else []
                return cursor.rowcount, rows
        except psycopg.Error as exc:
            raise QueueError(self.where, _reason(exc)) from exc

    async def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        import psycopg

        pool = await self._opened()
        try:
            async with (
                pool.connection() as connection,
                connection.transaction(),
                connection.cursor() as cursor,
            ):
                await cursor.executemany(self._sql(sql), rows)
        except psycopg.Error as exc:
            raise QueueError(self.where, _reason(exc)) from exc

    async def close(self) -> None:
        """Close the connections."""
        async with self._opening:
            if self._pool is not None:
                await self._pool.close()
                self._pool = None


def _reason(error: BaseException) -> str:
    """psycopg's message, first line only (later lines may quote the statement)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
