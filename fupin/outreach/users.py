"""Chat identities and their roles: buyers, supply contacts of a township or village, county admins."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fupin.models import Listing, SupplyContact, User
from fupin.parsing import ParseError
from fupin.places import Gazetteer
from fupin.values import Role, RoleGrant

logger = logging.getLogger(__name__)


def split_sender(sender_id: str) -> tuple[str, str]:
    """A dialogue sender id "telegram:123" as (channel, external id); a bare id is a console user."""
    channel, _, external = sender_id.partition(":")
    return (channel, external) if external else ("console", channel)


def sender_of(channel: str, external_id: str | int) -> str:
    """The dialogue sender id of a chat identity."""
    return f"{channel}:{external_id}"


def user_for(session: Session, sender_id: str) -> User:
    """The sender's user row, made as a buyer on their first order or registration (anyone may buy)."""
    channel, external = split_sender(sender_id)
    user = session.scalar(select(User).where(User.channel == channel, User.external_id == external))
    if user is None:
        user = User(channel=channel, external_id=external, role=Role.BUYER.value)
        session.add(user)
        session.flush()
    return user


@dataclass(frozen=True)
class Identity:
    """Who is talking, as far as the programme is concerned."""

    channel: str
    external_id: str
    user_id: int | None = None
    role: Role | None = None
    township_id: int | None = None
    village_id: int | None = None
    contact_id: int | None = None
    display_name: str = ""
    lead_unit: str | None = None

    @property
    def is_admin(self) -> bool:
        """County staff (商务委, 农业农村委)."""
        return self.role is Role.ADMIN

    @property
    def is_contact(self) -> bool:
        """A township's or village's supply contact."""
        return self.role is Role.CONTACT

    @property
    def is_market(self) -> bool:
        """County market-supervision staff (市场监管), who take up and close quality complaints."""
        return self.role is Role.MARKET

    def may_manage(self, listing: Listing) -> bool:
        """Admins manage every listing; a contact those of their township (or only their village)."""
        return self.may_manage_place(listing.township_id, listing.village_id)

    def may_manage_place(self, township_id: int, village_id: int | None) -> bool:
        """Admins manage every place; a contact their township (or only their village)."""
        if self.is_admin:
            return True
        if not self.is_contact or township_id != self.township_id:
            return False
        return self.village_id is None or village_id == self.village_id

    def may_see_household(self, township_id: int, village_id: int | None) -> bool:
        """Household names (poverty status is sensitive) go to admins and the contacts of that place only."""
        return self.may_manage_place(township_id, village_id)

    def may_see_buyer_phone(self, listing: Listing, ordered_by: int | None) -> bool:
        """A buyer's phone goes to the contacts of the ordered listing, admins, and the buyer themself."""
        return self.may_manage(listing) or (self.user_id is not None and ordered_by == self.user_id)


def identity_of_user(user: User) -> Identity:
    """The identity of a stored user."""
    return Identity(
        channel=user.channel,
        external_id=user.external_id,
        user_id=user.id,
        role=Role(user.role),
        township_id=user.township_id,
        village_id=user.village_id,
        contact_id=user.contact_id,
        display_name=user.display_name,
        lead_unit=user.lead_unit,
    )


def identify(session: Session, sender_id: str) -> Identity:
    """The identity behind a dialogue sender id; unknown senders are buyers without a record."""
    channel, external = split_sender(sender_id)
    user = session.scalar(select(User).where(User.channel == channel, User.external_id == external))
    return Identity(channel, external) if user is None else identity_of_user(user)


def bind_user(
    session: Session,
    sender_id: str,
    role: Role,
    township: str | None = None,
    village: str | None = None,
    display_name: str = "",
    lead_unit: str | None = None,
    grant: RoleGrant = RoleGrant.COMMAND,
) -> User:
    """Bind a chat identity to a role (and, for a contact, a township or village); raises ParseError."""
    channel, external = split_sender(sender_id)
    township_id = village_id = contact_id = None
    if role is Role.LEAD and not lead_unit:
        raise ParseError("牵头单位联系人必须指定牵头单位")
    if role is Role.CONTACT:
        if not township:
            raise ParseError("供货联系人必须指定乡镇（街道）")
        gazetteer = Gazetteer.load(session)
        place = gazetteer.resolve_region(f"{township}{village or ''}")
        township_id = place.township.id
        village_id = place.village.id if place.village else None
        contact_id = _contact_for(session, township_id, village_id, display_name)
    user = session.scalar(select(User).where(User.channel == channel, User.external_id == external))
    if user is None:
        user = User(channel=channel, external_id=external)
        session.add(user)
    user.role = role.value
    user.township_id, user.village_id, user.contact_id = township_id, village_id, contact_id
    user.lead_unit = lead_unit if role is Role.LEAD else None
    user.display_name = display_name or user.display_name or ""
    user.granted_by = grant.value
    session.flush()
    logger.info("bound %s as %s (township=%s village=%s)", sender_id, role.value, township_id, village_id)
    return user


def _contact_for(session: Session, township_id: int, village_id: int | None, name: str) -> int | None:
    # The catalogue's supply contact of that place, when there is exactly one to link to.
    query = select(SupplyContact.id).where(SupplyContact.township_id == township_id)
    if village_id is not None:
        query = query.where(SupplyContact.village_id == village_id)
    if name:
        query = query.where(SupplyContact.name == name)
    ids = list(session.scalars(query))
    return ids[0] if len(ids) == 1 else None


def users_for_listing(session: Session, listing: Listing) -> list[User]:
    """The supply contacts who answer for a listing: its village's, else its township's."""
    users = list(
        session.scalars(select(User).where(User.role == Role.CONTACT.value, User.township_id == listing.township_id))
    )
    village_users = [u for u in users if u.village_id is not None and u.village_id == listing.village_id]
    return village_users or [u for u in users if u.village_id is None]


def revoke_user(session: Session, sender_id: str) -> Role | None:
    """Take every role and place from a user, who stays a buyer (their orders stay theirs).

    Returns the role they had; None for an unknown user.
    """
    channel, external = split_sender(sender_id)
    user = session.scalar(select(User).where(User.channel == channel, User.external_id == external))
    if user is None:
        return None
    previous = Role(user.role)
    _demote(user)
    session.flush()
    logger.info("revoked %s: %s -> buyer", sender_id, previous.value)
    return previous


def bind_configured_admins(session: Session, channel: str, admin_ids: Iterable[str]) -> list[User]:
    """Make the configured ids admins and take the role back from admins the configuration made and no longer
    lists; an admin by registration code or by the command line keeps it (revoke takes it). Returns the demoted."""
    listed = set(admin_ids)
    for external in sorted(listed):
        existing = session.scalar(select(User).where(User.channel == channel, User.external_id == external))
        if existing is None or existing.role != Role.ADMIN.value:
            bind_user(session, sender_of(channel, external), Role.ADMIN, grant=RoleGrant.CONFIG)
    configured = or_(User.granted_by == RoleGrant.CONFIG.value, User.granted_by.is_(None))
    query = select(User).where(User.channel == channel, User.role == Role.ADMIN.value, configured)
    demoted = [user for user in session.scalars(query) if user.external_id not in listed]
    for user in demoted:
        _demote(user)
        logger.warning("%s is not in the configured admins any more: now a buyer", sender_of(channel, user.external_id))
    session.flush()
    return demoted


def _demote(user: User) -> None:
    user.role = Role.BUYER.value
    user.township_id = user.village_id = user.contact_id = None
    user.lead_unit = None
    user.granted_by = None
