"""The quarter's logistics figures for the overview: parcels, weight and fees by carrier and township, and
how many delivered orders have a tracking record (the plan's 邮政等快递公司物流数据)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.orm import Session

from fupin.logistics.records import ShipmentInput
from fupin.models import ORDER_SOURCE, SaleRecord, Shipment, Township
from fupin.periods import Period
from fupin.reporting.rows import counted_sales
from fupin.values import Carrier

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CarrierLine:
    """Parcels of one carrier in one township: how many, and the weight and fees the carrier's data gave."""

    carrier: str
    township: str
    parcels: int
    weight_grams: int
    fee_fen: int


@dataclass(frozen=True)
class LogisticsFigures:
    """The delivered orders of a period and how they travelled."""

    delivered: int
    tracked: int  # with a carrier's tracking number
    matched: int  # whose number the carrier's export confirmed (weight and fee known)
    lines: list[CarrierLine]

    @property
    def fee_fen(self) -> int:
        """The logistics fees of the period (borne by buyers, never households)."""
        return sum(line.fee_fen for line in self.lines)

    @property
    def weight_grams(self) -> int:
        """The weight carried in the period."""
        return sum(line.weight_grams for line in self.lines)

    def by_carrier(self) -> dict[str, CarrierLine]:
        """The lines summed over townships, per carrier."""
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for line in self.lines:
            total = sums[line.carrier]
            total[0] += line.parcels
            total[1] += line.weight_grams
            total[2] += line.fee_fen
        return {name: CarrierLine(name, "", *values) for name, values in sums.items()}


def carrier_name(carrier: Carrier, company: str) -> str:
    """A carrier as the overview names it: 邮政, 顺丰快递, 其他快递, 自送."""
    return ShipmentInput(carrier, None, company).label() if carrier is not Carrier.SELF else Carrier.SELF.value


def logistics_figures(session: Session, period: Period) -> LogisticsFigures:
    """How the orders delivered in the period travelled (a delivery counts in the quarter of its sale record)."""
    query = (
        counted_sales(Township.name, Shipment.carrier, Shipment.company, Shipment.tracking_no, Shipment.weight_grams,
                      Shipment.fee_fen, Shipment.imported_at, period=period)
        .join(Township, SaleRecord.township_id == Township.id)
        .outerjoin(Shipment, Shipment.order_id == SaleRecord.order_id)
        .where(SaleRecord.source == ORDER_SOURCE, SaleRecord.order_id.is_not(None))
    )  # fmt: skip
    delivered = tracked = matched = 0
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for township, carrier, company, number, grams, fee, imported in session.execute(query):
        delivered += 1
        if carrier is None:
            continue  # delivered before delivery records existed
        tracked += bool(number)
        matched += imported is not None
        line = sums[(carrier_name(Carrier(carrier), company), township)]
        line[0] += 1
        line[1] += grams or 0
        line[2] += fee or 0
    lines = [CarrierLine(name, township, *values) for (name, township), values in sorted(sums.items())]
    return LogisticsFigures(delivered=delivered, tracked=tracked, matched=matched, lines=lines)
