"""Value types of the programme: quantities with units, prices in fen, supply methods, channels."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

# Weight units are stored in 斤 (the unit the county's forms use); 1 公斤 = 2 斤, 1 吨 = 2000 斤.
JIN = "斤"
WEIGHT_UNITS: dict[str, Decimal] = {
    "斤": Decimal(1),
    "市斤": Decimal(1),
    "公斤": Decimal(2),
    "千克": Decimal(2),
    "kg": Decimal(2),
    "吨": Decimal(2000),
    "克": Decimal("0.002"),
    "g": Decimal("0.002"),
    "两": Decimal("0.1"),
}
# Count units seen in township catalogues; they are kept as written.
COUNT_UNITS: tuple[str, ...] = (
    "只", "个", "头", "瓶", "箱", "盒", "袋", "件", "桶", "罐", "提", "份", "把", "捆",
    "根", "条", "枚", "颗", "包", "筐", "篮", "坛", "株", "棵", "套", "床", "双", "对", "壶",
)  # fmt: skip
ALL_UNITS: tuple[str, ...] = tuple(WEIGHT_UNITS) + COUNT_UNITS


def is_weight_unit(unit: str) -> bool:
    """True when the unit measures weight and so converts to 斤."""
    return unit in WEIGHT_UNITS


@dataclass(frozen=True)
class Quantity:
    """An amount of goods: an exact decimal number and its unit (weights normalised to 斤)."""

    value: Decimal
    unit: str

    @classmethod
    def of(cls, value: Decimal | int | str, unit: str) -> Quantity:
        """Build a quantity, converting any weight unit to 斤."""
        number = Decimal(value)
        if is_weight_unit(unit):
            return cls(number * WEIGHT_UNITS[unit], JIN)
        return cls(number, unit)

    def __str__(self) -> str:
        return f"{format_decimal(self.value)}{self.unit}"


@dataclass(frozen=True)
class Price:
    """A unit price in integer fen per unit (weights per 斤)."""

    fen: int
    unit: str

    @classmethod
    def per(cls, yuan: Decimal, unit: str) -> Price:
        """Build a price from yuan per unit, converting a weight unit to per 斤 (rounded to the fen)."""
        fen = yuan * 100
        if is_weight_unit(unit):
            fen = fen / WEIGHT_UNITS[unit]
            unit = JIN
        return cls(int(fen.quantize(Decimal(1), rounding=ROUND_HALF_UP)), unit)

    def __str__(self) -> str:
        return f"{format_yuan(self.fen)}元/{self.unit}"


# What a record may hold: quantities are stored in thousandths (models.DecimalQuantity), prices in fen in a
# 32-bit column. Anything beyond is a typo or nonsense ("10^12斤", "0.0001斤", "一亿元一斤"), never a value to keep.
MAX_QUANTITY = Decimal(10) ** 9
QUANTITY_STEP = Decimal("0.001")
MAX_PRICE_FEN = 100_000_000  # 100万元 per unit
MAX_AMOUNT_FEN = 10**12  # 100亿元 in one sale: the programme's whole target is 6000万元 a year


def quantity_problem(value: Decimal, *, allow_zero: bool = False) -> str | None:
    """Why a quantity cannot be recorded, in Chinese (not positive, over 10亿, finer than 0.001); None if fine."""
    if not value.is_finite():
        return "数量不对"
    if value < 0 or (value == 0 and not allow_zero):
        return "数量不能是负数" if allow_zero else "数量要大于0"
    if value > MAX_QUANTITY:
        return "数量太大了，请核对一下"
    if value != value.quantize(QUANTITY_STEP):
        return "数量最多精确到0.001"
    return None


def format_decimal(value: Decimal) -> str:
    """Render a decimal without trailing zeros or exponent (250, 2.5)."""
    text = format(value.normalize(), "f")
    return text


def format_yuan(fen: int) -> str:
    """Render an amount in fen as yuan without needless decimals (3, 3.5, 2.85)."""
    return format_decimal(Decimal(fen) / 100)


def amount_fen(quantity: Quantity, price: Price) -> int:
    """The amount in fen for a quantity at a unit price (rounded to the fen)."""
    if quantity.unit != price.unit:
        raise ValueError(f"unit mismatch: {quantity.unit} vs {price.unit}")
    total = quantity.value * price.fen
    return int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def under_one_fen(quantity: Quantity, price: Price) -> bool:
    """True when the exact amount is less than 1 fen (3克 at 1.5元/斤 is 0.9 fen: not an order, whatever rounding says)."""
    if quantity.unit != price.unit:
        raise ValueError(f"unit mismatch: {quantity.unit} vs {price.unit}")
    return quantity.value * price.fen < 1


class SupplyMethod(enum.IntFlag):
    """How goods reach the buyer (附件1 供货方式); a listing may offer several."""

    ECOMMERCE = 1
    DELIVERY = 2
    PICKUP = 4


SUPPLY_METHOD_LABELS: dict[SupplyMethod, str] = {
    SupplyMethod.ECOMMERCE: "电商",
    SupplyMethod.DELIVERY: "送货上门",
    SupplyMethod.PICKUP: "上门自提",
}


def supply_method_labels(methods: SupplyMethod | int) -> list[str]:
    """Chinese labels of every method in a flag set, in the form's order."""
    flags = SupplyMethod(methods)
    return [label for method, label in SUPPLY_METHOD_LABELS.items() if method in flags]


