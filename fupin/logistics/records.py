"""The carrier and tracking number of a delivered order, as its supply contact gives them.

"XF…已发邮政 9876543210123", "XF…顺丰 SF1234567890 寄出了", "XF…自己送到了": the message names the carrier
(or shows it in the number's shape) and the number; a delivery with neither is the supply side's own.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.mentions import ORDER_NO_SPANS
from fupin.models import Order, Shipment
from fupin.parsing import normalize_text
from fupin.values import Carrier

logger = logging.getLogger(__name__)

# Express companies people name; each is Carrier.EXPRESS with that company.
EXPRESS_COMPANIES = ("顺丰", "中通", "圆通", "韵达", "申通", "京东", "极兔", "德邦", "百世", "天天", "优速", "宅急送")
_POST = re.compile(r"邮政|EMS|邮局|邮寄|中国邮", re.IGNORECASE)
_EXPRESS = re.compile("|".join(EXPRESS_COMPANIES))
_ANY_EXPRESS = re.compile(r"快递|物流|寄出|寄了|发件|邮件号|单号|运单")
# Tracking numbers: 8–30 letters and digits with at least 8 digits (EA123456789CN, SF1234567890123, 9876…).
_TRACKING = re.compile(r"(?<![0-9A-Za-z])(?=(?:[A-Za-z]*\d){8})[A-Za-z]{0,4}\d[0-9A-Za-z]{7,29}(?![0-9A-Za-z])")
# Number shapes that name their company: 邮政's international form (EA123456789CN), 顺丰 (SF…), 京东 (JD…).
_SHAPES = (
    (re.compile(r"^[A-Z]{2}\d{9}CN$"), Carrier.POST, ""),
    (re.compile(r"^SF\d{10,15}$"), Carrier.EXPRESS, "顺丰"),
    (re.compile(r"^JD[A-Z]?\d{10,15}$"), Carrier.EXPRESS, "京东"),
    (re.compile(r"^YT\d{10,15}$"), Carrier.EXPRESS, "圆通"),
)
MAX_TRACKING = 40


class ShipmentError(ValueError):
    """A delivery record that cannot be taken; the message is a Chinese reason for the contact."""


@dataclass(frozen=True)
class ShipmentInput:
    """What a contact said about how an order travels."""

    carrier: Carrier
    tracking_no: str | None = None
    company: str = ""
    # The message named no carrier and the number's shape told none: a correction keeps the recorded one.
    guessed: bool = field(default=False, compare=False)

    def label(self) -> str:
        """How the buyer reads it: 邮政 单号9876543210123, 顺丰快递 单号SF…, 供货方自送."""
        if self.carrier is Carrier.SELF:
            return "供货方自送"
        name = "邮政" if self.carrier is Carrier.POST else (f"{self.company}快递" if self.company else "快递")
        return f"{name} 单号{self.tracking_no}" if self.tracking_no else name


def parse_shipment(text: str) -> ShipmentInput:
    """The carrier and tracking number in a delivery message; the supply side's own delivery when it names none.

    Raises ShipmentError for a carrier named without a number ("XF…已发邮政").
    """
    cleaned = ORDER_NO_SPANS.sub(" ", normalize_text(text))
    numbers = [m.group(0).upper() for m in _TRACKING.finditer(cleaned)]
    company_match = _EXPRESS.search(cleaned)
    if _POST.search(cleaned):
        carrier, company = Carrier.POST, ""
    elif company_match:
        carrier, company = Carrier.EXPRESS, company_match.group(0)
    elif numbers or _ANY_EXPRESS.search(cleaned):
        shape = _shape_of(numbers[0]) if numbers else None
        if shape is None:
            return _express_without_name(numbers)
        carrier, company = shape
    else:
        return ShipmentInput(Carrier.SELF)
    if not numbers:
        said = "邮政" if carrier is Carrier.POST else (company or "快递")
        raise ShipmentError(f"请附上{said}的单号，比如“XF261129A1B2C3已发{said} 9876543210123”。")
    if len(numbers) > 1:
        raise ShipmentError(f"消息里有{len(numbers)}个像单号的号码（{'、'.join(numbers)}），请一次只发一个单号。")
    return ShipmentInput(carrier, numbers[0], company)


def _shape_of(number: str) -> tuple[Carrier, str] | None:
    for pattern, carrier, company in _SHAPES:
        if pattern.match(number):
            return carrier, company
    return None


def _express_without_name(numbers: list[str]) -> ShipmentInput:
    if not numbers:
        raise ShipmentError("请附上快递单号，比如“XF261129A1B2C3已发顺丰 SF1234567890123”。")
    if len(numbers) > 1:
        raise ShipmentError(f"消息里有{len(numbers)}个像单号的号码（{'、'.join(numbers)}），请一次只发一个单号。")
    return ShipmentInput(Carrier.EXPRESS, numbers[0], guessed=True)


def record_shipment(session: Session, order: Order, shipment: ShipmentInput, user_id: int | None) -> Shipment:
    """Write (or correct, until the carrier's export has matched it) how an order travelled; raises ShipmentError."""
    if shipment.tracking_no:
        taken = session.scalar(
            select(Shipment).where(Shipment.tracking_no == shipment.tracking_no, Shipment.order_id != order.id)
        )
        if taken is not None:
            raise ShipmentError(f"单号 {shipment.tracking_no} 已登记在订单 {taken.order.order_no} 上，请核对。")
    row = session.scalar(select(Shipment).where(Shipment.order_id == order.id))
    if row is None:
        row = Shipment(order_id=order.id)
        session.add(row)
    elif row.imported_at is not None and row.tracking_no != shipment.tracking_no:
        raise ShipmentError(f"订单 {order.order_no} 的单号 {row.tracking_no} 已与快递公司的数据核对过，不能再改。")
    row.carrier = shipment.carrier.value
    row.company = shipment.company
    row.tracking_no = shipment.tracking_no
    row.recorded_by = user_id
    session.flush()
    logger.info("order %s: shipment %s", order.order_no, shipment.label())
    return row


def shipment_of(session: Session, order_id: int) -> ShipmentInput | None:
    """How an order travelled, if it was recorded."""
    row = session.scalar(select(Shipment).where(Shipment.order_id == order_id))
    if row is None:
        return None
    return ShipmentInput(Carrier(row.carrier), row.tracking_no, row.company)
