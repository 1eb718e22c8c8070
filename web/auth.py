"""Sign-in with one-time links, the session cookie, the CSRF check on every POST, and the security headers."""

from __future__ import annotations

import logging

from aiohttp import web as aioweb
from aiohttp.typedefs import Handler

from fupin.outreach.web_links import IDLE_TIMEOUT, SignInError, csrf_ok, current_user, end_session, redeem_link
from web.context import USER_KEY, console_of, in_session, user_of
from web.render import render

logger = logging.getLogger(__name__)

COOKIE = "fupin_console"
# Nothing from anywhere else: no CDN, no font, no script (the console has none); charts are data: images.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
OPEN_PATHS = ("/login", "/static/", "/static-font/", "/favicon.ico")


@aioweb.middleware
async def security_headers(request: aioweb.Request, handler: Handler) -> aioweb.StreamResponse:
    """Every answer (errors too) carries the CSP and tells browsers not to sniff, frame or cache pages."""
    try:
        response = await handler(request)
    except aioweb.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if not request.path.startswith(("/static/", "/static-font/")):
        response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, aioweb.HTTPException):
        raise response
    return response


@aioweb.middleware
async def authenticate(request: aioweb.Request, handler: Handler) -> aioweb.StreamResponse:
    """Find the signed-in user from the cookie; send strangers to /login; refuse a POST without the CSRF token."""
    if request.path.startswith(OPEN_PATHS):
        return await handler(request)
    cookie = request.cookies.get(COOKIE, "")
    user = await in_session(request, lambda s: current_user(s, cookie, IDLE_TIMEOUT), write=True) if cookie else None
    if user is None:
        raise aioweb.HTTPFound("/login")
    request[USER_KEY] = user
    if request.method == "POST":
        form = await request.post()
        token = form.get("csrf")
        if not isinstance(token, str) or not csrf_ok(user, token):
            logger.warning("web console: POST %s without a valid CSRF token (user %s)", request.path, user.user_id)
            raise aioweb.HTTPForbidden(text="表单已失效，请刷新页面后重试。")
    return await handler(request)


async def login_help(request: aioweb.Request) -> aioweb.Response:
    """GET /login: how to get a sign-in link."""
    return render(request, "login.html", token=None, error=None)


async def login_page(request: aioweb.Request) -> aioweb.Response:
    """GET /login/{token}: a button that signs in (the link itself changes nothing, so previews cannot use it)."""
    return render(request, "login.html", token=request.match_info["token"], error=None)


async def login(request: aioweb.Request) -> aioweb.Response:
    """POST /login: use the one-time token, open a session, set the cookie."""
    form = await request.post()
    token = form.get("token")
    try:
        if not isinstance(token, str) or not token:
            raise SignInError("登录链接无效，请在助手中发送 /web 获取新的链接。")
        opened = await in_session(request, lambda s: redeem_link(s, token), write=True)
    except SignInError as exc:
        return render(request, "login.html", status=403, token=None, error=str(exc))
    response = aioweb.HTTPSeeOther("/" if opened.user.is_admin else "/orders")
    response.set_cookie(
        COOKIE,
        opened.cookie,
        httponly=True,
        samesite="Strict",
        secure=console_of(request).secure_cookies,
        path="/",
    )
    raise response


async def logout(request: aioweb.Request) -> aioweb.Response:
    """POST /logout: end the session."""
    user_of(request)
    cookie = request.cookies.get(COOKIE, "")
    await in_session(request, lambda s: end_session(s, cookie), write=True)
    response = aioweb.HTTPSeeOther("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


def add_routes(app: aioweb.Application) -> None:
    """The sign-in routes."""
    app.router.add_get("/login", login_help)
    app.router.add_get("/login/{token}", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
