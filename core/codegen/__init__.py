"""The binding generator: specs/ fragments in, `generated/` modules out.

    python scripts/generate.py            # regenerate what changed
    python scripts/generate.py --check    # exit 1 with a diff if generated/ is stale
    py302 codegen --specs DIR --out PKG   # the same, for a plugin's own fragments

Needs the `codegen` extra (datamodel-code-generator, Jinja2, PyYAML,
openapi-spec-validator, ruff). Any fragment that cannot be compiled stops the run with
every problem listed; nothing is written then.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from ._errors import CodegenError
from ._load import Fragment, fragment_digests, load_fragments
from ._render import (
    RenderedFile,
    banner,
    compare,
    current_banner,
    echo,
    fingerprint,
    render_fragment,
    render_index,
    write_atomically,
)

__all__ = ["CodegenError", "Fragment", "generate", "load_fragments", "main"]


def generate(
    specs_dir: Path, out_dir: Path, *, package: str, check: bool = False, force: bool = False
) -> int:
    """Regenerate `out_dir` from `specs_dir`; with `check`, only compare. Exit status."""
    generator = fingerprint()
    if not check and not force and _up_to_date(specs_dir, out_dir, generator):
        echo("nothing to do: every fragment and the generator are unchanged")
        return 0
    fragments = load_fragments(specs_dir)
    expected, skipped = _rendered(fragments, out_dir, generator, reuse=not check and not force)
    index: RenderedFile = render_index(fragments, package, generator)
    expected[index.name] = index.text
    if check:
        diffs = compare(expected, out_dir)
        for diff in diffs:
            print(diff, end="")
        if diffs:
            echo(f"{out_dir} is stale: {len(diffs)} file(s) differ; run scripts/generate.py")
            return 1
        echo(f"{out_dir} is up to date ({len(fragments)} fragment(s))")
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, text in sorted(expected.items()):
        path = out_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            write_atomically(path, text)
            written += 1
    for path in sorted(out_dir.glob("*")):
        if path.is_file() and path.suffix in {".py", ".json"} and path.name not in expected:
            path.unlink()
            echo(f"removed stale {path}")
    echo(
        f"{len(fragments)} fragment(s): {written} file(s) written, "
        f"{skipped} fragment(s) unchanged and skipped"
    )
    return 0


def _rendered(
    fragments: list[Fragment], out_dir: Path, generator: str, *, reuse: bool
) -> tuple[dict[str, str], int]:
    """File name -> text of every fragment's module and registry, and how many were
    reused unchanged (`reuse`: their banner says they are current). A fragment that
    fails to compile does not stop the others: `CodegenError` lists them all."""
    expected: dict[str, str] = {}
    skipped = 0
    problems: list[str] = []
    for fragment in fragments:
        module_path = out_dir / f"{fragment.provider}.py"
        head = banner(fragment.name, fragment.digest, generator)
        if reuse and current_banner(module_path) == head:
            registry = out_dir / f"{fragment.provider}.json"
            if registry.exists() and _generated_by(registry) == head[2:]:
                expected[module_path.name] = module_path.read_text(encoding="utf-8")
                expected[registry.name] = registry.read_text(encoding="utf-8")
                skipped += 1
                continue
        try:
            rendered_files = render_fragment(fragment, generator)
        except CodegenError as exc:
            problems.extend(exc.problems)
            continue
        for rendered in rendered_files:
            expected[rendered.name] = rendered.text
    if problems:
        raise CodegenError(problems)
    return expected, skipped


def _up_to_date(specs_dir: Path, out_dir: Path, generator: str) -> bool:
    """Whether every generated file carries the banner of the current fragments and
    generator (no parsing: what makes a no-op regeneration take milliseconds)."""
    import hashlib

    digests = fragment_digests(specs_dir)
    present = {current_banner(path) for path in out_dir.glob("*.py")}
    wanted = {banner(name, digest, generator) for name, digest in digests.items()}
    combined = hashlib.sha256(
        "".join(digests[name] for name in sorted(digests)).encode()
    ).hexdigest()
    wanted.add(banner("all fragments", combined, generator))
    return bool(digests) and wanted <= present and len(present) == len(wanted)


def _generated_by(registry: Path) -> str | None:
    try:
        value = json.loads(registry.read_text(encoding="utf-8")).get("generated_by")
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def main(argv: Sequence[str] | None = None, *, root: Path | None = None) -> int:
    """Command-line entry point shared by scripts/generate.py and `py302 codegen`."""
    base = root or Path.cwd()
    parser = argparse.ArgumentParser(prog="py302 codegen", description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=base / "specs", help="folder of fragments")
    parser.add_argument(
        "--out", type=Path, default=base / "generated", help="output package folder"
    )
    parser.add_argument("--package", default="py302.generated", help="import name of --out")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 on drift")
    parser.add_argument("--force", action="store_true", help="regenerate unchanged fragments too")
    parser.add_argument("--json", action="store_true", help="report problems as JSON")
    args = parser.parse_args(argv)
    try:
        return generate(
            args.specs, args.out, package=args.package, check=args.check, force=args.force
        )
    except CodegenError as exc:
        if args.json:
            print(json.dumps({"problems": list(exc.problems)}, indent=1))
        else:
            echo(f"error: {exc}")
        return 2
    except ModuleNotFoundError as exc:
        echo(f"error: {exc.name} is missing; install the tools: pip install 'py302[codegen]'")
        return 2
