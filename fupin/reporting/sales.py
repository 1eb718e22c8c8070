"""Purchase records and progress: sales reported by contacts, and figures against the plan's targets."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from fupin.catalog.search import CatalogNames, ProductVocabulary
from fupin.models import REPORT_SOURCE, Buyer, Listing, SaleRecord, Township, Village
from fupin.orders.buyers import find_or_register_buyer, purchase_remark
from fupin.outreach.users import Identity
from fupin.periods import Period, quarter_of
from fupin.reporting.kinds import ReportKind
from fupin.reporting.locks import DEFAULT_GRACE_DAYS, ReportRefused, check_open
from fupin.reporting.rows import counted_sales
from fupin.values import (
    ANNUAL_TARGET_FEN,
    DEEP_POVERTY_TARGET_FEN,
    MAX_AMOUNT_FEN,
    BuyerCategory,
    Channel,
    Quantity,
    format_yuan,
    quantity_problem,
)

logger = logging.getLogger(__name__)


class SaleError(Exception):
    """A sale that cannot be recorded; the message is a Chinese reason for the user."""


@dataclass(frozen=True)
class SaleDraft:
    """A sale reported by a supply contact, before confirmation."""

    buyer_name: str
    product: str
    quantity: Quantity
    amount_fen: int
    sold_on: date
    listing_id: int | None = None

    def describe(self) -> str:
        """The sale read back in Chinese."""
        return (
            f"{self.sold_on:%Y年%m月%d日} 卖给{self.buyer_name} {self.product}{self.quantity}，"
            f"金额{format_yuan(self.amount_fen)}元"
        )


def draft_sale(
    session: Session,
    identity: Identity,
    *,
    buyer_name: str | None,
    product: str | None,
    quantity: Quantity | None,
    amount_fen: int | None,
    unit_price_fen: int | None,
    sold_on: date,
    names: CatalogNames | None = None,
    grace_days: int = DEFAULT_GRACE_DAYS,
) -> SaleDraft:
    """Check a reported sale and work out its amount; raises SaleError with what is missing.

    `names`: the process's cached vocabulary (read afresh from the database without it).
    """
    if not (identity.is_contact or identity.is_admin):
        raise SaleError("只有登记过的供货联系人才能登记销售。")
    missing = [name for name, value in (("采购单位", buyer_name), ("产品", product), ("数量", quantity)) if not value]
    if missing:
        raise SaleError("还缺：" + "、".join(missing) + "。请按“今天卖给县医院食堂50斤土豆，一共150元”这样说。")
    assert product and quantity and buyer_name
    matches = names.get(session)[0].match(product) if names is not None else []
    if not matches:
        matches = ProductVocabulary.load(session).match(product)  # no cache, or a product added since it was read
    name = matches[0].product if matches else product
    listing = _own_listing(session, identity, [m.product_id for m in matches])
    if amount_fen is None and unit_price_fen is not None:
        amount_fen = int((quantity.value * unit_price_fen).to_integral_value())
    if amount_fen is None and listing is not None and listing.unit == quantity.unit:
        amount_fen = int((quantity.value * listing.price_fen).to_integral_value())
    if amount_fen is None:
        raise SaleError("请说一下金额，比如“一共150元”。")
    if amount_fen <= 0 or quantity.value <= 0:
        raise SaleError("数量和金额都要大于0。")
    if problem := quantity_problem(quantity.value):
        raise SaleError(f"{problem}。")
    if amount_fen > MAX_AMOUNT_FEN:
        raise SaleError("金额太大了，请核对一下。")
    township_id = listing.township_id if listing else identity.township_id
    if township_id is not None:
        # Said before the read-back, so nobody confirms a sale that cannot be recorded.
        _check_quarter_open(session, identity, township_id, sold_on, grace_days)
    return SaleDraft(buyer_name, name, quantity, amount_fen, sold_on, listing.id if listing else None)


def _own_listing(session: Session, identity: Identity, product_ids: list[int]) -> Listing | None:
    if not product_ids:
        return None
    listings = [
        li
        for li in session.scalars(select(Listing).where(Listing.product_id.in_(product_ids)))
        if identity.may_manage(li)
    ]
    return listings[0] if len(listings) == 1 else None


def _check_quarter_open(session: Session, identity: Identity, township_id: int, sold_on: date, grace_days: int) -> None:
    # A chat-reported sale is a row of the township's 附件2: a quarter locked by 确认报送, or past its deadline
    # plus the grace days for a contact, takes no new rows, as a file import would not.
    township = session.get(Township, township_id)
    assert township is not None
    try:
        check_open(session, ReportKind.SALES, quarter_of(sold_on), township.name, identity, grace_days=grace_days)
    except ReportRefused as exc:
        raise SaleError(str(exc)) from exc


def record_sale(
    session: Session, identity: Identity, draft: SaleDraft, grace_days: int = DEFAULT_GRACE_DAYS
) -> SaleRecord:
    """Record a confirmed sale as a purchase record of the contact's place (附件2/附件3 row)."""
    listing = session.get(Listing, draft.listing_id) if draft.listing_id else None
    township_id = listing.township_id if listing else identity.township_id
    if township_id is None:
        raise SaleError("请说明是哪个乡镇的产品。")
    # Checked again at confirmation: the quarter may have been locked since the read-back.
    _check_quarter_open(session, identity, township_id, draft.sold_on, grace_days)
    buyer, _created = find_or_register_buyer(session, draft.buyer_name)
    household = listing.household if listing else None
    record = SaleRecord(
        township_id=township_id,
        village_id=listing.village_id if listing else identity.village_id,
        household_name=household.name if household else "",
        poor_households=household.poor_households if household and household.is_cooperative else None,
        buyer_id=buyer.id,
        buyer_name=buyer.name,
        product_name=draft.product,
        quantity=draft.quantity.value,
        unit=draft.quantity.unit,
        amount_fen=draft.amount_fen,
        sold_on=draft.sold_on,
        remarks=purchase_remark(BuyerCategory(buyer.category)),
        source=REPORT_SOURCE,
    )
    session.add(record)
    session.flush()
    logger.info("sale recorded by %s: %s", identity.external_id, draft.describe())
    return record


