"""The plugin contract stays documented and tested."""
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


@pytest.mark.parametrize("name", HOOKS)
def test_every_hook_has_a_test(name):
    sources = "".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_hookspecs.py")
    examples = "".join(p.read_text() for p in (ROOT / "examples").rglob("*.py"))
    assert name in sources + examples, f"no test exercises {name}"


def test_hooks_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_hooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, "docs/hooks.md is stale: run `make docs`\n" + result.stdout + result.stderr
