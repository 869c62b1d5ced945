"""Reply checks as the admin configured them: each check advises (the default), is off, or
blocks. Checks come from ``helpdesk_reply_checks`` (the core's own and plugins').

A check's key is ``"<plugin>.<check>"`` for a :class:`~helpdesk.contract.ReplyWarning`
(the core's are ``core.greeting`` and ``core.reference``) and ``"<plugin>"`` for the plain
strings a plugin returns; a plugin's setting also covers its named checks that have none.
Modes are the site setting ``reply_checks`` (``{key: "off" | "advise" | "block"}``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from helpdesk.contract import ReplyWarning
from helpdesk.languages import N_
from helpdesk.plugin_manager import CORE, manager
from helpdesk.services.errors import ServiceError
from helpdesk.services.settings import save_site_settings, site_setting

MODES = {"off": N_("Off"), "advise": N_("Advise (the agent can send anyway)"),
         "block": N_("Block (the reply is not sent)")}
DEFAULT_MODE = "advise"
# The core's own checks (implemented in helpdesk/core_hooks.py): key → what it looks for.
CORE_CHECKS = {
    f"{CORE}.greeting": N_("The reply greets the customer by first name (\"Hi Carla,\")."),
    f"{CORE}.reference": N_("The reply mentions the ticket reference (HD-123)."),
}


@dataclass(frozen=True)
class Finding:
    check: str  # the key an admin switches
    text: str
    mode: str  # "advise" or "block" ("off" findings are dropped)

    @property
    def blocking(self) -> bool:
        return self.mode == "block"


def check_modes() -> dict[str, str]:
    stored = site_setting("reply_checks")
    return dict(stored) if isinstance(stored, dict) else {}


def mode_of(key: str, modes: dict[str, str] | None = None) -> str:
    """The mode of check ``key``: its own, else its plugin's (``"tone.asap"`` → ``"tone"``), else advise."""
    modes = check_modes() if modes is None else modes
    mode = modes.get(key)
    if mode is None and "." in key:
        mode = modes.get(key.split(".", 1)[0])
    return mode if mode in MODES else DEFAULT_MODE


def review_reply(ticket: Any, body: str, agent: Any) -> list[Finding]:
    """Every finding of every enabled check on ``body``, in hook order, except checks that are off."""
    modes = check_modes()
    findings = []
    for plugin, result in manager().call_collect("helpdesk_reply_checks", ticket=ticket, body=body, agent=agent):
        for item in result:
            if isinstance(item, ReplyWarning):  # str(): a lazy text, read now by this agent
                key, text = f"{plugin}.{item.check}", str(item.text)
            elif isinstance(item, dict) and "text" in item:  # the same, as a plain dict
                key, text = f"{plugin}.{item.get('check') or 'check'}", str(item["text"])
            else:
                key, text = plugin, str(item)
            mode = mode_of(key, modes)
            if mode != "off":
                findings.append(Finding(key, text, mode))
    return findings


def known_checks() -> list[tuple[str, str, str]]:
    """``(key, what it looks for, mode)`` for Admin → Reply checks: the core's checks, then one
    row per enabled plugin that implements the hook (its checks together)."""
    modes = check_modes()
    rows = [(key, gettext(label), mode_of(key, modes)) for key, label in CORE_CHECKS.items()]
    plugins = sorted({name for name in manager().implementers("helpdesk_reply_checks") if name != CORE})
    rows += [(name, gettext("The checks of the %(name)s plugin.", name=name), mode_of(name, modes)) for name in plugins]
    return rows


def save_check_modes(modes: dict[str, str]) -> None:
    """Store the admins' choices (audited as a change of the site settings)."""
    bad = [key for key, mode in modes.items() if mode not in MODES]
    if bad:
        raise ServiceError(
            gettext('Choose off, advise or block for %(value)s.', value=', '.join(sorted(bad))), field="reply_checks")
    save_site_settings({"reply_checks": {**check_modes(), **modes}})
