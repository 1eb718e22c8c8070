"""附件2 乡镇（街道）贫困户产品销售情况表: the form's columns, and reading a township's filled rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fupin.catalog.attachment1 import parse_household, parse_product
from fupin.parsing import ParseError, normalize_text, parse_amount, parse_quantity
from fupin.periods import Period
from fupin.places import Gazetteer, Place, TownshipEntry, VillageEntry
from fupin.spreadsheets.forms import FormColumn, FormSpec, FormTable
from fupin.spreadsheets.grid import RowIssue
from fupin.values import JIN, Quantity

NOTES = (
    "备注： 1.各乡镇（街道）每季度末月30日前收集相关采购情况，汇总后上报县商务委。"
    "2.采购对象是合作社的要把涉及到贫困户人数填上。"
)
META_LABELS = ("填报单位", "供货联系人姓名", "联系方式", "填报时间")
# Excel display formats: dates as the seed writes them (2019.9.1), amounts in 元 (90.00元) yet still numbers.
DATE_FORMAT = "yyyy.m.d"
AMOUNT_FORMAT = '#,##0.00"元"'

HOUSEHOLD_ALIASES = ("贫困户", "贫困户姓名（合作社）", "户主姓名")
REGION_ALIASES = ("地址", "所在地区", "村（社区）")
PRODUCT_ALIASES = ("产品名称", "品种", "产品")

ATTACHMENT2 = FormSpec(
    title="乡镇（街道）贫困户产品销售情况表",
    meta_labels=META_LABELS,
    columns=(
        FormColumn("seq", "序号", width=6),
        FormColumn("buyer", "采购单位", ("采购单位名称", "购买单位", "采购单位（个人）"), required=True, width=22),
        FormColumn(
            "sold_on", "销售时间", ("销售日期", "日期", "时间"), required=True, width=12, number_format=DATE_FORMAT
        ),
        FormColumn("region", "地区", REGION_ALIASES, width=26),
        FormColumn("household", "贫困户姓名", HOUSEHOLD_ALIASES, width=22),
        FormColumn("product", "产品品种", PRODUCT_ALIASES, required=True, width=14),
        FormColumn("quantity", "销售数量", ("数量",), required=True, width=12),
        FormColumn(
            "amount",
            "销售金额",
            ("销售金额（元）", "金额", "金额（元）"),
            required=True,
            width=14,
            number_format=AMOUNT_FORMAT,
        ),
        FormColumn("remarks", "备注", width=16),
    ),
    notes=NOTES,
    label="附件2",
)
# The headers exactly as the seed's 附件2 prints them.
SEED_HEADERS = [c.header for c in ATTACHMENT2.columns]

_FULL_DATE = re.compile(
    r"(?P<y>\d{4})\s*[.\-/年]\s*(?P<m>\d{1,2})\s*[.\-/月]\s*(?P<d>\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?"
)
_COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})\s*[.\-/月]\s*(?P<d>\d{1,2})\s*日?")


def parse_sale_date(text: str, year: int | None = None) -> date | None:
    """A 销售时间 cell (2019.9.1, 2019-09-01, 2019/9/1, 2019年9月1日, 20190901; 9月1日 with `year`)."""
    cleaned = normalize_text(text)
    match = _FULL_DATE.fullmatch(cleaned) or _COMPACT_DATE.fullmatch(cleaned)
    parts: tuple[int, int, int] | None = None
    if match:
        parts = (int(match["y"]), int(match["m"]), int(match["d"]))
    elif year is not None and (short := _MONTH_DAY.fullmatch(cleaned)):
        parts = (year, int(short["m"]), int(short["d"]))
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None  # 2019.2.30


def seed_date(day: date) -> str:
    """A date as the seed's forms write it (2019.9.1)."""
    return f"{day.year}.{day.month}.{day.day}"


def household_cell(name: str, poor_households: int | None) -> str:
    """The 贫困户姓名 cell: a cooperative carries the number of poor households it involves (note 2)."""
    if poor_households:
        return f"{name}（涉及贫困户{poor_households}户）"
    return name


@dataclass(frozen=True)
class SaleRow:
    """One checked row of a township's 附件2."""

    row: int
    buyer: str
    sold_on: date
    place: Place
    household: str
    poor_households: int | None
    product: str
    quantity: Quantity
    amount_fen: int
    remarks: str


def is_template_example(record: dict[str, str]) -> bool:
    """True for the seed's sample row (云阳县xx乡镇xx村) that a township left in the form."""
    return "xx乡镇" in record.get("region", "").replace("X", "x")


