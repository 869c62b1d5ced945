"""surveys: time indexes that hold what the reports count (answers and invitations per local day).

The reports count per day of the reader's time zone: besides each UTC day's figures (the day
indexes) they read the part of some UTC days that belongs to the neighbouring local day, by
time; with the counted columns in these indexes those reads stay index-only.

Revision ID: surveys_0002
Revises: surveys_0001
Create Date: 2026-12-06 00:00:00
"""
from alembic import op

revision = "surveys_0002"
down_revision = "surveys_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_surveys_responses_created", table_name="surveys_responses")
    op.create_index("ix_surveys_responses_created", "surveys_responses",
                    ["created_at", "kind", "agent_id", "team_id", "channel", "score"])
    op.create_index("ix_surveys_invitations_sent", "surveys_invitations",
                    ["sent_at", "agent_id", "team_id", "channel", "answered_at"])


def downgrade() -> None:
    op.drop_index("ix_surveys_invitations_sent", table_name="surveys_invitations")
    op.drop_index("ix_surveys_responses_created", table_name="surveys_responses")
    op.create_index("ix_surveys_responses_created", "surveys_responses", ["created_at"])
