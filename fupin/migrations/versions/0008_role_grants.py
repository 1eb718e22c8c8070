"""users: how a role was granted (the configuration, a registration code, the command line)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows from before stay NULL, read as the configuration's grants: a start demotes unlisted admins as it did.
    op.add_column("users", sa.Column("granted_by", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("granted_by")
