"""The plugin developer's tools: ``plugins new``, plugin migrations, the test kit's switch,
plugin commands gated by the core, settings forms, versions, and a quick ``helpdesk`` start."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpdesk.cli import main
from helpdesk.plugin_api import API_VERSION, Setting
from helpdesk.plugin_manager import manager
from helpdesk.testing import make_plugin

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HELPDESK_", "PYTEST_")) or k in ("HELPDESK_TEST_DB", "HELPDESK_TEST_DATABASE_URL")}
    env.update(extra)
    return env


def helpdesk(*args: str, env: dict[str, str], cwd: Path | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "helpdesk"), *args], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=300)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


# ------------------------------------------------------------------ plugins new


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> dict[str, Path]:
    """``helpdesk plugins new demo``, then the package installed (pip, no deps) into a folder of its own."""
    base = tmp_path_factory.mktemp("scaffold")
    written = helpdesk("plugins", "new", "demo", env=clean_env(), cwd=base)
    assert "Wrote the demo plugin" in written.stdout and "pip install -e" in written.stdout
    site = base / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(site), str(base / "demo")], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    return {"source": base / "demo", "site": site}


def test_plugins_new_writes_a_package_whose_own_tests_pass(demo_site):
    source = demo_site["source"]
    files = {str(p.relative_to(source)) for p in source.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", "helpdesk_demo/__init__.py", "helpdesk_demo/models.py",
            "helpdesk_demo/views.py", "helpdesk_demo/templates/demo/index.html",
            "helpdesk_demo/migrations/demo_0001_create_events.py", "tests/test_demo.py"} <= files
    assert 'demo = "helpdesk_demo"' in (source / "pyproject.toml").read_text()
    assert "@@" not in "".join(p.read_text() for p in source.rglob("*") if p.is_file())

    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=source,
                           env=clean_env(PYTHONPATH=str(demo_site["site"])), capture_output=True, text=True,
                           timeout=600)
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "5 passed" in tests.stdout


@pytest.mark.parametrize(("name", "message"), [
    ("Demo", "cannot be a plugin name"), ("9lives", "cannot be a plugin name"), ("a-b", "cannot be a plugin name"),
    ("admin", "taken by Helpdesk itself"), ("class", "taken by Helpdesk itself"),
    ("hello", "installed already"),
])
def test_plugins_new_refuses_names_that_cannot_work(tmp_path, monkeypatch, name, message):
    if name == "hello" and "hello" not in {ep.name for ep in entry_points(group="helpdesk.plugins")}:
        pytest.skip("the hello example plugin is not installed")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plugins", "new", name])
    assert result.exit_code == 1 and message in result.output
    assert list(tmp_path.iterdir()) == []


def test_plugins_new_never_writes_into_a_folder_in_use(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["plugins", "new", "notes"])
    assert result.exit_code == 1 and "exists and is not empty" in result.output
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["mine.txt"]


# ------------------------------------------------------- plugin migrations via the CLI


def test_db_revision_for_a_plugin_and_upgrade_says_what_it_applied(demo_site, tmp_path):
    package = demo_site["site"] / "helpdesk_demo"
    env = clean_env(PYTHONPATH=str(demo_site["site"]), HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"))
    (package / "migrations" / "demo_0001_create_events.py").unlink()  # start the branch from nothing

    init = helpdesk("init", "--admin-password", "longpassword", env=env)
    assert re.search(r"Database ready \(\d+ migrations applied\)", init.stdout)

    first = helpdesk("db", "revision", "--plugin", "demo", "--autogenerate", "-m", "create events", env=env)
    [written] = (package / "migrations").glob("demo_0001_*.py")
    assert f"Wrote {written}" in first.stdout
    text = written.read_text()
    assert "revision = 'demo_0001'" in text and "branch_labels = ('demo',)" in text
    assert "depends_on = 'core_0001'" in text
    assert "op.create_table('demo_events'" in text
    assert re.findall(r"op\.(?:create|drop)_table\('(\w+)'", text) == ["demo_events", "demo_events"]

    applied = helpdesk("db", "upgrade", env=env)
    assert "Applied 1 migration:" in applied.stdout
    assert re.search(r"demo\s+demo_0001\s+create events", applied.stdout)
    assert "Database is up to date." in applied.stdout

    models = package / "models.py"
    models.write_text(models.read_text().replace(
        "    created_at: Mapped[datetime] = mapped_column(default=utcnow)\n",
        "    created_at: Mapped[datetime] = mapped_column(default=utcnow)\n"
        "    note: Mapped[str | None] = mapped_column(String(200))\n").replace(
        "from sqlalchemy import ForeignKey", "from sqlalchemy import ForeignKey, String"))
    second = helpdesk("db", "revision", "--plugin", "demo", "--autogenerate", "-m", "add note", env=env)
    [later] = (package / "migrations").glob("demo_0002_*.py")
    assert f"Wrote {later}" in second.stdout
    text = later.read_text()
    assert "down_revision = 'demo_0001'" in text and "branch_labels = None" in text
    assert "add_column('note'" in text or "sa.Column('note'" in text
    assert "tickets" not in text.split("def upgrade")[1]  # only the plugin's own tables

    again = helpdesk("db", "upgrade", env=env)
    assert re.search(r"demo\s+demo_0002\s+add note", again.stdout)
    assert helpdesk("db", "upgrade", env=env).stdout == "Nothing to apply: the database is up to date.\n"

    unchanged = helpdesk("db", "revision", "--plugin", "demo", "--autogenerate", "-m", "nothing", env=env)
    assert "No changes in the plugin's models" in unchanged.stdout
    assert len(list((package / "migrations").glob("demo_*.py"))) == 2

    unknown = helpdesk("db", "revision", "--plugin", "nosuch", "-m", "x", env=env, ok=False)
    assert unknown.returncode == 1 and "No plugin named 'nosuch'" in unknown.stderr


# ---------------------------------------------------------- the test kit's switch


@pytest.mark.plugins("hello")
def test_the_plugins_fixture_switches_a_plugin_within_a_test(client, agent, ticket, login, plugins):
    pytest.importorskip("helpdesk_hello")
    login(client, agent)
    assert client.get("/hello/").status_code == 200

    plugins.disable("hello")
    assert not plugins.is_enabled("hello")
    assert client.get("/hello/").status_code == 404
    assert "Hello from the hello plugin" not in client.get(f"/tickets/{ticket.reference}").text

    plugins.enable("hello")
    assert client.get("/hello/").status_code == 200


def test_the_plugins_fixture_names_what_is_installed(plugins):
    with pytest.raises(pytest.fail.Exception, match="plugins not installed: nosuch"):
        plugins.enable("nosuch")


# ------------------------------------------------- commands of a disabled plugin


def test_a_disabled_plugins_commands_are_refused_by_the_core(app, plugins):
    ran = []

    def add_commands(cli):
        @cli.command("spy-count")
        def spy_count() -> None:
            ran.append("count")

        @cli.group("spy-tools")
        def spy_tools() -> None:
            pass

        @spy_tools.command("clean")
        def clean() -> None:
            ran.append("clean")

    manager(app).register(make_plugin("spy", helpdesk_cli=add_commands), "spy")
    manager(app).register_cli(app)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["spy-count"]).exit_code == 0
    assert runner.invoke(args=["spy-tools", "clean"]).exit_code == 0
    assert ran == ["count", "clean"]

    plugins.disable("spy")
    for args in (["spy-count"], ["spy-tools", "clean"]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1
        assert "The spy plugin is disabled" in refused.output
        assert "helpdesk plugins enable spy" in refused.output
    assert ran == ["count", "clean"]


# ---------------------------------------------------------- settings forms


class FormControls(HTMLParser):
    """Every input, textarea and select of a page: (tag, attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, dict[str, str | None]]] = []
        self._textarea: dict[str, str | None] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "textarea", "select"):
            self.controls.append((tag, dict(attrs)))
            if tag == "textarea":
                self._textarea = self.controls[-1][1]
                self._textarea["_text"] = ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["_text"] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def controls(html: str, name: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = FormControls()
    parser.feed(html)
    return [(tag, attrs) for tag, attrs in parser.controls if attrs.get("name") == name]


def test_secret_and_lines_settings_render_as_a_password_box_and_a_textarea(app, client, admin, login):
    manager(app).register(make_plugin("vault", helpdesk_settings=lambda: [
        Setting("api_key", "secret", help="The provider's API key."),
        Setting("phrases", "lines", default="refund\nbroken", help="One phrase per line."),
    ]), "vault")
    login(client, admin)

    page = client.get("/admin/plugins/vault").text
    [(tag, key)] = controls(page, "api_key")
    assert (tag, key["type"], key["value"]) == ("input", "password", "")
    assert "No value stored yet." in page
    [(tag, phrases)] = controls(page, "phrases")  # no stray password box of the same name
    assert tag == "textarea" and phrases["_text"] == "refund\nbroken"

    saved = client.post("/admin/plugins/vault", data={"api_key": "s3cr3t-key", "phrases": " late \n\nrude "})
    assert saved.status_code == 302
    assert manager(app).get_setting("vault", "api_key") == "s3cr3t-key"
    assert manager(app).get_setting("vault", "phrases") == "late\nrude"

    page = client.get("/admin/plugins/vault").text
    assert "s3cr3t-key" not in page  # write-only: never sent back
    [(_, key)] = controls(page, "api_key")
    assert key["value"] == "" and "leave blank to keep" in key["placeholder"]
    assert "A value is stored (not shown)" in page

    client.post("/admin/plugins/vault", data={"api_key": "", "phrases": "late"})  # blank keeps the secret
    assert manager(app).get_setting("vault", "api_key") == "s3cr3t-key"


def test_every_installed_plugins_settings_have_one_control_each(app, client, admin, login):
    login(client, admin)
    plugins = manager(app)
    checked = 0
    for name in plugins.plugins:
        specs = plugins.setting_specs(name)
        if not specs:
            continue
        page = client.get(f"/admin/plugins/{name}").text
        for setting, spec in specs.items():
            found = controls(page, setting)
            assert len(found) == 1, f"{name}.{setting}: {len(found)} form controls"
            tag, attrs = found[0]
            if spec.type == "secret":
                assert (tag, attrs["type"], attrs["value"]) == ("input", "password", "")
            elif spec.type == "lines":
                assert tag == "textarea"
            checked += 1
    assert checked >= 1 or not plugins.plugins


# --------------------------------------------------------------- versions


def test_the_api_version_is_in_the_changelog():
    changes = (ROOT / "CHANGES.md").read_text()
    assert f"## Plugin API {API_VERSION}" in changes


def test_deprecated_names_warn_and_still_work(monkeypatch):
    import helpdesk.plugin_api as plugin_api

    monkeypatch.setitem(plugin_api.DEPRECATED, "old_utcnow", (lambda: plugin_api.utcnow, "use utcnow", "2.0"))
    with pytest.warns(DeprecationWarning, match=r"helpdesk.plugin_api.old_utcnow is deprecated and will be "
                                                r"removed in plugin API 2.0: use utcnow"):
        from helpdesk.plugin_api import old_utcnow
    assert old_utcnow is plugin_api.utcnow
    with pytest.raises(ImportError):
        from helpdesk.plugin_api import never_existed  # noqa: F401


def test_importing_db_from_plugin_api_warns_and_still_works():
    import helpdesk.plugin_api as plugin_api
    from helpdesk.extensions import db as extension

    assert "db" not in plugin_api.__all__ and "db" not in vars(plugin_api)
    with pytest.warns(DeprecationWarning, match=r"helpdesk.plugin_api.db is deprecated and will be removed in "
                                                r"plugin API 2.0: use Model for your tables and db_session\(\) "
                                                r"for queries"):
        from helpdesk.plugin_api import db
    assert db is extension and db.session is plugin_api.db_session()
    assert plugin_api.Model is db.Model


def write_distribution(site: Path, name: str, module_source: str) -> None:
    """An installed distribution, as pip leaves it: a module and its dist-info with the entry point."""
    (site / f"helpdesk_{name}.py").write_text(textwrap.dedent(module_source))
    info = site / f"helpdesk_plugin_{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: helpdesk-plugin-{name}\nVersion: 1.0\n"
                                   f"Summary: The {name} plugin.\n")
    (info / "entry_points.txt").write_text(f"[helpdesk.plugins]\n{name} = helpdesk_{name}\n")


