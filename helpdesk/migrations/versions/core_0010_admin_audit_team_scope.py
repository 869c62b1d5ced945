"""Admin audit log, team-scoped agents and light agents

``admin_audit`` keeps every configuration change (who, when, from where, before → after);
``users.team_scoped`` is the "sees only tickets of my teams" setting. The ``light_agent``
role needs no schema change (roles are strings).

Revision ID: core_0010
Revises: core_0009
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0010"
down_revision = "core_0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("kind", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_admin_audit_actor_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit")),
    )
    op.create_index("ix_admin_audit_created", "admin_audit", ["created_at", "id"])
    op.create_index("ix_admin_audit_kind_created", "admin_audit", ["kind", "created_at"])
    op.create_index("ix_admin_audit_actor_created", "admin_audit", ["actor_id", "created_at"])
    op.add_column("users", sa.Column("team_scoped", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("team_scoped")
    op.drop_index("ix_admin_audit_actor_created", table_name="admin_audit")
    op.drop_index("ix_admin_audit_kind_created", table_name="admin_audit")
    op.drop_index("ix_admin_audit_created", table_name="admin_audit")
    op.drop_table("admin_audit")
