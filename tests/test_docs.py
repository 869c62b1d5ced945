"""The plugin guide can be trusted: its snippets are the example plugin's code (or run),
its commands exist, and every ``plugin_api`` export is documented."""
from __future__ import annotations

import inspect
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest

import helpdesk.plugin_api as plugin_api
from helpdesk.cli import db_group, main

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "examples" / "hello_plugin"
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)\n(?P<code>.*?)^```$", re.M | re.S)
PATH_COMMENT = re.compile(r"^(?:#|\{#)\s*(?P<path>helpdesk_hello/\S+|tests/\S+)")


def blocks(lang: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced block of ``lang`` in the guide."""
    text = GUIDE.read_text()
    return [(text[:m.start()].count("\n") + 1, m["code"]) for m in FENCE.finditer(text) if m["lang"] == lang]


def example_text(path: str | None, suffixes: tuple[str, ...]) -> str:
    if path:
        candidates = [EXAMPLE / path, EXAMPLE / "helpdesk_hello" / path.removeprefix("helpdesk_hello/")]
        return next(p.read_text() for p in candidates if p.exists())
    return "\n".join(p.read_text() for p in sorted(EXAMPLE.rglob("*")) if p.suffix in suffixes or p.name in suffixes)


def chunks(code: str) -> tuple[str | None, list[str]]:
    """The file a snippet names in its first line (if any), and its parts between ``...`` lines."""
    lines = code.splitlines()
    path = None
    if lines and (m := PATH_COMMENT.match(lines[0].strip())):
        path, lines = m["path"].rstrip("#}").strip(), lines[1:]
    parts, current = [], []
    for line in lines:
        if line.strip() == "...":
            parts.append(current)
            current = []
        else:
            current.append(line)
    parts.append(current)
    return path, [textwrap.dedent("\n".join(p)).strip() for p in parts if "\n".join(p).strip()]


def in_example(code: str, suffixes: tuple[str, ...]) -> bool:
    path, parts = chunks(code)
    source = example_text(path, suffixes)
    normalised = re.sub(r"[ \t]+\n", "\n", source)
    return all(part in normalised or textwrap.indent(part, "    ") in normalised for part in parts)


PYTHON = blocks("python")


@pytest.mark.parametrize(("line", "code"), PYTHON, ids=[f"line{line}" for line, _ in PYTHON])
def test_python_snippets_are_the_example_plugins_code_or_run(line, code, request, app):
    if in_example(code, (".py",)):
        return
    # Not from the example: it must run as it stands, in a module next to the example's code;
    # a test it defines runs too, with the fixtures and plugins it asks for.
    pytest.importorskip("helpdesk_hello")
    import helpdesk_hello

    from helpdesk.testing import PluginSwitch

    namespace = dict(vars(helpdesk_hello))
    namespace["__name__"] = f"guide_snippet_{line}"
    exec(compile(code, f"docs/plugins.md:{line}", "exec"), namespace)
    for name, func in list(namespace.items()):
        if name.startswith("test_") and callable(func) and name not in vars(helpdesk_hello):
            for mark in getattr(func, "pytestmark", []):
                if mark.name == "plugins":
                    PluginSwitch(app).enable(*mark.args)
            func(**{arg: request.getfixturevalue(arg) for arg in inspect.signature(func).parameters})


@pytest.mark.parametrize(("lang", "suffixes"), [("toml", ("pyproject.toml",)), ("html+jinja", (".html",))])
def test_other_snippets_are_the_example_plugins_files(lang, suffixes):
    found = blocks(lang)
    assert found, f"no {lang} snippets"
    for line, code in found:
        assert in_example(code, suffixes), f"docs/plugins.md:{line}: this {lang} snippet is not in the example plugin"


def test_the_snippets_mostly_come_from_the_example():
    matched = sum(in_example(code, (".py",)) for _, code in PYTHON)
    assert matched >= 12, f"only {matched} of {len(PYTHON)} python snippets are the example's code"


def command_tree() -> click.Group:
    from helpdesk import create_app

    app = create_app()
    group = click.Group(commands={**main.commands, "db": db_group, **app.cli.commands})
    from helpdesk.extensions import db

    with app.app_context():
        db.engine.dispose()
    return group


def test_every_helpdesk_command_in_the_guide_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(tmp_path))
    tree = command_tree()
    checked = 0
    for line, code in blocks("sh"):
        for command in code.splitlines():
            command = command.strip().lstrip("$ ").split("#")[0].strip().rstrip("\\").strip()
            if not command.startswith("helpdesk "):
                continue
            words = shlex.split(command)[1:]
            group: click.Command = tree
            path = ["helpdesk"]
            while isinstance(group, click.Group) and words and not words[0].startswith("-"):
                sub = group.commands.get(words[0])
                if sub is None:
                    break
                group, path = sub, [*path, words.pop(0)]
            assert len(path) > 1, f"docs/plugins.md:{line}: unknown command in {command!r}"
            options = {opt for param in group.params for opt in getattr(param, "opts", [])}
            for word in words:
                if word.startswith("--"):
                    assert word.split("=")[0] in options, f"docs/plugins.md:{line}: {word} of {' '.join(path)}"
            checked += 1
    assert checked >= 10


def test_every_plugin_api_export_is_documented():
    reference = (ROOT / "docs" / "api.md").read_text()
    for name in plugin_api.__all__:
        assert f"## {name}\n" in reference, f"{name} is missing from docs/api.md: run `python docs/gen_api.py`"
    guide = GUIDE.read_text()
    assert "(api.md)" in guide  # the guide sends readers to the full reference


def test_api_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_api.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, "docs/api.md is stale: run `make docs`\n" + result.stdout + result.stderr
