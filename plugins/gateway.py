"""302.AI's own gateway, in front of every provider: its in-band error envelope.

302 reports some failures as `{"error": {"err_code", "message", ...}}`, sometimes under
HTTP 200 (a balance or routing problem caught before the provider is reached). An
answer that is only such an envelope is an error whatever the status, for every
provider; providers' own envelopes are their plugins' business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from py302 import APIStatusError, OperationSpec, hookimpl


@hookimpl(trylast=True)
def py302_response_error(
    operation: OperationSpec, response: httpx.Response, payload: Any
) -> Exception | None:
    """A 2xx body that holds nothing but 302's error object is an error."""
    if response.status_code >= 300 or not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if set(payload) != {"error"} or not isinstance(error, Mapping):
        return None
    if not ({"err_code", "message"} & set(error)):
        return None
    return APIStatusError.from_response(
        response, provider=operation.provider, operation=operation.qualified_name
    )
