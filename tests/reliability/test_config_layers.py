"""Configuration as the README says: defaults → instance/config.py → HELPDESK_* → create_app's
argument; ``helpdesk config show`` says what is in force and where it came from."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from helpdesk import create_app
from helpdesk.cli import main


@pytest.fixture
def instance(tmp_path, monkeypatch):
    path = tmp_path / "instance"
    path.mkdir()
    monkeypatch.setenv("HELPDESK_INSTANCE_PATH", str(path))
    for name in ("HELPDESK_DATABASE_URL", "HELPDESK_SQLALCHEMY_DATABASE_URI", "HELPDESK_REDIS_URL",
                 "HELPDESK_SAFE_MODE", "HELPDESK_SMTP_HOST", "HELPDESK_TRUSTED_HOSTS", "HELPDESK_SMTP_PASSWORD",
                 "HELPDESK_HELPDESK_NAME", "HELPDESK_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    return path


CONFIG = '''
HELPDESK_NAME = "Acme Support"
SMTP_HOST = "smtp.acme.test"
SMTP_PORT = 2525
SMTP_PASSWORD = "hunter2-in-file"
TRUSTED_HOSTS = ["support.acme.test"]
DATABASE_URL = "sqlite:///{db}"
REDIS_URL = ""
'''


def test_defaults_apply_without_any_config(instance):
    app = create_app()
    assert app.config["SMTP_HOST"] == "" and app.config["SMTP_PORT"] == 25
    assert app.config["TRUSTED_HOSTS"] is None
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'helpdesk.sqlite3'}"
    assert "DEFAULTS" not in app.config  # the package's own config module is not read as config


def test_the_instance_config_file_is_read(instance):
    (instance / "config.py").write_text(CONFIG.format(db=instance / "other.sqlite3"))
    app = create_app()
    assert app.config["HELPDESK_NAME"] == "Acme Support"
    assert (app.config["SMTP_HOST"], app.config["SMTP_PORT"]) == ("smtp.acme.test", 2525)
    assert app.config["TRUSTED_HOSTS"] == ["support.acme.test"]
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'other.sqlite3'}"
    # the Host check is in force: another Host gets 400
    assert app.test_client().get("/login", headers={"Host": "evil.example"}).status_code == 400


def test_the_environment_wins_over_the_file(instance, monkeypatch):
    (instance / "config.py").write_text(CONFIG.format(db=instance / "other.sqlite3"))
    monkeypatch.setenv("HELPDESK_SMTP_HOST", "smtp.env.test")
    monkeypatch.setenv("HELPDESK_TRUSTED_HOSTS", "a.test, b.test")
    app = create_app()
    assert app.config["SMTP_HOST"] == "smtp.env.test"
    assert app.config["TRUSTED_HOSTS"] == ["a.test", "b.test"]
    assert app.config["SMTP_PORT"] == 2525  # still from the file


def test_create_apps_argument_wins_over_everything(instance, monkeypatch):
    monkeypatch.setenv("HELPDESK_SMTP_HOST", "smtp.env.test")
    assert create_app({"SMTP_HOST": "smtp.arg.test"}).config["SMTP_HOST"] == "smtp.arg.test"


def test_config_show_names_each_source_and_masks_secrets(instance, monkeypatch):
    (instance / "config.py").write_text(CONFIG.format(db=instance / "other.sqlite3"))
    monkeypatch.setenv("HELPDESK_SMTP_HOST", "smtp.env.test")
    monkeypatch.setenv("HELPDESK_REDIS_URL", "redis://:s3cret-pass@redis.acme.test:6379/0")
    result = CliRunner().invoke(main, ["config", "show"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line and not line.startswith("Instance")}
    assert lines["SMTP_HOST"].split()[1:] == ["'smtp.env.test'", "[HELPDESK_SMTP_HOST]"]
    assert lines["SMTP_PORT"].split()[1:] == ["2525", f"[{instance / 'config.py'}]"]
    assert lines["SMTP_TIMEOUT"].split()[1:] == ["10", "[default]"]
    assert "hunter2" not in result.output and lines["SMTP_PASSWORD"].split()[1] == "********"
    assert "s3cret-pass" not in result.output and "redis://:********@redis.acme.test:6379/0" in lines["REDIS_URL"]
    assert lines["SECRET_KEY"].split()[1] == "********"


def test_plugins_list_in_safe_mode_says_so(instance, monkeypatch):
    monkeypatch.setenv("HELPDESK_SAFE_MODE", "1")
    result = CliRunner().invoke(main, ["plugins", "list"], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.output.startswith("Safe mode is on") and "No plugins installed" not in result.output