@dataclass
class Progress:
    """Sales of a period: total, deep-poverty part, by channel and by township, against the plan."""

    period: Period
    total_fen: int = 0
    deep_fen: int = 0
    by_channel: dict[Channel, int] = field(default_factory=lambda: dict.fromkeys(Channel, 0))
    other_fen: int = 0  # 个人 and unknown buyers count towards the total only
    by_township: dict[str, int] = field(default_factory=dict)
    # The parts of a channel (五进: 进机关, 进学校 …), by the buyer's category.
    by_category: dict[BuyerCategory, int] = field(default_factory=lambda: dict.fromkeys(BuyerCategory, 0))

    @property
    def target_fen(self) -> int:
        """The plan's annual target (the quarter's share for a quarter)."""
        return ANNUAL_TARGET_FEN if self.period.quarter is None else ANNUAL_TARGET_FEN // 4

    def channel_target_fen(self, channel: Channel) -> int:
        """A channel's target for the period."""
        annual = channel.annual_target_fen
        return annual if self.period.quarter is None else annual // 4

    @property
    def deep_target_fen(self) -> int:
        """The deep-poverty target for the period."""
        return DEEP_POVERTY_TARGET_FEN if self.period.quarter is None else DEEP_POVERTY_TARGET_FEN // 4


def progress(session: Session, period: Period, township_id: int | None = None) -> Progress:
    """Sum the counted purchase records of a period (of one township, when given)."""
    query = (
        counted_sales(
            SaleRecord.amount_fen, Township.name, Township.deep_poverty, Village.deep_poverty, Buyer.category,
            period=period,
        )
        .join(Township, SaleRecord.township_id == Township.id)
        .outerjoin(Village, SaleRecord.village_id == Village.id)
        .outerjoin(Buyer, SaleRecord.buyer_id == Buyer.id)
    )  # fmt: skip
    if township_id is not None:
        query = query.where(SaleRecord.township_id == township_id)
    result = Progress(period)
    by_township: dict[str, int] = defaultdict(int)
    for amount, township, township_deep, village_deep, category in session.execute(query):
        result.total_fen += amount
        if township_deep or village_deep:
            result.deep_fen += amount
        channel = BuyerCategory(category).channel if category else None
        if category:
            result.by_category[BuyerCategory(category)] += amount
        if channel is None:
            result.other_fen += amount
        else:
            result.by_channel[channel] += amount
        by_township[township] += amount
    result.by_township = dict(sorted(by_township.items(), key=lambda kv: -kv[1]))
    return result


def percent(part: int, whole: int) -> str:
    """A share as a percentage with one decimal (12.5%)."""
    if whole <= 0:
        return "-"
    return f"{Decimal(part * 100) / Decimal(whole):.1f}%"


def wan(fen: int) -> str:
    """An amount in 万元 with two decimals."""
    return f"{Decimal(fen) / Decimal(1_000_000):.2f}万元"
