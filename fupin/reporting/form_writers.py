"""Writing the quarterly forms: 附件2 for one or every township, 附件3 for one or every lead unit.

Forms written for "all townships" (or all lead units) are one workbook with one worksheet per township
(lead unit) that has records in the quarter, each a complete form with its own 填报单位 row.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.orm import Session

from fupin.models import SaleRecord, Township
from fupin.periods import Period, today
from fupin.reporting.attachment2 import ATTACHMENT2, seed_date
from fupin.reporting.attachment3 import ATTACHMENT3
from fupin.reporting.formatting import require_quarter
from fupin.reporting.quarter import known_lead_units, lead_unit_report, township_report
from fupin.reporting.rows import counted_sales
from fupin.spreadsheets.forms import FormSheet, FormSpec, write_forms

logger = logging.getLogger(__name__)


def _empty_sheet(name: str) -> FormSheet:
    return FormSheet(name, {"填报单位": name, "填报时间": seed_date(today())}, [])


def write_sales_form(session: Session, period: Period, township_id: int | None, out: Path) -> Path:
    """Write 附件2 for one township, or for every township with records (a worksheet each); returns `out`."""
    require_quarter(period)
    if township_id is not None:
        ids = [township_id]
    else:
        ids = list(
            session.scalars(
                counted_sales(Township.id, period=period)
                .join(Township, SaleRecord.township_id == Township.id)
                .group_by(Township.id, Township.code)
                .order_by(Township.code)
            )
        )
    sheets = [township_report(session, period, tid).form_sheet() for tid in ids]
    _write(out, ATTACHMENT2, sheets or [_empty_sheet("云阳县")])
    return out


def write_purchases_form(session: Session, period: Period, lead_unit: str | None, out: Path) -> Path:
    """Write 附件3 for one lead unit, or for every lead unit with purchases (a worksheet each); returns `out`."""
    require_quarter(period)
    if lead_unit is not None:
        sheets = [lead_unit_report(session, period, lead_unit).form_sheet()]
    else:
        reports = [lead_unit_report(session, period, unit) for unit in known_lead_units(session)]
        sheets = [report.form_sheet() for report in reports if report.rows]
    _write(out, ATTACHMENT3, sheets or [_empty_sheet("云阳县")])
    return out


def _write(out: Path, spec: FormSpec, sheets: list[FormSheet]) -> None:
    write_forms(out, spec, sheets)
    logger.info("wrote %s (%d sheets) to %s", spec.label, len(sheets), out)
