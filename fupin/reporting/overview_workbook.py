"""The overview as files: the workbook (总体情况, 各乡镇, 牵头单位, 质量投诉, styled with openpyxl) and its two charts."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from fupin.logistics.figures import LogisticsFigures
from fupin.pairing.workbook import write_pairing_sheet
from fupin.periods import Period
from fupin.reporting.attachment2 import yuan_cell
from fupin.reporting.formatting import local_minute, target_wan
from fupin.reporting.households_workbook import write_beneficiaries_sheet
from fupin.reporting.overview import CHANNEL_NAMES, Overview, ProgressLine, ReporterStatus, overview, ratio
from fupin.reporting.sales import percent, wan
from fupin.settings import TIMEZONE
from fupin.spreadsheets.forms import CELL_BORDER, MONEY_FORMAT, PERCENT_FORMAT, title_rows
from fupin.values import (
    ANNUAL_TARGET_FEN,
    CHANNEL_TARGETS_WAN,
    DEEP_POVERTY_TARGET_FEN,
    UNION_BUDGET_PER_MEMBER_FEN,
    ComplaintCategory,
    format_yuan,
)

logger = logging.getLogger(__name__)


def _table(
    sheet: Worksheet,
    title: str,
    subtitle: str,
    headers: list[str],
    rows: list[list[object]],
    formats: dict[int, str],
    widths: list[float],
    note: str = "",
) -> None:
    title_rows(sheet, title, subtitle, len(headers))
    sheet.append(headers)
    for index, width in enumerate(widths, start=1):
        cell = sheet.cell(row=3, column=index)
        cell.font = Font(bold=True)
        cell.border = CELL_BORDER
        cell.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = width
    for values in rows:
        sheet.append(values)
        for index in range(1, len(headers) + 1):
            cell = sheet.cell(row=sheet.max_row, column=index)
            cell.border = CELL_BORDER
            if index in formats and isinstance(cell.value, (int, float, Decimal)):
                cell.number_format = formats[index]
    if note:
        note_row = sheet.max_row + 2
        sheet.cell(row=note_row, column=1, value=note)
        sheet.merge_cells(f"A{note_row}:{get_column_letter(len(headers))}{note_row}")
        sheet.cell(row=note_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[note_row].height = 60
    sheet.freeze_panes = "A4"


def _money(fen: int | None) -> Decimal | str:
    return "" if fen is None else yuan_cell(fen)


def _share(value: Decimal | None) -> Decimal | str:
    return "" if value is None else value


def _progress_row(line: ProgressLine, total_year_fen: int, indent: str = "") -> list[object]:
    return [
        indent + line.name,
        _money(line.quarter_fen),
        _money(line.quarter_target_fen),
        _share(line.quarter_ratio),
        _money(line.year_fen),
        _money(line.annual_target_fen),
        _share(line.year_ratio),
        _share(ratio(line.year_fen, total_year_fen)),
    ]


def _reporter_row(number: int, status: ReporterStatus, deep: bool | None) -> list[object]:
    submission = status.submission
    cells: list[object] = [number, status.name]
    if deep is not None:
        cells.append("是" if deep else "")
    cells += [_money(status.quarter_fen), _money(status.year_fen)]
    if submission is None:
        return [*cells, "未报送", "", "", "", ""]
    return [
        *cells,
        "已报送",
        local_minute(submission.submitted_at),
        submission.source.label,
        submission.rows,
        _money(submission.amount_fen),
    ]


def _targets_note() -> str:
    channels = "、".join(f"{CHANNEL_NAMES[c]}{wan}万元" for c, wan in CHANNEL_TARGETS_WAN.items())
    return (
        f"注：1.年度目标按云阳府办发〔2019〕95号实施方案：全年直接销售贫困户农特产品{target_wan(ANNUAL_TARGET_FEN)}，"
        f"其中深度贫困镇村{target_wan(DEEP_POVERTY_TARGET_FEN)}；{channels}。"
        "2.季度目标按年度目标的四分之一计；本年累计为当年1月1日至本季度末。"
        "3.渠道按采购单位类别归类，个人购买只计入全县合计。"
    )


def write_overview_workbook(view: Overview, path: Path) -> None:
    """Write the overview workbook: 总体情况 against the targets, 各乡镇 and 牵头单位 with their submissions, 物流."""
    label = view.period.label
    made = f"生成时间：{datetime.now(TIMEZONE):%Y-%m-%d %H:%M}    金额单位：元"
    book = Workbook()
    sheet = book.active
    sheet.title = "总体情况"
    rows = [_progress_row(view.total, view.total.year_fen), _progress_row(view.deep, view.total.year_fen)]
    for channel in view.channels:
        rows.append(_progress_row(channel, view.total.year_fen))
        rows.extend(_progress_row(part, view.total.year_fen, "　　") for part in channel.parts)
    rows.append(_progress_row(view.other, view.total.year_fen))
    _table(
        sheet,
        f"云阳县{label}消费扶贫总体情况",
        made,
        ["项目", "本季度", "季度目标", "季度完成率", "本年累计", "年度目标", "年度完成率", "占全县（本年累计）"],
        rows,
        {
            2: MONEY_FORMAT,
            3: MONEY_FORMAT,
            4: PERCENT_FORMAT,
            5: MONEY_FORMAT,
            6: MONEY_FORMAT,
            7: PERCENT_FORMAT,
            8: PERCENT_FORMAT,
        },
        [30, 16, 18, 12, 16, 18, 12, 16],
        _targets_note(),
    )
    done, missing = view.submitted_townships, view.missing_townships
    _table(
        book.create_sheet("各乡镇"),
        f"云阳县{label}各乡镇（街道）销售及附件2报送情况",
        f"{made}    附件2已报送{len(done)}个，未报送{len(missing)}个",
        [
            "序号",
            "乡镇（街道）",
            "深度贫困镇",
            "本季度销售额",
            "本年累计",
            "附件2报送",
            "报送时间",
            "报送方式",
            "报送条数",
            "报送金额",
        ],
        [_reporter_row(n, t, t.deep_poverty) for n, t in enumerate(view.townships, start=1)],
        {4: MONEY_FORMAT, 5: MONEY_FORMAT, 10: MONEY_FORMAT},
        [6, 16, 10, 16, 16, 10, 18, 10, 10, 16],
    )
    done, missing = view.submitted_lead_units, view.missing_lead_units
    _table(
        book.create_sheet("牵头单位"),
        f"云阳县{label}各牵头单位系统（行业）采购及附件3报送情况",
        f"{made}    附件3已报送{len(done)}个，未报送{len(missing)}个",
        ["序号", "牵头单位", "本季度采购额", "本年累计", "附件3报送", "报送时间", "报送方式", "报送条数", "报送金额"],
        [_reporter_row(n, u, None) for n, u in enumerate(view.lead_units, start=1)],
        {3: MONEY_FORMAT, 4: MONEY_FORMAT, 9: MONEY_FORMAT},
        [6, 26, 16, 16, 10, 18, 10, 10, 16],
    )
    _complaints_sheet(book.create_sheet("质量投诉"), view, made)
    if view.logistics is not None:
        _logistics_sheet(book.create_sheet("物流"), view.logistics, f"云阳县{label}消费扶贫物流情况", made)
    if view.pairings is not None and view.pairings.lines:  # only once some firm is paired
        write_pairing_sheet(
            book.create_sheet("百企帮百村"), view.pairings, f"云阳县{label}“百企帮百村”结对采购情况", made
        )
    if view.beneficiaries is not None:
        title = f"云阳县{label}受益贫困户情况（本年累计）"
        write_beneficiaries_sheet(book.create_sheet("受益贫困户"), view.beneficiaries, title, made)
    if any(b.members is not None for b in view.unions):
        _unions_sheet(book.create_sheet("工会"), view, made)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _logistics_sheet(sheet: Worksheet, figures: LogisticsFigures, title: str, made: str) -> None:
    rows: list[list[object]] = [
        [n, line.carrier, line.township, line.parcels, Decimal(line.weight_grams) / 1000, _money(line.fee_fen)]
        for n, line in enumerate(figures.lines, start=1)
    ]
    rows.append(["", "合计", "", sum(line.parcels for line in figures.lines), Decimal(figures.weight_grams) / 1000,
                 _money(figures.fee_fen)])  # fmt: skip
    note = (
        f"本季度送达订单{figures.delivered}单，有快递单号{figures.tracked}单（{percent(figures.tracked, figures.delivered)}），"
        f"已与快递公司数据核对{figures.matched}单。重量、运费来自快递公司的数据（python -m bot logistics import），"
        "物流费用由采购单位（个人）承担，不向贫困户收取。"
    )
    _table(
        sheet,
        title,
        made + (f"    有单号占比{percent(figures.tracked, figures.delivered)}" if figures.delivered else ""),
        ["序号", "承运方", "乡镇（街道）", "件数", "重量（千克）", "物流费用"],
        rows,
        {5: "#,##0.0", 6: MONEY_FORMAT},
        [6, 16, 16, 10, 14, 16],
        note,
    )


def _unions_sheet(sheet: Worksheet, view: Overview, made: str) -> None:
    shown = [b for b in view.unions if b.members is not None]
    rows: list[list[object]] = [
        [n, b.name, b.members, _money(b.budget_fen), _money(b.paired_fen), _money(b.deep_fen), _money(b.counted_fen),
         _share(b.ratio), _money(b.remaining_fen), _money(b.other_fen)]
        for n, b in enumerate(shown, start=1)
    ]  # fmt: skip
    _table(
        sheet,
        f"云阳县{view.period.year}年工会消费扶贫额度完成情况（截至{view.period.label}末）",
        f"{made}    每名会员{format_yuan(shown[0].per_member_fen)}元",
        ["序号", "工会", "会员人数", "年度额度", "结对帮扶村", "深度贫困镇村", "已用合计", "完成率", "还剩",
         "其他村产品（不计入）"],
        rows,
        {4: MONEY_FORMAT, 5: MONEY_FORMAT, 6: MONEY_FORMAT, 7: MONEY_FORMAT, 8: PERCENT_FORMAT, 9: MONEY_FORMAT, 10: MONEY_FORMAT},
        [6, 26, 10, 16, 16, 16, 16, 10, 16, 18],
        "注：按方案“进家庭”，工会经费原则上按人均标准用于直购帮扶的镇村或深度贫困镇（村）的贫困户农特产品。"
        "已用为本年在结对帮扶村（购买当日结对有效）和深度贫困镇村的采购；其他村的采购单列，不计入额度。",
    )  # fmt: skip


def _complaints_sheet(sheet: Worksheet, view: Overview, made: str) -> None:
    figures = view.complaints
    categories = list(ComplaintCategory)
    rows: list[list[object]] = [
        [n, t.township, *(t.by_category[c] for c in categories), t.total]
        for n, t in enumerate(figures.townships, start=1)
    ]
    totals = figures.by_category
    rows.append(["", "全县合计", *(totals[c] for c in categories), figures.total])
    rows.append(["3天内解决（已解决或已结案）", "", *([""] * len(categories)), figures.settled_in_time])
    rows.append(["3天内解决占比", "", *([""] * len(categories)), _share(figures.settled_share)])
    _table(
        sheet,
        f"云阳县{view.period.label}质量投诉情况",
        f"{made}    本季度提出的投诉共{figures.total}件",
        ["序号", "乡镇（街道）", *(c.value for c in categories), "合计"],
        rows,
        {len(categories) + 3: PERCENT_FORMAT},
        [10, 16, *([10.0] * len(categories)), 10],
        "注：按投诉提出的日期计入季度；乡镇为所投诉订单的供货地。3天内解决指提出后3天内供货方答复处理结果（已解决）或结案。",
    )


def write_overview(
    session: Session, period: Period, out_dir: Path, *, union_per_member_fen: int = UNION_BUDGET_PER_MEMBER_FEN
) -> list[Path]:
    """Write the quarter's overview: one workbook (总体情况, 各乡镇, 牵头单位, 物流, …) and two PNG charts."""
    return write_overview_files(overview(session, period, union_per_member_fen=union_per_member_fen), out_dir)


