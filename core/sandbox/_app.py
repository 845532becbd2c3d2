"""The sandbox's ASGI application: every operation of the specs, answered from them.

Each request is checked against its operation's schema as the client checks it
(a bad one gets a 400 with the provider's error body), then answered from the spec's
examples: synchronous operations at once, task operations through a real lifecycle
(submitted, running with progress, then succeeded or failed) on the sandbox's clock.
Result URLs point back at the sandbox, which serves real files for them.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from py302._errors import RequestValidationError
from py302._registry import OperationSpec, ProviderRegistry, media_type
from py302._tasks import id_in_body, id_parameter
from py302._validation import BINARY_PLACEHOLDER, coerce_text, validate_request
from py302.contracts import (
    Body,
    ExampleError,
    answer_when,
    final_answer,
    media_example,
    named_answer,
)
from py302.payloads import dig

from ._answers import patch_progress, put, replace_strings, rewrite_urls
from ._faults import STREAM_KINDS, Fault, FaultPlan
from ._file_names import described, file_name
from ._images import MEDIA_TYPES, render
from ._shaping import (
    asset_lists,
    echo_request,
    requested_format,
    requested_size,
    shape_assets,
)
from ._streams import (
    asks_for_stream,
    reply_text,
    stream_events,
    stream_response,
    whole_with_text,
    x_stream_declared,
)
from ._tasks import SandboxTask, TaskStore

__all__ = ["SandboxApp"]

#: 302 tries a webhook 3 times, waiting 2·N seconds after the Nth failure.
WEBHOOK_ATTEMPTS = 3
WEBHOOK_BACKOFF = 2.0
_AUTH_HEADERS = ("authorization", "x-api-key", "x-key", "api-key", "x-goog-api-key")


class SandboxApp:
    """Builds the Starlette app for some registries and holds its state."""

    def __init__(
        self,
        registries: Sequence[ProviderRegistry],
        *,
        tasks: TaskStore,
        faults: FaultPlan,
        task_seconds: float,
        hints: bool = False,
        image_px: int = 256,
        reply_words: int | None = None,
    ) -> None:
        self.hints = hints
        self.image_px = image_px
        self.reply_words = reply_words
        self.registries = list(registries)
        self.tasks = tasks
        self.faults = faults
        self.task_seconds = task_seconds
        self._names = itertools.count(1)
        self.requests: list[str] = []  # "METHOD path" of every request, for tests
        self.bodies: list[Any] = []  # the checked body of every request, for tests
        self.file_headers: list[dict[str, str]] = []  # headers of every file download
        self.peers: set[tuple[str, int]] = set()  # client connections seen (host, port)
        # (url, task id, HTTP status or error name) of every webhook post, for tests
        self.webhook_deliveries: list[tuple[str, str, int | str]] = []
        # (field, file name, content) of every multipart file received, for tests
        self.received_files: list[tuple[str, str, bytes]] = []
        self._deliveries: set[asyncio.Task[None]] = set()
        self._shared_routes = _shared_routes(self.registries)
        self.app = Starlette(routes=self._routes())

    def _routes(self) -> list[Route]:
        routes = [
            Route("/sandbox/files/{name}", self._file, methods=["GET"]),
            Route("/sandbox/blob/{mib:int}", self._blob, methods=["GET"]),
            Route("/sandbox/tasks", self._task_list, methods=["GET"]),
        ]
        entries = [
            (registry, spec)
            for registry in self.registries
            for spec in registry.operations.values()
        ]
        # Literal paths before templates: /v1/jobs/latest before /v1/jobs/{job_id}.
        entries.sort(key=lambda entry: (entry[1].path.count("{"), entry[1].path))
        for registry, spec in entries:
            routes.append(
                Route(
                    _route_path(spec),
                    self._endpoint(registry, spec),
                    methods=[spec.method],
                    name=spec.qualified_name,
                )
            )
        return routes

    def _endpoint(
        self, routed_registry: ProviderRegistry, routed: OperationSpec
    ) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            self.requests.append(f"{request.method} {request.url.path}")
            if request.client is not None:
                self.peers.add((request.client.host, request.client.port))
            registry, spec, path = await self._chosen(request, routed_registry, routed)
            polled_by = {
                submit.task.poll: submit
                for submit in registry.operations.values()
                if submit.task is not None
            }
            fault = self.faults.take(spec.qualified_name, task_level=False)
            if fault is not None and fault.kind not in STREAM_KINDS:
                faulty = await _faulty_answer(fault, registry, spec)
                if faulty is not None:
                    return faulty
            missing = _missing_key(spec, request)
            if missing:
                return _error(spec, 401, missing)
            try:
                body, prompt = await self._checked_body(registry, spec, request, path)
            except RequestValidationError as exc:
                return _error(spec, 400, "; ".join(f"{f}: {r}" for f, r in exc.problems))
            self.bodies.append(body)
            base = str(request.base_url).rstrip("/")
            if x_stream_declared(spec):
                return self._reply(registry, spec, body, fault, base)
            accept = request.headers.get("accept", "")
            if spec.task is not None:
                response, task = self._submit(registry, spec, body, base, accept)
                url = spec.webhook.url_in(request.query_params, body) if spec.webhook else None
                if url is not None:
                    self._schedule_webhook(registry, spec, task, url, base)
                return response
            if spec.operation_id in polled_by:
                return self._poll(
                    registry, spec, polled_by[spec.operation_id], request, base, accept, body=body
                )
            answer = answer_when(spec, body, streamed=False) or final_answer(registry, spec)
            if isinstance(answer.value, bytes) and _accepts_json(accept):
                # The request asked for JSON first: its JSON answer, where there is one.
                answer = (
                    named_answer(registry, spec, "succeeded")
                    or named_answer(registry, spec, "default")
                    or answer
                )
            if not isinstance(answer.value, bytes):  # the reply written where text goes
                text = reply_text(body, prompt, self.reply_words)
                value = self._shaped(spec, whole_with_text(spec, answer.value, text), body)
                answer = attrs.evolve(answer, value=value)
            return self._respond(spec, answer, prompt, base, accept, request=body)

        return endpoint

    async def _chosen(
        self, request: Request, registry: ProviderRegistry, spec: OperationSpec
    ) -> tuple[ProviderRegistry, OperationSpec, Mapping[str, str]]:
        """The operation a request is for, where several share its method and path
        (302's async chat is chat with `?async=true`): one whose constant query
        parameters the request carries, then the first whose request schema the
        request fits, literal paths before templates."""
        if spec.qualified_name not in self._shared_routes:  # the one operation of its URL
            return registry, spec, request.path_params
        query = dict(request.query_params)
        candidates = [
            (other_registry, other, values)
            for other_registry in self.registries
            for other in other_registry.matches(request.method, request.url.path)
            if other.constants_fit(query)
            and (values := other.path_values(request.url.path)) is not None
        ]
        candidates.sort(key=lambda c: (-len(c[1].query_constants), c[1].path.count("{")))
        if len(candidates) <= 1:
            return registry, spec, request.path_params
        for candidate in candidates:
            try:
                await self._checked_body(candidate[0], candidate[1], request, candidate[2])
            except RequestValidationError:
                continue
            return candidate
        return candidates[0]

    async def _checked_body(
        self,
        registry: ProviderRegistry,
        spec: OperationSpec,
        request: Request,
        path_values: Mapping[str, str],
    ) -> tuple[Any, str]:
        path = {
            name: coerce_text(value, _param_schema(spec, name))
            for name, value in path_values.items()
        }
        query = {
            name: coerce_text(value, _param_schema(spec, name))
            for name, value in request.query_params.items()
        }
        body: Any = None
        spec = _as_sent(spec, request)
        if spec.request_schema is not None:
            body = await _read_body(registry, spec, request, self.received_files)
        validate_request(registry, spec, path=path, query=query, body=body)
        return body, _prompt_of(body)

    # -- answers -------------------------------------------------------------------------

    def _reply(
        self,
        registry: ProviderRegistry,
        spec: OperationSpec,
        body: Any,
        fault: Fault | None,
        base: str,
    ) -> Response:
        """A streamable operation's answer: the same reply, whole or as events."""
        prompt = _prompt_of(body)
        text = reply_text(body, prompt, self.reply_words)
        if asks_for_stream(spec, body):
            stream_fault = fault if fault is not None and fault.kind in STREAM_KINDS else None
            example = answer_when(spec, body, streamed=True)
            events = [
                (name, _echoed(data, body))
                for name, data in stream_events(registry, spec, text, example)
            ]
            return stream_response(events, stream_fault)
        whole = answer_when(spec, body, streamed=False) or final_answer(registry, spec)
        value = self._shaped(spec, whole_with_text(spec, whole.value, text), body)
        value = self._json_value(value, prompt, base, requested_size(body), requested_format(body))
        return JSONResponse(value, status_code=whole.status)

    def _submit(
        self, registry: ProviderRegistry, spec: OperationSpec, body: Any, base: str, accept: str
    ) -> tuple[Response, SandboxTask]:
        """Start a task; the submit answer, and the task."""
        prompt = _prompt_of(body)
        assert spec.task is not None
        fault = self.faults.take(spec.qualified_name, task_level=True)
        outcome = {"task_fails": "failed", "task_never_finishes": "never"}.get(
            fault.kind if fault else "", "succeeded"
        )
        hidden = fault.seconds if fault is not None and fault.kind == "poll_not_found" else 0.0
        task = self.tasks.create(
            operation=spec.qualified_name,
            seconds=self.task_seconds,
            outcome=outcome,
            prompt=prompt,
            hidden_for=hidden,
            request=body,
        )
        example = media_example(registry, spec, names=("default", "accepted", "succeeded"))
        template_id = dig(example.value, spec.task.id_path)
        value = put(example.value, spec.task.id_path, task.id)
        if isinstance(template_id, str):
            value = replace_strings(value, template_id, task.id)
        response = self._respond(
            spec, Body(value, example.source, example.status), prompt, base, accept
        )
        if self.hints and outcome != "never":
            response.headers["Retry-After"] = f"{task.seconds:.3f}"
        return response, task

    def _poll(  # noqa: PLR0917 - one call site, every argument a different thing
        self,
        registry: ProviderRegistry,
        poll: OperationSpec,
        submit: OperationSpec,
        request: Request,
        base: str,
        accept: str,
        *,
        body: Any = None,
    ) -> Response:
        assert submit.task is not None
        if id_in_body(poll, submit.task.id_param):
            asked = dig(body, str(submit.task.id_param))
        else:
            param = id_parameter(poll, submit.task.id_param)
            values = request.path_params if param.location == "path" else request.query_params
            asked = values.get(param.name, "")
        task = self.tasks.get(str(asked))
        now = self.tasks.clock()
        if task is None or now < task.not_found_until:
            return _error(poll, 404, "task not found")
        state = task.state(now)
        answer = _task_answer(registry, poll, submit, task, state, accept, now)
        if state == "succeeded" and not isinstance(answer.value, bytes):
            answer = attrs.evolve(answer, value=self._shaped(poll, answer.value, task.request))
        response = self._respond(
            poll, answer, task.prompt, base, accept, task=task, request=task.request
        )
        if self.hints and state == "running" and task.outcome != "never":
            remaining = max(0.0, task.submitted_at + task.seconds - now)
            response.headers["Retry-After"] = f"{remaining:.3f}"
        return response

    def _schedule_webhook(
        self,
        registry: ProviderRegistry,
        submit: OperationSpec,
        task: SandboxTask,
        url: str,
        base: str,
    ) -> None:
        """Post the finished task to `url` once it ends, as 302 does for `webhook`."""
        if task.outcome == "never":
            return
        delivery = asyncio.get_running_loop().create_task(
            self._deliver(registry, submit, task, url, base)
        )
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)

    async def _deliver(
        self,
        registry: ProviderRegistry,
        submit: OperationSpec,
        task: SandboxTask,
        url: str,
        base: str,
    ) -> None:
        assert submit.task is not None
        await asyncio.sleep(task.seconds)
        poll = registry.get(submit.task.poll)
        answer = _task_answer(registry, poll, submit, task, task.outcome, "application/json", 0.0)
        value = answer.value
        if task.outcome == "succeeded":
            value = self._shaped(poll, value, task.request)
        value = self._json_value(value, task.prompt, base, requested_size(task.request))
        async with httpx.AsyncClient(timeout=10) as client:
            for attempt in range(WEBHOOK_ATTEMPTS):
                status: int | str
                try:
                    status = (await client.post(url, json=value)).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                self.webhook_deliveries.append((url, task.id, status))
                if isinstance(status, int) and 200 <= status < 300:
                    return
                await asyncio.sleep(WEBHOOK_BACKOFF * (attempt + 1))

    def _json_value(
        self,
        value: Any,
        prompt: str,
        base: str,
        size: tuple[int, int] | None = None,
        wanted: str | None = None,
    ) -> Any:
        """An answer's JSON with its file URLs pointing at files this sandbox serves
        (drawn at the requested size, and as the requested image format, when the
        request gave them)."""

        def local(extension: str) -> str:
            if wanted and extension != "glb":
                extension = wanted
            name = file_name(next(self._names), prompt, extension, size)
            return f"{base}/sandbox/files/{name}"

        return rewrite_urls(value, local)

    def _shaped(self, spec: OperationSpec, value: Any, body: Any) -> Any:
        """An example answer fitted to the request: its model, prompt and seed, as many
        files as it asked for, each in the form `response_format` names."""
        size = requested_size(body) or (self.image_px, self.image_px)
        prompt = _prompt_of(body)

        def encoded_image() -> str:
            return base64.b64encode(render(prompt, "png", size, noise=False)).decode()

        lists = asset_lists(spec.result_declaration)
        return shape_assets(echo_request(value, body), lists, body, encoded_image)

    def _respond(  # noqa: PLR0917 - internal, called with positional pieces of one answer
        self,
        spec: OperationSpec,
        answer: Body,
        prompt: str,
        base: str,
        accept: str,
        task: SandboxTask | None = None,
        *,
        request: Any = None,
    ) -> Response:
        size = requested_size(request)
        wanted = requested_format(request)
        if spec.task is None and task is None and not isinstance(answer.value, bytes):
            answer = _choose(None, spec, accept, default=answer)
        if isinstance(answer.value, bytes):
            extension = next(
                (ext for ext, media in MEDIA_TYPES.items() if media == answer.media), "png"
            )
            if wanted and str(answer.media).startswith("image/"):
                extension = wanted  # an image in the output format the request chose
            return Response(
                render(prompt, extension, size or self.image_px),
                status_code=answer.status,
                media_type=MEDIA_TYPES.get(extension, answer.media),
            )
        value = self._json_value(answer.value, prompt, base, size, wanted)
        return JSONResponse(value, status_code=answer.status)

    async def _file(self, request: Request) -> Response:
        self.requests.append(f"GET {request.url.path}")
        self.file_headers.append(dict(request.headers))
        fault = self.faults.take("files", task_level=False)
        if fault is not None and fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
        elif fault is not None:
            return (
                _BrokenResponse(reset=True)
                if fault.kind in {"reset", "truncate"}
                else _error_plain(fault.status)
            )
        found = described(request.path_params["name"])
        if found is None:
            return JSONResponse({"error": {"message": "no such file"}}, status_code=404)
        prompt, extension, size = found
        image = render(prompt, extension, size or self.image_px, noise=size is None)
        return Response(image, media_type=MEDIA_TYPES[extension])

    async def _task_list(self, request: Request) -> Response:
        """`/sandbox/tasks`: every task submitted so far, by any worker, oldest first
        (what a test counts submits by: the server's own record, not the client's)."""
        return JSONResponse(
            [
                {
                    "id": task.id,
                    "operation": task.operation,
                    "prompt": task.prompt,
                    "submitted_at": task.submitted_at,
                }
                for task in self.tasks.all()
            ]
        )

    async def _blob(self, request: Request) -> Response:
        """`/sandbox/blob/{mib}`: that many MiB of bytes, streamed (download benchmarks)."""
        from starlette.responses import StreamingResponse

        mib = int(request.path_params["mib"])
        chunk = os.urandom(1024 * 1024)

        async def chunks() -> Any:
            for _ in range(mib):
                yield chunk

        headers = {"content-length": str(mib * 1024 * 1024)}
        return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


