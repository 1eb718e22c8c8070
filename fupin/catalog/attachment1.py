"""附件1 乡镇（街道）贫困户农特产品待销目录: the form's columns, and turning its rows into listing drafts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fupin.catalog.listings import HouseholdRef, ListingDraft
from fupin.offers.terms import REMARK_EXAMPLES, RemarkOffer, TermsError, read_remark
from fupin.parsing import ParseError, normalize_text, parse_price, parse_quantity, parse_supply_methods, split_contact
from fupin.periods import today
from fupin.places import Gazetteer, Place, TownshipEntry
from fupin.spreadsheets.forms import FormColumn, FormSpec, FormTable
from fupin.spreadsheets.grid import RowIssue
from fupin.values import JIN, MAX_PRICE_FEN, Price, Quantity, quantity_problem

NOTES = (
    "备注： 1.各乡镇（街道）要确定一名产品供货联系人进行收发登记、分拣包装、储存管理等，"
    "至少每月更新一次农特产品信息表报送至县农业农村委，同时做好贫困户农特产品质量检查，确保食品安全。"
    "2.如采购的是合作社的产品填写合作社涉及的贫困户。3.供货方式主要为电商、送货上门、上门自提等。"
    "4.销售产品价格要遵循市场价格规律。5.各乡镇（街道）如将贫困户产品进入电商销售平台，需注明网店网址。"
)

ATTACHMENT1 = FormSpec(
    title="乡镇（街道）贫困户农特产品待销目录",
    meta_labels=("填写单位", "填写人", "联系电话", "填写日期"),
    columns=(
        FormColumn("seq", "序号"),
        FormColumn("township", "乡镇（街道）", ("乡镇", "乡镇街道", "所属乡镇")),
        FormColumn("region", "地区", ("地址", "所在地区", "村（社区）")),
        FormColumn("household", "贫困户姓名", ("贫困户", "贫困户姓名（合作社）", "户主姓名")),
        FormColumn("product", "产品品种", ("产品名称", "品种", "产品"), required=True),
        FormColumn("variety", "品种规格", ("规格", "产品规格", "品种（规格）")),
        FormColumn("quantity", "计划销量", ("计划销售量", "数量", "可销售数量"), required=True),
        FormColumn("remaining", "剩余数量", ("剩余量", "库存")),
        FormColumn("price", "销售价格（元）", ("销售价格", "价格", "单价", "单价（元）"), required=True),
        FormColumn("methods", "供货方式", ("供应方式",), required=True),
        FormColumn("shop_url", "网店网址", ("网址", "网店")),
        FormColumn(
            "contact",
            "供货联系人\n及联系方式",
            ("供货联系人", "联系人及联系方式", "供货联系人及电话", "联系人"),
            required=True,
        ),
        FormColumn("remarks", "备注"),
    ),
    notes=NOTES,
)
COUNTY_CATALOG_TITLE = "云阳县贫困户农特产品供应目录"
# The headers exactly as the seed's 附件1 prints them (a township's file: no 乡镇, 品种规格 or 剩余数量 columns).
SEED_HEADERS = [c.header for c in ATTACHMENT1.columns if c.key not in ("township", "variety", "remaining")]

# "（涉及贫困户12户）" in a 合作社 cell. Matched in two linear steps instead of one pattern whose optional prefix
# (adjacent \s* runs) and unanchored digit run backtrack cubically: the count and its closing part first, starting
# only where a digit run starts, then the optional opening part read backwards from the digits.
_COOPERATIVE_COUNT = re.compile(r"(?<!\d)(\d+)\s*户\s*[)）]?")
# Reversed, the opening part is spaces, 贫困户 and/or 涉及, spaces, a bracket, written with no two \s* runs adjacent.
_COOPERATIVE_PREFIX_REVERSED = re.compile(r"\s*(?:(?:户困贫)?及涉\s*|户困贫\s*)?[（(]?")
_VARIETY = re.compile(r"^(?P<product>[^（(]+)[（(](?P<variety>[^）)]+)[）)]$")


def parse_household(cell: str) -> HouseholdRef | None:
    """A 贫困户姓名 cell: a household name, or a cooperative with its number of poor households."""
    text = normalize_text(cell)
    if not text:
        return None
    if "合作社" in text:
        spans = cooperative_count_spans(text)
        if not spans:
            return HouseholdRef(name=text, is_cooperative=True)
        kept, previous = [], 0
        for start, end, _ in spans:
            kept.append(text[previous:start])
            previous = end
        name = ("".join(kept) + text[previous:]).strip()
        return HouseholdRef(name=name, is_cooperative=True, poor_households=int(spans[0][2]))
    return HouseholdRef(name=text)


def cooperative_count_spans(text: str) -> list[tuple[int, int, str]]:
    """Every "（涉及贫困户12户）" in a cell as (start, end, digits), left to right, not overlapping."""
    spans: list[tuple[int, int, str]] = []
    previous = 0
    for match in _COOPERATIVE_COUNT.finditer(text):
        # The opening part may not reach into the previous mention, exactly as a left-to-right scan would stop.
        before = text[previous : match.start()][::-1]
        prefix = _COOPERATIVE_PREFIX_REVERSED.match(before)
        start = match.start() - (prefix.end() if prefix else 0)
        spans.append((start, match.end(), match.group(1)))
        previous = match.end()
    return spans


def parse_product(cell: str) -> tuple[str, str]:
    """A 产品品种 cell as (product, variety): 脐橙（纽荷尔） → (脐橙, 纽荷尔)."""
    text = normalize_text(cell).replace(" ", "")
    match = _VARIETY.match(text)
    if match:
        return match["product"], match["variety"]
    return text, ""


@dataclass
class RowReader:
    """Turns the rows of one located 附件1 table into listing drafts, collecting row issues."""

    table: FormTable
    gazetteer: Gazetteer
    township_hint: TownshipEntry | None

    def _issue(self, row: int, key: str, reason: str) -> RowIssue:
        column = self.table.column_label(key) if key in self.table.columns else ""
        return RowIssue(self.table.file_name, row, column, reason)

    def read(self, row: int, record: dict[str, str]) -> ListingDraft | list[RowIssue]:
        """One row as a draft, or every problem found in it."""
        issues: list[RowIssue] = []
        # A formula Excel never computed (grid reads it as its text, as a CSV shows one) has no value to
        # keep: refused here rather than taken as a name or remark (and later written back as a formula).
        for key, value in record.items():
            if key != "seq" and value.startswith("="):
                issues.append(self._issue(row, key, f"单元格是公式“{value}”，没有计算结果，请填写数值或文字"))
        if issues:
            return issues
        place = self._place(row, record, issues)
        product, variety = parse_product(record.get("product", ""))
        # A filled 品种规格 column wins over a variety written in the product cell.
        variety = normalize_text(record.get("variety", "")).replace(" ", "") or variety
        if not product:
            issues.append(self._issue(row, "product", "缺少产品品种"))
        quantity, price = self._quantity_and_price(row, record, issues)
        remaining = self._remaining(row, record, quantity, issues)
        try:
            methods = parse_supply_methods(record.get("methods", ""))
        except ParseError as exc:
            issues.append(self._issue(row, "methods", str(exc)))
        try:
            contact_name, contact_phone = split_contact(record.get("contact", ""))
            if not contact_name:
                issues.append(self._issue(row, "contact", "缺少供货联系人姓名"))
        except ParseError as exc:
            issues.append(self._issue(row, "contact", str(exc)))
        offer = self._offer(row, record, issues)
        if issues:
            return issues
        assert place is not None and quantity is not None and price is not None
        return ListingDraft(
            place=place,
            product_name=product,
            variety=variety,
            quantity=quantity,
            price=price,
            supply_methods=methods,
            contact_name=contact_name,
            contact_phone=contact_phone,
            household=parse_household(record.get("household", "")),
            shop_url=normalize_text(record.get("shop_url", "")),
            remarks=normalize_text(record.get("remarks", "")),
            remaining=remaining,
            offer=offer.offer if offer else None,
            expected_month=offer.expected_month if offer else None,
            terms=offer.terms if offer else "",
        )

    def _offer(self, row: int, record: dict[str, str], issues: list[RowIssue]) -> RemarkOffer | None:
        # 备注 "预售，12月上市" or "认养：一头年猪，约200斤，腊月交付" (docs/offers.md); anything else is a plain remark.
        try:
            return read_remark(record.get("remarks", ""), today())
        except TermsError as exc:
            reason = str(exc) if REMARK_EXAMPLES in str(exc) else f"备注里的{exc}（{REMARK_EXAMPLES}）"
            issues.append(self._issue(row, "remarks", reason))
            return None

    def _place(self, row: int, record: dict[str, str], issues: list[RowIssue]) -> Place | None:
        hint = self.township_hint
        township_cell = record.get("township", "")
        if township_cell:
            hint = self.gazetteer.township_named(township_cell)
            if hint is None:
                issues.append(self._issue(row, "township", f"未知的乡镇（街道）：{township_cell}"))
                return None
        try:
            return self.gazetteer.resolve_region(record.get("region", ""), hint)
        except ParseError as exc:
            key = "region" if "region" in self.table.columns else "township"
            issues.append(self._issue(row, key, str(exc)))
            return None

    def _quantity_and_price(
        self, row: int, record: dict[str, str], issues: list[RowIssue]
    ) -> tuple[Quantity | None, Price | None]:
        quantity_cell, price_cell = record.get("quantity", ""), record.get("price", "")
        explicit_price = parse_price(price_cell)
        quantity = parse_quantity(quantity_cell, explicit_price.unit if explicit_price else JIN)
        price = explicit_price or parse_price(price_cell, quantity.unit if quantity else None)
        if not quantity_cell:
            issues.append(self._issue(row, "quantity", "缺少计划销量"))
        elif quantity is None:
            issues.append(self._issue(row, "quantity", f"无法识别的计划销量“{quantity_cell}”（应填如 30斤）"))
        elif quantity.value <= 0:
            issues.append(self._issue(row, "quantity", f"计划销量必须大于0（填的是“{quantity_cell}”）"))
        elif problem := quantity_problem(quantity.value):
            issues.append(self._issue(row, "quantity", f"计划销量{problem}（填的是“{quantity_cell}”）"))
        if not price_cell:
            issues.append(self._issue(row, "price", "缺少销售价格"))
        elif price is None:
            issues.append(self._issue(row, "price", f"无法识别的价格“{price_cell}”（应填如 3元/斤）"))
        elif price.fen <= 0:
            issues.append(self._issue(row, "price", f"销售价格必须大于0（填的是“{price_cell}”）"))
        elif price.fen > MAX_PRICE_FEN:
            issues.append(self._issue(row, "price", f"销售价格太高了，请核对（填的是“{price_cell}”）"))
        elif quantity is not None and price.unit != quantity.unit:
            issues.append(self._issue(row, "price", f"价格单位“元/{price.unit}”与计划销量单位“{quantity.unit}”不一致"))
        return quantity, price

    def _remaining(
        self, row: int, record: dict[str, str], planned: Quantity | None, issues: list[RowIssue]
    ) -> Quantity | None:
        cell = record.get("remaining", "")
        if not cell or planned is None:
            return None
        remaining = parse_quantity(cell, planned.unit)
        if remaining is None or remaining.unit != planned.unit or quantity_problem(remaining.value, allow_zero=True):
            issues.append(self._issue(row, "remaining", f"无法识别的剩余数量“{cell}”"))
            return None
        if remaining.value > planned.value:
            issues.append(self._issue(row, "remaining", "剩余数量不能大于计划销量"))
            return None
        return remaining
