"""One-time secrets (invite codes, web sign-in links): stored only as SHA-256, compared in constant time, used once.

A secret is claimed by one conditional UPDATE that matches only while it is unused, so two requests racing
with the same secret cannot both win, on SQLite or PostgreSQL. The caller owns the transaction and words the
refusal for its own users.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fupin.models import RegistrationCode, WebLink, utcnow

logger = logging.getLogger(__name__)

OneTime = TypeVar("OneTime", RegistrationCode, WebLink)


class Refusal(enum.Enum):
    """Why a secret was not accepted: wrong and used read alike, so a guesser learns nothing."""

    WRONG_OR_USED = "wrong_or_used"
    EXPIRED = "expired"


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def claim(session: Session, model: type[OneTime], secret: str, now: datetime | None = None) -> OneTime | Refusal:
    """The row of an unused, unexpired secret, marked used; otherwise why it was refused."""
    hashed = digest(secret)
    attribute = "code_hash" if model is RegistrationCode else "token_hash"
    row = session.scalar(select(model).where(getattr(model, attribute) == hashed))
    if row is None or not hmac.compare_digest(str(getattr(row, attribute)), hashed) or row.used_at is not None:
        return Refusal.WRONG_OR_USED
    now = now or utcnow()
    if row.expires_at <= now:
        return Refusal.EXPIRED
    taken = session.execute(
        update(model)
        .where(model.id == row.id, model.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # another request used it between our read and our update
        return Refusal.WRONG_OR_USED
    return row
