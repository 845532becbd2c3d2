"""Result files and code generation: memory while saving a large file, and the
generator's time beside datamodel-code-generator's and openapi-python-client's."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench_common import BENCH_KEY, ROOT


def bench_download(url: str, mib: int) -> dict[str, Any]:
    from py302 import Asset, Client, PluginHost

    with (
        Client(api_key=BENCH_KEY, base_url=url, plugins=PluginHost(entry_points=False)) as client,
        tempfile.TemporaryDirectory() as folder,
    ):
        asset = Asset(url=f"{url}/sandbox/blob/{mib}", downloader=client)
        tracemalloc.start()
        started = time.perf_counter()
        saved = asset.save(Path(folder) / "blob.bin")
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        size = saved.stat().st_size
    return {"mib": mib, "bytes": size, "seconds": seconds, "peak_python_alloc_mib": peak / 2**20}


def bench_codegen() -> dict[str, Any]:
    """The generator on the project's fragments, and on the generator's test zoo (its
    zoo and wire fragments and the two plain documents), each beside
    datamodel-code-generator's and openapi-python-client's CLIs on the same files."""
    zoo = ROOT / "tests" / "codegen" / "fixtures"
    with tempfile.TemporaryDirectory() as folder:
        zoo_specs = Path(folder) / "zoo-specs"
        zoo_specs.mkdir()
        for document in [*sorted((zoo / "specs").glob("*.yaml")), *sorted(zoo.glob("plain*/*"))]:
            shutil.copy(document, zoo_specs / document.name)
        results = codegen_times(ROOT / "specs", Path(folder) / "project")
        results["zoo"] = codegen_times(zoo_specs, Path(folder) / "zoo")
    return results


def codegen_times(specs: Path, work: Path) -> dict[str, Any]:
    from py302.codegen import generate

    out: dict[str, Any] = {}
    work.mkdir()
    target = work / "gen"
    started = time.perf_counter()
    generate(specs, target, package="bench_gen", force=True)
    out["py302_full_s"] = time.perf_counter() - started
    started = time.perf_counter()
    generate(specs, target, package="bench_gen")
    out["py302_noop_s"] = time.perf_counter() - started
    fragments = sorted(p for p in specs.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
    out["documents"] = len(fragments)
    dmc = shutil.which("datamodel-codegen")
    if dmc:
        started = time.perf_counter()
        for fragment in fragments:
            subprocess.run(
                [
                    dmc,
                    "--input",
                    str(fragment),
                    "--input-file-type",
                    "openapi",
                    "--output",
                    str(work / f"{fragment.stem}_dmc.py"),
                    "--output-model-type",
                    "dataclasses.dataclass",
                    "--formatters",
                    "ruff-format",
                ],
                capture_output=True,
                check=False,
            )
        out["datamodel_codegen_cli_s"] = time.perf_counter() - started
        out["py302_over_datamodel_codegen_cli"] = (
            out["py302_full_s"] / out["datamodel_codegen_cli_s"]
        )
    opc = shutil.which("openapi-python-client")
    if opc:
        failures = 0
        started = time.perf_counter()
        for fragment in fragments:
            done = subprocess.run(
                [
                    opc,
                    "generate",
                    "--path",
                    str(fragment),
                    "--output-path",
                    str(work / f"{fragment.stem}_opc"),
                    "--overwrite",
                ],
                capture_output=True,
                check=False,
            )
            failures += done.returncode != 0
        out["openapi_python_client_s"] = time.perf_counter() - started
        out["py302_over_openapi_python_client"] = (
            out["py302_full_s"] / out["openapi_python_client_s"]
        )
        out["openapi_python_client_failed_fragments"] = failures
    return out
