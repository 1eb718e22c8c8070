"""shipments: the carrier and tracking number of a delivered order, and the carrier's imported figures

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("carrier", sa.String(length=10), nullable=False),
        sa.Column("company", sa.String(length=20), nullable=False),
        sa.Column("tracking_no", sa.String(length=40), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("weight_grams", sa.Integer(), nullable=True),
        sa.Column("fee_fen", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        sa.Column("import_source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_shipments_order_id_orders")),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"], name=op.f("fk_shipments_recorded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipments")),
        sa.UniqueConstraint("order_id", name=op.f("uq_shipments_order_id")),
        sa.UniqueConstraint("tracking_no", name=op.f("uq_shipments_tracking_no")),
    )


def downgrade() -> None:
    op.drop_table("shipments")
