"""Who reminders may be for: the users, townships and submissions read once per run, and kept only for it."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Township, User
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.occurrences import Recipient
from fupin.periods import Period
from fupin.reporting.kinds import ReportKind
from fupin.reporting.submissions import submitted
from fupin.values import Role

T = TypeVar("T")


class Audience:
    """The database as reminders see it during one call: read on first use, then kept for that call."""

    def __init__(self, session: Session, config: ReminderConfig, now: datetime, until: datetime) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.until = max(now, until)  # the latest reference time asked about
        self._users: list[User] | None = None
        self._submitted: dict[tuple[ReportKind, str], set[str]] = {}
        self._townships: dict[int, str] | None = None
        self._memo: dict[Hashable, Any] = {}

    def users(self, role: Role) -> list[User]:
        """Users of a role, loaded once."""
        if self._users is None:
            roles = (Role.CONTACT.value, Role.LEAD.value, Role.ADMIN.value)
            self._users = list(self.session.scalars(select(User).where(User.role.in_(roles)).order_by(User.id)))
        return [u for u in self._users if u.role == role.value]

    def submitted(self, kind: ReportKind, period: Period) -> set[str]:
        """Who submitted a report for the period, read once per call."""
        if (kind, period.code) not in self._submitted:
            self._submitted[(kind, period.code)] = submitted(self.session, kind, period)
        return self._submitted[(kind, period.code)]

    def townships(self) -> dict[int, str]:
        """Township names by id, in the order of their codes."""
        if self._townships is None:
            rows = self.session.execute(select(Township.id, Township.name).order_by(Township.code)).all()
            self._townships = {row[0]: row[1] for row in rows}
        return self._townships

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What `compute` returns, computed once per call for this key (a kind's own queries)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])

    def recipient(self, user: User, about: str = "", items: Iterable[str] = ()) -> Recipient:
        """The user as a recipient of a reminder about `about`, listing `items`."""
        return Recipient(user.id, user.channel, user.external_id, user.display_name, about, tuple(items))
