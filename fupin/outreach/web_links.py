"""Sign-in to the web console: one-time links, server-side sessions with idle expiry, CSRF tokens, the audit trail.

A link's token and a session's cookie are random; only their SHA-256 is stored. A link is looked up by its
hash, compared in constant time and taken with a conditional UPDATE, so it signs in once even when opened
twice at the same moment (the same pattern as registration codes, fupin.outreach.registration).
"""

from __future__ import annotations

import enum
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.models import AdminAction, User, WebLink, WebSession, utcnow
from fupin.outreach.one_time import Refusal, claim, digest
from fupin.outreach.users import split_sender
from fupin.values import Role

logger = logging.getLogger(__name__)

LINK_TTL = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(hours=8)
# Who may sign in: admins fully, lead units read-only for their own system.
CONSOLE_ROLES = (Role.ADMIN, Role.LEAD)


class SignInError(Exception):
    """A link that cannot sign in (unknown, used, expired) or a user who may not use the console; Chinese text."""


class AuditedAction(str, enum.Enum):
    """The writes the console allows, as recorded in the audit trail."""

    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    VILLAGE_DEEP_POVERTY = "village_deep_poverty"
    REOPEN_SUBMISSION = "reopen_submission"
    INVITE = "invite"


@dataclass(frozen=True)
class ConsoleUser:
    """Who is signed in: the user, their role, and the lead unit whose system a lead user sees."""

    user_id: int
    role: Role
    name: str
    lead_unit: str | None
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        """County staff: every page and the admin actions."""
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie value (given to the browser once) and who it is."""

    cookie: str
    user: ConsoleUser


def find_user(session: Session, sender_id: str) -> User | None:
    """The user of a sender id (telegram:123; a bare id is a console user), if any."""
    channel, external = split_sender(sender_id)
    return session.scalar(select(User).where(User.channel == channel, User.external_id == external))


def issue_link(session: Session, user_id: int, ttl: timedelta = LINK_TTL) -> str:
    """A one-time sign-in token for an admin or lead-unit user; raises SignInError for anyone else."""
    user = session.get(User, user_id)
    if user is None or Role(user.role) not in CONSOLE_ROLES:
        raise SignInError("只有县级管理员和牵头单位联系人可以登录网页管理台。")
    token = secrets.token_urlsafe(32)
    session.add(WebLink(token_hash=digest(token), user_id=user.id, expires_at=utcnow() + ttl))
    session.flush()
    logger.info("web sign-in link issued for user %s", user.id)
    return token


def redeem_link(session: Session, token: str) -> NewSession:
    """Use a sign-in token once and open a session; raises SignInError for a wrong, used or expired one."""
    claimed = claim(session, WebLink, token)
    if claimed is Refusal.EXPIRED:
        raise SignInError("登录链接已过期（15分钟内有效），请在助手中发送 /web 获取新的链接。")
    if isinstance(claimed, Refusal):
        raise SignInError("登录链接无效或已经用过，请在助手中发送 /web 获取新的链接。")
    row = claimed
    user = session.get(User, row.user_id)
    if user is None or Role(user.role) not in CONSOLE_ROLES:
        raise SignInError("只有县级管理员和牵头单位联系人可以登录网页管理台。")
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=digest(cookie), user_id=user.id, csrf_token=csrf, last_seen_at=row.used_at))
    record_action(session, user.id, AuditedAction.SIGN_IN)
    session.flush()
    return NewSession(cookie, _console_user(user, csrf))


def _console_user(user: User, csrf: str) -> ConsoleUser:
    return ConsoleUser(user.id, Role(user.role), user.display_name or user.external_id, user.lead_unit, csrf)


def current_user(
    session: Session, cookie: str, idle: timedelta = IDLE_TIMEOUT, now: datetime | None = None
) -> ConsoleUser | None:
    """The signed-in user of a session cookie, touching the session; None when unknown, ended or idle too long."""
    if not cookie:
        return None
    hashed = digest(cookie)
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hashed))
    if row is None or not hmac.compare_digest(row.token_hash, hashed) or row.ended_at is not None:
        return None
    now = now or utcnow()
    if row.last_seen_at + idle <= now:
        row.ended_at = now
        return None
    user = session.get(User, row.user_id)
    if user is None or Role(user.role) not in CONSOLE_ROLES:
        return None
    row.last_seen_at = now
    return _console_user(user, row.csrf_token)


def end_session(session: Session, cookie: str) -> None:
    """Sign out: the session's cookie stops working."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(cookie)))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        record_action(session, row.user_id, AuditedAction.SIGN_OUT)


def csrf_ok(user: ConsoleUser, submitted: str) -> bool:
    """Whether a form's CSRF token is the session's (constant-time)."""
    return bool(submitted) and hmac.compare_digest(user.csrf_token.encode(), submitted.encode())


def record_action(session: Session, user_id: int, action: AuditedAction, detail: str = "") -> None:
    """Add an entry to the audit trail (and the log): who did what, when."""
    session.add(AdminAction(user_id=user_id, action=action.value, detail=detail))
    logger.info("web console: user %s %s %s", user_id, action.value, detail)


@dataclass(frozen=True)
class AuditEntry:
    """One audit-trail entry as shown."""

    who: str
    action: AuditedAction
    detail: str
    at: datetime


def audit_trail(session: Session, limit: int = 50) -> list[AuditEntry]:
    """The latest audit entries, newest first."""
    rows = session.execute(
        select(AdminAction, User)
        .join(User, AdminAction.user_id == User.id)
        .order_by(AdminAction.created_at.desc(), AdminAction.id.desc())
        .limit(limit)
    )
    return [
        AuditEntry(
            user.display_name or f"{user.channel}:{user.external_id}", AuditedAction(a.action), a.detail, a.created_at
        )
        for a, user in rows
    ]
