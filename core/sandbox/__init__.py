"""A local stand-in for the 302.AI API, built from the same specs as the client.

    from py302.sandbox import Fault, Sandbox

    with Sandbox(task_seconds=1.0) as sandbox:
        client = Client(api_key="sandbox", base_url=sandbox.base_url)
        sandbox.faults.add(Fault(kind="status", status=429, retry_after=1, times=1))

Needs the `sandbox` extra (Starlette, uvicorn, python-multipart, Pillow).
"""

from ._faults import FAULT_KINDS, Fault, FaultPlan, parse_fault
from ._server import DEFAULT_TASK_SECONDS, Sandbox

__all__ = ["DEFAULT_TASK_SECONDS", "FAULT_KINDS", "Fault", "FaultPlan", "Sandbox", "parse_fault"]
