"""offers: pre-order (预售) and adoption (认养) listings, the offer an order was placed on, adoption updates

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 03:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("listings") as batch:
        batch.add_column(sa.Column("offer", sa.String(length=10), nullable=False, server_default="现货"))
        batch.add_column(sa.Column("expected_month", sa.Date(), nullable=True))
        batch.add_column(sa.Column("terms", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("offer", sa.String(length=10), nullable=False, server_default="现货"))
    op.create_table(
        "adoption_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_adoption_updates_listing_id_listings")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_adoption_updates_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adoption_updates")),
    )
    op.create_index(op.f("ix_adoption_updates_listing_id"), "adoption_updates", ["listing_id"])


def downgrade() -> None:
    op.drop_table("adoption_updates")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("offer")
    with op.batch_alter_table("listings") as batch:
        batch.drop_column("terms")
        batch.drop_column("expected_month")
        batch.drop_column("offer")
