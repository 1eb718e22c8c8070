"""附件3 牵头单位系统（行业）购买贫困户产品采购情况表: the form a lead unit reports its sector's purchases on."""

from __future__ import annotations

from fupin.reporting.attachment2 import (
    AMOUNT_FORMAT,
    DATE_FORMAT,
    HOUSEHOLD_ALIASES,
    META_LABELS,
    PRODUCT_ALIASES,
    REGION_ALIASES,
)
from fupin.spreadsheets.forms import FormColumn, FormSpec

NOTES = (
    "备注： 1.各牵头单位收集汇总本系统（行业）的采购情况，于每季度末月30日前上报县商务委。"
    "2.采购对象是合作社的要把涉及到贫困户人数填上。"
)

# The same keys as 附件2, so that one row of purchase records fills either form.
ATTACHMENT3 = FormSpec(
    title="牵头单位系统（行业）购买贫困户产品采购情况表",
    meta_labels=META_LABELS,
    columns=(
        FormColumn("seq", "序号", width=6),
        FormColumn("buyer", "采购单位", ("采购单位名称", "购买单位"), required=True, width=22),
        FormColumn(
            "sold_on", "采购时间", ("采购日期", "日期", "时间"), required=True, width=12, number_format=DATE_FORMAT
        ),
        FormColumn("region", "地区", REGION_ALIASES, width=26),
        FormColumn("household", "贫困户姓名", HOUSEHOLD_ALIASES, width=22),
        FormColumn("product", "产品品种", PRODUCT_ALIASES, required=True, width=14),
        FormColumn("quantity", "采购数量", ("数量",), required=True, width=12),
        FormColumn(
            "amount",
            "采购金额",
            ("采购金额（元）", "金额", "金额（元）"),
            required=True,
            width=14,
            number_format=AMOUNT_FORMAT,
        ),
        FormColumn("remarks", "备注", width=16),
    ),
    notes=NOTES,
    label="附件3",
)
# The headers exactly as the seed's 附件3 prints them.
SEED_HEADERS = [c.header for c in ATTACHMENT3.columns]
