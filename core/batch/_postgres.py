"""The batch queue in PostgreSQL, for workers on any number of machines.

Needs psycopg 3 (`pip install 'py302[postgres]'`). Each worker process holds one
connection; a claim is one `UPDATE ... WHERE key IN (SELECT ... FOR UPDATE SKIP
LOCKED)`, so workers claiming at the same moment each get different items without
waiting for one another. The tables are created on first use, under an advisory lock
so that workers starting together do not race to create them.
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


class PostgresQueue(Queue):
    """The queue in the PostgreSQL database at `url` (`postgresql://user@host/db`)."""

    _skip_locked = " FOR UPDATE SKIP LOCKED"
    _now = "EXTRACT(EPOCH FROM clock_timestamp())::double precision"

    def __init__(self, url: str) -> None:
        self.url = url
        self._connection: Any = None
        self._lock = asyncio.Lock()

    @property
    def where(self) -> str:
        """The URL without its password."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))

    async def _connected(self) -> Any:
        if self._connection is not None:
            return self._connection
        try:
            import psycopg
        except ImportError as exc:
            raise QueueError(
                self.where, "a PostgreSQL queue needs psycopg: pip install 'py302[postgres]'"
            ) from exc
        try:
            connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        except psycopg.Error as exc:
            raise QueueError(self.where, _reason(exc)) from exc
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
        except BaseException as exc:
            await connection.close()
            if isinstance(exc, psycopg.Error):
                raise QueueError(self.where, _reason(exc)) from exc
            raise
        self._connection = connection
        return connection

    def _sql(self, sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s").replace("NOW", self._now)

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> tuple[int, list[Any]]:
        import psycopg

        async with self._lock:
            connection = await self._connected()
            try:
                cursor = await connection.execute(self._sql(sql), params)
                rows = await cursor.fetchall() if cursor.description is not None else []
                return cursor.rowcount, rows
            except psycopg.Error as exc:
                raise QueueError(self.where, _reason(exc)) from exc

    async def _run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        import psycopg

        async with self._lock:
            connection = await self._connected()
            try:
                async with connection.transaction(), connection.cursor() as cursor:
                    await cursor.executemany(self._sql(sql), rows)
            except psycopg.Error as exc:
                raise QueueError(self.where, _reason(exc)) from exc

    async def close(self) -> None:
        """Close the connection."""
        async with self._lock:
            if self._connection is not None:
                await self._connection.close()
                self._connection = None


def _reason(error: BaseException) -> str:
    """psycopg's message, first line only (later lines may quote the statement)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
