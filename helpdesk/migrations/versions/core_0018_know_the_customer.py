"""Know the customer: organisations, preferences, custom fields, announcements

``organisations`` (notes, account owner, "members see each other's tickets", custom field
values) with ``organisation_domains`` (new customers join by their address's domain);
``custom_fields`` (the admin's fields for customers, tickets and organisations);
``users`` gain the organisation, preferred name, language, preferred channel, consent per
kind and custom field values; ``tickets`` gain their custom field values (JSON on the row,
so the ticket page needs no extra query); ``announcements`` and one
``announcement_recipients`` row per customer an announcement was meant for.

Revision ID: core_0018
Revises: core_0017
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0018"
down_revision = "core_0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("account_owner_id", sa.Integer(), nullable=True),
        sa.Column("shared_tickets", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("custom_fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("name", name="uq_organisations_name"),
    )
    # account_owner_id has no foreign key: users point at organisations (no cycle for tools
    # that order tables by their keys, such as `helpdesk db copy`).
    op.create_index("ix_organisations_account_owner_id", "organisations", ["account_owner_id"])
    op.create_table(
        "organisation_domains",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], ondelete="CASCADE",
                                name="fk_organisation_domains_organisation_id_organisations"),
        sa.PrimaryKeyConstraint("id", name="pk_organisation_domains"),
        sa.UniqueConstraint("domain", name="uq_organisation_domains_domain"),
    )
    op.create_index("ix_organisation_domains_organisation_id", "organisation_domains", ["organisation_id"])
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("applies_to", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_custom_fields"),
        sa.UniqueConstraint("applies_to", "key", name="uq_custom_fields_applies_to"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("preferred_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("language", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("preferred_channel", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("consent", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("custom_fields", sa.JSON(), nullable=True))
        batch.create_foreign_key("fk_users_organisation_id_organisations", "organisations",
                                 ["organisation_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_users_organisation_id", ["organisation_id"])
    # A plain column (no batch rebuild of tickets, which keeps its search triggers).
    op.add_column("tickets", sa.Column("custom_fields", sa.JSON(), nullable=True))
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("banner", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("banner_until", sa.DateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_announcements_created_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_announcements"),
    )
    op.create_table(
        "announcement_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["announcement_id"], ["announcements.id"], ondelete="CASCADE",
                                name="fk_announcement_recipients_announcement_id_announcements"),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_announcement_recipients_customer_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_announcement_recipients"),
        sa.UniqueConstraint("announcement_id", "customer_id", name="uq_announcement_recipients_announcement_id"),
    )
    op.create_index("ix_announcement_recipients_customer", "announcement_recipients", ["customer_id", "created_at"])


def downgrade():
    op.drop_index("ix_announcement_recipients_customer", table_name="announcement_recipients")
    op.drop_table("announcement_recipients")
    op.drop_table("announcements")
    if op.get_bind().dialect.name == "sqlite":  # no batch rebuild: it would lose the expression index
        op.execute("ALTER TABLE tickets DROP COLUMN custom_fields")
    else:
        op.drop_column("tickets", "custom_fields")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_organisation_id")
        batch.drop_constraint("fk_users_organisation_id_organisations", type_="foreignkey")
        for column in ("custom_fields", "consent", "preferred_channel", "language", "preferred_name",
                       "organisation_id"):
            batch.drop_column(column)
    op.drop_table("custom_fields")
    op.drop_index("ix_organisation_domains_organisation_id", table_name="organisation_domains")
    op.drop_table("organisation_domains")
    op.drop_index("ix_organisations_account_owner_id", table_name="organisations")
    op.drop_table("organisations")
