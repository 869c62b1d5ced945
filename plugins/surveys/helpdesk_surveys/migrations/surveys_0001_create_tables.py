"""surveys: survey types, contacts, invitations, responses and follow-up cases.

Revision ID: surveys_0001
Revises:
Create Date: 2025-01-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "surveys_0001"
down_revision = None
branch_labels = ("surveys",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "surveys_types",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("team_ids", sa.JSON(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name="pk_surveys_types"),
    )
    op.create_table(
        "surveys_contacts",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.Column("last_surveyed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_surveys_contacts_customer_id_users"),
        sa.PrimaryKeyConstraint("customer_id", name="pk_surveys_contacts"),
    )
    op.create_table(
        "surveys_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(40), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(300), nullable=True),
        sa.Column("send_after", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("sent_day", sa.Date(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_surveys_invitations_customer_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_surveys_invitations_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_surveys_invitations_agent_id_users"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="SET NULL",
                                name="fk_surveys_invitations_team_id_teams"),
        sa.PrimaryKeyConstraint("id", name="pk_surveys_invitations"),
    )
    op.create_index("ix_surveys_invitations_due", "surveys_invitations", ["status", "send_after"])
    op.create_index("ix_surveys_invitations_customer", "surveys_invitations", ["customer_id", "kind", "created_at"])
    op.create_index("ix_surveys_invitations_sent_day", "surveys_invitations",
                    ["sent_day", "agent_id", "team_id", "channel", "answered_at"])
    op.create_index("ix_surveys_invitations_ticket_id", "surveys_invitations", ["ticket_id"])
    op.create_table(
        "surveys_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(40), nullable=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["invitation_id"], ["surveys_invitations.id"], ondelete="SET NULL",
                                name="fk_surveys_responses_invitation_id_surveys_invitations"),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_surveys_responses_customer_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_surveys_responses_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["agent_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_surveys_responses_agent_id_users"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], ondelete="SET NULL",
                                name="fk_surveys_responses_team_id_teams"),
        sa.PrimaryKeyConstraint("id", name="pk_surveys_responses"),
        sa.UniqueConstraint("invitation_id", name="uq_surveys_responses_invitation_id"),
    )
    op.create_index("ix_surveys_responses_day", "surveys_responses",
                    ["day", "kind", "agent_id", "team_id", "channel", "score"])
    op.create_index("ix_surveys_responses_created", "surveys_responses", ["created_at"])
    op.create_index("ix_surveys_responses_agent", "surveys_responses", ["agent_id", "created_at"])
    op.create_index("ix_surveys_responses_team", "surveys_responses", ["team_id", "created_at"])
    op.create_index("ix_surveys_responses_customer_id", "surveys_responses", ["customer_id"])
    op.create_index("ix_surveys_responses_ticket_id", "surveys_responses", ["ticket_id"])
    op.create_table(
        "surveys_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("contacted_at", sa.DateTime(), nullable=True),
        sa.Column("remedy", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("resurvey_invitation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["surveys_responses.id"], ondelete="CASCADE",
                                name="fk_surveys_followups_response_id_surveys_responses"),
        sa.ForeignKeyConstraint(["customer_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_surveys_followups_customer_id_users"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL",
                                name="fk_surveys_followups_ticket_id_tickets"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_surveys_followups_owner_id_users"),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_surveys_followups_closed_by_id_users"),
        sa.ForeignKeyConstraint(["resurvey_invitation_id"], ["surveys_invitations.id"], ondelete="SET NULL",
                                name="fk_surveys_followups_resurvey_invitation_id_surveys_invitations"),
        sa.PrimaryKeyConstraint("id", name="pk_surveys_followups"),
        sa.UniqueConstraint("response_id", name="uq_surveys_followups_response_id"),
    )
    op.create_index("ix_surveys_followups_status_due", "surveys_followups", ["status", "due_at"])
    op.create_index("ix_surveys_followups_owner", "surveys_followups", ["owner_id", "status"])


def downgrade() -> None:
    op.drop_table("surveys_followups")
    op.drop_table("surveys_responses")
    op.drop_table("surveys_invitations")
    op.drop_table("surveys_contacts")
    op.drop_table("surveys_types")
