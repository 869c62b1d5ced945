"""One text per language; announcements sent by a job

``text_translations``: a canned reply's, a macro's or an announcement's text in another
language than the site's (one row per item and language). ``announcements`` gain the
sending job's progress: the segment's size when it started, when it started and finished;
``announcement_recipients`` their last change (a row left "sending" by a dead sender).

Revision ID: core_0019
Revises: core_0018
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0019"
down_revision = "core_0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "text_translations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_text_translations"),
        sa.UniqueConstraint("kind", "owner_id", "language", name="uq_text_translations_kind"),
    )
    with op.batch_alter_table("announcements") as batch:
        batch.add_column(sa.Column("send_total", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("send_started_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("send_finished_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("announcement_recipients") as batch:
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE announcement_recipients SET updated_at = created_at")
    with op.batch_alter_table("announcement_recipients") as batch:
        batch.alter_column("updated_at", existing_type=sa.DateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table("announcement_recipients") as batch:
        batch.drop_column("updated_at")
    with op.batch_alter_table("announcements") as batch:
        batch.drop_column("send_finished_at")
        batch.drop_column("send_started_at")
        batch.drop_column("send_total")
    op.drop_table("text_translations")
