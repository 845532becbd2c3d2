"""What the sync and async clients share: everything about a call except the I/O.

`Engine.prepare` turns a `Call` into a validated request; `request_steps` is the
retry flow as a generator of `Send`/`Sleep` steps; `Engine.interpret` turns an answer
into a payload or an exception; `Engine.result` builds the `Result`. The clients
only carry out the steps.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Mapping
from typing import Any

import attrs
import httpx

from ._convert import structure, unstructure
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    ResponseShapeError,
    request_id_of,
)
from ._journal import Journal
from ._plugins import PluginHost
from ._registry import OperationSpec, ProviderRegistry, load_registry
from ._results import Downloader, Normalized, Result
from ._retry import retry_delay, should_retry
from ._secret import Secret
from ._tasks import PollParams, TaskPattern, TaskSnapshot, TaskStatus, _TaskCore
from ._transport import build_request, decode_payload
from ._validation import validate_request
from .binding import Call, Namespace

__all__ = ["Engine", "Prepared", "Send", "Sleep"]

logger = logging.getLogger("py302")


@attrs.frozen
class Send:
    """A step of `request_steps`: send this request, send back the response or error."""

    request: httpx.Request


@attrs.frozen
class Sleep:
    """A step of `request_steps`: wait before the next attempt."""

    seconds: float


@attrs.frozen(kw_only=True)
class Prepared:
    """A call that passed validation, ready to send (and resend)."""

    spec: OperationSpec
    registry: ProviderRegistry
    request: httpx.Request
    model: Any
    options: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.define(kw_only=True)
class Engine:
    """The client's configuration and the I/O-free steps of every call."""

    base_url: str
    api_key: Secret | None
    max_retries: int
    host: PluginHost
    journal: Journal | None = None

    # -- building requests ------------------------------------------------------------

    def registry_of(self, namespace: type[Namespace[Any]] | str) -> ProviderRegistry:
        """The registry of a namespace class, or of a provider registered by name."""
        if isinstance(namespace, str):
            return load_registry(self.host.provider(namespace).bindings)
        return load_registry(namespace.bindings)

    def prepare(self, registry: ProviderRegistry, call: Call[Any]) -> Prepared:
        """Validate `call` against its operation's schema and build the request."""
        spec = registry.get(call.operation)
        path = {key: unstructure(value) for key, value in call.path.items()}
        query = {key: unstructure(value) for key, value in call.query.items()}
        body = unstructure(dict(call.body)) if call.body is not None else None
        options = {key: unstructure(value) for key, value in call.options.items()}
        validate_request(registry, spec, path=path, query=query, body=body, options=options)
        defaults = {
            name: schema["default"] for name, schema in spec.options.items() if "default" in schema
        }
        call = attrs.evolve(call, options={**defaults, **options})
        headers: dict[str, str] = {}
        for extra in reversed(self.host.hook.py302_request_headers(operation=spec, call=call)):
            if extra:
                headers.update(extra)
        headers.update(self.auth_headers(spec.provider))
        headers.update(call.headers)
        request = build_request(
            spec, base_url=self.base_url, path=path, query=query, body=body, headers=headers
        )
        return Prepared(
            spec=spec, registry=registry, request=request, model=call.model, options=call.options
        )

    def auth_headers(self, provider: str) -> Mapping[str, str]:
        """The authentication headers for `provider` (a plugin's, or Bearer)."""
        if self.api_key is None:
            raise ConfigurationError(
                "no API key: pass Client(api_key=...) or set AI302_API_KEY "
                "(get a key at https://302.ai)"
            )
        key = self.api_key.reveal()
        supplied = self.host.hook.py302_auth_headers(provider=provider, api_key=key)
        return supplied if supplied is not None else {"Authorization": f"Bearer {key}"}

    def prepare_poll(
        self,
        registry: ProviderRegistry,
        operation: str,
        params: PollParams,
        options: Mapping[str, Any],
    ) -> Prepared:
        """The request that polls (or cancels) a task.

        The submit call's options carry over where the poll operation declares them
        (a choice of output format, say, applies to the answer that holds the output).
        """
        declared = registry.get(operation).options
        call: Call[Any] = Call(
            operation=operation,
            model=Any,
            path=params.path,
            query=params.query,
            body=params.body,
            options={name: value for name, value in options.items() if name in declared},
        )
        return self.prepare(registry, call)

    # -- sending ----------------------------------------------------------------------

    def request_steps(
        self, prepared: Prepared
    ) -> Generator[Send | Sleep, httpx.Response | Exception | None, httpx.Response]:
        """Send with retries (policy in `py302._retry`); returns the last response."""
        spec = prepared.spec
        attempt = 0
        while True:
            outcome = yield Send(prepared.request)
            if isinstance(outcome, Exception):
                if should_retry(
                    attempt=attempt,
                    max_retries=self.max_retries,
                    idempotent=spec.idempotent,
                    error=outcome,
                ):
                    delay = retry_delay(attempt)
                    logger.info(
                        "%s: %s, retrying in %.2fs",
                        spec.qualified_name,
                        type(outcome).__name__,
                        delay,
                    )
                    yield Sleep(delay or 0.0)
                    attempt += 1
                    continue
                raise _connection_error(spec, outcome) from outcome
            assert outcome is not None
            if outcome.status_code >= 400 and should_retry(
                attempt=attempt,
                max_retries=self.max_retries,
                idempotent=spec.idempotent,
                status=outcome.status_code,
            ):
                delay = retry_delay(attempt, outcome.headers)
                if delay is not None:
                    logger.info(
                        "%s: HTTP %s, retrying in %.2fs",
                        spec.qualified_name,
                        outcome.status_code,
                        delay,
                    )
                    yield Sleep(delay)
                    attempt += 1
                    continue
            return outcome

    # -- reading answers ----------------------------------------------------------------

    def interpret(self, spec: OperationSpec, response: httpx.Response) -> Any:
        """The payload of a successful answer; raises the error an answer stands for."""
        payload = decode_payload(response)
        error = self.host.hook.py302_response_error(
            operation=spec, response=response, payload=payload
        )
        if error is not None:
            raise error
        if response.status_code >= 400:
            raise APIStatusError.from_response(
                response, provider=spec.provider, operation=spec.qualified_name
            )
        return payload

    def result(
        self,
        spec: OperationSpec,
        payload: Any,
        model: Any,
        *,
        response: httpx.Response | None,
        downloader: Downloader,
        task_id: str | None = None,
        pattern: TaskPattern | None = None,
    ) -> Result[Any]:
        """The normalized `Result` of a finished call (a task's: its pattern's first)."""
        data = structure(payload, model, operation=spec.qualified_name)
        normalized = (pattern.normalize(payload, response) if pattern else None) or self.normalize(
            spec, payload, response
        )
        return Result(
            operation=spec.qualified_name,
            data=data,
            raw=payload,
            assets=tuple(attrs.evolve(asset, downloader=downloader) for asset in normalized.assets),
            text=normalized.text,
            usage=normalized.usage,
            task_id=task_id,
            request_id=request_id_of(response) if response is not None else None,
        )

    def normalize(
        self, spec: OperationSpec, payload: Any, response: httpx.Response | None
    ) -> Normalized:
        """What the provider's plugin extracts from a payload (nothing, without a plugin)."""
        normalized: Normalized | None = self.host.hook.py302_normalize_result(
            operation=spec, payload=payload, response=response
        )
        return normalized or Normalized()

    # -- tasks --------------------------------------------------------------------------

    def prepare_submit(
        self, registry: ProviderRegistry, call: Call[Any]
    ) -> tuple[Prepared, TaskPattern]:
        """The validated submit request and its pattern; both checked before any I/O."""
        prepared = self.prepare(registry, call)
        return prepared, self.pattern_for(prepared.spec)

    def start_task(
        self,
        registry: ProviderRegistry,
        prepared: Prepared,
        pattern: TaskPattern,
        payload: Any,
        response: httpx.Response,
        *,
        result_model: Any,
        downloader: Downloader,
    ) -> _TaskCore:
        """The state of a task the provider has just accepted."""
        task_id = self.read_task_id(prepared.spec, pattern, payload)
        core = self.task_core(
            registry,
            prepared.spec,
            pattern,
            task_id=task_id,
            payload=payload,
            response=response,
            result_model=result_model,
            downloader=downloader,
        )
        core.options = prepared.options
        return core

    # -- the journal ------------------------------------------------------------------------

    def journal_begin(self, spec: OperationSpec) -> int | None:
        """Write the submit down before it is sent (no journal: nothing)."""
        return self.journal.begin(spec.qualified_name, self.base_url) if self.journal else None

    def journal_refused(self, entry: int | None, error: BaseException) -> None:
        """The submit failed: say whether a task may exist anyway."""
        if self.journal is None or entry is None:
            return
        if isinstance(error, ResponseShapeError):
            state = "lost"  # answered, but without an id we could use
        elif _never_accepted(error):
            state = "not_submitted"
        else:
            state = "uncertain"  # may have been accepted: check the provider's console
        self.journal.refused(entry, state, str(error))

    def journal_follow(self, core: _TaskCore, entry: int | None) -> None:
        """Keep the journal row of `core` up to date as it is polled."""
        journal = self.journal
        if journal is None or entry is None:
            return
        core.journal_entry = entry
        journal.submitted(entry, core.id, core.snapshot.status.value, core.snapshot.provider_status)

        def record(task: _TaskCore, state: str) -> None:
            urls = None
            if task.result is not None:
                urls = [asset.url for asset in task.result.assets if asset.url]
            journal.update(
                entry,
                state=state,
                provider_status=task.snapshot.provider_status,
                progress=task.snapshot.progress,
                message=task.snapshot.message,
                result_urls=urls,
            )

        core.listeners.append(record)

    def resumed_task(
        self, operation: str, task_id: str, *, downloader: Downloader
    ) -> tuple[ProviderRegistry, _TaskCore]:
        """The state of a task submitted earlier by `operation` (`provider.operation`)."""
        provider, _, op_id = operation.partition(".")
        if not op_id:
            raise ConfigurationError(f"name the operation as provider.operation, got {operation!r}")
        registry = self.registry_of(provider)
        spec = registry.get(op_id)
        core = self.task_core(
            registry,
            spec,
            self.pattern_for(spec),
            task_id=task_id,
            payload=None,
            response=None,
            result_model=Any,
            downloader=downloader,
        )
        if self.journal is not None:
            row = self.journal.find(task_id)
            entry = row.entry if row is not None and row.operation == operation else None
            self.journal_follow(core, entry)
        return registry, core

    def pattern_for(self, spec: OperationSpec) -> TaskPattern:
        """The plugin-supplied pattern of a task operation; refuses before any request."""
        if spec.task is None:
            raise ConfigurationError(f"{spec.qualified_name} is not a task operation")
        try:
            pattern: TaskPattern | None = self.host.hook.py302_task_pattern(
                name=spec.task.pattern, operation=spec
            )
        except (LookupError, TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{spec.qualified_name}: task pattern {spec.task.pattern!r} is misconfigured: {exc}"
            ) from exc
        if pattern is None:
            raise ConfigurationError(
                f"{spec.qualified_name}: no plugin supplies task pattern {spec.task.pattern!r} "
                f"(is the {spec.provider} plugin disabled or failing? see `py302 plugins`)"
            )
        return pattern

    def task_core(
        self,
        registry: ProviderRegistry,
        spec: OperationSpec,
        pattern: TaskPattern,
        *,
        task_id: str,
        payload: Any,
        response: httpx.Response | None,
        result_model: Any,
        downloader: Downloader,
    ) -> _TaskCore:
        """The shared state of a new task handle."""
        assert spec.task is not None
        poll_spec = registry.get(spec.task.poll)
        # Some providers report the cost on the submit answer only; keep it for the result.
        submit_usage = (
            self.normalize(spec, payload, response).usage if payload is not None else None
        )

        def finish(
            poll: OperationSpec, raw: Any, model: Any, tid: str, last: httpx.Response | None
        ) -> Result[Any]:
            result = self.result(
                poll, raw, model, response=last, downloader=downloader, task_id=tid, pattern=pattern
            )
            # The result belongs to the operation the caller submitted, not to the poll.
            return attrs.evolve(
                result, operation=spec.qualified_name, usage=result.usage or submit_usage
            )

        core = _TaskCore(
            id=task_id,
            spec=spec,
            poll_spec=poll_spec,
            pattern=pattern,
            result_model=result_model,
            snapshot=TaskSnapshot(status=TaskStatus.QUEUED),
            raw=payload,
            finish=finish,
        )
        if payload is not None:
            core.update(payload, response)
        return core

    def read_task_id(self, spec: OperationSpec, pattern: TaskPattern, payload: Any) -> str:
        """The task id in a submit answer; a shape error (with the body) if it is missing."""
        assert spec.task is not None
        try:
            return pattern.task_id(payload, spec.task)
        except (LookupError, TypeError, ValueError) as exc:
            raise ResponseShapeError(spec.qualified_name, [str(exc)], payload) from exc

    def poll_prepared(self, registry: ProviderRegistry, core: _TaskCore) -> Prepared:
        """The poll request of a task."""
        spec = core.spec
        assert spec.task is not None
        params = core.pattern.poll_params(core.id, core.poll_spec, spec.task)
        return self.prepare_poll(registry, spec.task.poll, params, core.options)

    def cancel_prepared(self, registry: ProviderRegistry, core: _TaskCore) -> Prepared | None:
        """The cancel request of a task, or None if the provider has no cancel."""
        spec = core.spec
        if spec.task is None or spec.task.cancel is None:
            return None
        cancel_spec = registry.get(spec.task.cancel)
        params = core.pattern.cancel_params(core.id, cancel_spec, spec.task)
        return self.prepare_poll(registry, spec.task.cancel, params, core.options)


def _never_accepted(error: BaseException) -> bool:
    """Whether a failed submit provably created no task."""
    if isinstance(error, APIStatusError):
        return error.status < 500 and error.status != 408 and error.status >= 400
    cause = error.__cause__
    return isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _connection_error(spec: OperationSpec, error: Exception) -> APIConnectionError:
    if isinstance(error, httpx.TimeoutException):
        return APITimeoutError(f"timed out ({type(error).__name__})", operation=spec.qualified_name)
    detail = str(error) or type(error).__name__
    return APIConnectionError(f"connection failed: {detail}", operation=spec.qualified_name)
