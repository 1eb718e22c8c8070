"""The console's admin actions, each recorded in the audit trail: deep-poverty villages, reopening, invitations."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import Village
from fupin.outreach.registration import Invitation, issue_code
from fupin.outreach.users import Identity
from fupin.outreach.web_links import AuditedAction, ConsoleUser, record_action
from fupin.parsing import ParseError
from fupin.periods import Period
from fupin.places import Gazetteer
from fupin.reporting.kinds import ReportKind
from fupin.reporting.locks import is_locked_quarter, reopen_report
from fupin.values import Role

logger = logging.getLogger(__name__)


class NotAllowed(Exception):
    """The signed-in user may not do this (only admins write)."""


def _require_admin(user: ConsoleUser) -> None:
    if not user.is_admin:
        raise NotAllowed("只有县级管理员可以执行此操作。")


@dataclass(frozen=True)
class VillageFlag:
    """A village's deep-poverty flag after a change."""

    place: str
    deep_poverty: bool


def flag_village(session: Session, user: ConsoleUser, place: str, deep_poverty: bool) -> VillageFlag:
    """Mark a village (龙角镇张家村) deep-poverty or not; raises ParseError for an unknown or vague place."""
    _require_admin(user)
    resolved = Gazetteer.load(session).resolve_region(place)
    if resolved.village is None:
        raise ParseError("请写明乡镇和村（社区），如 龙角镇张家村")
    village = session.scalars(select(Village).where(Village.id == resolved.village.id)).one()
    village.deep_poverty = deep_poverty
    record_action(session, user.user_id, AuditedAction.VILLAGE_DEEP_POVERTY, f"{resolved.label}={deep_poverty}")
    return VillageFlag(resolved.label, deep_poverty)


def reopen(session: Session, user: ConsoleUser, kind: ReportKind, period: Period, reporter: str) -> bool:
    """Reopen a township's 附件2 or a lead unit's 附件3 confirmed with 确认报送; False when it is not locked."""
    _require_admin(user)
    if not is_locked_quarter(session, kind, period, reporter):
        return False
    admin = Identity(channel="web", external_id=str(user.user_id), user_id=user.user_id, role=user.role)
    reopen_report(session, kind, period, reporter, admin)
    record_action(session, user.user_id, AuditedAction.REOPEN_SUBMISSION, f"{kind.value} {period.code} {reporter}")
    return True


def invite(
    session: Session,
    user: ConsoleUser,
    role: Role,
    *,
    township: str | None = None,
    village: str | None = None,
    lead_unit: str | None = None,
) -> Invitation:
    """Issue a registration code (as /invite does); raises ParseError for an unknown place or unit."""
    _require_admin(user)
    invitation = issue_code(
        session, role, township=township, village=village, lead_unit=lead_unit, created_by=user.user_id
    )
    record_action(session, user.user_id, AuditedAction.INVITE, invitation.scope)
    return invitation
