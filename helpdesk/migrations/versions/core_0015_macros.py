"""Macros: several ticket actions (reply, status, priority, tags, assignee, team) in one click

Personal (``owner_id``), shared with a team (``shared_team_id``) or with everyone (neither);
``usage_count`` counts how often each was applied.

Revision ID: core_0015
Revises: core_0014
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0015"
down_revision = "core_0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "macros",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("shared_team_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("add_tags", sa.JSON(), nullable=False),
        sa.Column("remove_tags", sa.JSON(), nullable=False),
        sa.Column("assignee", sa.String(length=20), nullable=False),
        sa.Column("set_team_id", sa.Integer(), nullable=True),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="CASCADE", name="fk_macros_owner_id_users"),
        sa.ForeignKeyConstraint(["shared_team_id"], ["teams.id"], ondelete="CASCADE",
                                name="fk_macros_shared_team_id_teams"),
        sa.ForeignKeyConstraint(["set_team_id"], ["teams.id"], ondelete="SET NULL",
                                name="fk_macros_set_team_id_teams"),
        sa.PrimaryKeyConstraint("id", name="pk_macros"),
    )
    op.create_index("ix_macros_owner_id", "macros", ["owner_id"])
    op.create_index("ix_macros_shared_team_id", "macros", ["shared_team_id"])


def downgrade():
    op.drop_index("ix_macros_shared_team_id", table_name="macros")
    op.drop_index("ix_macros_owner_id", table_name="macros")
    op.drop_table("macros")
