"""Submitted quarterly forms: recording a township's 附件2 or a lead unit's 附件3, and who has submitted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fupin.models import ReportSubmission, utcnow
from fupin.periods import Period
from fupin.reporting.formatting import local_minute, require_quarter, yuan
from fupin.reporting.kinds import ReportKind, SubmissionSource

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """A submitted quarterly form as recorded: who, how, when, and the rows and amount reported."""

    kind: ReportKind
    period: str
    reporter: str
    source: SubmissionSource
    rows: int
    amount_fen: int
    submitted_at: datetime

    @classmethod
    def of(cls, row: ReportSubmission) -> Submission:
        """The view of a stored submission."""
        return cls(
            ReportKind.parse(row.kind),
            row.period,
            row.reporter,
            SubmissionSource.parse(row.source),
            row.rows,
            row.amount_fen,
            row.submitted_at,
        )

    def line(self) -> str:
        """The submission in Chinese (已于2019-09-28 10:00通过文件报送，3条，合计150.00元)."""
        return (
            f"已于{local_minute(self.submitted_at)}通过{self.source.label}报送，"
            f"{self.rows}条，合计{yuan(self.amount_fen)}"
        )


def submit_report(
    session: Session,
    *,
    kind: ReportKind | str,
    period: Period,
    reporter: str,
    township_id: int | None,
    user_id: int | None,
    source: SubmissionSource | str,
    rows: int,
    amount_fen: int,
) -> ReportSubmission:
    """Record that a township (附件2) or lead unit (附件3) submitted a quarter; a resubmission updates it."""
    kind = ReportKind.parse(kind)
    source = SubmissionSource.parse(source)
    if rows < 0 or amount_fen < 0:
        raise ValueError("rows and amount cannot be negative")
    require_quarter(period)
    values: dict[str, Any] = {
        "township_id": township_id,
        "user_id": user_id,
        "source": source.value,
        "rows": rows,
        "amount_fen": amount_fen,
        "submitted_at": utcnow(),
    }
    key = (
        ReportSubmission.kind == kind.value,
        ReportSubmission.period == period.code,
        ReportSubmission.reporter == reporter,
    )
    for _attempt in range(3):
        existing = session.scalar(select(ReportSubmission).where(*key))
        if existing is not None:
            for name, value in values.items():
                setattr(existing, name, value)
            session.flush()
            logger.info("%s %s of %s submitted again (%s)", kind, period.code, reporter, source)
            return existing
        submission = ReportSubmission(kind=kind.value, period=period.code, reporter=reporter, **values)
        try:
            # A savepoint: if another process inserts the same report first, update theirs instead.
            with session.begin_nested():
                session.add(submission)
        except IntegrityError:
            continue
        logger.info("%s %s of %s submitted (%s, %d rows)", kind, period.code, reporter, source, rows)
        return submission
    raise RuntimeError(f"could not record the {kind} submission of {reporter} for {period.code}")


def submitted(session: Session, kind: ReportKind | str, period: Period) -> set[str]:
    """The townships (kind sales) or lead units (purchases) that submitted the quarter's form."""
    return set(
        session.scalars(
            select(ReportSubmission.reporter).where(
                ReportSubmission.kind == ReportKind.parse(kind).value, ReportSubmission.period == period.code
            )
        )
    )


def submission_of(session: Session, kind: ReportKind, period: Period, reporter: str) -> Submission | None:
    """One reporter's submission of the quarter's form, if any."""
    row = session.scalar(
        select(ReportSubmission).where(
            ReportSubmission.kind == kind.value,
            ReportSubmission.period == period.code,
            ReportSubmission.reporter == reporter,
        )
    )
    return Submission.of(row) if row is not None else None


def submissions(session: Session, kind: ReportKind, period: Period) -> dict[str, Submission]:
    """Every submission of the quarter's form, by reporter."""
    rows = session.scalars(
        select(ReportSubmission).where(ReportSubmission.kind == kind.value, ReportSubmission.period == period.code)
    )
    return {row.reporter: Submission.of(row) for row in rows}


def reopen_submission(session: Session, kind: ReportKind | str, period: Period, reporter: str, by: int | None) -> bool:
    """Reopen a submitted quarter: the submission is removed, so its reminders resume and it can be sent again.

    Returns False when nothing was submitted. (The smallest version; versioned reports may keep history.)
    """
    kind = ReportKind.parse(kind)
    row = session.scalar(
        select(ReportSubmission).where(
            ReportSubmission.kind == kind.value,
            ReportSubmission.period == period.code,
            ReportSubmission.reporter == reporter,
        )
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    logger.info("%s %s of %s reopened by user %s", kind, period.code, reporter, by)
    return True
