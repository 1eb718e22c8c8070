"""ORM models of the programme: places, households, contacts, listings, buyers, orders, sales, users."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeMeta, Mapped, registry, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names so that Alembic migrations work the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
mapper_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class Base(metaclass=DeclarativeMeta):
    """Declarative base of every model."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


class DecimalQuantity(TypeDecorator):  # type: ignore[type-arg]
    """An exact Decimal stored as an integer count of thousandths (same on SQLite and PostgreSQL)."""

    impl = BigInteger
    cache_ok = True
    SCALE = 1000

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * self.SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"quantity {value} has more than 3 decimals")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self.SCALE).normalize() + Decimal(0)


class UtcDateTime(TypeDecorator):  # type: ignore[type-arg]
    """Aware datetimes stored as naive UTC; read back as aware UTC (convert to Asia/Shanghai to show)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class Township(Base):
    """A township or sub-district (乡镇、街道) with its statistical code."""

    __tablename__ = "townships"

    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(String(12), nullable=False, unique=True)
    name: Mapped[str] = Column(String(50), nullable=False, unique=True)
    kind: Mapped[str] = Column(String(10), nullable=False)
    deep_poverty: Mapped[bool] = Column(Boolean, nullable=False, default=False)

    villages: Mapped[list[Village]] = relationship("Village", back_populates="township")


class Village(Base):
    """A village or community (村、社区); `short_name` is how people write it (石云村, 杏家湾社区)."""

    __tablename__ = "villages"

    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(String(12), nullable=False, unique=True)
    name: Mapped[str] = Column(String(50), nullable=False)
    short_name: Mapped[str] = Column(String(50), nullable=False, index=True)
    township_id: Mapped[int] = Column(ForeignKey("townships.id"), nullable=False, index=True)
    deep_poverty: Mapped[bool] = Column(Boolean, nullable=False, default=False)

    township: Mapped[Township] = relationship("Township", back_populates="villages")


class Product(Base):
    """A kind of farm product (土豆); aliases (洋芋, 马铃薯) point at it."""

    __tablename__ = "products"

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(50), nullable=False, unique=True)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    aliases: Mapped[list[ProductAlias]] = relationship(
        "ProductAlias", back_populates="product", cascade="all, delete-orphan"
    )


class ProductAlias(Base):
    """Another name people use for a product; editable data, not code."""

    __tablename__ = "product_aliases"

    id: Mapped[int] = Column(Integer, primary_key=True)
    alias: Mapped[str] = Column(String(50), nullable=False, unique=True)
    product_id: Mapped[int] = Column(ForeignKey("products.id"), nullable=False, index=True)

    product: Mapped[Product] = relationship("Product", back_populates="aliases")


class Household(Base):
    """A registered poor household (贫困户) or a cooperative (合作社) selling for several."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("place_key", "name"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    # "<township code>/<village code or ->": one household name per place.
    place_key: Mapped[str] = Column(String(30), nullable=False)
    name: Mapped[str] = Column(String(100), nullable=False)
    township_id: Mapped[int] = Column(ForeignKey("townships.id"), nullable=False, index=True)
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"), index=True)
    is_cooperative: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    poor_households: Mapped[Optional[int]] = Column(Integer)


