"""The emulator's modules form no import cycle (counting imports under TYPE_CHECKING and inside functions), import
nothing of the package outside emulator/, and importing the emulator does not load Pulumi."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pulumi_cdf_workflows.emulator

PACKAGE = "pulumi_cdf_workflows.emulator"
ROOT = Path(pulumi_cdf_workflows.emulator.__file__).parent


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, as written anywhere in it; `from package import module` counts the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}".rstrip(".")
            imported |= {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}
    return imported


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    """One import cycle among the emulator's modules, as a path that ends where it starts; None if there is none."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = "open"
        for target in sorted(t for t in GRAPH[name] if t in MODULES and t != name):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target, [*path, target])) is not None:
                return found
        state[name] = "done"
        return None

    for start in sorted(MODULES):
        if start not in state and (found := visit(start, [start])) is not None:
            return found
    return None


def test_every_module_is_seen() -> None:
    assert {f"{PACKAGE}.backend", f"{PACKAGE}.backend.scheduler", f"{PACKAGE}.server", f"{PACKAGE}.httpd"} <= set(
        MODULES
    )


def test_no_module_of_the_emulator_imports_itself_back() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(m.removeprefix(PACKAGE + ".") for m in cycle or [])


def test_the_emulator_imports_nothing_of_the_package_outside_it_and_no_pulumi() -> None:
    outside = {
        (name, target)
        for name, targets in GRAPH.items()
        for target in targets
        if (target.startswith("pulumi_cdf_workflows") and not target.startswith(PACKAGE))
        or target.split(".")[0] == "pulumi"
    }
    assert outside == set()


def test_the_http_side_knows_neither_the_server_nor_the_controls() -> None:
    assert not GRAPH[f"{PACKAGE}.httpd"] & {f"{PACKAGE}.server", f"{PACKAGE}.controls"}
    assert not any(
        t.startswith(f"{PACKAGE}.responses") or t == f"{PACKAGE}.server" for t in GRAPH[f"{PACKAGE}.backend"]
    )


def test_importing_the_emulator_does_not_load_pulumi() -> None:
    probe = "import sys, pulumi_cdf_workflows.emulator; print('pulumi' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "False"
