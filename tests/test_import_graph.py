"""The core's import graph: no cycles, and the lower layers never import the web layer.

Read from the source (every ``import`` statement, at the top of a module or inside a
function), so an import hidden in a function cannot hide a cycle. A package's
``__init__`` counts as a module of its own, as import-linter counts it.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "helpdesk"
# Modules that must never import ``helpdesk.web`` (or anything under it).
BELOW_WEB = ("helpdesk.models", "helpdesk.services", "helpdesk.contract", "helpdesk.errors", "helpdesk.addresses",
             "helpdesk.assignment", "helpdesk.plugin_manager", "helpdesk.plugin_settings", "helpdesk.hookspecs",
             "helpdesk.jobs", "helpdesk.access", "helpdesk.search")
LEAVES = ("helpdesk.contract", "helpdesk.errors", "helpdesk.markers", "helpdesk.numbers", "helpdesk.charts",
          "helpdesk.csv_export")


def _modules(root: Path = CORE) -> dict[str, Path]:
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(root: Path = CORE) -> dict[str, set[str]]:
    """module → the core modules it imports (``from helpdesk import search`` names the submodule)."""
    modules = _modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                candidates = [f"{base}.{alias.name}" for alias in node.names]
                # ``from helpdesk.services import admin_audit`` runs ``helpdesk/services/__init__.py``
                # first: the package is imported too. (Not the top package, which every module loads.)
                if base != root.name:
                    candidates.append(base)
            else:
                continue
            for candidate in candidates:
                if candidate.split(".")[0] == root.name:
                    target = resolve(candidate)
                    if target and target != name:
                        targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _reaches(graph: dict[str, set[str]], start: str, target_prefix: str) -> list[str] | None:
    """A path from ``start`` to a module under ``target_prefix``, or None."""
    seen = {start}
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == target_prefix or nxt.startswith(target_prefix + "."):
                return [*path, nxt]
            if nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return None


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    package = tmp_path / "helpdesk"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from helpdesk.b import x\n")
    (package / "b.py").write_text("def x():\n    from helpdesk import a\n    return a\n")
    (package / "c.py").write_text("from . import a\n")
    graph = import_graph(package)
    assert graph["helpdesk.c"] == {"helpdesk.a"}
    assert cycles(graph) == [["helpdesk.a", "helpdesk.b"]]


def test_the_core_has_no_import_cycle():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("module", BELOW_WEB)
def test_lower_layers_never_import_the_web_layer(module):
    graph = import_graph()
    starts = [name for name in graph if name == module or name.startswith(module + ".")]
    assert starts, module
    for start in starts:
        assert _reaches(graph, start, "helpdesk.web") is None, f"{start} reaches the web layer"


@pytest.mark.parametrize("module", LEAVES)
def test_the_contract_types_sit_in_leaf_modules(module):
    # models only for type annotations; helpdesk.languages is a leaf itself (the N_ marker)
    assert import_graph()[module] <= {"helpdesk.models", "helpdesk.languages"}
    assert import_graph()["helpdesk.languages"] == set()


def test_plugin_api_still_offers_the_moved_names():
    from helpdesk import contract, errors, plugin_api

    assert plugin_api.Setting is contract.Setting and plugin_api.Route is contract.Route
    assert plugin_api.Channel is contract.Channel and plugin_api.SETTING_TYPES == contract.SETTING_TYPES
    assert plugin_api.ServiceError is errors.ServiceError and plugin_api.PermissionDenied is errors.PermissionDenied
    assert plugin_api.services.ServiceError is errors.ServiceError


def test_bundled_plugins_leave_priorities_and_tags_to_the_core():
    """Plugins raise priorities and add tags through ``apply_route_decision`` (or a Route),
    never by writing ``.priority``, appending to ``.tags`` or creating ``Tag`` rows."""
    offences = []
    for path in sorted((ROOT / "plugins").glob("*/helpdesk_*/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Assign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                offences += [f"{path.name}:{node.lineno} writes .priority" for t in targets
                             if isinstance(t, ast.Attribute) and t.attr == "priority"
                             and not (isinstance(t.value, ast.Name) and t.value.id == "self")]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id
                owner = func.value if isinstance(func, ast.Attribute) else None
                if name == "Tag" or (name == "append" and isinstance(owner, ast.Attribute) and owner.attr == "tags"):
                    offences.append(f"{path.name}:{node.lineno} {name}(...) on tags")
    assert offences == []


# Bundled plugins that still import the deprecated ``plugin_api.db`` (none: keep it so).
STILL_ON_PLUGIN_API_DB: set[str] = set()


def plugin_api_db_imports(path: Path) -> list[str]:
    """``from helpdesk.plugin_api import db`` (at the top or inside a function) in one file.

    A scaffold template's ``@@placeholders@@`` are filled in with a plain name first."""
    source = re.sub(r"@@\w+@@", "demo", path.read_text())
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return [f"{where}:{node.lineno}" for node in ast.walk(ast.parse(source, str(path)))
            if isinstance(node, ast.ImportFrom) and node.module == "helpdesk.plugin_api"
            and any(alias.name == "db" for alias in node.names)]


def test_the_checker_finds_an_import_of_plugin_api_db(tmp_path):
    source = tmp_path / "models.py"
    source.write_text("def rows():\n    from helpdesk.plugin_api import Ticket, db as database\n")
    assert len(plugin_api_db_imports(source)) == 1


def test_bundled_plugins_the_example_and_the_scaffold_never_import_plugin_api_db():
    """``db`` is deprecated: plugins use ``Model`` for their tables and ``db_session()`` for queries."""
    roots = [path for path in sorted((ROOT / "plugins").iterdir())
             if path.is_dir() and path.name not in STILL_ON_PLUGIN_API_DB]
    roots += [ROOT / "examples" / "hello_plugin"]
    files = [path for root in roots for path in sorted(root.rglob("*.py"))]
    templates = sorted((CORE / "scaffold" / "plugin").rglob("*.py.tmpl"))
    assert len(files) > 20 and len(templates) > 3  # the plugins' code, their tests and the templates were found
    files += templates
    assert [hit for path in files for hit in plugin_api_db_imports(path)] == []
