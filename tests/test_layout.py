"""The package layout holds: every import points down, no cycles, small modules and functions.

Layers, top to bottom (a module may import its own layer's package and any layer below):

    closecsv (the Python API), closecsv.__main__, closecsv.cli
    closecsv.importing, closecsv.exporting     (neither imports the other)
    closecsv.files, closecsv.close             (neither imports the other)
    closecsv.errors, closecsv.wording, closecsv.progress, closecsv.version

``closecsv.sandbox`` is an island: it imports only itself, errors and wording, and only the
command line imports it.  Imports under ``if TYPE_CHECKING:`` count too.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
BASE = {"errors", "wording", "progress", "version", "defaults"}
LAYERS = {"cli": 4, "importing": 3, "exporting": 3, "files": 2, "close": 2, "library": 5}
SANDBOX_MAY_USE = {"closecsv.errors", "closecsv.wording"}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    rel: str
    tree: ast.Module

    @property
    def part(self) -> str:
        """``cli``, ``importing``, ... for a module of a sub-package; its own name at the top."""
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""


def modules(root: Path = SRC) -> dict[str, Module]:
    found = {}
    for path in sorted((root / "closecsv").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        found[name] = Module(
            name,
            path,
            path.relative_to(root).as_posix(),
            ast.parse(path.read_text(encoding="utf-8")),
        )
    return found


def imports(module: Module, known: set[str]) -> set[str]:
    """The modules of ``closecsv`` that ``module`` imports (a name imported from a package
    that is itself a module counts as that module)."""
    found: set[str] = set()
    package = module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "closecsv"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base.split(".")[0] != "closecsv":
                continue
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base)
    return found - {module.name}


def layer(name: str) -> int:
    """1 for the base, 5 for the package itself and its other top modules (the Python API,
    ``__main__``), the layer of its sub-package otherwise."""
    parts = name.split(".")
    if len(parts) == 1:
        return 5
    return 1 if parts[1] in BASE else LAYERS.get(parts[1], 5)


def wrong_arrows(mods: dict[str, Module]) -> list[str]:
    """Every import that points up, sideways between peers, or into or out of the sandbox."""
    wrong = []
    for mod in mods.values():
        for target in sorted(imports(mod, set(mods))):
            tpart = target.split(".")[1] if "." in target else ""
            if mod.part == "sandbox":
                ok = tpart == "sandbox" or target in SANDBOX_MAY_USE
            elif tpart == "sandbox":
                ok = mod.part == "cli"
            elif tpart == mod.part and tpart in LAYERS:
                ok = True
            elif mod.name == "closecsv":  # the package re-exports the Python API
                api = target == "closecsv.library" or target.startswith("closecsv.library.")
                ok = api or layer(target) < layer(mod.name)
            else:
                ok = layer(target) < layer(mod.name)
            if not ok:
                wrong.append(f"{mod.name} imports {target}")
    return wrong


def cycles(mods: dict[str, Module]) -> list[list[str]]:
    """Each strongly connected group of modules (Tarjan), so every cycle is named once."""
    graph = {name: sorted(imports(mod, set(mods)) & set(mods)) for name, mod in mods.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for name in graph:
        if name not in index:
            visit(name)
    return groups


def long_modules(mods: dict[str, Module]) -> list[str]:
    return [
        f"{m.rel}: {n} lines"
        for m in mods.values()
        if (n := len(m.path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]


def long_functions(mods: dict[str, Module]) -> list[str]:
    found = []
    for mod in mods.values():
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1  # decorators aside
                if size > MAX_FUNCTION_LINES:
                    found.append(f"{mod.rel}:{node.lineno} {node.name}: {size}")
    return found


@pytest.fixture(scope="module")
def mods() -> dict[str, Module]:
    return modules()


def test_every_import_points_down_the_layers(mods: dict[str, Module]) -> None:
    assert wrong_arrows(mods) == []


def test_no_two_modules_import_each_other_even_through_others(mods: dict[str, Module]) -> None:
    assert cycles(mods) == []


def test_no_module_is_over_400_lines(mods: dict[str, Module]) -> None:
    assert long_modules(mods) == []


def test_no_function_is_over_60_lines(mods: dict[str, Module]) -> None:
    assert long_functions(mods) == []


def test_the_checks_catch_what_they_are_for(tmp_path: Path) -> None:
    """Each rule fails on a tree that breaks it: a cycle, an upward import, the sandbox
    reached from a library package, a long module and a long function."""
    pkg = tmp_path / "closecsv"
    for folder in ("close", "importing", "sandbox"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "close" / "a.py").write_text("from closecsv.close import b\n")
    (pkg / "close" / "b.py").write_text("from closecsv.close.a import x\n")
    (pkg / "close" / "up.py").write_text("from closecsv.importing.plan import Plan\n")
    (pkg / "importing" / "plan.py").write_text("from closecsv.sandbox import Sandbox\n")
    (pkg / "importing" / "long.py").write_text("x = 1\n" * 401)
    body = "".join(f"    y = {i}\n" for i in range(60))
    (pkg / "importing" / "fn.py").write_text(f"def f() -> None:\n{body}")
    tree = modules(tmp_path)
    assert cycles(tree) == [["closecsv.close.a", "closecsv.close.b"]]
    assert wrong_arrows(tree) == [
        "closecsv.close.up imports closecsv.importing.plan",
        "closecsv.importing.plan imports closecsv.sandbox",
    ]
    assert long_modules(tree) == ["closecsv/importing/long.py: 401 lines"]
    assert [f.split(" ")[1] for f in long_functions(tree)] == ["f:"]
