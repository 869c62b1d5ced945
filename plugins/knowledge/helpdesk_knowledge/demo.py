"""Demo data: a few categories and useful articles matching the demo tickets, so the help
centre, the suggestions and the ticket panel have something to show after ``make run``."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from helpdesk.plugin_api import User, db_session, utcnow
from helpdesk_knowledge.articles import change_status, save_article
from helpdesk_knowledge.models import KnowledgeArticle, KnowledgeCategory, KnowledgeDeflection, KnowledgeSection

# (category, section, title, markdown, internal, status)
ARTICLES = [
    ("Billing", "Payments and refunds", "I was charged twice: how refunds work",
     "If your card shows **two charges** for one order, the second is usually a *pending authorisation* "
     "that disappears within 3–5 working days.\n\n1. Check your bank app after 5 days.\n2. If both charges "
     "are still there, open a ticket with the order number and we refund the duplicate payment.\n\n"
     "Refunds reach your card in 5–10 working days.", False, "published"),
    ("Billing", "Invoices", "Get a corrected invoice with your VAT number",
     "Invoices show the VAT number saved in your account **at the time of the order**.\n\n"
     "- Add your VAT number under *Account → Company details*.\n- Then ask us for a corrected invoice: "
     "we issue it within one working day.", False, "published"),
    ("Account", "Signing in", "Cannot log in after a password reset",
     "After a password reset, old sessions end and saved passwords in your browser may be out of date.\n\n"
     "1. Delete the saved password for our site in your browser.\n2. Sign in with the new password.\n"
     "3. Still refused? Use *Forgot password* once more: only the **latest** reset link works.", False,
     "published"),
    ("Using the app", "Uploads and exports", "The app crashes when uploading a photo",
     "Photos larger than 20 MB or in HEIC format can close the app on older phones.\n\n"
     "- Update the app to the latest version.\n- In your camera settings choose *Most compatible* (JPEG).\n"
     "- Try uploading a smaller photo.", False, "published"),
    ("Using the app", "Uploads and exports", "My CSV export is empty",
     "An export only holds the rows of the **current filter and date range**.\n\n"
     "Widen the date range, clear the filters, then export again. Exports of more than 100,000 rows "
     "arrive by email.", False, "published"),
    ("Orders and delivery", "Delivery", "Where is my parcel?",
     "Your confirmation email has a tracking link. Parcels usually arrive in 2–4 working days.\n\n"
     "If tracking has not changed for 3 days, open a ticket with your order number: we ask the carrier.",
     False, "published"),
    ("Orders and delivery", "Returns and exchanges", "Exchange an item for another size",
     "You can exchange unworn items within 30 days.\n\n1. Open *Orders* and choose **Exchange**.\n"
     "2. Pick the new size.\n3. Print the free return label.\n\nThe new size ships as soon as we scan "
     "the return.", False, "published"),
    ("Orders and delivery", "Delivery", "Wo ist mein Paket?",
     "Ihre Bestätigungs-E-Mail enthält einen Link zur Sendungsverfolgung. Pakete kommen meist in "
     "2–4 Werktagen an.", False, "published"),
    ("Account", "Signing in", "Agents: unlocking an account after too many attempts",
     "Internal: accounts lock for 15 minutes after 10 failed sign-ins. Do **not** unlock by hand unless "
     "the customer verified their email address in this conversation.", True, "published"),
    ("Billing", "Payments and refunds", "Paying by bank transfer (draft)",
     "We are adding bank transfers next quarter.", False, "draft"),
]


def seed(rng: random.Random) -> str:
    if db_session().scalar(select(KnowledgeArticle.id).limit(1)) is not None:
        return "articles exist already"
    editor = db_session().scalar(select(User).where(User.role == "admin").order_by(User.id).limit(1))
    if editor is None:
        return "no admin to write articles"
    categories: dict[str, KnowledgeCategory] = {}
    sections: dict[tuple[str, str], KnowledgeSection] = {}
    by_title: dict[str, KnowledgeArticle] = {}
    for cat_name, section_name, title, body, internal, status in ARTICLES:
        if cat_name not in categories:
            categories[cat_name] = KnowledgeCategory(name=cat_name, description="", position=len(categories))
            db_session().add(categories[cat_name])
            db_session().flush()
        if (cat_name, section_name) not in sections:
            sections[(cat_name, section_name)] = KnowledgeSection(category_id=categories[cat_name].id,
                                                                 name=section_name)
            db_session().add(sections[(cat_name, section_name)])
            db_session().flush()
        german = title == "Wo ist mein Paket?"
        art = save_article(None, editor, title=title, body=body, section_id=sections[(cat_name, section_name)].id,
                           internal=internal, language="de" if german else "en",
                           translation_of=by_title["Where is my parcel?"].id if german else None, note="Demo")
        if status == "published":
            change_status(art, editor, "publish")
            art.views = rng.randint(5, 400)
        by_title[title] = art
    now = utcnow()
    published = [a for a in by_title.values() if a.status == "published" and not a.internal]
    customers = list(db_session().scalars(select(User.id).where(User.role == "customer").limit(20)))
    for n in range(12 if customers else 0):
        db_session().add(KnowledgeDeflection(attempt=f"demo-attempt-{n:04d}-{rng.randrange(10**8):08d}",
                                             article_id=rng.choice(published).id, user_id=rng.choice(customers),
                                             query="demo", created_at=now - timedelta(days=rng.randint(0, 25))))
    db_session().commit()
    return f"{len(by_title)} articles in {len(categories)} categories, 12 deflections"
