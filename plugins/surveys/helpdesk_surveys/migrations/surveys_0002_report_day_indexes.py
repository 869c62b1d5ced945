"""surveys: the reports' day indexes also hold the time (answers and invitations per local day).

The reports count per day of the reader's time zone: besides the UTC day they read the time
of each row, and with it in the index the reads stay index-only.

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
    op.drop_index("ix_surveys_responses_day", table_name="surveys_responses")
    op.create_index("ix_surveys_responses_day", "surveys_responses",
                    ["day", "kind", "agent_id", "team_id", "channel", "score", "created_at"])
    op.drop_index("ix_surveys_invitations_sent_day", table_name="surveys_invitations")
    op.create_index("ix_surveys_invitations_sent_day", "surveys_invitations",
                    ["sent_day", "agent_id", "team_id", "channel", "answered_at", "sent_at"])


def downgrade() -> None:
    op.drop_index("ix_surveys_invitations_sent_day", table_name="surveys_invitations")
    op.create_index("ix_surveys_invitations_sent_day", "surveys_invitations",
                    ["sent_day", "agent_id", "team_id", "channel", "answered_at"])
    op.drop_index("ix_surveys_responses_day", table_name="surveys_responses")
    op.create_index("ix_surveys_responses_day", "surveys_responses",
                    ["day", "kind", "agent_id", "team_id", "channel", "score"])
