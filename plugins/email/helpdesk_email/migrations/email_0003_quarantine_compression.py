"""email: quarantined mail stored compressed, with a storage budget

Revision ID: email_0003
Revises: email_0002

``email_quarantine.raw`` holds zlib-compressed bytes (``storage = 'zlib'``), or only the
compressed header block when the budget was used up (``'headers'``); rows written before
this revision stay as they are (``'raw'``). ``stored_size`` is what the row counts against
the budget; ``raw_sha256`` identifies the mail when its body was not kept.
"""
import sqlalchemy as sa
from alembic import op

revision = "email_0003"
down_revision = "email_0002"
branch_labels = None
depends_on = None

COLUMNS = ("storage", "stored_size", "raw_sha256")


def upgrade() -> None:
    with op.batch_alter_table("email_quarantine") as batch:
        batch.add_column(sa.Column("storage", sa.String(length=10), server_default="raw", nullable=False))
        batch.add_column(sa.Column("stored_size", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("raw_sha256", sa.String(length=64), nullable=True))
    op.execute("UPDATE email_quarantine SET stored_size = size")


def downgrade() -> None:
    # Compressed rows cannot be read by the older code: unpack them first (Python, row by row).
    import zlib

    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, raw, storage FROM email_quarantine WHERE storage != 'raw'")).all()
    for row_id, data, _storage in rows:
        bind.execute(sa.text("UPDATE email_quarantine SET raw = :raw WHERE id = :id"),
                     {"raw": zlib.decompress(data or b"") if data else b"", "id": row_id})
    with op.batch_alter_table("email_quarantine") as batch:
        for name in COLUMNS:
            batch.drop_column(name)
