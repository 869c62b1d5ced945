"""The secrets key is derived with HKDF; secrets encrypted with the first release's plain
SHA-256 derivation still decrypt, and are re-encrypted when the plugin's settings are saved."""
from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from helpdesk import plugin_api
from helpdesk.contract import Setting
from helpdesk.models import PluginState
from helpdesk.plugin_manager import SECRET_PREFIX, manager
from helpdesk.testing import make_plugin

KEY = "a-secrets-key-for-this-test"


@pytest.fixture
def keyed(app, monkeypatch):
    monkeypatch.setenv("HELPDESK_SECRETS_KEY", KEY)
    manager(app).register(make_plugin("vault", helpdesk_settings=lambda: [
        Setting("token", "secret", default=""), Setting("label", "text", default="")]), "vault")
    return manager(app)


def legacy() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(KEY.encode()).digest()))


def hkdf() -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"helpdesk secrets v1").derive(KEY.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def test_new_secrets_use_the_hkdf_key(keyed, db):
    token = plugin_api.encrypt_secret("imap-password")
    assert hkdf().decrypt(token.encode()) == b"imap-password"
    with pytest.raises(InvalidToken):
        legacy().decrypt(token.encode())
    keyed.save_settings("vault", {"token": "api-key-1", "label": "x"})
    stored = db.session.get(PluginState, "vault").settings["token"]
    assert hkdf().decrypt(stored[len(SECRET_PREFIX):].encode()) == b"api-key-1"


def test_old_secrets_still_decrypt_and_are_reencrypted_on_save(keyed, db):
    old = SECRET_PREFIX + legacy().encrypt(b"old-api-key").decode()
    db.session.add(PluginState(name="vault", enabled=True, settings={"token": old, "label": "a"}))
    db.session.commit()
    assert keyed.get_setting("vault", "token") == "old-api-key"
    assert plugin_api.decrypt_secret(legacy().encrypt(b"mailbox").decode()) == "mailbox"

    keyed.save_settings("vault", {"token": "", "label": "b"})  # the secret field left empty: kept
    db.session.expire_all()
    stored = db.session.get(PluginState, "vault").settings["token"]
    assert stored != old and hkdf().decrypt(stored[len(SECRET_PREFIX):].encode()) == b"old-api-key"
    assert keyed.get_setting("vault", "token") == "old-api-key"


def test_a_secret_from_another_key_is_not_readable(keyed, db):
    other = Fernet(Fernet.generate_key()).encrypt(b"x").decode()
    assert plugin_api.decrypt_secret(other) is None
