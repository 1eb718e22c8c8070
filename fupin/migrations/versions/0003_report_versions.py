"""report versions: imported 附件2 files as versions, their rows linked; reopening a confirmed quarter

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:30:00

Existing data: every township quarter whose submission came from a file gets version 1, holding the
"report" rows that import wrote. Before this revision an import deleted the quarter's other reported
rows and wrote its own within one transaction, at the submission's time; so the rows written within a
few seconds of a file submission are that file's, and any later one was told in chat. Where a later
确认报送 overwrote the file submission the rows cannot be told apart and stay chat rows: they keep
counting either way, so no figure changes in this migration.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# How close to its file submission an imported row was written (same transaction, plus clock jitter).
IMPORT_WINDOW = timedelta(seconds=10)


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("reporter", sa.String(length=100), nullable=False),
        sa.Column("township_id", sa.Integer(), nullable=True),
        sa.Column("village_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("restored_from_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_by_id", sa.Integer(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["restored_from_id"], ["report_versions.id"],
            name=op.f("fk_report_versions_restored_from_id_report_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_id"], ["report_versions.id"],
            name=op.f("fk_report_versions_superseded_by_id_report_versions"),
        ),
        sa.ForeignKeyConstraint(["township_id"], ["townships.id"], name=op.f("fk_report_versions_township_id_townships")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_report_versions_user_id_users")),
        sa.ForeignKeyConstraint(["village_id"], ["villages.id"], name=op.f("fk_report_versions_village_id_villages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_versions")),
        sa.UniqueConstraint("kind", "period", "reporter", "number", name="uq_report_versions_number"),
    )  # fmt: skip
    with op.batch_alter_table("sale_records") as batch:
        batch.add_column(sa.Column("report_version_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_sale_records_report_version_id_report_versions"), "report_versions", ["report_version_id"], ["id"]
        )
        batch.create_index(op.f("ix_sale_records_report_version_id"), ["report_version_id"])
    with op.batch_alter_table("report_submissions") as batch:
        batch.add_column(sa.Column("reopened_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reopened_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_report_submissions_reopened_by_users"), "users", ["reopened_by"], ["id"]
        )
    _first_versions()


def _quarter_dates(code: str) -> tuple[date, date] | None:
    year, _, quarter = code.partition("Q")
    if not (year.isdigit() and quarter in ("1", "2", "3", "4")):
        return None
    start = date(int(year), 3 * int(quarter) - 2, 1)
    end = date(int(year) + 1, 1, 1) if quarter == "4" else date(int(year), 3 * int(quarter) + 1, 1)
    return start, end


def _first_versions() -> None:
    # Version 1 of each township quarter imported from a file before versions existed.
    conn = op.get_bind()
    submissions = sa.table(
        "report_submissions",
        sa.column("kind", sa.String), sa.column("period", sa.String), sa.column("reporter", sa.String),
        sa.column("township_id", sa.Integer), sa.column("user_id", sa.Integer), sa.column("source", sa.String),
        sa.column("rows", sa.Integer), sa.column("amount_fen", sa.BigInteger), sa.column("submitted_at", sa.DateTime),
    )  # fmt: skip
    townships = sa.table("townships", sa.column("id", sa.Integer), sa.column("name", sa.String))
    records = sa.table(
        "sale_records",
        sa.column("id", sa.Integer), sa.column("township_id", sa.Integer), sa.column("source", sa.String),
        sa.column("sold_on", sa.Date), sa.column("created_at", sa.DateTime),
        sa.column("report_version_id", sa.Integer),
    )  # fmt: skip
    versions = sa.table(
        "report_versions",
        sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("period", sa.String),
        sa.column("reporter", sa.String), sa.column("township_id", sa.Integer), sa.column("number", sa.Integer),
        sa.column("source", sa.String), sa.column("file_name", sa.String), sa.column("user_id", sa.Integer),
        sa.column("rows", sa.Integer), sa.column("amount_fen", sa.BigInteger), sa.column("note", sa.Text),
        sa.column("created_at", sa.DateTime),
    )  # fmt: skip
    found = conn.execute(
        sa.select(submissions, townships.c.id.label("tid"))
        .outerjoin(townships, townships.c.name == submissions.c.reporter)
        .where(submissions.c.kind == "sales", submissions.c.source == "file")
    ).all()
    for row in found:
        dates = _quarter_dates(row.period)
        township_id = row.township_id or row.tid
        if dates is None or township_id is None:
            continue
        submitted_at: datetime = row.submitted_at
        ids = list(
            conn.scalars(
                sa.select(records.c.id).where(
                    records.c.township_id == township_id,
                    records.c.source == "report",
                    records.c.report_version_id.is_(None),
                    records.c.sold_on >= dates[0],
                    records.c.sold_on < dates[1],
                    records.c.created_at >= submitted_at - IMPORT_WINDOW,
                    records.c.created_at <= submitted_at + IMPORT_WINDOW,
                )
            )
        )
        if not ids:
            continue
        conn.execute(
            versions.insert().values(
                kind="sales", period=row.period, reporter=row.reporter, township_id=township_id, number=1,
                source="file", file_name="", user_id=row.user_id, rows=row.rows, amount_fen=row.amount_fen,
                note="版本记录启用前导入的文件", created_at=submitted_at,
            )
        )  # fmt: skip
        version_id = conn.scalar(
            sa.select(versions.c.id).where(
                versions.c.kind == "sales", versions.c.period == row.period,
                versions.c.reporter == row.reporter, versions.c.number == 1,
            )
        )  # fmt: skip
        conn.execute(records.update().where(records.c.id.in_(ids)).values(report_version_id=version_id))


def downgrade() -> None:
    # Superseded versions' rows were kept only for the history; without versions they would count again.
    conn = op.get_bind()
    records = sa.table("sale_records", sa.column("report_version_id", sa.Integer))
    versions = sa.table("report_versions", sa.column("id", sa.Integer), sa.column("superseded_by_id", sa.Integer))
    superseded = sa.select(versions.c.id).where(versions.c.superseded_by_id.is_not(None))
    conn.execute(records.delete().where(records.c.report_version_id.in_(superseded)))
    with op.batch_alter_table("report_submissions") as batch:
        batch.drop_constraint(op.f("fk_report_submissions_reopened_by_users"), type_="foreignkey")
        batch.drop_column("reopened_by")
        batch.drop_column("reopened_at")
    with op.batch_alter_table("sale_records") as batch:
        batch.drop_index(op.f("ix_sale_records_report_version_id"))
        batch.drop_constraint(op.f("fk_sale_records_report_version_id_report_versions"), type_="foreignkey")
        batch.drop_column("report_version_id")
    op.drop_table("report_versions")
