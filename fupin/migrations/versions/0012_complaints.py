"""complaints and complaint_events: buyers' quality complaints (质量投诉) and every change of their status

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_no", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("open_order_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("handler_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["handler_user_id"], ["users.id"], name=op.f("fk_complaints_handler_user_id_users")),
        sa.ForeignKeyConstraint(["open_order_id"], ["orders.id"], name=op.f("fk_complaints_open_order_id_orders")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_complaints_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("complaint_no", name=op.f("uq_complaints_complaint_no")),
        sa.UniqueConstraint("open_order_id", name=op.f("uq_complaints_open_order_id")),
    )
    op.create_index(op.f("ix_complaints_order_id"), "complaints", ["order_id"])
    op.create_index(op.f("ix_complaints_user_id"), "complaints", ["user_id"])
    op.create_index(op.f("ix_complaints_status"), "complaints", ["status"])
    op.create_index(op.f("ix_complaints_handler_user_id"), "complaints", ["handler_user_id"])
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=True),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_complaint_events_actor_user_id_users")),
        sa.ForeignKeyConstraint(
            ["complaint_id"], ["complaints.id"], name=op.f("fk_complaint_events_complaint_id_complaints")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    op.create_index("ix_complaint_events_complaint_id_id", "complaint_events", ["complaint_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_complaint_events_complaint_id_id", table_name="complaint_events")
    op.drop_table("complaint_events")
    op.drop_index(op.f("ix_complaints_handler_user_id"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_status"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_user_id"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_order_id"), table_name="complaints")
    op.drop_table("complaints")
