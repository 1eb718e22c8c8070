"""The chat's answers about households: who sold in a place (at most a page of them), and the beneficiaries."""

from __future__ import annotations

from fupin.reporting.formatting import yuan
from fupin.reporting.households import HouseholdReport, HouseholdSales

CHAT_LIMIT = 20  # households named in one message; the workbook has them all


def report_command(report: HouseholdReport, township: str | None) -> str:
    """The command line that writes the whole list of the report's year (and township)."""
    where = f" --township {township}" if township else ""
    return f"python -m bot report households --year {report.period.year}{where} -o 贫困户销售情况.xlsx"


def _seller_line(number: int, entry: HouseholdSales) -> str:
    place = entry.village or entry.township
    who = f"{entry.name}（合作社，带动贫困户{entry.poor_households}户）" if entry.is_cooperative else entry.name
    outside = "，目录外" if not entry.in_catalogue else ""
    return (
        f"{number}. {place} {who}：{entry.total.quantity_text}，{yuan(entry.total.amount_fen)}，"
        f"采购单位{len(entry.total.buyers)}个{outside}"
    )


def household_sales_answer(report: HouseholdReport, township: str | None, limit: int = CHAT_LIMIT) -> str:
    """Which households of the scope sold in the period, largest amount first, and where the whole list is."""
    sellers = report.sellers
    heading = f"{report.scope}{report.period.label}"
    if not sellers:
        return f"{heading}还没有贫困户（合作社）卖出产品的记录。"
    tally = report.figures.total
    lines = [
        f"{heading}有{len(sellers)}个贫困户（合作社）卖出了产品，受益贫困户{tally.beneficiaries}户"
        f"（合作社按带动贫困户数计），合计{yuan(tally.amount_fen)}："
    ]
    lines += [_seller_line(n, entry) for n, entry in enumerate(sellers[:limit], start=1)]
    if len(sellers) > limit:
        lines.append(f"……还有{len(sellers) - limit}个未列出。")
    lines.append(f"完整名单（各户按季度）：{report_command(report, township)}")
    return "\n".join(lines)


def beneficiaries_answer(report: HouseholdReport, township: str | None) -> str:
    """How many poor households of the scope gained in the period, against the catalogue, deep-poverty part too."""
    lines = [report.figures.summary_line(f"{report.scope}{report.period.label}")]
    if report.unnamed_rows:
        lines.append(f"另有{report.unnamed_rows}条销售记录未注明贫困户（{yuan(report.unnamed_fen)}），未计入。")
    lines.append(f"各户、各村、各乡镇明细：{report_command(report, township)}")
    return "\n".join(lines)
