"""A provider with a fragment and no Python at all, registered like a third-party one.

The example plugin's made-up Acme fragment is renamed `drawbox` and its plugin-made
pattern replaced by a declared one (`pattern: declared` plus where the status, the
progress, the failure and the files are). Compiled with `py302 codegen` into a
package of its own and given to the plugin host as that package, it runs a task in
the sandbox to completion and yields its files: nothing but the spec says how.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from py302 import Client, PluginHost, TaskStatus
from py302._registry import load_registry
from py302.codegen import generate
from py302.sandbox import Sandbox
from tests.sandbox.conftest import ManualClock

ACME_SPECS = Path(__file__).resolve().parents[1] / "example_plugin" / "specs"
DECLARED = """        pattern: declared
        status_path: state
        succeeded: [done]
        failed: [broken]
        cancelled: [cancelled]
        queued: [waiting]
        message_path: error
        progress_path: percent
        poll_interval: 1"""
RESULT = """x-py302-provider: drawbox
x-py302-result:
  assets:
    - url: outputs[].href
      mime_type: outputs[].mime"""


@pytest.fixture(scope="module")
def drawbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("drawbox")
    specs = root / "specs"
    specs.mkdir()
    shutil.copy(ACME_SPECS / "doc-inventory.tsv", specs)
    text = (ACME_SPECS / "acme.yaml").read_text(encoding="utf-8")
    text = text.replace("        pattern: acme.jobs", DECLARED)
    text = text.replace("x-py302-provider: acme", RESULT)
    text = text.replace("tags: [acme]", "tags: [drawbox]").replace(
        "- name: acme", "- name: drawbox"
    )
    text = text.replace("/acme/v1/", "/drawbox/v1/")
    (specs / "drawbox.yaml").write_text(text, encoding="utf-8")
    assert generate(specs, root / "drawbox_bindings", package="drawbox_bindings") == 0
    sys.path.insert(0, str(root))
    yield importlib.import_module("drawbox_bindings")
    sys.path.remove(str(root))
    for name in [m for m in sys.modules if m.startswith("drawbox_bindings")]:
        del sys.modules[name]


def test_a_spec_only_provider_runs_a_task_to_its_files(drawbox: ModuleType) -> None:
    host = PluginHost(builtins=False, entry_points=False, plugins=[("drawbox", drawbox)])
    provider = host.provider("drawbox")
    assert provider.plugin == "drawbox"
    assert not provider.task_patterns  # nothing but the spec
    assert provider.normalize is None
    clock = ManualClock()
    registry = load_registry("drawbox_bindings.drawbox")
    with (
        Sandbox(registries=[registry], task_seconds=4.0, clock=clock) as sandbox,
        Client(api_key="k", base_url=sandbox.base_url, plugins=host, sleep=clock.sleep) as client,
    ):
        drawbox_ops: Any = client.provider("drawbox")  # compiled at test time: untyped
        task = drawbox_ops.render(prompt="a lighthouse", width=512, height=512)
        progress: list[float | None] = []
        result = task.wait(timeout=60, on_progress=lambda t: progress.append(t.progress))
    assert task.status is TaskStatus.SUCCEEDED
    assert any(p is not None and 0 < p < 1 for p in progress)
    (asset,) = result.assets
    assert asset.url is not None
    assert asset.url.startswith(sandbox.base_url)
    assert asset.mime_type == "image/png"
