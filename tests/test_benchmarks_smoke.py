"""Every benchmark script still starts, and every project name it uses still exists.

The scripts reproduce benchmarks/RESULTS.md's figures but nothing else runs them, so a library
name one imports could be renamed or removed unnoticed until someone reran it. Per script in
benchmarks/ (a new one is covered without listing it):
- `--help` in a process of its own runs its top-level imports and builds its argument parser,
  in a second or two, without ../shared, a database or a solve;
- the names it takes from the project (network, routing, api) or from a sibling script anywhere
  in its code are looked up: imports inside functions, which `--help` does not run, and the
  module attributes it reads or patches (`ortools_engine.TABLE_MAX_CELLS = 0` on a constant
  that was renamed would silently patch nothing).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))
SIBLINGS = {s.stem for s in SCRIPTS}  # a script imports another as a module (vrp, api_load)
OURS = {"network", "routing", "api"} | SIBLINGS


def test_benchmarks_found() -> None:
    """An empty glob would skip the tests below instead of failing them."""
    assert SCRIPTS, f"no benchmark scripts under {BENCHMARKS}"


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_help(script: Path) -> None:
    """The script imports and prints its usage: exit 0, as a user's `--help` would. This
    checkout's packages come first on the path, whatever the venv installed."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{script.name} --help failed:\n{done.stderr[-3000:]}"
    assert done.stdout.startswith("usage:"), done.stdout[:500]


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_names_exist(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every project or sibling name the script's code refers to resolves."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the siblings, as the script sees them
    loaded = set(sys.modules)
    try:
        missing = [".".join(chain) for chain in sorted(used_names(script)) if not resolves(chain)]
    finally:  # the siblings' modules (vrp, api_load, ...) stay out of other tests
        for name in set(sys.modules) - loaded:
            if name.split(".")[0] in SIBLINGS:
                del sys.modules[name]
    assert not missing, f"{script.name} uses names that no longer exist: {missing}"


def used_names(script: Path) -> set[tuple[str, ...]]:
    """Dotted chains the script's code reads from our modules, a module first: `from m import
    n` gives (m, n); `alias.a.b` gives alias's chain plus (a, b); `importlib.import_module`
    of a literal and `patch.object(alias, "a")` count too."""
    tree = ast.parse(script.read_text())
    bound: dict[str, tuple[str, ...]] = {}  # a local name: the chain it stands for
    chains: set[tuple[str, ...]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and _ours(node.module or ""):
            for alias in node.names:
                bound[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in (a for a in node.names if _ours(a.name)):
                bound[alias.asname or alias.name.split(".")[0]] = (
                    (alias.name,) if alias.asname else (alias.name.split(".")[0],)
                )
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            call = node.value
            if isinstance(call, ast.Call) and _dotted(call.func) == ("importlib", "import_module"):
                module = _literal(call.args[0]) if call.args else None
                if module and _ours(module):
                    bound[node.targets[0].id] = (module,)
    chains.update(bound.values())
    for node in ast.walk(tree):
        chain = _dotted(node) if isinstance(node, ast.Attribute) else None
        if isinstance(node, ast.Call) and _dotted(node.func)[-2:] == ("patch", "object"):
            name = _literal(node.args[1]) if len(node.args) > 1 else None
            chain = (*_dotted(node.args[0]), name) if name else None
        if chain and chain[0] in bound:
            chains.add((*bound[chain[0]], *chain[1:]))
    return chains


def resolves(chain: tuple[str, ...]) -> bool:
    """Whether the chain's first name imports and each further name exists, looked up as long
    as the object is a module or a class (an attribute of a value is the value's business)."""
    first, *rest = chain
    obj: object = importlib.import_module(first)
    for name in rest:
        if not (inspect.ismodule(obj) or inspect.isclass(obj)):
            return True
        if not hasattr(obj, name) and inspect.ismodule(obj):
            try:  # a submodule not imported yet, as `from package import module` finds it
                importlib.import_module(f"{obj.__name__}.{name}")
            except ModuleNotFoundError:
                return False
        if not hasattr(obj, name):
            return False
        obj = getattr(obj, name)
    return True


def _ours(module: str) -> bool:
    return module.split(".")[0] in OURS


def _dotted(node: ast.AST) -> tuple[str, ...]:
    """`a.b.c` as ("a", "b", "c"); () for anything not a plain dotted name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return (node.id, *reversed(parts)) if isinstance(node, ast.Name) else ()


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
