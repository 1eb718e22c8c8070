"""Who may change a quarter's report and when: rights and locks, checked here for every import and restore.

- A quarter that has not started cannot be reported.
- A township's 附件2 may be replaced by the county (an admin, or the command line's operator) and by a
  township-level contact of that township; a village contact's file covers their village only.
- A quarter confirmed with 确认报送 is locked for everyone until an admin reopens it (a file sent records
  the submission too, but the township may still correct it by sending another file).
- A quarter past its deadline plus the grace days (REPORT_GRACE_DAYS) is locked for contacts; the county
  may still correct it.

The refusals carry the Chinese answer (ReportRefused, a ReportInputError).
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import ReportSubmission, utcnow
from fupin.outreach.users import Identity
from fupin.periods import Period, today
from fupin.reporting.documents import ReportInputError
from fupin.reporting.formatting import chinese_date, require_quarter
from fupin.reporting.kinds import ReportKind, SubmissionSource
from fupin.reporting.submissions import Submission

logger = logging.getLogger(__name__)

# REPORT_GRACE_DAYS when the caller passes none (fupin.settings.Settings has the same default).
DEFAULT_GRACE_DAYS = 15

NOT_STARTED = "{period}还没有开始，不能报送或更改{form}。"
NOT_YOURS = "只有{reporter}的乡镇级供货联系人或县级管理员可以报送、更正{reporter}的{form}。"
COUNTY_ONLY = "只有县级管理员可以{what}。"
LOCKED = "{reporter}{period}{form}{line}，已锁定，不能再更改。如需更正，请联系县级管理员重新开放。"
PAST_DEADLINE = "{reporter}{period}{form}的报送截止日期是{deadline}，更正期限已于{last}结束，不能再更改。如需更正，请联系县级管理员。"
NOT_LOCKED = "{reporter}{period}{form}没有锁定（未确认报送，或已重新开放），无需重新开放。"


class ReportRefused(ReportInputError):
    """A change of a report that this person may not make now; the message is the Chinese answer."""


def is_county(sender: Identity | None) -> bool:
    """True for the county: an admin in chat, or the command line's operator (sender None)."""
    return sender is None or sender.is_admin


def last_change_day(period: Period, grace_days: int) -> date:
    """The last day contacts may still change a quarter's report: its deadline plus the grace days."""
    return period.deadline + timedelta(days=grace_days)


def is_locked(submission: ReportSubmission | None) -> bool:
    """True when a submission was confirmed with 确认报送 and not reopened since."""
    return (
        submission is not None and submission.source == SubmissionSource.CHAT.value and submission.reopened_at is None
    )


def _submission_row(session: Session, kind: ReportKind, period: Period, reporter: str) -> ReportSubmission | None:
    return session.scalar(
        select(ReportSubmission).where(
            ReportSubmission.kind == kind.value,
            ReportSubmission.period == period.code,
            ReportSubmission.reporter == reporter,
        )
    )


def is_locked_quarter(session: Session, kind: ReportKind, period: Period, reporter: str) -> bool:
    """True when the reporter's form of the quarter is locked by 确认报送 (reopen_report unlocks it)."""
    return is_locked(_submission_row(session, kind, period, reporter))


def village_scope(sender: Identity | None, kind: ReportKind, reporter: str, township_id: int) -> int | None:
    """The village a sender's file covers (None: the whole township); ReportRefused if they may not send it."""
    if is_county(sender):
        return None
    assert sender is not None
    if not sender.is_contact or sender.township_id != township_id:
        raise ReportRefused(NOT_YOURS.format(reporter=reporter, form=kind.form_name))
    return sender.village_id


def require_county(sender: Identity | None, what: str) -> None:
    """ReportRefused unless the sender is the county (admin or command line)."""
    if not is_county(sender):
        raise ReportRefused(COUNTY_ONLY.format(what=what))


def check_open(
    session: Session,
    kind: ReportKind,
    period: Period,
    reporter: str,
    sender: Identity | None,
    *,
    grace_days: int = DEFAULT_GRACE_DAYS,
    day: date | None = None,
) -> None:
    """ReportRefused unless the quarter's report may be changed now by this sender (started, not locked)."""
    require_quarter(period)
    day = day or today()
    names = {"reporter": reporter, "period": period.label, "form": kind.form_name}
    if period.start > day:
        raise ReportRefused(NOT_STARTED.format(period=period.label, form=kind.form_name))
    submission = _submission_row(session, kind, period, reporter)
    if is_locked(submission):
        assert submission is not None
        raise ReportRefused(LOCKED.format(line=Submission.of(submission).line(), **names))
    last = last_change_day(period, grace_days)
    if not is_county(sender) and day > last:
        raise ReportRefused(
            PAST_DEADLINE.format(deadline=chinese_date(period.deadline), last=chinese_date(last), **names)
        )


def reopen_report(session: Session, kind: ReportKind, period: Period, reporter: str, sender: Identity | None) -> None:
    """Reopen a quarter confirmed with 确认报送 so it can be corrected (admins and the command line only)."""
    require_quarter(period)
    require_county(sender, "重新开放已确认报送的季度")
    submission = _submission_row(session, kind, period, reporter)
    if not is_locked(submission):
        raise ReportRefused(NOT_LOCKED.format(reporter=reporter, period=period.label, form=kind.form_name))
    assert submission is not None
    submission.reopened_at = utcnow()
    submission.reopened_by = sender.user_id if sender is not None else None
    session.flush()
    logger.info("%s %s of %s reopened by %s", kind, period.code, reporter, sender.external_id if sender else "cli")
