"""Fixtures for the knowledge plugin's tests: an editor, a customer, a small knowledge base."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT / "tests") not in sys.path:  # the core's page-text helpers live in tests/
    sys.path.insert(0, str(ROOT / "tests"))

# The project's browser fixtures (Chromium through Playwright against a live server).
from browser.conftest import (  # noqa: E402, F401
    browser_problems,
    browser_type_launch_args,
    live_server,
    open_page,
    sign_in,
)


@pytest.fixture
def kb(app, db, admin):
    """Categories "Account" (section "Signing in") and "Billing" (section "Invoices"), with:
    a published public article, a published internal one, a draft and one in review, and a
    German translation of the public article."""
    from helpdesk_knowledge.articles import change_status, save_article
    from helpdesk_knowledge.models import KnowledgeCategory, KnowledgeSection

    account = KnowledgeCategory(name="Account", description="Signing in and your details")
    billing = KnowledgeCategory(name="Billing", description="Invoices and payments")
    db.session.add_all([account, billing])
    db.session.flush()
    signing = KnowledgeSection(category_id=account.id, name="Signing in")
    invoices = KnowledgeSection(category_id=billing.id, name="Invoices")
    db.session.add_all([signing, invoices])
    db.session.commit()
    public = save_article(None, admin, title="Reset your password",
                          body="Open **Sign in**, choose *Forgot password* and follow the link in the email.",
                          section_id=signing.id, internal=False)
    change_status(public, admin, "publish")
    german = save_article(None, admin, title="Passwort zurücksetzen", body="Wählen Sie *Passwort vergessen*.",
                          section_id=signing.id, internal=False, language="de", translation_of=public.id)
    change_status(german, admin, "publish")
    internal = save_article(None, admin, title="Unlock a locked account (agents)",
                            body="Accounts lock after ten failed password attempts; unlock in the admin.",
                            section_id=signing.id, internal=True)
    change_status(internal, admin, "publish")
    draft = save_article(None, admin, title="Password rules draft", body="Secret upcoming password policy.",
                         section_id=signing.id, internal=False)
    review = save_article(None, admin, title="Invoice corrections in review",
                          body="How invoice password protection will work.", section_id=invoices.id,
                          internal=False)
    change_status(review, admin, "submit")
    return {"public": public, "german": german, "internal": internal, "draft": draft, "review": review,
            "account": account, "billing": billing, "signing": signing, "invoices": invoices}
