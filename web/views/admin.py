"""管理操作: flag a village deep-poverty, reopen a submitted quarter, issue an invite code — each confirmed first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web as aioweb
from sqlalchemy.orm import Session

from fupin.console.admin import flag_village, invite, reopen
from fupin.outreach.web_links import audit_trail
from fupin.parsing import ParseError
from fupin.reporting.documents import ReportInputError, parse_quarter
from fupin.reporting.kinds import ReportKind
from fupin.values import Role
from web.context import in_session, require_admin
from web.render import render
from web.views.common import field

_ROLES = {"contact": Role.CONTACT, "lead": Role.LEAD, "market": Role.MARKET, "admin": Role.ADMIN}


async def show_admin(request: aioweb.Request) -> aioweb.Response:
    """GET /admin: the three actions and the audit trail."""
    require_admin(request)
    trail = await in_session(request, audit_trail)
    return render(request, "admin.html", trail=trail)


async def _confirmed(
    request: aioweb.Request, question: str, work: Callable[[Session], str], fields: Mapping[str, str]
) -> aioweb.Response:
    # The first POST shows what will happen with a confirm button; only the confirmed POST writes.
    if fields.get("confirm") != "1":
        return render(request, "confirm.html", question=question, action=request.path, fields=fields)
    try:
        message = await in_session(request, work, write=True)
    except (ParseError, ReportInputError) as exc:
        return render(request, "message.html", status=400, title="未执行", message=str(exc))
    return render(request, "message.html", title="已完成", message=message)


async def _fields(request: aioweb.Request, *names: str) -> dict[str, str]:
    form = await request.post()
    return {name: field(form, name) for name in (*names, "confirm")}


async def post_village(request: aioweb.Request) -> aioweb.Response:
    """POST /admin/village: mark a village deep-poverty (or not)."""
    user = require_admin(request)
    fields = await _fields(request, "place", "deep")
    deep = fields["deep"] == "1"

    def work(session: Session) -> str:
        done = flag_village(session, user, fields["place"], deep)
        return f"{done.place}已{'标记为' if done.deep_poverty else '取消'}深度贫困村。"

    question = f"将{fields['place']}{'标记为' if deep else '取消'}深度贫困村？"
    return await _confirmed(request, question, work, fields)


async def post_reopen(request: aioweb.Request) -> aioweb.Response:
    """POST /admin/reopen: reopen a township's 附件2 or a lead unit's 附件3 of a quarter."""
    user = require_admin(request)
    fields = await _fields(request, "kind", "quarter", "reporter")
    try:
        kind = ReportKind.parse(fields["kind"])
    except ValueError as exc:
        raise aioweb.HTTPBadRequest(text="报表种类应为附件2或附件3") from exc

    def work(session: Session) -> str:
        period = parse_quarter(fields["quarter"])
        if not reopen(session, user, kind, period, fields["reporter"]):
            raise ParseError(
                f"{fields['reporter']}{period.label}的{kind.form_name}没有确认报送（未锁定），无需重新打开。"
            )
        return f"已重新打开{fields['reporter']}{period.label}{kind.form_name}，可再次报送。"

    question = (
        f"重新打开{fields['reporter']}{fields['quarter']}已确认报送的{kind.form_name}？打开后可以更正并重新报送。"
    )
    return await _confirmed(request, question, work, fields)


async def post_invite(request: aioweb.Request) -> aioweb.Response:
    """POST /admin/invite: issue a one-time registration code (shown once)."""
    user = require_admin(request)
    fields = await _fields(request, "role", "township", "village", "lead_unit")
    role = _ROLES.get(fields["role"])
    if role is None:
        raise aioweb.HTTPBadRequest(text="请选择邀请的身份")
    extra: dict[str, Any] = {
        "township": fields["township"] or None,
        "village": fields["village"] or None,
        "lead_unit": fields["lead_unit"] or None,
    }

    def work(session: Session) -> str:
        issued = invite(session, user, role, **extra)
        return (
            f"邀请码：{issued.code}（{issued.scope}，一次有效，{issued.expires_at_text}前使用）。"
            f"请对方在 Telegram 上向助手发送：/register {issued.code}"
        )

    scope = "".join(v for v in extra.values() if v) or "全县"
    return await _confirmed(request, f"为{scope}生成一个邀请码（{fields['role']}）？", work, fields)


def add_routes(app: aioweb.Application) -> None:
    """The admin routes."""
    app.router.add_get("/admin", show_admin)
    app.router.add_post("/admin/village", post_village)
    app.router.add_post("/admin/reopen", post_reopen)
    app.router.add_post("/admin/invite", post_invite)
