"""Versions of a township's 附件2: every import (or restore) is a new version; none is ever deleted.

- A version's rows count while it is current. A township-level version supersedes every current version
  of the township's quarter (it is the township's full statement); a village contact's version only the
  previous version of that village.
- Records of orders and sales told in chat belong to no version: no import supersedes them. A version's
  row that repeats a record still counted outside the versions it supersedes (same buyer, product,
  quantity and amount in the quarter) is not recorded again; each counted record absorbs at most one row.
- Restoring version N makes a new version with N's rows (by the same rules), so the history only grows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from fupin.models import ORDER_SOURCE, ReportVersion, SaleRecord, Township, User, Village, utcnow
from fupin.outreach.users import Identity
from fupin.periods import Period
from fupin.reporting.documents import ReportInputError
from fupin.reporting.formatting import local_minute, require_quarter, yuan
from fupin.reporting.kinds import ReportKind, SubmissionSource, VersionSource
from fupin.reporting.locks import DEFAULT_GRACE_DAYS, check_open, require_county
from fupin.reporting.rows import counted_sales
from fupin.reporting.submissions import submit_report

logger = logging.getLogger(__name__)

NO_SUCH_VERSION = "{reporter}{period}{form}没有第{number}版。"
COMMAND_LINE = "命令行（县级）"


@dataclass(frozen=True)
class VersionEntry:
    """A version as the history shows it: number, when, who, from what, its rows and amount, current or not."""

    number: int
    created_at: datetime
    who: str
    source: VersionSource
    file_name: str
    village: str | None
    rows: int
    amount_fen: int
    current: bool
    superseded_by: int | None
    restored_from: int | None
    note: str

    def line(self) -> str:
        """The version in Chinese (第2版 2019-10-08 10:00 李xx 文件a.xlsx 3条 150.00元 【当前】)."""
        if self.source is VersionSource.RESTORE:
            origin = f"恢复第{self.restored_from}版"
        else:
            origin = f"文件{self.file_name}" if self.file_name else "文件"
        parts = [f"第{self.number}版", local_minute(self.created_at), self.who, origin]
        if self.village:
            parts.append(f"仅{self.village}")
        parts.append(f"{self.rows}条，合计{yuan(self.amount_fen)}")
        status = "【当前】" if self.current else f"（已被第{self.superseded_by}版取代）"
        return "  ".join(parts) + " " + status + (f"  {self.note}" if self.note else "")


@dataclass
class VersionApplied:
    """What adding a version did: its number, records added, rows matched, and what it superseded."""

    number: int
    added: int = 0
    matched_orders: int = 0
    matched_reports: int = 0
    replaced: int = 0
    superseded: list[int] = field(default_factory=list)


def _match_key(record: SaleRecord) -> tuple[Any, ...]:
    return (record.buyer_id, record.product_name, Decimal(record.quantity), record.unit, record.amount_fen)


def _versions(kind: ReportKind, period: Period, reporter: str) -> Select:
    return select(ReportVersion).where(
        ReportVersion.kind == kind.value, ReportVersion.period == period.code, ReportVersion.reporter == reporter
    )


def add_version(
    session: Session,
    *,
    period: Period,
    township_id: int,
    village_id: int | None,
    source: VersionSource,
    file_name: str,
    user_id: int | None,
    rows: int,
    amount_fen: int,
    records: Iterable[SaleRecord],
    restored_from: ReportVersion | None = None,
    note: str = "",
) -> VersionApplied:
    """Add a township's 附件2 version with these (unsaved) records; it supersedes the current ones in its scope."""
    kind = ReportKind.SALES
    township = session.get(Township, township_id)
    if township is None:
        raise ValueError(f"no township with id {township_id}")
    reporter = township.name
    current = _versions(kind, period, reporter).where(ReportVersion.superseded_by_id.is_(None))
    if village_id is not None:
        current = current.where(ReportVersion.village_id == village_id)
    superseded = list(session.scalars(current.order_by(ReportVersion.number)))
    superseded_ids = [v.id for v in superseded]
    counted = list(
        session.scalars(
            counted_sales(period=period).where(SaleRecord.township_id == township_id).order_by(SaleRecord.id)
        )
    )
    outside = [r for r in counted if r.report_version_id is None or r.report_version_id not in superseded_ids]
    from_orders = Counter(_match_key(r) for r in outside if r.source == ORDER_SOURCE)
    from_reports = Counter(_match_key(r) for r in outside if r.source != ORDER_SOURCE)
    last = session.scalar(
        select(func.max(ReportVersion.number)).where(
            ReportVersion.kind == kind.value, ReportVersion.period == period.code, ReportVersion.reporter == reporter
        )
    )
    version = ReportVersion(
        kind=kind.value,
        period=period.code,
        reporter=reporter,
        township_id=township_id,
        village_id=village_id,
        number=(last or 0) + 1,
        source=source.value,
        file_name=file_name,
        restored_from_id=restored_from.id if restored_from is not None else None,
        user_id=user_id,
        rows=rows,
        amount_fen=amount_fen,
        note=note,
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    applied = VersionApplied(version.number, superseded=[v.number for v in superseded])
    applied.replaced = sum(1 for r in counted if r.report_version_id in superseded_ids)
    now = utcnow()
    for old in superseded:
        old.superseded_by_id, old.superseded_at = version.id, now
    for record in records:
        key = _match_key(record)
        if from_orders[key] > 0:
            from_orders[key] -= 1
            applied.matched_orders += 1
        elif from_reports[key] > 0:
            from_reports[key] -= 1
            applied.matched_reports += 1
        else:
            record.township_id, record.report_version_id = township_id, version.id
            session.add(record)
            applied.added += 1
    session.flush()
    logger.info(
        "%s %s of %s: version %d (%s) added=%d matched=%d+%d superseded=%s",
        kind, period.code, reporter, version.number, source, applied.added, applied.matched_orders,
        applied.matched_reports, applied.superseded,
    )  # fmt: skip
    return applied


def _copy(record: SaleRecord) -> SaleRecord:
    return SaleRecord(
        township_id=record.township_id,
        village_id=record.village_id,
        household_name=record.household_name,
        poor_households=record.poor_households,
        buyer_id=record.buyer_id,
        buyer_name=record.buyer_name,
        product_name=record.product_name,
        quantity=record.quantity,
        unit=record.unit,
        amount_fen=record.amount_fen,
        sold_on=record.sold_on,
        remarks=record.remarks,
        source=record.source,
    )


def restore_version(
    session: Session,
    period: Period,
    township_id: int,
    number: int,
    sender: Identity | None,
    *,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> VersionApplied:
    """Make version `number` of a township's 附件2 current again, as a new version (admins and the command line)."""
    require_quarter(period)
    kind = ReportKind.SALES
    require_county(sender, "恢复报表的历史版本")
    # Lock the township's row: an import and a restore of its report at once must not both add a version.
    township = session.scalar(select(Township).where(Township.id == township_id).with_for_update())
    if township is None:
        raise ValueError(f"no township with id {township_id}")
    check_open(session, kind, period, township.name, sender, grace_days=grace_days)
    old = session.scalar(_versions(kind, period, township.name).where(ReportVersion.number == number))
    if old is None:
        raise ReportInputError(
            NO_SUCH_VERSION.format(reporter=township.name, period=period.label, form=kind.form_name, number=number)
        )
    rows = session.scalars(select(SaleRecord).where(SaleRecord.report_version_id == old.id).order_by(SaleRecord.id))
    user_id = sender.user_id if sender is not None else None
    applied = add_version(
        session,
        period=period,
        township_id=township_id,
        village_id=old.village_id,
        source=VersionSource.RESTORE,
        file_name=old.file_name,
        user_id=user_id,
        rows=old.rows,
        amount_fen=old.amount_fen,
        records=[_copy(r) for r in rows],
        restored_from=old,
    )
    # The submission follows the report's current statement, as after an import.
    submit_report(
        session, kind=kind, period=period, reporter=township.name, township_id=township_id, user_id=user_id,
        source=SubmissionSource.FILE, rows=old.rows, amount_fen=old.amount_fen,
    )  # fmt: skip
    return applied


def report_history(session: Session, kind: ReportKind, period: Period, reporter: str) -> list[VersionEntry]:
    """Every version of a reporter's quarterly form, oldest first."""
    require_quarter(period)
    versions: Sequence[ReportVersion] = session.scalars(
        _versions(kind, period, reporter).order_by(ReportVersion.number)
    ).all()
    numbers = {v.id: v.number for v in versions}
    user_ids = {v.user_id for v in versions if v.user_id is not None}
    village_ids = {v.village_id for v in versions if v.village_id is not None}
    users = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all())
    villages = dict(session.execute(select(Village.id, Village.short_name).where(Village.id.in_(village_ids))).all())
    return [
        VersionEntry(
            number=v.number,
            created_at=v.created_at,
            who=COMMAND_LINE if v.user_id is None else (users.get(v.user_id) or f"用户{v.user_id}"),
            source=VersionSource.parse(v.source),
            file_name=v.file_name,
            village=villages.get(v.village_id) if v.village_id is not None else None,
            rows=v.rows,
            amount_fen=v.amount_fen,
            current=v.superseded_by_id is None,
            superseded_by=numbers.get(v.superseded_by_id) if v.superseded_by_id is not None else None,
            restored_from=numbers.get(v.restored_from_id) if v.restored_from_id is not None else None,
            note=v.note,
        )
        for v in versions
    ]
