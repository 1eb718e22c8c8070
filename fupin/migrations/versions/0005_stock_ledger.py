"""stock ledger: stock_moves, orders.reserved_quantity, one OPENING move per listing

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0005"

down_revision = "0004"
branch_labels = None
depends_on = None

# OrderStatus.PENDING / CONFIRMED: the orders that hold stock.
OPEN_STATUSES = ("待确认", "已确认")


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("reserved_quantity", sa.BigInteger(), nullable=False, server_default="0"))
    op.create_table(
        "stock_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("reserved_change", sa.BigInteger(), nullable=False),
        sa.Column("planned_change", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["catalog_imports.id"], name=op.f("fk_stock_moves_import_id_catalog_imports")
        ),
        sa.ForeignKeyConstraint(["listing_id"], ["listings.id"], name=op.f("fk_stock_moves_listing_id_listings")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_stock_moves_order_id_orders")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_stock_moves_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_moves")),
    )
    op.create_index("ix_stock_moves_listing_id_id", "stock_moves", ["listing_id", "id"], unique=False)
    op.create_index(op.f("ix_stock_moves_order_id"), "stock_moves", ["order_id"], unique=False)

    # Open orders hold what they ordered; each listing's ledger opens with its current figures, so that
    # available = SUM(quantity), planned = SUM(planned_change), held = SUM(reserved_change) from now on.
    # Quantities are stored as integer thousandths on both backends, so the statements copy them exactly.
    orders = sa.table(
        "orders",
        sa.column("listing_id", sa.Integer()),
        sa.column("quantity", sa.BigInteger()),
        sa.column("reserved_quantity", sa.BigInteger()),
        sa.column("status", sa.String()),
    )
    listings = sa.table(
        "listings",
        sa.column("id", sa.Integer()),
        sa.column("remaining_quantity", sa.BigInteger()),
        sa.column("planned_quantity", sa.BigInteger()),
    )
    moves = sa.table(
        "stock_moves",
        sa.column("listing_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("quantity", sa.BigInteger()),
        sa.column("reserved_change", sa.BigInteger()),
        sa.column("planned_change", sa.BigInteger()),
        sa.column("reason", sa.Text()),
        sa.column("created_at", sa.DateTime()),
    )
    is_open = orders.c.status.in_(OPEN_STATUSES)
    conn = op.get_bind()
    conn.execute(orders.update().where(is_open).values(reserved_quantity=orders.c.quantity))
    held = (
        sa.select(sa.func.coalesce(sa.func.sum(orders.c.quantity), 0))
        .where(orders.c.listing_id == listings.c.id, is_open)
        .scalar_subquery()
    )
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    opening = sa.select(
        listings.c.id,
        sa.literal("opening"),
        listings.c.remaining_quantity,
        held,
        listings.c.planned_quantity,
        sa.literal("启用库存台账时的库存"),
        sa.literal(now, sa.DateTime()),
    )
    conn.execute(
        moves.insert().from_select(
            ["listing_id", "kind", "quantity", "reserved_change", "planned_change", "reason", "created_at"], opening
        )
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stock_moves_order_id"), table_name="stock_moves")
    op.drop_index("ix_stock_moves_listing_id_id", table_name="stock_moves")
    op.drop_table("stock_moves")
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("reserved_quantity")
