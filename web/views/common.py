"""Reading a page's query: the quarter asked for, and form fields as text."""

from __future__ import annotations

from aiohttp import web as aioweb

from fupin.periods import Period
from fupin.reporting.documents import ReportInputError, parse_quarter


def quarter_of_request(request: aioweb.Request) -> Period:
    """The quarter in ?quarter= (2019Q3, 上季度), the current one when absent; 400 when it cannot be read."""
    try:
        return parse_quarter(request.query.get("quarter", "").strip())
    except ReportInputError as exc:
        raise aioweb.HTTPBadRequest(text=str(exc)) from exc


def field(form: object, name: str) -> str:
    """A submitted form field as stripped text ("" when absent or a file)."""
    value = form.get(name) if hasattr(form, "get") else None
    return value.strip() if isinstance(value, str) else ""
