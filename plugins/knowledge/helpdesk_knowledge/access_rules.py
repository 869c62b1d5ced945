"""Who may use each route of the knowledge plugin (given to the core's access matrix by the
``helpdesk_access_rules`` hook).

The help centre is public by default (visitors read published public articles); the
matrix runs with that default. ``tests/test_knowledge_access.py`` checks the private
help centre, and that drafts, articles in review and internal articles never reach
customers or visitors on any page, search or suggestion. Writing is for the editor roles
(default: agents and admins; team-scoped agents are agents); the ticket suggestions
follow the ticket's scope.
"""
from __future__ import annotations

ROLES = ("anonymous", "customer_a", "customer_b", "agent", "team_agent", "light_agent", "admin")
PUBLIC = set(ROLES)
CUSTOMERS = {"customer_a", "customer_b"}
BACKOFFICE = {"agent", "team_agent", "light_agent", "admin"}
EDITORS = {"agent", "team_agent", "admin"}  # the default editor_roles setting: agent, admin
IN_SCOPE_READERS = {"agent", "light_agent", "admin"}  # who sees the world's ticket

RULES: dict[str, set[str]] = {
    "knowledge.static": PUBLIC,
    "knowledge.home": PUBLIC,
    "knowledge.category": PUBLIC,
    "knowledge.search_page": PUBLIC,
    "knowledge.article": PUBLIC,
    "knowledge.feedback": PUBLIC,
    "knowledge.suggest": PUBLIC,
    "knowledge.deflect": CUSTOMERS,
    "knowledge.manage": BACKOFFICE,
    "knowledge.staff_article": BACKOFFICE,
    "knowledge.revisions": BACKOFFICE,
    "knowledge.new_article": EDITORS,
    "knowledge.edit_article": EDITORS,
    "knowledge.article_status": EDITORS,
    "knowledge.categories": EDITORS,
    "knowledge.ticket_suggestions": IN_SCOPE_READERS,
    "knowledge.upload_image": EDITORS,
    "knowledge.image_delete": EDITORS,  # the world article's image, not shown in its text
    # The world's image is in a published public article; tests/test_access_matrix.py also
    # asks for the images of an internal article and of a draft (agents only).
    "knowledge.article_image": PUBLIC,
}

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
       b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00"
       b"\x00IEND\xaeB`\x82")  # a 1×1 PNG


def values(world: dict) -> dict:
    """A category with a section and one published public article; the world's ticket."""
    from helpdesk.plugin_api import db_session
    from helpdesk_knowledge.articles import change_status, save_article
    from helpdesk_knowledge.images import add_image
    from helpdesk_knowledge.models import KnowledgeCategory, KnowledgeSection

    cat = KnowledgeCategory(name="Billing", description="")
    db_session().add(cat)
    db_session().flush()
    section = KnowledgeSection(category_id=cat.id, name="Invoices")
    db_session().add(section)
    db_session().commit()
    admin = world["users"]["admin"]
    article = save_article(None, admin, title="Download an invoice", body="Go to **Billing**.",
                           section_id=section.id, internal=False)
    change_status(article, admin, "publish")
    image = add_image(article, admin, "invoice.png", PNG)
    internal = save_article(None, admin, title="Refund by hand (agents)", body="Use the admin.",
                            section_id=section.id, internal=True)
    change_status(internal, admin, "publish")
    draft = save_article(None, admin, title="Upcoming prices", body="Not yet.", section_id=section.id,
                         internal=False)
    return {"article_id": article.id, "category_id": cat.id, "ticket_id": world["ticket"].id,
            "knowledge_image": image.token,
            "knowledge_image_id": image.id,
            "knowledge_internal_image": add_image(internal, admin, "admin.png", PNG).token,
            "knowledge_draft_image": add_image(draft, admin, "prices.png", PNG).token}
