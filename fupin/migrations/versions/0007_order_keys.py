"""orders: the confirmed read-back's key (one order per confirmation)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A unique index, not a table constraint: SQLite adds it without rebuilding the table.
    op.add_column("orders", sa.Column("request_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_orders_request_key"), "orders", ["request_key"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_request_key"), table_name="orders")
    op.drop_column("orders", "request_key")