def _choose(
    registry: ProviderRegistry | None, spec: OperationSpec, accept: str, default: Body | None = None
) -> Body:
    """The success answer in the media type the request asked for."""
    wants_binary = _first_type(accept) not in {"application/json", ""} and not _first_type(
        accept
    ).endswith("+json")
    binary = next(
        (
            (int(status), media)
            for status, response in sorted(spec.responses.items())
            if status.startswith("2")
            for media in response.get("media_types", {})
            if not media.endswith("json")
        ),
        None,
    )
    if binary is not None and (wants_binary or (default is None and registry is None)):
        return Body(b"", "sandbox", binary[0], binary[1])
    if default is not None:
        return default
    assert registry is not None
    answer = named_answer(registry, spec, "succeeded")
    if answer is not None:
        return answer
    try:
        return media_example(registry, spec, names=("default",))
    except ExampleError:
        return Body(b"", "sandbox", binary[0], binary[1]) if binary else Body({}, "sandbox")


def _accepts_json(accept: str) -> bool:
    """Whether the request's `Accept` names JSON first."""
    first = _first_type(accept)
    return first == "application/json" or first.endswith("+json")


def _first_type(accept: str) -> str:
    return accept.split(",", maxsplit=1)[0].split(";", maxsplit=1)[0].strip().lower()


