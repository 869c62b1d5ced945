"""Configuration: defaults, then ``instance/config.py``, then ``HELPDESK_*`` environment variables."""
from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "HELPDESK_NAME": "Helpdesk",
    "TICKET_PREFIX": "HD",
    "EXTERNAL_URL": "http://127.0.0.1:5000",
    # Where `helpdesk run` / `make run` serve (they set it); the EXTERNAL_URL while that is not configured.
    "SERVED_URL": "",
    "MAIL_FROM": "support@helpdesk.invalid",
    "SMTP_HOST": "",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 10,
    "REOPEN_WINDOW_DAYS": 14,
    "CLOSED_MEANS_CLOSED": False,
    "NOTICES_PER_RECIPIENT_PER_HOUR": 5,  # automatic notices (acknowledgements, invitations) to one customer
    "REPLY_CHECKS": {},  # reply checks' modes (Admin → Reply checks); every check advises by default
    "TIMEZONE": "UTC",  # the site's time zone: quiet hours, time-of-day rules, digests
    # The language of the portal and customers' mail when neither the customer's preference
    # nor their browser names one we have (helpdesk/languages.py): "en" or "de".
    "DEFAULT_LANGUAGE": "en",
    "MAX_ATTACHMENT_BYTES": 10 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 26 * 1024 * 1024,
    "MAX_ATTACHMENTS_PER_MESSAGE": 10,  # files on one agent reply (the composer says so before upload)
    "MAGIC_LINK_MINUTES": 30,
    "PAGE_SIZE": 25,
    # Throttles shared by every process (database, or Redis with REDIS_URL); each lockout
    # doubles the previous one (see helpdesk/throttle.py).
    "LOGIN_FAILURES_PER_ACCOUNT": 10,  # wrong passwords per account in 15 minutes, from anywhere
    "LOGIN_FAILURES_PER_IP": 30,  # wrong passwords per IP address in 15 minutes, any account
    "SIGNIN_MAILS_PER_ADDRESS": 3,  # sign-in links / sign-up mails to one address per hour
    "SIGNIN_MAILS_PER_IP": 20,  # sign-in links / sign-ups asked from one IP address per hour
    "SESSION_IDLE_DAYS": 30,  # a sign-in session unused this long ends (remember-me included)
    "WEBHOOK_RATE_LIMIT": "120 per minute",
    "RATELIMIT_STORAGE_URI": "helpdesk-db://",  # Flask-Limiter in our database; Redis with REDIS_URL
    "RATELIMIT_HEADERS_ENABLED": True,
    "REDIS_URL": "",
    "JOBS_IMMEDIATE": False,
    "SAFE_MODE": False,
    "DISABLED_PLUGINS": "",
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "BOOTSTRAP_SERVE_LOCAL": True,
    "SESSION_COOKIE_SECURE": None,  # None: Secure when EXTERNAL_URL is https
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "TRUSTED_HOSTS": None,
    "PASSWORD_HASH_METHOD": "scrypt",
    "SEND_FILE_MAX_AGE_DEFAULT": 3600,  # static assets; attachments are always max_age=0
    # Durable delivery: a job that claimed a reply or a mail and did not finish within the
    # lease (a killed worker) is handed to another; every worker sweeps this often.
    "JOB_LEASE_SECONDS": 60,
    "SWEEP_SECONDS": 20,
    "MAIL_RETRY_SECONDS": 60,  # first retry after a temporary failure; doubles each time
    # Operations (docs/operations.md): logs, and who may read /metrics.
    "LOG_FORMAT": "text",  # "json": one JSON object a line, with the request id
    "LOG_LEVEL": "INFO",
    "METRICS_ALLOW_FROM": ["127.0.0.1/32", "::1/128"],  # networks that may read /metrics
    "METRICS_TOKEN": "",  # or anyone sending "Authorization: Bearer <token>"
    "PROXY_COUNT": 0,  # reverse proxies in front that set X-Forwarded-For/-Proto (werkzeug's ProxyFix)
    # The live channel (helpdesk/live.py, docs/operations.md): a stream ends after this long and
    # the browser reconnects (no worker pinned forever); presence expires this long after the
    # last heartbeat; without Redis, streams poll the live_events table this often.
    "LIVE_STREAM_SECONDS": 55,
    "LIVE_PRESENCE_SECONDS": 15,
    "LIVE_POLL_MS": 1000,
    # The REST API and webhooks (docs/api_rest.md): requests per token (or signed-in user) and
    # window, counted in the rate limiter's storage (the database, or Redis); webhook deliveries
    # are tried this many times, the first retry after WEBHOOK_RETRY_SECONDS, doubling (at most
    # an hour); an endpoint is switched off after WEBHOOK_DISABLE_AFTER failed attempts in a row.
    "API_RATE_LIMIT": "300 per minute",
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_RETRY_SECONDS": 30,
    "WEBHOOK_DISABLE_AFTER": 15,
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    # Private, loopback and link-local webhook targets are refused unless this is on (also a
    # switch on Admin → Webhooks, stored as the site setting webhooks_allow_private).
    "WEBHOOKS_ALLOW_PRIVATE": False,
}