class Channel(str, enum.Enum):
    """The plan's six sales channels (六销) with their annual targets in fen."""

    WUJIN = "五进"
    PAIRING = "对口帮扶"
    CHARITY_FIRMS = "爱心企业"
    FAIRS = "节会"
    ECOMMERCE = "电商"
    TOURISM = "旅游"

    @property
    def annual_target_fen(self) -> int:
        """The plan's annual sales target for the channel (in fen)."""
        return CHANNEL_TARGETS_WAN[self] * 10_000 * 100


CHANNEL_TARGETS_WAN: dict[Channel, int] = {
    Channel.WUJIN: 2000,
    Channel.PAIRING: 1000,
    Channel.CHARITY_FIRMS: 500,
    Channel.FAIRS: 500,
    Channel.ECOMMERCE: 1500,
    Channel.TOURISM: 500,
}
ANNUAL_TARGET_FEN = 6000 * 10_000 * 100
# 进家庭: each union spends 500元 per member a year on poor households' products (UNION_BUDGET_PER_MEMBER_YUAN).
UNION_BUDGET_PER_MEMBER_FEN = 500 * 100
DEEP_POVERTY_TARGET_FEN = 1000 * 10_000 * 100


class BuyerCategory(str, enum.Enum):
    """Kinds of buying unit (采购单位) the plan names; each maps to one channel and lead unit."""

    GOVERNMENT = "机关"
    SCHOOL = "学校"
    HOSPITAL = "医院"
    ENTERPRISE = "企业/金融机构"
    FAMILY = "家庭/工会"
    PAIRING_SHANDONG = "对口帮扶-山东"
    PAIRING_MAIN_CITY = "对口帮扶-主城"
    PAIRING_CENTRAL_SOE = "对口帮扶-央企"
    CHARITY_FIRM = "爱心企业"
    FAIR = "节会"
    ECOMMERCE = "电商"
    TOURISM = "旅游"
    PERSONAL = "个人"

    @property
    def channel(self) -> Channel | None:
        """The plan channel purchases of this category count towards (个人 counts towards none)."""
        return _CATEGORY_CHANNEL.get(self)

    @property
    def lead_unit(self) -> str | None:
        """The lead unit (牵头单位) that reports this category's purchases in 附件3."""
        return _CATEGORY_LEAD_UNIT.get(self)