def _error_plain(status: int) -> Response:
    return JSONResponse({"error": {"err_code": status, "message": "injected"}}, status_code=status)


def _error(spec: OperationSpec, status: int, message: str) -> Response:
    """The provider's declared error body for `status` if the spec has one, else 302's."""
    declared = spec.responses.get(str(status)) or spec.responses.get(f"{str(status)[0]}XX")
    for content in (declared or {}).get("media_types", {}).values():
        for entry in (content.get("examples") or {}).values():
            if "value" in entry:
                return JSONResponse(entry["value"], status_code=status)
        if "example" in content:
            return JSONResponse(content["example"], status_code=status)
    body = {"error": {"err_code": status, "message": message, "type": "sandbox_error"}}
    return JSONResponse(body, status_code=status)


async def _faulty_answer(
    fault: Fault, registry: ProviderRegistry, spec: OperationSpec
) -> Response | None:
    if fault.kind == "latency":
        await asyncio.sleep(fault.seconds)
        return None
    if fault.kind == "status":
        response = _error(spec, fault.status, f"injected HTTP {fault.status}")
        if fault.retry_after is not None:
            response.headers["Retry-After"] = f"{fault.retry_after:g}"
        return response
    if fault.kind == "html":
        page = (
            f"<html><head><title>{fault.status}</title></head>"
            f"<body><h1>{fault.status} Bad Gateway</h1></body></html>"
        )
        return HTMLResponse(page, status_code=fault.status)
    if fault.kind == "body":
        return JSONResponse(fault.body, status_code=fault.status)
    if fault.kind == "malformed":
        return Response(b'{"images": [{"url": ', media_type="application/json")
    return _BrokenResponse(reset=fault.kind == "reset")


