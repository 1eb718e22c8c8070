"""One-time registration codes: an admin invites a supply contact (lead unit, market staff, admin) to bind a chat account.

Only a code's SHA-256 is stored. Redeeming looks the hash up (an index lookup on a hash reveals
nothing usable about other codes), compares it in constant time, and marks the code used with a
conditional UPDATE, so a code works once even when two people send it at the same moment. An admin
lists the codes still open by id (the codes themselves are never stored) and revokes one by marking it
used by nobody.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fupin.models import RegistrationCode, Township, User, Village, utcnow
from fupin.outreach.one_time import Refusal, claim, digest
from fupin.outreach.users import bind_user
from fupin.parsing import ParseError
from fupin.places import Gazetteer
from fupin.settings import TIMEZONE
from fupin.values import Role, RoleGrant, lead_units

logger = logging.getLogger(__name__)

# No 0/O/1/I/L: codes are read out over the phone and typed on small keyboards.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
DEFAULT_TTL = timedelta(days=7)

ROLE_LABELS = {
    Role.CONTACT: "供货联系人",
    Role.LEAD: "牵头单位联系人",
    Role.MARKET: "市场监管人员",
    Role.ADMIN: "县级管理员",
    Role.BUYER: "采购方",
}
# The roles a code may grant (a buyer needs none: anyone may buy).
INVITABLE_ROLES = (Role.CONTACT, Role.LEAD, Role.MARKET, Role.ADMIN)


class RegistrationError(Exception):
    """A code that cannot be used, with a Chinese message for the user."""


@dataclass(frozen=True)
class Invitation:
    """A freshly issued code (shown once) and what it grants."""

    code: str
    role: Role
    scope: str
    expires_at_text: str


def normalise_code(text: str) -> str:
    """A code as typed: spaces and dashes dropped, upper case; letters easily confused mapped back."""
    cleaned = "".join(ch for ch in text.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans("OIL", "011"))


def describe_scope(role: Role, township: str | None, village: str | None, lead_unit: str | None) -> str:
    """What a registration grants, in Chinese (龙角镇张家村供货联系人)."""
    place = (township or "") + (village or "")
    return f"{place or lead_unit or '全县'}{ROLE_LABELS[role]}"


def issue_code(
    session: Session,
    role: Role,
    *,
    township: str | None = None,
    village: str | None = None,
    lead_unit: str | None = None,
    display_name: str = "",
    created_by: int | None = None,
    ttl: timedelta = DEFAULT_TTL,
) -> Invitation:
    """Create a single-use code for a role and place; raises ParseError for an unknown place or unit."""
    township_id = village_id = None
    township_name = village_name = None
    if role is Role.CONTACT:
        if not township:
            raise ParseError("供货联系人的邀请码必须指定乡镇（街道）")
        place = Gazetteer.load(session).resolve_region(f"{township}{village or ''}")
        township_id, township_name = place.township.id, place.township.name
        if place.village is not None:
            village_id, village_name = place.village.id, place.village.short_name
    elif role is Role.LEAD:
        if lead_unit not in lead_units():
            raise ParseError(f"牵头单位应为：{'、'.join(lead_units())}")
    elif role not in INVITABLE_ROLES:
        raise ParseError("邀请码只用于供货联系人、牵头单位联系人、市场监管人员和管理员")
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = utcnow() + ttl
    session.add(
        RegistrationCode(
            code_hash=digest(code),
            role=role.value,
            township_id=township_id,
            village_id=village_id,
            lead_unit=lead_unit if role is Role.LEAD else None,
            display_name=display_name,
            created_by=created_by,
            expires_at=expires_at,
        )
    )
    session.flush()
    logger.info("registration code issued for %s (township=%s village=%s)", role.value, township_id, village_id)
    return Invitation(
        code=code,
        role=role,
        scope=describe_scope(role, township_name, village_name, lead_unit if role is Role.LEAD else None),
        expires_at_text=f"{expires_at.astimezone(TIMEZONE):%Y-%m-%d %H:%M}",
    )


def redeem_code(session: Session, sender_id: str, text: str, display_name: str = "") -> tuple[User, str]:
    """Bind the sender with a code's role and place; returns the user and the scope text.

    Raises RegistrationError for a wrong, used or expired code (the same words for wrong and used,
    so the answer does not tell a guesser which codes exist).
    """
    code = normalise_code(text)
    if len(code) != CODE_LENGTH:
        raise RegistrationError("邀请码不对，请核对后重新输入（10位字母和数字）。")
    claimed = claim(session, RegistrationCode, code)
    if claimed is Refusal.EXPIRED:
        raise RegistrationError("邀请码已过期，请向县商务委索取新的邀请码。")
    if isinstance(claimed, Refusal):
        raise RegistrationError("邀请码不对或已经用过，请向县商务委索取新的邀请码。")
    row = claimed
    role = Role(row.role)
    township = session.get(Township, row.township_id) if row.township_id else None
    village = session.get(Village, row.village_id) if row.village_id else None
    user = bind_user(
        session,
        sender_id,
        role,
        township=township.name if township else None,
        village=village.short_name if village else None,
        lead_unit=row.lead_unit,
        display_name=row.display_name or display_name,
        grant=RoleGrant.CODE,
    )
    session.execute(
        update(RegistrationCode)
        .where(RegistrationCode.id == row.id)
        .values(used_by=user.id)
        .execution_options(synchronize_session=False)
    )
    scope = describe_scope(
        role, township.name if township else None, village.short_name if village else None, row.lead_unit
    )
    logger.info("registration code used: user %s is now %s", user.id, role.value)
    return user, scope


@dataclass(frozen=True)
class OpenCode:
    """An unused, unexpired code as listed to an admin: its id and what it grants, never the code."""

    id: int
    role: Role
    scope: str
    expires_at_text: str


def open_codes(session: Session) -> list[OpenCode]:
    """Codes that can still be redeemed, oldest first (only their hashes are stored, so no code is shown)."""
    rows = session.scalars(
        select(RegistrationCode)
        .where(RegistrationCode.used_at.is_(None), RegistrationCode.expires_at > utcnow())
        .order_by(RegistrationCode.id)
    )
    found = []
    for row in rows:
        role = Role(row.role)
        township = session.get(Township, row.township_id) if row.township_id else None
        village = session.get(Village, row.village_id) if row.village_id else None
        scope = describe_scope(
            role, township.name if township else None, village.short_name if village else None, row.lead_unit
        )
        found.append(OpenCode(row.id, role, scope, f"{row.expires_at.astimezone(TIMEZONE):%Y-%m-%d %H:%M}"))
    return found


def revoke_code(session: Session, code_id: int) -> bool:
    """Make an unused code unredeemable (marked used by nobody); False when no such unused code exists."""
    revoked = session.execute(
        update(RegistrationCode)
        .where(RegistrationCode.id == code_id, RegistrationCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if revoked.rowcount != 1:
        return False
    logger.info("registration code %s revoked", code_id)
    return True