@dataclass
class SalesRowReader:
    """Checks the rows of one located 附件2 table of a township for a quarter, collecting row issues."""

    table: FormTable
    gazetteer: Gazetteer
    township: TownshipEntry
    period: Period
    aliases: dict[str, str]
    # A village contact's file: only that village's rows are theirs to report.
    village: VillageEntry | None = None

    def _issue(self, row: int, key: str, reason: str) -> RowIssue:
        column = self.table.column_label(key) if key in self.table.columns else ""
        return RowIssue(self.table.file_name, row, column, reason)

    def read(self, row: int, record: dict[str, str]) -> SaleRow | list[RowIssue]:
        """One row as a checked sale, or every problem found in it."""
        issues: list[RowIssue] = []
        buyer = normalize_text(record.get("buyer", ""))
        if not buyer:
            issues.append(self._issue(row, "buyer", "缺少采购单位"))
        sold_on = self._date(row, record, issues)
        place = self._place(row, record, issues)
        # The household may be blank (a sale told in chat without one); a cooperative must give its count.
        household = parse_household(record.get("household", ""))
        if household is not None and household.is_cooperative and not household.poor_households:
            issues.append(
                self._issue(
                    row, "household", "采购对象是合作社的要填上涉及的贫困户人数（如 XX合作社（涉及贫困户12户））"
                )
            )
        product, variety = parse_product(record.get("product", ""))
        if not product:
            issues.append(self._issue(row, "product", "缺少产品品种"))
        product = self.aliases.get(product, product) + (f"（{variety}）" if variety else "")
        quantity = self._quantity(row, record, issues)
        amount = self._amount(row, record, issues)
        if issues:
            return issues
        assert sold_on is not None and place is not None and quantity is not None and amount is not None
        return SaleRow(
            row=row,
            buyer=buyer,
            sold_on=sold_on,
            place=place,
            household=household.name if household else "",
            poor_households=household.poor_households if household and household.is_cooperative else None,
            product=product,
            quantity=quantity,
            amount_fen=amount,
            remarks=normalize_text(record.get("remarks", "")),
        )

    def _date(self, row: int, record: dict[str, str], issues: list[RowIssue]) -> date | None:
        cell = record.get("sold_on", "")
        if not cell:
            issues.append(self._issue(row, "sold_on", "缺少销售时间"))
            return None
        sold_on = parse_sale_date(cell, self.period.year)
        if sold_on is None:
            issues.append(self._issue(row, "sold_on", f"无法识别的销售时间“{cell}”（应填如 2019.9.1）"))
            return None
        if not self.period.start <= sold_on < self.period.end:
            last = date.fromordinal(self.period.end.toordinal() - 1)
            issues.append(
                self._issue(
                    row,
                    "sold_on",
                    f"销售时间{seed_date(sold_on)}不在{self.period.label}"
                    f"（{seed_date(self.period.start)}—{seed_date(last)}）内",
                )
            )
            return None
        return sold_on

    def _place(self, row: int, record: dict[str, str], issues: list[RowIssue]) -> Place | None:
        cell = record.get("region", "")
        if self.village is not None and not cell.strip():
            return Place(self.township, self.village)  # a village contact's blank 地区 is their village
        try:
            place = self.gazetteer.resolve_region(cell, self.township)
        except ParseError as exc:
            issues.append(self._issue(row, "region", str(exc)))
            return None
        if place.township.id != self.township.id:
            issues.append(
                self._issue(row, "region", f"地区“{cell}”不属于{self.township.name}，请只填报本乡镇（街道）的销售")
            )
            return None
        if self.village is not None and (place.village is None or place.village.id != self.village.id):
            own = self.township.name + self.village.short_name
            issues.append(
                self._issue(row, "region", f"地区“{cell}”不是{own}，村（社区）供货联系人只能报送本村（社区）的销售")
            )
            return None
        return place

    def _quantity(self, row: int, record: dict[str, str], issues: list[RowIssue]) -> Quantity | None:
        cell = record.get("quantity", "")
        # A bare number is in 斤, the unit the county's forms use (as in 附件1).
        quantity = parse_quantity(cell, JIN)
        if not cell:
            issues.append(self._issue(row, "quantity", "缺少销售数量"))
        elif quantity is None:
            issues.append(self._issue(row, "quantity", f"无法识别的销售数量“{cell}”（应填如 30斤）"))
        elif quantity.value <= 0:
            issues.append(self._issue(row, "quantity", f"销售数量必须大于0（填的是“{cell}”）"))
        else:
            return quantity
        return None

    def _amount(self, row: int, record: dict[str, str], issues: list[RowIssue]) -> int | None:
        cell = record.get("amount", "")
        # Thousands separators (1,234.50元) are how Excel shows amounts; the digits are what count.
        amount = parse_amount(re.sub(r"(?<=\d)[,，](?=\d{3})", "", cell))
        if not cell:
            issues.append(self._issue(row, "amount", "缺少销售金额"))
        elif amount is None:
            issues.append(self._issue(row, "amount", f"无法识别的销售金额“{cell}”（应填如 90元）"))
        elif amount <= 0:
            issues.append(self._issue(row, "amount", f"销售金额必须大于0（填的是“{cell}”）"))
        else:
            return amount
        return None


def yuan_cell(fen: int) -> Decimal:
    """An amount in fen as the 元 value written into a form cell (exact, two decimals)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))