class _BrokenResponse(Response):
    """Starts a 200 JSON answer and never finishes it: a reset or a truncated body."""

    def __init__(self, *, reset: bool) -> None:
        super().__init__(status_code=200)
        self.reset = reset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        whole = json.dumps({"images": [{"url": "https://file.302.ai/never.png"}] * 20}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(whole)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send(
            {"type": "http.response.body", "body": whole[: len(whole) // 2], "more_body": True}
        )
        if self.reset:
            raise ConnectionResetError("sandbox: injected connection reset")


def _echoed(data: str, body: Any) -> str:
    """An event's data naming the requested model (data that is not JSON as it is)."""
    try:
        decoded = json.loads(data)
    except ValueError:
        return data
    return json.dumps(echo_request(decoded, body))


def _task_answer(  # noqa: PLR0917 - the pieces of one task's state
    registry: ProviderRegistry,
    poll: OperationSpec,
    submit: OperationSpec,
    task: SandboxTask,
    state: str,
    accept: str,
    now: float,
) -> Body:
    """What the poll operation answers for `task` in `state` (running, succeeded or
    failed): the spec's named example, progress and task id written in."""
    assert submit.task is not None
    template = media_example(registry, submit, names=("default", "accepted", "succeeded"))
    template_id = dig(template.value, submit.task.id_path)
    if state == "running":
        answer = named_answer(registry, poll, "running") or final_answer(registry, poll)
        answer = attrs.evolve(answer, value=patch_progress(answer.value, task.progress(now)))
    elif state == "failed":
        answer = named_answer(registry, poll, "failed") or Body(
            {"status": "failed"}, "sandbox", 200
        )
    else:
        answer = _choose(registry, poll, accept)
    if isinstance(template_id, str) and not isinstance(answer.value, bytes):
        answer = attrs.evolve(answer, value=replace_strings(answer.value, template_id, task.id))
    return answer


def _route_path(spec: OperationSpec) -> str:
    """The operation's path as a Starlette route: a parameter whose value may hold
    slashes (`x-py302-allow-slashes`) matches several segments."""
    path = spec.path
    for param in spec.parameters:
        if param.location == "path" and param.allow_slashes:
            path = path.replace("{" + param.name + "}", "{" + param.name + ":path}")
    return path


def _missing_key(spec: OperationSpec, request: Request) -> str | None:
    """Why the request is refused as unauthenticated, or None: every header the
    spec's `security` names must be there (any usual key header when it names none)."""
    if spec.auth is None:
        if any(name in request.headers for name in _AUTH_HEADERS):
            return None
        return "missing API key (Authorization: Bearer ...)"
    absent = [auth.header for auth in spec.auth if auth.header.lower() not in request.headers]
    return f"missing API key header(s): {', '.join(absent)}" if absent else None


def _shared_routes(registries: Sequence[ProviderRegistry]) -> frozenset[str]:
    """The operations whose URLs another operation may also serve (same method, one
    path matching the other's): only a request to these needs to be told apart."""
    specs = [spec for registry in registries for spec in registry.operations.values()]
    example = {spec.qualified_name: re.sub(r"\{[^}]+\}", "x", spec.path) for spec in specs}
    return frozenset(
        spec.qualified_name
        for spec in specs
        for other in specs
        if other is not spec
        and other.method == spec.method
        and (
            other.path_values(example[spec.qualified_name]) is not None
            or spec.path_values(example[other.qualified_name]) is not None
        )
    )


async def _read_body(
    registry: ProviderRegistry,
    spec: OperationSpec,
    request: Request,
    received: list[tuple[str, str, bytes]],
) -> Any:
    """The request's body as the operation (as sent: `_as_sent`) declares it; files
    sent as multipart parts are kept in `received` as (field, file name, content)."""
    content_type = spec.request_content_type or ""
    if "json" in content_type:
        raw = await request.body()
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise RequestValidationError(
                spec.qualified_name, [("(body)", "is not valid JSON")]
            ) from None
    properties = registry.body_properties(spec)
    body: dict[str, Any] = {}
    async with request.form() as form:
        for key in set(form.keys()):
            values = form.getlist(key)
            schema = properties.get(key, {})
            converted = []
            for value in values:
                if isinstance(value, str):
                    converted.append(coerce_text(value, _item_schema(schema)))
                else:
                    received.append((key, value.filename or "", await value.read()))
                    converted.append(BINARY_PLACEHOLDER)
            body[key] = converted if schema.get("type") == "array" else converted[0]
    return body


def _as_sent(spec: OperationSpec, request: Request) -> OperationSpec:
    """The operation as the request's media type says it was sent, of those it takes
    (an operation taking JSON or multipart is read as the caller chose)."""
    sent = media_type(request.headers.get("content-type", ""))
    if sent in spec.request_media and sent != spec.request_content_type:
        return spec.for_media(sent)
    return spec


def _item_schema(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    return schema.get("items", {}) if schema.get("type") == "array" else schema


def _param_schema(spec: OperationSpec, name: str) -> Mapping[str, Any]:
    return next((p.schema for p in spec.parameters if p.name == name), {})


def _prompt_of(body: Any) -> str:
    if not isinstance(body, Mapping):
        return ""
    for key in ("prompt", "text", "description", "background_prompt", "sourceDescription"):
        if isinstance(body.get(key), str):
            return str(body[key])
    prompts = dig(body, "text_prompts.0.text")
    return str(prompts) if isinstance(prompts, str) else ""