_CATEGORY_CHANNEL: dict[BuyerCategory, Channel] = {
    BuyerCategory.GOVERNMENT: Channel.WUJIN,
    BuyerCategory.SCHOOL: Channel.WUJIN,
    BuyerCategory.HOSPITAL: Channel.WUJIN,
    BuyerCategory.ENTERPRISE: Channel.WUJIN,
    BuyerCategory.FAMILY: Channel.WUJIN,
    BuyerCategory.PAIRING_SHANDONG: Channel.PAIRING,
    BuyerCategory.PAIRING_MAIN_CITY: Channel.PAIRING,
    BuyerCategory.PAIRING_CENTRAL_SOE: Channel.PAIRING,
    BuyerCategory.CHARITY_FIRM: Channel.CHARITY_FIRMS,
    BuyerCategory.FAIR: Channel.FAIRS,
    BuyerCategory.ECOMMERCE: Channel.ECOMMERCE,
    BuyerCategory.TOURISM: Channel.TOURISM,
}
# Lead units as the plan assigns them (四、主要方式).
_CATEGORY_LEAD_UNIT: dict[BuyerCategory, str] = {
    BuyerCategory.GOVERNMENT: "县机关事务服务中心",
    BuyerCategory.SCHOOL: "县教委",
    BuyerCategory.HOSPITAL: "县卫生健康委",
    BuyerCategory.ENTERPRISE: "县国有资产管理服务中心",
    BuyerCategory.FAMILY: "县总工会",
    BuyerCategory.PAIRING_SHANDONG: "县发展改革委",
    BuyerCategory.PAIRING_MAIN_CITY: "县发展改革委",
    BuyerCategory.PAIRING_CENTRAL_SOE: "县扶贫办",
    BuyerCategory.CHARITY_FIRM: "县工商联",
    BuyerCategory.FAIR: "县商务委",
    BuyerCategory.ECOMMERCE: "县商务委",
    BuyerCategory.TOURISM: "县文化旅游委",
}


def lead_units() -> tuple[str, ...]:
    """The lead units (牵头单位) that report 附件3, in the plan's order."""
    return tuple(dict.fromkeys(_CATEGORY_LEAD_UNIT.values()))


class Role(str, enum.Enum):
    """What a chat identity may do."""

    BUYER = "buyer"
    CONTACT = "contact"
    LEAD = "lead"  # the contact of a lead unit (牵头单位) that reports 附件3
    MARKET = "market"  # county market-supervision staff (市场监管): take up and close quality complaints
    ADMIN = "admin"


class RoleGrant(str, enum.Enum):
    """How a user got their role: which of them a restart with another ADMIN_TELEGRAM_IDS may take back."""

    CONFIG = "config"  # ADMIN_TELEGRAM_IDS at a start; the configuration takes back what it granted
    CODE = "code"  # a registration code an admin issued
    COMMAND = "command"  # `python -m bot users add` on the server


class OrderStatus(str, enum.Enum):
    """Life of an order: 待确认 → 已确认 → 已送达 → 已付款, or 已取消 / 已拒绝 / 已过期 (never confirmed)."""

    PENDING = "待确认"
    CONFIRMED = "已确认"
    DELIVERED = "已送达"
    PAID = "已付款"
    CANCELLED = "已取消"
    REJECTED = "已拒绝"
    EXPIRED = "已过期"
    UNFILLED = "未满足"  # a pre-order the harvest could not fill: released, nothing owed


class OfferKind(str, enum.Enum):
    """What a listing offers: goods in hand (现货), an expected harvest to pre-order (预售), or an adoption (认养)."""

    IN_HAND = "现货"
    PRE_ORDER = "预售"
    ADOPTION = "认养"


class PairingSource(str, enum.Enum):
    """Where a pairing (结对) of a buyer with a village came from."""

    IMPORT = "import"  # a row of `python -m bot pairing import FILE`
    COMMAND = "command"  # `python -m bot pairing add` on the server
    CHAT = "chat"  # an admin in chat


class Carrier(str, enum.Enum):
    """Who carried a delivered order: the supply side itself, 中国邮政, or another express company."""

    SELF = "自送"
    POST = "邮政"
    EXPRESS = "其他快递"

    @property
    def tracked(self) -> bool:
        """Whether a parcel of this carrier has a tracking number."""
        return self is not Carrier.SELF


class ComplaintCategory(str, enum.Enum):
    """What a buyer's quality complaint (质量投诉) is about."""

    QUALITY = "质量"
    SHORT = "数量不足"
    INFERIOR = "以次充好"
    NOT_DELIVERED = "未送达"
    OTHER = "其他"


class ComplaintStatus(str, enum.Enum):
    """Life of a complaint: 待处理 → 处理中 → 已解决 / 已升级 → 已结案."""

    OPEN = "待处理"
    IN_HAND = "处理中"
    RESOLVED = "已解决"
    ESCALATED = "已升级"
    CLOSED = "已结案"
