"""The plugin contract stays documented and tested."""
import ast
import functools
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from helpdesk import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("helpdesk_")]


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_is_documented(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert "Semantics:" in doc, f"{name}: say whether it is collected, first result or an event"
    assert "Example::" in doc, f"{name}: give an example"
    for arg in inspect.signature(getattr(hookspecs, name)).parameters:
        assert arg in doc, f"{name}: argument {arg!r} is not explained"


@functools.cache
def defined_tests() -> dict[str, ast.FunctionDef]:
    """Every test function defined in the core's, the plugins' and the example's test files, by name."""
    found = {}
    files = [*(ROOT / "tests").rglob("test_*.py"), *(ROOT / "plugins").rglob("tests/test_*.py"),
             *(ROOT / "examples").rglob("tests/test_*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found[node.name] = node
    return found


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name):
    """A function ``test_hook_<name>`` (not a mention in a comment) that implements or names the hook."""
    short = name.removeprefix("helpdesk_")
    function = defined_tests().get(f"test_hook_{short}")
    assert function is not None, f"write a test named test_hook_{short} (see tests/test_hooks.py)"
    body = ast.unparse(function)
    assert name in body, f"test_hook_{short} must implement or call {name}"
    assert len(function.body) > 1 or not isinstance(function.body[0], (ast.Pass, ast.Expr)), "an empty test"


def test_hooks_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_hooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, "docs/hooks.md is stale: run `make docs`\n" + result.stdout + result.stderr
