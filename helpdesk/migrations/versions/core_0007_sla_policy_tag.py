"""SLA policy tag: a policy can apply only to tickets carrying a tag

Lets a kind of ticket (complaints, VIP customers) have its own clock, chosen by a tag a
plugin or an agent puts on the ticket.

Revision ID: core_0007
Revises: core_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("sla_policies", sa.Column("tag", sa.String(length=60), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE sla_policies DROP COLUMN tag")
    else:
        op.drop_column("sla_policies", "tag")