@pytest.fixture
def old_and_new_plugins(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    write_distribution(site, "futuristic", '''
        """Needs a plugin API that does not exist yet."""
        from helpdesk import hookimpl

        requires_api = ">=2,<3"


        @hookimpl
        def helpdesk_nav_links(user):
            return [("Futuristic", "/futuristic")]
    ''')
    write_distribution(site, "current", '''
        """Made for plugin API 1."""
        from helpdesk import hookimpl

        requires_api = ">=1,<2"


        @hookimpl
        def helpdesk_nav_links(user):
            return [("Current", "/current")]
    ''')
    monkeypatch.syspath_prepend(str(site))
    yield
    for name in ("helpdesk_futuristic", "helpdesk_current"):
        sys.modules.pop(name, None)


@pytest.mark.plugins("futuristic", "current")
def test_an_incompatible_plugin_is_refused_with_the_reason_in_admin(old_and_new_plugins, app, client, admin, login):
    plugins = manager(app)
    assert plugins.plugins["futuristic"].incompatible
    assert not plugins.is_enabled("futuristic") and plugins.is_enabled("current")

    login(client, admin)
    listing = client.get("/admin/plugins").text
    row = listing.split('data-plugin="futuristic"')[1].split("</tr>")[0]
    assert "Incompatible" in row
    assert f"needs plugin API &gt;=2,&lt;3, but this Helpdesk offers plugin API {API_VERSION}" in row
    assert "plugin-toggle" not in row  # it cannot be switched on
    page = client.get("/admin/plugins/futuristic").text
    assert "not made for this version of Helpdesk" in page
    refused = client.post("/admin/plugins/futuristic/toggle", data={}, follow_redirects=True)
    assert "needs plugin API &gt;=2,&lt;3" in refused.text and not plugins.is_enabled("futuristic")

    nav = client.get("/queue").text
    assert "Current" in nav and "Futuristic" not in nav  # its hooks are never called

    from flask.cli import ScriptInfo

    listed = CliRunner().invoke(main, ["plugins", "list"], obj=ScriptInfo(create_app=lambda: app)).output
    futuristic = listed.split("futuristic", 1)[1]
    assert futuristic.split("\n")[0].split()[1] == "incompatible"
    assert "needs plugin API >=2,<3" in futuristic.split("\n")[1]


def test_a_plugin_without_a_version_range_or_with_a_bad_one():
    from helpdesk.versioning import incompatibility

    assert incompatibility("x", None) is None
    assert incompatibility("x", ">=1,<2") is None
    assert "not a version range" in incompatibility("x", "one or two")
    assert "needs plugin API <1" in incompatibility("x", "<1")


# ------------------------------------------------------------------ start-up


HEAVY = ("alembic", "flask_migrate", "mako", "huey", "redis", "psycopg", "charset_normalizer")


@pytest.mark.parametrize("args", [["--help"], ["plugins", "list"], ["user", "--help"]])
def test_commands_start_without_importing_heavy_modules(tmp_path, args):
    """Counts, not clocks: what ``helpdesk`` imports to start (bench/bench_cli.py has the times)."""
    code = ("import json, sys\nfrom helpdesk.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('MODULES=' + json.dumps(sorted(sys.modules)))")
    env = clean_env(HELPDESK_INSTANCE_PATH=str(tmp_path / "instance"))
    helpdesk("init", "--admin-password", "longpassword", env=env)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    modules = set(json.loads(result.stderr.split("MODULES=")[1]))
    assert "Usage:" in result.stdout or args == ["plugins", "list"]
    assert "helpdesk.cli" in modules
    loaded_heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert loaded_heavy == []


def test_plugin_api_crontab_is_hueys_schedule_built_lazily():
    from datetime import datetime

    from huey import crontab as huey_crontab

    from helpdesk.plugin_api import crontab

    ours, theirs = crontab("0", "*/6", day_of_week="1"), huey_crontab("0", "*/6", day_of_week="1")
    for hour in range(24 * 8):
        moment = datetime(2024, 1, 1 + hour // 24, hour % 24, 0)
        assert ours(moment) == theirs(moment)


def test_a_deprecated_function_warns_and_still_works():
    from helpdesk.versioning import deprecated

    @deprecated("use new_thing(x) instead")
    def old_thing(x: int) -> int:
        """Doubles x."""
        return x * 2

    with pytest.warns(DeprecationWarning, match=r"plugin_api.old_thing is deprecated and will be removed in "
                                                r"plugin API 2.0: use new_thing\(x\) instead"):
        assert old_thing(2) == 4
    assert old_thing.__doc__.startswith("Deprecated: use new_thing(x) instead")