class SupplyContact(Base):
    """The person (village collective head) who collects and ships a place's products."""

    __tablename__ = "supply_contacts"
    __table_args__ = (UniqueConstraint("township_id", "name", "phone"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(50), nullable=False)
    phone: Mapped[str] = Column(String(20), nullable=False)
    township_id: Mapped[int] = Column(ForeignKey("townships.id"), nullable=False, index=True)
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"), index=True)


class Listing(Base):
    """One line of the supply catalogue (附件1): a household's product on offer."""

    __tablename__ = "listings"
    # Covering indexes for search: filtering and ranking (stock, place, freshness) read the index only.
    __table_args__ = (
        Index(
            "ix_listings_product_rank",
            "product_id",
            "active",
            "remaining_quantity",
            "updated_at",
            "township_id",
            "village_id",
        ),
        Index(
            "ix_listings_township_rank",
            "township_id",
            "active",
            "remaining_quantity",
            "updated_at",
            "village_id",
            "product_id",
        ),
        Index(
            "ix_listings_village_rank",
            "village_id",
            "active",
            "remaining_quantity",
            "updated_at",
            "township_id",
            "product_id",
        ),
    )

    id: Mapped[int] = Column(Integer, primary_key=True)
    # Natural key: township/village/household/product/variety; a re-import updates the same row.
    listing_key: Mapped[str] = Column(String(300), nullable=False, unique=True)
    township_id: Mapped[int] = Column(ForeignKey("townships.id"), nullable=False)
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"))
    household_id: Mapped[Optional[int]] = Column(ForeignKey("households.id"), index=True)
    product_id: Mapped[int] = Column(ForeignKey("products.id"), nullable=False)
    variety: Mapped[str] = Column(String(100), nullable=False, default="")
    unit: Mapped[str] = Column(String(10), nullable=False)
    planned_quantity: Mapped[Decimal] = Column(DecimalQuantity, nullable=False)
    remaining_quantity: Mapped[Decimal] = Column(DecimalQuantity, nullable=False)
    price_fen: Mapped[int] = Column(Integer, nullable=False)
    supply_methods: Mapped[int] = Column(Integer, nullable=False)
    shop_url: Mapped[str] = Column(String(500), nullable=False, default="")
    contact_id: Mapped[Optional[int]] = Column(ForeignKey("supply_contacts.id"), index=True)
    remarks: Mapped[str] = Column(Text, nullable=False, default="")
    active: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    # An OfferKind value. A 预售 listing's quantities are the expected harvest until the contact confirms the
    # real one; a 认养 listing sells adoptions (一头年猪, 一棵果树) whose terms say what the adopter receives.
    offer: Mapped[str] = Column(String(10), nullable=False, default="现货")
    # The month (its first day) a 预售 harvest is expected, or a 认养 adoption is delivered; NULL for 现货.
    expected_month: Mapped[Optional[date]] = Column(Date)
    terms: Mapped[str] = Column(Text, nullable=False, default="")  # 认养: term and what the adopter receives
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    township: Mapped[Township] = relationship("Township")
    village: Mapped[Optional[Village]] = relationship("Village")
    household: Mapped[Optional[Household]] = relationship("Household")
    product: Mapped[Product] = relationship("Product")
    contact: Mapped[Optional[SupplyContact]] = relationship("SupplyContact")

    @property
    def place_label(self) -> str:
        """Township and village as people write them (龙角镇张家村)."""
        return self.township.name + (self.village.short_name if self.village else "")


class CatalogImport(Base):
    """One imported 附件1 file: who filled it in, when, and how many rows were kept or rejected."""

    __tablename__ = "catalog_imports"

    id: Mapped[int] = Column(Integer, primary_key=True)
    file_name: Mapped[str] = Column(String(300), nullable=False)
    filled_by_unit: Mapped[str] = Column(String(100), nullable=False, default="")
    filled_by: Mapped[str] = Column(String(50), nullable=False, default="")
    filler_phone: Mapped[str] = Column(String(20), nullable=False, default="")
    filled_on: Mapped[Optional[date]] = Column(Date)
    rows_imported: Mapped[int] = Column(Integer, nullable=False, default=0)
    rows_rejected: Mapped[int] = Column(Integer, nullable=False, default=0)
    imported_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class Buyer(Base):
    """A buying unit (采购单位) with its category, which decides channel and lead unit."""

    __tablename__ = "buyers"

    id: Mapped[int] = Column(Integer, primary_key=True)
    name: Mapped[str] = Column(String(100), nullable=False, unique=True)
    category: Mapped[str] = Column(String(20), nullable=False)
    lead_unit: Mapped[str] = Column(String(50), nullable=False, default="")
    phone: Mapped[str] = Column(String(20), nullable=False, default="")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class User(Base):
    """A chat identity bound to a role (buyer, supply contact of a place, county admin)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    channel: Mapped[str] = Column(String(20), nullable=False)
    external_id: Mapped[str] = Column(String(64), nullable=False)
    role: Mapped[str] = Column(String(10), nullable=False)
    display_name: Mapped[str] = Column(String(100), nullable=False, default="")
    township_id: Mapped[Optional[int]] = Column(ForeignKey("townships.id"))
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"))
    contact_id: Mapped[Optional[int]] = Column(ForeignKey("supply_contacts.id"))
    buyer_id: Mapped[Optional[int]] = Column(ForeignKey("buyers.id"))
    # For a lead unit's contact (牵头单位, e.g. 县教委): the unit whose 附件3 they report.
    lead_unit: Mapped[Optional[str]] = Column(String(50))
    # A RoleGrant: how the role was given (NULL on rows from before 0008: treated as the configuration's).
    granted_by: Mapped[Optional[str]] = Column(String(10))
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class Order(Base):
    """A phone-style order of a listing by a buyer; it reserves stock until cancelled, rejected or expired."""

    __tablename__ = "orders"

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_no: Mapped[str] = Column(String(30), nullable=False, unique=True)
    listing_id: Mapped[int] = Column(ForeignKey("listings.id"), nullable=False, index=True)
    buyer_id: Mapped[int] = Column(ForeignKey("buyers.id"), nullable=False, index=True)
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"), index=True)
    quantity: Mapped[Decimal] = Column(DecimalQuantity, nullable=False)
    unit: Mapped[str] = Column(String(10), nullable=False)
    unit_price_fen: Mapped[int] = Column(Integer, nullable=False)
    amount_fen: Mapped[int] = Column(BigInteger, nullable=False)
    supply_method: Mapped[int] = Column(Integer, nullable=False)
    phone: Mapped[str] = Column(String(20), nullable=False)
    status: Mapped[str] = Column(String(10), nullable=False)
    # The part of `quantity` still held for this open order and counted as on hand: it goes back to the
    # listing's available stock if the order is cancelled or rejected (0 once closed, or after 卖完了).
    reserved_quantity: Mapped[Decimal] = Column(DecimalQuantity, nullable=False, default=Decimal(0))
    remarks: Mapped[str] = Column(Text, nullable=False, default="")
    # The key of the read-back the buyer confirmed: a second confirmation of it finds this order.
    request_key: Mapped[Optional[str]] = Column(String(64), unique=True, index=True)
    # The listing's OfferKind when the order was placed: a 预售 order stays a pre-order after the harvest.
    offer: Mapped[str] = Column(String(10), nullable=False, default="现货")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    listing: Mapped[Listing] = relationship("Listing")
    buyer: Mapped[Buyer] = relationship("Buyer")


class AdoptionUpdate(Base):
    """A progress update a contact sent to every adopter of a 认养 listing (猪已经长到150斤了), with its photo."""

    __tablename__ = "adoption_updates"

    id: Mapped[int] = Column(Integer, primary_key=True)
    listing_id: Mapped[int] = Column(ForeignKey("listings.id"), nullable=False, index=True)
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    text: Mapped[str] = Column(Text, nullable=False, default="")
    photo_file_id: Mapped[Optional[str]] = Column(String(200))
    recipients: Mapped[int] = Column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class Pairing(Base):
    """A buyer paired with a village (百企帮百村 for 爱心企业; a union's helped village): open while ended_on is NULL."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("buyer_id", "village_id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    buyer_id: Mapped[int] = Column(ForeignKey("buyers.id"), nullable=False, index=True)
    village_id: Mapped[int] = Column(ForeignKey("villages.id"), nullable=False, index=True)
    started_on: Mapped[date] = Column(Date, nullable=False)
    ended_on: Mapped[Optional[date]] = Column(Date)
    source: Mapped[str] = Column(String(10), nullable=False)  # a PairingSource value
    file_name: Mapped[str] = Column(String(300), nullable=False, default="")
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    buyer: Mapped[Buyer] = relationship("Buyer")
    village: Mapped[Village] = relationship("Village")


class UnionMembers(Base):
    """A union's member count as registered (every change a row; the latest counts for its budget)."""

    __tablename__ = "union_members"
    __table_args__ = (Index("ix_union_members_buyer_id_id", "buyer_id", "id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    buyer_id: Mapped[int] = Column(ForeignKey("buyers.id"), nullable=False)
    members: Mapped[int] = Column(Integer, nullable=False)
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))  # NULL: the command line
    recorded_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


# Bounds of what a complaint keeps: the buyer's words, and a Telegram file id of the photo.
MAX_COMPLAINT_TEXT = 500
MAX_FILE_ID = 200


class Complaint(Base):
    """A buyer's quality complaint (质量投诉) about an order; its status is its last event's target.

    `open_order_id` is the order's id while the complaint is not closed (已结案) and NULL after: its unique
    constraint keeps one open complaint per order whatever the database or the number of workers.
    """

    __tablename__ = "complaints"

    id: Mapped[int] = Column(Integer, primary_key=True)
    complaint_no: Mapped[str] = Column(String(20), nullable=False, unique=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, index=True)
    open_order_id: Mapped[Optional[int]] = Column(ForeignKey("orders.id"), unique=True)
    user_id: Mapped[int] = Column(ForeignKey("users.id"), nullable=False, index=True)  # who filed it
    category: Mapped[str] = Column(String(10), nullable=False)  # ComplaintCategory
    text: Mapped[str] = Column(String(MAX_COMPLAINT_TEXT), nullable=False)
    photo_file_id: Mapped[Optional[str]] = Column(String(MAX_FILE_ID))
    status: Mapped[str] = Column(String(10), nullable=False, index=True)  # ComplaintStatus
    handler_user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    order: Mapped[Order] = relationship("Order", foreign_keys=[order_id])
    user: Mapped[User] = relationship("User", foreign_keys=[user_id])
    handler: Mapped[Optional[User]] = relationship("User", foreign_keys=[handler_user_id])
    events: Mapped[list[ComplaintEvent]] = relationship(
        "ComplaintEvent", order_by="ComplaintEvent.id", back_populates="complaint"
    )


class ComplaintEvent(Base):
    """One change of a complaint's status: from, to, who, when and what they said (never changed or deleted)."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index("ix_complaint_events_complaint_id_id", "complaint_id", "id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    complaint_id: Mapped[int] = Column(ForeignKey("complaints.id"), nullable=False)
    from_status: Mapped[Optional[str]] = Column(String(10))  # NULL for the filing
    to_status: Mapped[str] = Column(String(10), nullable=False)
    actor_user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    note: Mapped[str] = Column(Text, nullable=False, default="")
    at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)

    complaint: Mapped[Complaint] = relationship("Complaint", back_populates="events")
    actor: Mapped[Optional[User]] = relationship("User")


class PaymentHoldLift(Base):
    """An admin's lifting of the hold on new orders for a buyer with long-unpaid orders, until a date."""

    __tablename__ = "payment_hold_lifts"

    id: Mapped[int] = Column(Integer, primary_key=True)
    buyer_id: Mapped[int] = Column(ForeignKey("buyers.id"), nullable=False, index=True)
    # Who: "cli", or "user:<id>" for an admin in chat.
    actor: Mapped[str] = Column(String(50), nullable=False)
    reason: Mapped[str] = Column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)

    buyer: Mapped[Buyer] = relationship("Buyer")


class Rating(Base):
    """The buyer's stars (1–5) for a delivered order: one per order, changeable for a while after it is given."""

    __tablename__ = "ratings"

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, unique=True)
    user_id: Mapped[int] = Column(ForeignKey("users.id"), nullable=False, index=True)
    stars: Mapped[int] = Column(Integer, nullable=False)
    words: Mapped[str] = Column(Text, nullable=False, default="")  # what the buyer wrote beside the stars
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class Shipment(Base):
    """How a delivered order travelled: the carrier and tracking number the contact gave, and the carrier's
    own figures (date, weight, fee) once its shipment export is imported (`python -m bot logistics import`)."""

    __tablename__ = "shipments"

    id: Mapped[int] = Column(Integer, primary_key=True)
    order_id: Mapped[int] = Column(ForeignKey("orders.id"), nullable=False, unique=True)
    carrier: Mapped[str] = Column(String(10), nullable=False)  # a Carrier value
    # The express company's name when the carrier is 其他快递 (顺丰, 中通, …), else "".
    company: Mapped[str] = Column(String(20), nullable=False, default="")
    tracking_no: Mapped[Optional[str]] = Column(String(40), unique=True)
    recorded_by: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    # From the carrier's export: filled when a row of it matches the tracking number.
    shipped_on: Mapped[Optional[date]] = Column(Date)
    weight_grams: Mapped[Optional[int]] = Column(Integer)
    fee_fen: Mapped[Optional[int]] = Column(Integer)
    imported_at: Mapped[Optional[datetime]] = Column(UtcDateTime)
    import_source: Mapped[str] = Column(String(200), nullable=False, default="")

    order: Mapped[Order] = relationship("Order")


