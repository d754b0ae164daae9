"""Signing in and out, one's own password, the session's CSRF token, and a clerk's window.

Signing in: the attempt is counted by the LoginThrottle before anything else (so a burst of
guesses cannot outrun it), waits the delay the user name's recent failures call for, reads the
account on the database thread and checks the password in the argon2 pool (PasswordWorkers).
Success creates a server-side session (onestop.web.sessions); the cookie carries only its id.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from onestop.queue.errors import DomainError, NotFound, Rejected
from onestop.web import passwords, templating
from onestop.web.access import (
    Forbidden,
    Principal,
    TooManyAttempts,
    Unauthorized,
    allow,
    check_csrf,
    client_address,
    csrf_token,
    resolve,
)
from onestop.web.accounts import Account
from onestop.web.deps import hall_of
from onestop.web.openapi_errors import answers
from onestop.web.passwords import PasswordsBusy
from onestop.web.sessions import leave_windows

if TYPE_CHECKING:
    from onestop.hall import Hall

router = APIRouter(tags=["sign-in"])
# A refused attempt (throttled, or the password workers full) is answered after this pause, so
# a flood of guesses on a keep-alive connection costs the server little.
REFUSAL_PAUSE = 0.25


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class WindowChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counter: int | None = Field(None, ge=1, le=9999)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _me(principal: Principal, request: Request) -> dict[str, Any]:
    return {
        "authenticated": principal.kind != "public",
        "kind": principal.kind,
        "role": principal.role,
        "name": principal.name,
        "username": principal.username,
        "counters": list(principal.counters),
        "window": principal.window,
        "csrf_token": csrf_token(request),
    }


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, next: str | None = None) -> Response:
    return templating.render(request, "login.html", {
        "csrf_token": csrf_token(request), "next": _safe_next(next), "error": None,
        "hall": hall_of(request).config.hall,
    }, cache=None)


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI of a JSON body a route reads itself (it also takes the HTML form)."""
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": model.model_json_schema()}}}}


@router.get("/auth/me", responses=answers(401))
async def me(request: Request) -> dict[str, Any]:
    return _me(await resolve(request), request)


async def check_password(hall: Hall, request: Request, username: str, password: str
                         ) -> Account:
    """The account if `password` is its password; counted by the throttle first, checked in
    the argon2 pool. Unauthorized for a wrong name or password, Forbidden for a disabled
    account (said only to whoever knows its password), 429 when throttled or busy."""
    try:
        attempt = hall.login_throttle.begin(username,
                                            client_address(request, hall.trusted_proxies))
    except TooManyAttempts:
        await asyncio.sleep(REFUSAL_PAUSE)
        raise
    if attempt.delay:
        await asyncio.sleep(attempt.delay)
    record = await hall.db(hall.accounts.password_record, username)
    try:
        right = await hall.passwords.verify(record[1] if record else None, password)
    except PasswordsBusy:
        hall.login_throttle.cancel(attempt)
        await asyncio.sleep(REFUSAL_PAUSE)
        raise
    if record is None or not right:
        raise Unauthorized("用户名或密码错误", "wrong user name or password")
    hall.login_throttle.succeeded(attempt)
    account = record[0]
    if not account.active:
        raise Forbidden("此账号已停用，请联系管理员", "this account is disabled; ask an admin")
    return account


async def end_own_session(hall: Hall, principal: Principal) -> None:
    """This browser's session ends; a clerk sitting at a window leaves it."""
    if principal.session_id is None:
        return
    ended = await hall.db(hall.sessions.sign_out, principal.session_id)
    hall.hub.end_owner(("session", principal.session_id), "signed out")
    if ended is not None:
        await hall.db(leave_windows, hall.engine.windows, [ended], principal.actor)


@router.post("/auth/login", openapi_extra=_json_body(Credentials),
             responses=answers(401, 403, 429))
async def login(request: Request) -> Response:
    """JSON {username, password} or the login form; both need the session's CSRF token."""
    hall = hall_of(request)
    is_form = not request.headers.get("content-type", "").startswith("application/json")
    await check_csrf(request)
    if is_form:
        form = await request.form()
        raw: Any = {"username": form.get("username") or "", "password": form.get("password") or ""}
        target = _safe_next(str(form.get("next") or "/"))
    else:
        try:
            raw = await request.json()
        except ValueError:  # not JSON (or not UTF-8): answered like any unusable credentials
            raw = None
        target = "/"
    try:
        creds = Credentials.model_validate(raw)
    except Exception:
        raise Unauthorized("请输入用户名和密码", "enter a user name and a password") from None
    try:
        account = await check_password(hall, request, creds.username, creds.password)
    except DomainError as error:
        if is_form:
            return templating.render(request, "login.html", {
                "csrf_token": csrf_token(request), "next": target, "error": error.message,
                "hall": hall.config.hall,
            }, status_code=error.status, cache=None)
        raise
    previous = await resolve(request)
    if previous.kind == "user" and previous.window is not None:
        # Another person signs in on this terminal: whoever sat here has left the window.
        await hall.db(hall.engine.windows.sign_out, previous.window, actor=previous.actor,
                      reason="signed_out", force=True, clerk=previous.username)
    agent = request.headers.get("user-agent", "")
    token, session_id = await hall.db(hall.sessions.create, account.id,
                                      client_address(request, hall.trusted_proxies), agent,
                                      previous.session_id)
    request.session.clear()
    request.session["sid"] = token
    request.session["uid"] = account.id  # informative: the session row decides
    principal = Principal(kind="user", role=account.role, id=account.id,
                          name=account.display_name, username=account.username,
                          counters=account.counters, session_id=session_id)
    if len(account.counters) == 1 and account.role == "clerk":
        # Bound to one window: no choice needed; they sit down there unless someone else has.
        only = account.counters[0]
        try:
            await hall.db(hall.engine.windows.sign_in, only, actor=principal.actor)
        except DomainError:
            pass  # the terminal shows the window picker with the reason
        else:
            await hall.db(hall.sessions.set_counter, session_id, only)
            request.session["window"] = only
            principal = replace(principal, window=only)
    if is_form:
        return RedirectResponse(target, status_code=303)
    return JSONResponse(_me(principal, request))


