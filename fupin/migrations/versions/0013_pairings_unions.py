"""pairings and union_members: buyers paired with villages (百企帮百村, a union's helped villages) and unions'
registered member counts (their 500元-per-member budget)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 03:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"], name=op.f("fk_pairings_buyer_id_buyers")),
        sa.ForeignKeyConstraint(["village_id"], ["villages.id"], name=op.f("fk_pairings_village_id_villages")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_pairings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairings")),
        sa.UniqueConstraint("buyer_id", "village_id", name=op.f("uq_pairings_buyer_id")),
    )
    op.create_index(op.f("ix_pairings_buyer_id"), "pairings", ["buyer_id"])
    op.create_index(op.f("ix_pairings_village_id"), "pairings", ["village_id"])
    op.create_table(
        "union_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["buyers.id"], name=op.f("fk_union_members_buyer_id_buyers")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_union_members_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_union_members")),
    )
    op.create_index("ix_union_members_buyer_id_id", "union_members", ["buyer_id", "id"])


def downgrade() -> None:
    op.drop_table("union_members")
    op.drop_table("pairings")
