"""Links in mail point where the helpdesk is served: `helpdesk run --port 5151` (and the
worker `make run` starts beside it) without EXTERNAL_URL configured (issue 17, broken 2)."""
from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from helpdesk import config as cfg
from helpdesk import create_app
from helpdesk.cli import main, served_url
from helpdesk.extensions import db
from helpdesk.services.users import find_or_create_customer


class _Config(dict):
    pass


def _load(environ: dict, instance: Path) -> tuple[dict, dict]:
    config = _Config()
    sources = cfg.load(config, str(instance), environ, None)
    return config, sources


def test_the_served_address_is_the_default_external_url(tmp_path):
    config, sources = _load({"HELPDESK_SERVED_URL": "http://127.0.0.1:5151"}, tmp_path)
    assert config["EXTERNAL_URL"] == "http://127.0.0.1:5151"
    assert sources["EXTERNAL_URL"] == "SERVED_URL (HELPDESK_SERVED_URL)"
    # A configured EXTERNAL_URL (environment or instance/config.py) always wins.
    config, _ = _load({"HELPDESK_SERVED_URL": "http://127.0.0.1:5151",
                       "HELPDESK_EXTERNAL_URL": "https://support.acme.test"}, tmp_path)
    assert config["EXTERNAL_URL"] == "https://support.acme.test"
    (tmp_path / "config.py").write_text('EXTERNAL_URL = "https://help.acme.test"\n')
    config, _ = _load({"HELPDESK_SERVED_URL": "http://127.0.0.1:5151"}, tmp_path)
    assert config["EXTERNAL_URL"] == "https://help.acme.test"
    assert served_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"  # noqa: S104
    assert served_url("::1", 8080) == "http://[::1]:8080"


def test_make_run_tells_the_worker_too():
    """The worker is a separate process: the Makefile gives it the served address as well."""
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "export HELPDESK_SERVED_URL=http://$(HOST):$(PORT);" in recipe
    assert recipe.index("HELPDESK_SERVED_URL") < recipe.index("helpdesk worker")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(os.environ.get("HELPDESK_TEST_DB") == "postgres", reason="a SQLite instance of its own")
def test_helpdesk_run_on_another_port_mails_links_to_that_port(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_INSTANCE_PATH=str(instance), HELPDESK_SMTP_HOST="")
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(instance))
    for name in [k for k in os.environ if k.startswith("HELPDESK_") and k != "HELPDESK_INSTANCE_PATH"]:
        monkeypatch.delenv(name)
    result = CliRunner().invoke(main, ["init", "--admin-email", "a@example.com", "--admin-password", "longpassword"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    app = create_app({"INSTANCE_PATH": str(instance)})
    with app.app_context():
        find_or_create_customer("email", "carla@example.test", "Carla")
        db.engine.dispose()
    port = _free_port()
    helpdesk = str(Path(sys.executable).with_name("helpdesk"))
    server = subprocess.Popen([helpdesk, "run", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        base = f"http://127.0.0.1:{port}"
        # Until it listens (a start-up, not a timing assertion): the budget is wide because a
        # loaded machine takes many seconds to import the app; a crashed server ends it at once.
        deadline = time.monotonic() + 120
        while True:
            try:
                page = opener.open(f"{base}/magic").read().decode()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("helpdesk run did not start")
                time.sleep(0.05)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        opener.open(f"{base}/magic", data=urlencode({"csrf_token": token, "email": "carla@example.test"}).encode())
    finally:
        server.terminate()
        server.wait()
    with sqlite3.connect(instance / "helpdesk.sqlite3") as conn:
        [(text,)] = conn.execute("SELECT body_text FROM outbox_mail WHERE subject = 'Your sign-in link'").fetchall()
    assert f"http://127.0.0.1:{port}/magic/" in text


@pytest.mark.parametrize("external", ["http://helpdesk.test", "https://example.test:8443/help/"])
def test_mail_links_are_what_url_for_makes_for_every_page(app, external):
    """``external_url`` builds links on the URL map (no request context per link): for every
    endpoint of the app, core and plugins, it gives what ``url_for(..., _external=True)`` gives
    from EXTERNAL_URL, with a query string, and without the request's own host."""
    from flask import url_for

    from helpdesk.links import external_url

    app.config["EXTERNAL_URL"] = external
    samples = {"IntegerConverter": 7, "UnicodeConverter": "a b é", "PathConverter": "x/y z"}
    compared = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or "GET" not in (rule.methods or ()):
            continue
        converters = {name: type(rule._converters[name]).__name__ for name in rule.arguments
                      if name not in (rule.defaults or {})}
        if any(kind not in samples for kind in converters.values()):
            continue  # (an "any" converter: none in the app today)
        values = {name: samples[kind] for name, kind in converters.items()}
        values["q"] = "söme query"
        with app.test_request_context("/", base_url="http://evil.test"):
            ours = external_url(rule.endpoint, **values)
        with app.test_request_context(base_url=external.rstrip("/")):
            expected = url_for(rule.endpoint, _external=True, **values)
        assert ours == expected, rule.endpoint
        assert ours.startswith(external.rstrip("/") + "/")
        compared += 1
    with app.app_context():  # a job, outside any request
        assert external_url("portal.index", _anchor="top") == external.rstrip("/") + "/portal/#top"
    assert compared > 100
