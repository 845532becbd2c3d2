"""The py302 plugin for Acme Imaging, a made-up provider (see specs/acme.yaml).

Acme's render jobs report on themselves in their own way, which this module maps into
py302's terms:

* `render` answers `{"job": {"ref", "state"}}`; `get_render` and `cancel_render`
  answer the same job flat, `{"ref", "state", "percent", "outputs", "error"}`;
* `state` is `waiting`, `drawing`, `done`, `broken` or `cancelled`;
* `percent` runs from 0 to 100;
* finished files are `outputs: [{"href", "mime"}]`;
* a 4xx answer carries `{"fault": {"code", "text"}}`.

py302 finds this module through the `py302` entry point declared in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from py302 import (
    APIStatusError,
    Asset,
    Normalized,
    OperationSpec,
    Provider,
    TaskPattern,
    TaskSnapshot,
    TaskStatus,
    hookimpl,
)
from py302.payloads import collect

if TYPE_CHECKING:
    # Only for annotations: httpx comes with py302 and is not a dependency of its own.
    import httpx

#: The version of py302's plugin contract this module implements.
PY302_PLUGIN_API = 2

PROVIDER = "acme"
PATTERN = "acme.jobs"

_STATES = {
    "waiting": TaskStatus.QUEUED,
    "drawing": TaskStatus.RUNNING,
    "done": TaskStatus.SUCCEEDED,
    "broken": TaskStatus.FAILED,
    "cancelled": TaskStatus.CANCELLED,
}


class AcmeJobs(TaskPattern):
    """Acme's render jobs: `state` waiting -> drawing -> done, broken or cancelled."""

    name = PATTERN

    def snapshot(self, payload: Any, response: httpx.Response | None) -> TaskSnapshot:
        """Map a submit answer (job under `job`) or a poll answer (job at the top)."""
        job = _job(payload)
        state = job.get("state")
        if not isinstance(state, str) or state not in _STATES:
            return TaskSnapshot(
                status=TaskStatus.RUNNING,
                progress=_progress(job.get("percent")),
                provider_status=state if isinstance(state, str) else None,
                message=f"unrecognised state {state!r}; polling on until the deadline",
            )
        status = _STATES[state]
        if status is TaskStatus.SUCCEEDED:
            return TaskSnapshot(status=status, progress=1.0, provider_status=state)
        if status is TaskStatus.FAILED:
            return TaskSnapshot(
                status=status,
                provider_status=state,
                message=_text(job.get("error")) or "the render broke",
            )
        return TaskSnapshot(
            status=status, progress=_progress(job.get("percent")), provider_status=state
        )

    def normalize(self, payload: Any, response: httpx.Response | None) -> Normalized | None:
        """The files of a finished job, with the media type Acme gives for each."""
        return _normalize(payload)


@hookimpl
def py302_register_providers(register: Callable[[Provider], None]) -> None:
    """Acme's operations are generated from specs/acme.yaml into py302_acme.generated."""
    register(
        Provider(
            name=PROVIDER,
            bindings="py302_acme.generated.acme",
            title="Acme Imaging (made up)",
            task_patterns={PATTERN: AcmeJobs},
            response_error=response_error,
            normalize=normalize,
        )
    )


def response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """An Acme `fault` envelope becomes the status error for its code, with Acme's text."""
    if response.is_success or not isinstance(payload, Mapping):
        return None
    fault = payload.get("fault")
    if not isinstance(fault, Mapping):
        return None
    code = fault.get("code")
    text = fault.get("text")
    return APIStatusError.from_response(
        response,
        provider=PROVIDER,
        operation=operation.qualified_name,
        message=str(text or code or response.reason_phrase),
        code=str(code) if code is not None else None,
    )


def normalize(
    operation: OperationSpec, payload: Any, response: httpx.Response | None
) -> Normalized | None:
    """The files of a `get_render` answer when it is called directly, not through a task."""
    return _normalize(payload)


def _job(payload: Any) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        return {}
    nested = payload.get("job")
    return nested if isinstance(nested, Mapping) else payload


def _progress(percent: Any) -> float | None:
    # Acme always counts in percent, so 1 means 1 %, not done: py302.payloads.fraction
    # would read it as a fraction, which is why the division is written out here.
    if not isinstance(percent, int | float) or isinstance(percent, bool):
        return None
    return min(max(float(percent) / 100, 0.0), 1.0)


def _normalize(payload: Any) -> Normalized | None:
    outputs = collect(_job(payload), "outputs[]")
    assets = [
        Asset(url=item["href"], mime_type=_text(item.get("mime")))
        for item in outputs
        if isinstance(item, Mapping) and _text(item.get("href"))
    ]
    return Normalized(assets=assets) if assets else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
