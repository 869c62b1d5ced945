"""Who may use each page of the plugin: the core's access-matrix test checks every route
against this (it reaches it through the ``helpdesk_access_rules`` hook)."""
from __future__ import annotations

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")

RULES: dict[str, set[str]] = {
    "hello.index": {"agent", "team_agent", "admin"},  # staff pages; light agents only work tickets
}