@router.post("/auth/logout", responses=answers(401, 403))
async def logout(request: Request) -> dict[str, Any]:
    """Sign out: the server-side session ends (the old cookie is worthless from now on); a clerk
    signed in at a window leaves it (unstaffed, with an event)."""
    await check_csrf(request)
    principal = await resolve(request)
    if principal.kind == "user":
        await end_own_session(hall_of(request), principal)
    request.session.clear()
    return {"authenticated": False, "csrf_token": csrf_token(request)}


@router.get("/password", response_class=HTMLResponse, include_in_schema=False)
async def password_page(request: Request) -> Response:
    """A plain form for changing one's own password (no script needed)."""
    principal = await resolve(request)
    if principal.kind != "user":
        return RedirectResponse("/login?next=/password", status_code=303)
    return _password_page(request, principal, None, None)


def _password_page(request: Request, principal: Principal, error: str | None, done: str | None,
                   status_code: int = 200) -> Response:
    return templating.render(request, "password.html", {
        "csrf_token": csrf_token(request), "hall": hall_of(request).config.hall,
        "name": principal.name, "username": principal.username, "error": error, "done": done,
        "min_length": passwords.MIN_LENGTH,
    }, status_code=status_code, cache="no-store")


async def _password_change(request: Request, is_form: bool) -> PasswordChange:
    try:
        if not is_form:
            return PasswordChange.model_validate(await request.json())
        form = await request.form()
        body = PasswordChange.model_validate({
            "current_password": form.get("current_password") or "",
            "new_password": form.get("new_password") or ""})
    except (ValidationError, ValueError):
        raise Rejected("请填写当前密码和新密码",
                       "give current_password and new_password") from None
    if form.get("new_password") != form.get("repeat_password"):
        raise Rejected("两次输入的新密码不一致", "the two new passwords differ")
    return body


@router.post("/auth/password", openapi_extra=_json_body(PasswordChange),
             responses=answers(429))
async def change_password(
    request: Request, principal: Annotated[Principal, allow("session.own")],
) -> Response:
    """Change one's own password: JSON {current_password, new_password} or the /password form.
    The current password is checked like a sign-in (throttled); every other session of the
    account ends (other browsers must sign in again), this one stays."""
    hall = hall_of(request)
    is_form = not request.headers.get("content-type", "").startswith("application/json")
    try:
        body = await _password_change(request, is_form)
        try:
            await check_password(hall, request, principal.username, body.current_password)
        except Unauthorized:
            raise Rejected("当前密码不正确", "the current password is wrong") from None
        if body.new_password == body.current_password:
            raise Rejected("新密码不能与当前密码相同", "the new password must differ from the current one")
        passwords.check(body.new_password, principal.username)
        new_hash = await hall.passwords.hash(body.new_password)
        assert principal.id is not None
        _, ended = await hall.db(hall.accounts.set_password, principal.id, new_hash,
                                 actor=principal.actor, reset=False,
                                 keep_session=principal.session_id)
        await hall.db(leave_windows, hall.engine.windows, ended, principal.actor)
    except DomainError as error:
        if not is_form:
            raise
        return _password_page(request, principal, error.message, None, error.status)
    if is_form:
        return _password_page(request, principal, None,
                              f"密码已修改；其他设备上的 {len(ended)} 个登录已退出")
    return JSONResponse({"changed": True, "sessions_ended": len(ended)})


async def _leave_window(hall: Hall, principal: Principal) -> None:
    """The session lets go of its window before the window's unstaffed event goes out, so a
    terminal that re-reads on that event is already refused (and shows the picker); a refused
    leave (a resident at the window) gives the window back to the session."""
    if principal.session_id is not None:
        await hall.db(hall.sessions.set_counter, principal.session_id, None)
    if principal.window is None:
        return
    try:
        await hall.db(hall.engine.windows.sign_out, principal.window, actor=principal.actor)
    except Exception:
        if principal.session_id is not None:
            await hall.db(hall.sessions.set_counter, principal.session_id, principal.window)
        raise


@router.post("/auth/window")
async def choose_window(
    body: WindowChoice, request: Request,
    principal: Annotated[Principal, allow("window.sign_in")],
) -> dict[str, Any]:
    """A clerk sits down at a window (or leaves it with counter = null): the window is staffed
    while they are there. Refused while another clerk sits there, or (leaving) while a resident
    is at the window."""
    hall = hall_of(request)
    if body.counter is not None:
        if hall.config.counter(body.counter) is None:
            raise NotFound(f"没有{body.counter}号窗口", f"unknown window {body.counter}")
        if principal.role == "clerk" and body.counter not in principal.counters:
            raise Forbidden(f"您未被安排在{body.counter}号窗口",
                            f"you are not assigned to window {body.counter}")
        await hall.db(hall.engine.windows.sign_in, body.counter, actor=principal.actor)
        if principal.session_id is not None:
            await hall.db(hall.sessions.set_counter, principal.session_id, body.counter)
    else:
        await _leave_window(hall, principal)
    request.session["window"] = body.counter
    return _me(replace(principal, window=body.counter), request)