def write_overview_files(view: Overview, out_dir: Path) -> list[Path]:
    """Write an overview already computed (a caller that also shows its text computes it once)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    workbook = out_dir / f"{view.period.code}消费扶贫总体情况.xlsx"
    write_overview_workbook(view, workbook)
    paths = [workbook, *draw_overview_charts(view, out_dir)]
    logger.info("wrote the %s overview to %s", view.period.code, out_dir)
    return paths


def draw_overview_charts(view: Overview, out_dir: Path, suffix: str = ".png") -> list[Path]:
    """Draw the overview's two charts (channels against targets, townships) as PNG or, with ".svg", SVG."""
    from fupin.reporting.charts import TargetBar, progress_chart, township_chart  # matplotlib only when drawing

    period = view.period
    lines = [view.total, view.deep, *view.channels]
    bars = [
        TargetBar(
            line.name.removeprefix("其中："),
            line.year_ratio or Decimal(0),
            f"{percent(line.year_fen, line.annual_target_fen or 0)}（{wan(line.year_fen)}/{target_wan(line.annual_target_fen)}）",
        )
        for line in lines
    ]
    assert period.quarter is not None
    pace = Decimal(period.quarter) / 4
    channels = progress_chart(
        out_dir / f"{period.code}各渠道完成情况{suffix}",
        f"云阳县{period.year}年消费扶贫年度目标完成情况（截至第{period.quarter}季度末）",
        bars,
        pace,
    )
    townships = township_chart(
        out_dir / f"{period.code}各乡镇销售情况{suffix}",
        f"云阳县{period.label}各乡镇（街道）销售额",
        [(t.name, t.quarter_fen, t.deep_poverty) for t in view.townships],
    )
    return [channels, townships]