class MoveKind(str, enum.Enum):
    """Why a listing's stock moved (StockMove.kind); see fupin.catalog.ledger for each rule."""

    OPENING = "opening"  # the figures a listing had when the ledger was introduced (migration 0004)
    PLAN = "plan"  # a 附件1 import: a new listing, or a township's new plan for it
    RESERVE = "reserve"  # an order placed
    RELEASE = "release"  # an order cancelled or rejected
    DELIVER = "deliver"  # an order delivered: its held stock is gone
    STOCKTAKE = "stocktake"  # a contact's count: 还剩X
    NEW_BATCH = "new_batch"  # 新到X
    SOLD_OUT = "sold_out"  # 卖完了
    CORRECTION = "correction"  # an admin's correction of the available figure
    EXPECTED = "expected"  # a contact's expected harvest of a 预售 listing (预计5000斤): a new plan
    HARVEST = "harvest"  # the real harvest confirmed: available set, pre-orders filled in order or released


class StockMove(Base):
    """One movement of a listing's stock; the listing's figures are the sums of its moves.

    `quantity` changes the available stock (Listing.remaining_quantity), `reserved_change` the stock held
    for open orders (Order.reserved_quantity), `planned_change` the plan (Listing.planned_quantity).
    """

    __tablename__ = "stock_moves"
    __table_args__ = (Index("ix_stock_moves_listing_id_id", "listing_id", "id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    listing_id: Mapped[int] = Column(ForeignKey("listings.id"), nullable=False)
    kind: Mapped[str] = Column(String(12), nullable=False)
    quantity: Mapped[Decimal] = Column(DecimalQuantity, nullable=False)
    reserved_change: Mapped[Decimal] = Column(DecimalQuantity, nullable=False, default=Decimal(0))
    planned_change: Mapped[Decimal] = Column(DecimalQuantity, nullable=False, default=Decimal(0))
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    order_id: Mapped[Optional[int]] = Column(ForeignKey("orders.id"), index=True)
    import_id: Mapped[Optional[int]] = Column(ForeignKey("catalog_imports.id"))
    reason: Mapped[str] = Column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


# Where a sale record came from (SaleRecord.source).
ORDER_SOURCE = "order"  # written by a delivered order (fupin.orders.lifecycle)
REPORT_SOURCE = "report"  # reported by a township: in chat (fupin.reporting.sales) or in its 附件2 file (fupin.reporting.sales_import)


class SaleRecord(Base):
    """A purchase of poor households' products: one row of 附件2 (township) and 附件3 (lead unit)."""

    __tablename__ = "sale_records"

    id: Mapped[int] = Column(Integer, primary_key=True)
    township_id: Mapped[int] = Column(ForeignKey("townships.id"), nullable=False, index=True)
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"))
    household_name: Mapped[str] = Column(String(100), nullable=False, default="")
    poor_households: Mapped[Optional[int]] = Column(Integer)
    buyer_id: Mapped[Optional[int]] = Column(ForeignKey("buyers.id"), index=True)
    buyer_name: Mapped[str] = Column(String(100), nullable=False)
    product_name: Mapped[str] = Column(String(100), nullable=False)
    quantity: Mapped[Decimal] = Column(DecimalQuantity, nullable=False)
    unit: Mapped[str] = Column(String(10), nullable=False)
    amount_fen: Mapped[int] = Column(BigInteger, nullable=False)
    sold_on: Mapped[date] = Column(Date, nullable=False, index=True)
    remarks: Mapped[str] = Column(Text, nullable=False, default="")
    order_id: Mapped[Optional[int]] = Column(ForeignKey("orders.id"), unique=True)
    source: Mapped[str] = Column(String(20), nullable=False)
    # Rows of a township's 附件2 file belong to that file's version; they count while it is current.
    # NULL for records of orders and sales told in chat, which always count (fupin.reporting.rows).
    report_version_id: Mapped[Optional[int]] = Column(ForeignKey("report_versions.id"), index=True)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class RegistrationCode(Base):
    """A one-time code an admin issues to bind a chat account to a role (and a township or village).

    Only the code's SHA-256 is stored; a code is used once (conditional UPDATE) and expires.
    """

    __tablename__ = "registration_codes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    code_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    role: Mapped[str] = Column(String(10), nullable=False)
    township_id: Mapped[Optional[int]] = Column(ForeignKey("townships.id"))
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"))
    lead_unit: Mapped[Optional[str]] = Column(String(50))
    display_name: Mapped[str] = Column(String(100), nullable=False, default="")
    created_by: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    used_at: Mapped[Optional[datetime]] = Column(UtcDateTime)
    used_by: Mapped[Optional[int]] = Column(ForeignKey("users.id"))


class Notification(Base):
    """A message to push to a user (outbox): written in the transaction that causes it, sent by the bot.

    `dedupe_key` (unique) makes a push happen at most once, e.g. one reminder per
    (kind, recipient, period, offset) whatever restarts or second processes do.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_channel", "status", "channel", "id"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    user_id: Mapped[int] = Column(ForeignKey("users.id"), nullable=False, index=True)
    channel: Mapped[str] = Column(String(20), nullable=False)
    kind: Mapped[str] = Column(String(30), nullable=False)
    text: Mapped[str] = Column(Text, nullable=False)
    buttons: Mapped[str] = Column(Text, nullable=False, default="[]")  # JSON [[title, payload], ...]
    attachments: Mapped[str] = Column(Text, nullable=False, default="[]")  # JSON [file path, ...]
    dedupe_key: Mapped[Optional[str]] = Column(String(200), unique=True)
    status: Mapped[str] = Column(String(12), nullable=False, default="pending")
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    last_error: Mapped[str] = Column(Text, nullable=False, default="")
    not_before: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    claimed_until: Mapped[Optional[datetime]] = Column(UtcDateTime)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = Column(UtcDateTime)


class Lease(Base):
    """A named lease held by one process until it expires (e.g. who runs the reminder scheduler)."""

    __tablename__ = "leases"

    name: Mapped[str] = Column(String(50), primary_key=True)
    holder: Mapped[str] = Column(String(100), nullable=False)
    expires_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)


class ReportSubmission(Base):
    """A township's 附件2 or a lead unit's 附件3 for one quarter, as submitted (stops its reminders)."""

    __tablename__ = "report_submissions"
    __table_args__ = (UniqueConstraint("kind", "period", "reporter", name="uq_report_submissions_kind"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    kind: Mapped[str] = Column(String(10), nullable=False)  # "sales" (附件2) or "purchases" (附件3)
    period: Mapped[str] = Column(String(10), nullable=False)  # "2019Q3"
    # The township's name for 附件2, the lead unit's name for 附件3.
    reporter: Mapped[str] = Column(String(100), nullable=False)
    township_id: Mapped[Optional[int]] = Column(ForeignKey("townships.id"))
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))
    source: Mapped[str] = Column(String(10), nullable=False)  # "chat" or "file"
    rows: Mapped[int] = Column(Integer, nullable=False, default=0)
    amount_fen: Mapped[int] = Column(BigInteger, nullable=False, default=0)
    submitted_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    # Set when an admin reopens a quarter confirmed in chat (确认报送 locks it); a new submission clears it.
    reopened_at: Mapped[Optional[datetime]] = Column(UtcDateTime)
    reopened_by: Mapped[Optional[int]] = Column(ForeignKey("users.id"))


class ReportVersion(Base):
    """One version of a reporter's quarterly form as imported from a file (or restored); never deleted.

    A township's version covers the whole township, a village contact's only that village (village_id).
    The rows of a version count while it is current (superseded_by_id NULL).
    """

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("kind", "period", "reporter", "number", name="uq_report_versions_number"),)

    id: Mapped[int] = Column(Integer, primary_key=True)
    kind: Mapped[str] = Column(String(10), nullable=False)  # ReportKind: "sales" (附件2), "purchases" (附件3)
    period: Mapped[str] = Column(String(10), nullable=False)  # "2019Q3"
    # The township's name for 附件2, the lead unit's name for 附件3.
    reporter: Mapped[str] = Column(String(100), nullable=False)
    township_id: Mapped[Optional[int]] = Column(ForeignKey("townships.id"))
    village_id: Mapped[Optional[int]] = Column(ForeignKey("villages.id"))
    number: Mapped[int] = Column(Integer, nullable=False)  # 1, 2, … per (kind, period, reporter)
    source: Mapped[str] = Column(String(10), nullable=False)  # VersionSource: "file" or "restore"
    file_name: Mapped[str] = Column(String(300), nullable=False, default="")
    restored_from_id: Mapped[Optional[int]] = Column(ForeignKey("report_versions.id"))
    user_id: Mapped[Optional[int]] = Column(ForeignKey("users.id"))  # NULL: the command line
    rows: Mapped[int] = Column(Integer, nullable=False, default=0)  # the file's rows, as stated
    amount_fen: Mapped[int] = Column(BigInteger, nullable=False, default=0)
    note: Mapped[str] = Column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    superseded_by_id: Mapped[Optional[int]] = Column(ForeignKey("report_versions.id"))
    superseded_at: Mapped[Optional[datetime]] = Column(UtcDateTime)


class WebLink(Base):
    """A one-time sign-in link of the web console: only the token's SHA-256 is stored; used once, expires."""

    __tablename__ = "web_links"

    id: Mapped[int] = Column(Integer, primary_key=True)
    token_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = Column(ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = Column(UtcDateTime, nullable=False)
    used_at: Mapped[Optional[datetime]] = Column(UtcDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie's SHA-256, its CSRF token, and when it was last used (idle expiry)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = Column(Integer, primary_key=True)
    token_hash: Mapped[str] = Column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = Column(ForeignKey("users.id"), nullable=False, index=True)
    csrf_token: Mapped[str] = Column(String(64), nullable=False)
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
    ended_at: Mapped[Optional[datetime]] = Column(UtcDateTime)


class AdminAction(Base):
    """An admin action taken in the web console: who, what, on what, and when (the audit trail)."""

    __tablename__ = "admin_actions"

    id: Mapped[int] = Column(Integer, primary_key=True)
    user_id: Mapped[int] = Column(ForeignKey("users.id"), nullable=False, index=True)
    action: Mapped[str] = Column(String(30), nullable=False)
    detail: Mapped[str] = Column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)


class VocabularyChange(Base):
    """A change the county made to the product vocabulary: an alias added or removed, a product merged."""

    __tablename__ = "vocabulary_changes"

    id: Mapped[int] = Column(Integer, primary_key=True)
    # fupin.catalog.vocabulary.ChangeKind
    kind: Mapped[str] = Column(String(20), nullable=False)
    product: Mapped[str] = Column(String(50), nullable=False)
    # The alias added or removed, or the product merged into `product`.
    name: Mapped[str] = Column(String(50), nullable=False)
    variety: Mapped[str] = Column(String(100), nullable=False, default="")
    detail: Mapped[str] = Column(Text, nullable=False, default="")
    # Who: "cli", or "user:<id>" for an admin in chat.
    actor: Mapped[str] = Column(String(50), nullable=False, default="")
    created_at: Mapped[datetime] = Column(UtcDateTime, nullable=False, default=utcnow)