# Values read from the environment are strings; these are converted.
_BOOL = {"SMTP_STARTTLS", "JOBS_IMMEDIATE", "SAFE_MODE", "TESTING", "SESSION_COOKIE_SECURE",
         "CLOSED_MEANS_CLOSED", "RATELIMIT_HEADERS_ENABLED", "BOOTSTRAP_SERVE_LOCAL", "SESSION_COOKIE_HTTPONLY",
         "REMEMBER_COOKIE_HTTPONLY", "WEBHOOKS_ALLOW_PRIVATE"}
_INT = {"SMTP_PORT", "REOPEN_WINDOW_DAYS", "MAX_ATTACHMENT_BYTES", "MAX_CONTENT_LENGTH",
        "MAGIC_LINK_MINUTES", "PAGE_SIZE", "SMTP_TIMEOUT", "SESSION_IDLE_DAYS",
        "LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_IP", "SIGNIN_MAILS_PER_ADDRESS", "SIGNIN_MAILS_PER_IP",
        "JOB_LEASE_SECONDS", "SWEEP_SECONDS", "MAIL_RETRY_SECONDS", "NOTICES_PER_RECIPIENT_PER_HOUR",
        "SEND_FILE_MAX_AGE_DEFAULT", "PROXY_COUNT", "LIVE_STREAM_SECONDS", "LIVE_PRESENCE_SECONDS", "LIVE_POLL_MS",
        "MAX_ATTACHMENTS_PER_MESSAGE", "WEBHOOK_MAX_ATTEMPTS", "WEBHOOK_RETRY_SECONDS", "WEBHOOK_DISABLE_AFTER",
        "WEBHOOK_TIMEOUT_SECONDS"}
_LIST = {"TRUSTED_HOSTS", "METRICS_ALLOW_FROM"}
_JSON = {"SQLALCHEMY_ENGINE_OPTIONS"}  # e.g. '{"pool_size": 10, "pool_pre_ping": true}'


def _convert(key: str, value: str) -> Any:
    if key in _BOOL:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in _INT:
        return int(value)
    if key in _LIST:
        return [v.strip() for v in value.split(",") if v.strip()]
    if key in _JSON:
        import json

        return json.loads(value)
    return value


def from_environment(environ: os._Environ | dict) -> dict[str, Any]:
    """Every ``HELPDESK_FOO`` variable becomes config key ``FOO``."""
    out = {}
    for name, value in environ.items():
        if name.startswith("HELPDESK_") and name not in {"HELPDESK_INSTANCE_PATH"}:
            key = name[len("HELPDESK_"):]
            if key.startswith("TEST_"):
                continue
            out[key] = _convert(key, value)
    return out


def load(config: Any, instance_path: str, environ: os._Environ | dict,
         overrides: dict[str, Any] | None) -> dict[str, str]:
    """Fill ``config`` layer by layer; returns where each key's value came from.

    The layers, later winning: the defaults above, the instance's ``config.py`` (upper-case
    names), ``HELPDESK_*`` environment variables, then ``overrides`` (``create_app``'s
    argument, used by tests and embedding code).
    """
    sources: dict[str, str] = {}
    config.update(DEFAULTS)
    sources.update(dict.fromkeys(DEFAULTS, "default"))
    path = Path(instance_path) / "config.py"
    if path.exists():
        namespace: dict[str, Any] = {"__file__": str(path)}
        exec(compile(path.read_bytes(), str(path), "exec"), namespace)  # noqa: S102 - the operator's own file
        from_file = {key: value for key, value in namespace.items() if key.isupper()}
        config.update(from_file)
        sources.update(dict.fromkeys(from_file, str(path)))
    from_env = from_environment(environ)
    config.update(from_env)
    sources.update({key: f"HELPDESK_{key}" for key in from_env})
    config.update(overrides or {})
    sources.update(dict.fromkeys(overrides or {}, "create_app()"))
    if sources.get("EXTERNAL_URL") == "default" and config.get("SERVED_URL"):
        # `helpdesk run --port 5151` (and the worker `make run` starts beside it): links in
        # mail point where the helpdesk is actually served, not at the default's :5000.
        config["EXTERNAL_URL"] = str(config["SERVED_URL"]).rstrip("/")
        sources["EXTERNAL_URL"] = f"SERVED_URL ({sources.get('SERVED_URL', 'default')})"
    return sources


_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "_KEY")


def masked(key: str, value: Any) -> str:
    """A config value as ``helpdesk config show`` prints it: secrets and URL passwords hidden."""
    if any(word in key for word in _SECRET_WORDS) and value:
        return "********"
    text = repr(value)
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, _, rest = value.partition("://")
        credentials, _, host = rest.rpartition("@")
        if ":" in credentials:
            text = repr(f"{scheme}://{credentials.partition(':')[0]}:********@{host}")
    return text


def instance_secret(instance_path: str, filename: str, nbytes: int = 32) -> str:
    """Read a random secret from the instance folder, generating it on first use."""
    path = Path(instance_path) / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race; use its secret
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()
