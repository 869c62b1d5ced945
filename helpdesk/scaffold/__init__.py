"""``helpdesk plugins new NAME``: write a working plugin package from the templates in ``plugin/``.

Each ``*.tmpl`` file is copied without its suffix; ``@@name@@`` (in paths and text),
``@@title@@``, ``@@class@@``, ``@@command@@`` and ``@@dist@@`` are replaced. Plain
placeholders rather than Jinja, because the templates contain Jinja templates themselves.
"""
from __future__ import annotations

import keyword
import re
from importlib.metadata import entry_points
from pathlib import Path

TEMPLATES = Path(__file__).parent / "plugin"
NAME = re.compile(r"[a-z][a-z0-9_]{1,29}")
# The core's blueprint names and URL prefixes (a plugin's blueprint and URLs use its name).
RESERVED = {"admin", "agent", "auth", "portal", "sla", "availability", "static", "core", "helpdesk", "login",
            "logout", "tickets", "queue", "tests"}
RENAMED = {"gitignore": ".gitignore"}


class ScaffoldError(ValueError):
    pass


def check_name(name: str) -> None:
    """Refuse a name that cannot be an entry point, a Python package suffix, a table prefix and a URL."""
    if not NAME.fullmatch(name) or name.endswith("_") or "__" in name:
        raise ScaffoldError(f"{name!r} cannot be a plugin name: use 2 to 30 lower-case letters, digits and "
                            "single underscores, starting with a letter (for example: billing_alerts).")
    if keyword.iskeyword(name) or name in RESERVED:
        raise ScaffoldError(f"{name!r} is taken by Helpdesk itself: choose another name.")
    if name in {ep.name for ep in entry_points(group="helpdesk.plugins")}:
        raise ScaffoldError(f"A plugin named {name!r} is installed already: choose another name.")


def placeholders(name: str) -> dict[str, str]:
    words = name.split("_")
    return {"@@name@@": name, "@@title@@": " ".join(words).capitalize(),
            "@@class@@": "".join(word.capitalize() for word in words),
            "@@command@@": name.replace("_", "-"), "@@dist@@": name.replace("_", "-")}


def write_plugin(name: str, target: Path) -> list[Path]:
    """Write the package for plugin ``name`` into the new folder ``target``; return the files written."""
    check_name(name)
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} exists and is not empty: choose another folder (--directory).")
    values = placeholders(name)
    written = []
    for source in sorted(TEMPLATES.rglob("*.tmpl")):
        relative = str(source.relative_to(TEMPLATES))[: -len(".tmpl")]
        relative = RENAMED.get(relative, relative)
        text = source.read_text(encoding="utf-8")
        for placeholder, value in values.items():
            relative = relative.replace(placeholder, value)
            text = text.replace(placeholder, value)
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
