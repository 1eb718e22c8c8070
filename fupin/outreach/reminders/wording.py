"""Pieces of the reminders' Chinese texts that several kinds share."""

from __future__ import annotations

from collections.abc import Sequence

from fupin.models import Order
from fupin.orders.lifecycle import view
from fupin.outreach.reminders.config import MAX_LISTED
from fupin.reporting.formatting import chinese_date
from fupin.settings import TIMEZONE
from fupin.values import format_yuan


def listed(items: Sequence[str]) -> str:
    """The items as a dashed list of at most MAX_LISTED lines, the rest counted."""
    lines = [f"- {item}" for item in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"……等共{len(items)}项")
    return "\n".join(lines)


def days_left(offset: int) -> str:
    """How long until the deadline (今天截止, 明天截止, 还有3天截止)."""
    return "今天截止" if offset == 0 else ("明天截止" if offset == 1 else f"还有{offset}天截止")


def coverage(form: str, expected: Sequence[str], done: set[str]) -> str:
    """Who has submitted a form: counts, and the first missing names."""
    missing = [name for name in expected if name not in done]
    line = f"{form}：已报送{len(expected) - len(missing)}个，未报送{len(missing)}个"
    if missing:
        shown = "、".join(missing[:MAX_LISTED])
        line += f"（{shown}{'等' if len(missing) > MAX_LISTED else ''}）"
    return line


def order_line(order: Order, with_buyer: bool) -> str:
    """An unpaid order in one line: number, (buyer,) product, amount, place, delivery date and contact."""
    shown = view(order)
    delivered = order.updated_at.astimezone(TIMEZONE).date()
    contact = f"，供货联系人{shown.contact_name} {shown.contact_phone}" if shown.contact_name else ""
    return (
        f"{shown.order_no}{' ' + shown.buyer if with_buyer else ''} {shown.product}{shown.quantity}"
        f" {format_yuan(shown.amount_fen)}元（{shown.place}，{chinese_date(delivered)}送达{contact}）"
    )
