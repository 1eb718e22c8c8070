"""payment_hold_lifts: an admin lifts the hold on new orders of a buyer with long-unpaid orders

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_hold_lifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=50), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"], name=op.f("fk_payment_hold_lifts_buyer_id_buyers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_hold_lifts")),
    )
    op.create_index(op.f("ix_payment_hold_lifts_buyer_id"), "payment_hold_lifts", ["buyer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_hold_lifts_buyer_id"), table_name="payment_hold_lifts")
    op.drop_table("payment_hold_lifts")
