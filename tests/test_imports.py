"""Imports inside the package only go down: no module imports the package itself (``import fastlr``,
``from . import __version__``), and the modules, lazy imports inside functions included, form no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "fastlr"

# Imports of the package itself that another change is removing; each is reported, not hidden, once
# it is gone (the test then passes without it).
PENDING = {("fastlr._numba", "fastlr:__version__")}


def _modules() -> dict[str, tuple[Path, bool]]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = (path, is_package)
    return modules


def _imports(modules) -> dict[str, set[str]]:
    """Module -> what it imports from the package: a module name, or ``package:name`` for a name taken
    from a package's ``__init__`` (which imports the whole package)."""
    graph = {}
    for name, (path, is_package) in modules.items():
        here = name.split(".") if is_package else name.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "fastlr")
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                if module.split(".")[0] != "fastlr":
                    continue
                if module in modules and modules[module][1]:  # from a package: submodules or its names
                    for alias in node.names:
                        child = f"{module}.{alias.name}"
                        found.add(child if child in modules else f"{module}:{alias.name}")
                else:
                    found.add(module)
        graph[name] = found
    return graph


def test_nothing_imports_the_package_itself():
    graph = _imports(_modules())
    offences = {(name, target) for name, targets in graph.items() for target in targets
                if target == "fastlr" or target.startswith("fastlr:")}
    assert offences - PENDING == set()


def test_no_import_cycles():
    modules = _modules()
    graph = {name: {t for t in targets if t in modules and t != "fastlr"} for name, targets in
             _imports(modules).items()}
    # a package's __init__ imports its submodules by design; a submodule importing back is caught above
    graph = {name: {t for t in targets if not t.startswith(name + ".")} for name, targets in graph.items()}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(name):
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(target):] + [target]))
            if target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_the_command_line_entry_points():
    import fastlr
    import fastlr.__main__  # noqa: F401 - python -m fastlr
    from fastlr import cli
    from fastlr._version import __version__

    assert fastlr.__version__ == __version__
    assert callable(cli.main)
    text = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'fastlr = "fastlr.cli:main"' in text
