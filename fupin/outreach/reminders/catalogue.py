"""The reminder to update the catalogue: listings not updated for a month, to the contacts answering for them."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from fupin.models import Listing, Product, User, Village
from fupin.outreach.reminders.audience import Audience
from fupin.outreach.reminders.base import Reminder
from fupin.outreach.reminders.config import ReminderConfig
from fupin.outreach.reminders.kinds import ReminderKind
from fupin.outreach.reminders.occurrences import Occurrence, Recipient
from fupin.outreach.reminders.wording import listed
from fupin.values import Role


@dataclass(frozen=True)
class StaleListing:
    """An active listing not updated for the stale period, with what the message says of it."""

    id: int
    township_id: int
    village_id: int | None
    product: str
    village: str
    updated_at: datetime


def stale_listings(audience: Audience) -> list[StaleListing]:
    """Active listings not updated for the stale period as of the latest reference time, oldest first."""
    cutoff = audience.until - timedelta(days=audience.config.catalogue_stale_days)
    rows = audience.session.execute(
        select(
            Listing.id,
            Listing.township_id,
            Listing.village_id,
            Product.name,
            Listing.variety,
            Village.short_name,
            Listing.updated_at,
        )
        .join(Product, Product.id == Listing.product_id)
        .outerjoin(Village, Village.id == Listing.village_id)
        .where(Listing.active.is_(True), Listing.updated_at < cutoff)
        .order_by(Listing.updated_at, Listing.id)
    ).all()
    return [
        StaleListing(row[0], row[1], row[2], row[3] + (f"（{row[4]}）" if row[4] else ""), row[5] or "", row[6])
        for row in rows
    ]


class CatalogueReminder(Reminder):
    """Checked daily, sent at most once a month per contact (the key's period is the month)."""

    kind = ReminderKind.CATALOGUE

    def occurrences_on(self, day: date, due: datetime, config: ReminderConfig) -> list[Occurrence]:
        """Every day, keyed by its month."""
        return [Occurrence(self.kind, due, f"{day:%Y-%m}", 0)]

    def recipients(self, audience: Audience, occurrence: Occurrence, reference: datetime) -> list[Recipient]:
        """The contacts answering for listings stale at `reference`, each with their listings."""
        stale = audience.memo((self.kind, "stale"), lambda: stale_listings(audience))
        cutoff = reference - timedelta(days=audience.config.catalogue_stale_days)
        # Listings are sorted by update time: those stale at `reference` are a prefix of the list, and
        # days with the same prefix (most days of a long listing) have the same recipients.
        times = audience.memo((self.kind, "times"), lambda: [s.updated_at for s in stale])
        count = bisect.bisect_left(times, cutoff)
        return audience.memo((self.kind, count), lambda: self._recipients_of(audience, stale[:count]))

    def _recipients_of(self, audience: Audience, stale: Sequence[StaleListing]) -> list[Recipient]:
        names = audience.townships()
        by_place: dict[int, list[User]] = {}
        for contact in audience.users(Role.CONTACT):
            by_place.setdefault(contact.township_id or 0, []).append(contact)
        stale_by_user: dict[int, list[StaleListing]] = {}
        users: dict[int, User] = {}
        for listing in stale:
            # Same rule as the order pushes: the village's contacts answer for it, else the township's.
            of_place = by_place.get(listing.township_id, [])
            village = [u for u in of_place if u.village_id is not None and u.village_id == listing.village_id]
            for user in village or [u for u in of_place if u.village_id is None]:
                stale_by_user.setdefault(user.id, []).append(listing)
                users[user.id] = user
        found = []
        for user_id, theirs in stale_by_user.items():
            user = users[user_id]
            place = names.get(user.township_id or 0, "")
            if user.village_id is not None:
                village_row = audience.session.get(Village, user.village_id)
                place += village_row.short_name if village_row else ""
            lines = [f"{s.product}（{names.get(s.township_id, '')}{s.village}）" for s in theirs]
            found.append(audience.recipient(user, place, lines))
        return found

    def message(self, occurrence: Occurrence, recipient: Recipient, config: ReminderConfig) -> str:
        """The stale listings and how to update them by chat."""
        return (
            f"【目录更新提醒】{recipient.about}有以下{len(recipient.items)}条供货信息已超过"
            f"{config.catalogue_stale_days}天没有更新：\n{listed(recipient.items)}\n"
            "按方案，贫困户农特产品信息至少每月更新一次。请核对剩余数量和价格，直接发消息告诉我，"
            "例如“土豆还剩两百斤”“蜂蜜卖完了”“把脐橙的价格改成4元/斤”。"
        )
