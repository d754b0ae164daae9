"""Signing in and out, the session's CSRF token, and a clerk's choice of window."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from onestop.queue.errors import DomainError, NotFound
from onestop.web import templating
from onestop.web.access import (
    Forbidden,
    Principal,
    Unauthorized,
    allow,
    check_csrf,
    csrf_token,
    resolve,
)
from onestop.web.deps import hall_of

router = APIRouter(tags=["sign-in"])


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


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


@router.get("/auth/me")
async def me(request: Request) -> dict[str, Any]:
    return _me(await resolve(request), request)


@router.post("/auth/login")
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
        raw = await request.json()
        target = "/"
    try:
        creds = Credentials.model_validate(raw)
    except Exception:
        raise Unauthorized("请输入用户名和密码", "enter a user name and a password") from None
    address = request.client.host if request.client else "?"
    keys = (f"user:{creds.username}", f"addr:{address}")
    hall.login_throttle.check(*keys)
    account = await hall.db(hall.accounts.verify, creds.username, creds.password)
    if account is None:
        hall.login_throttle.failed(*keys)
        error = Unauthorized("用户名或密码错误", "wrong user name or password")
        if is_form:
            return templating.render(request, "login.html", {
                "csrf_token": csrf_token(request), "next": target, "error": error.message,
                "hall": hall.config.hall,
            }, status_code=401, cache=None)
        raise error
    hall.login_throttle.succeeded(f"user:{creds.username}")
    previous = await resolve(request)
    if previous.kind == "user" and previous.window is not None:
        # Another person signs in on this terminal: whoever sat here has left the window.
        await hall.db(hall.engine.windows.sign_out, previous.window, actor=previous.actor,
                      reason="signed_out", force=True)
    request.session.clear()
    request.session["uid"] = account.id
    principal = Principal(kind="user", role=account.role, id=account.id,
                          name=account.display_name, username=account.username,
                          counters=account.counters)
    if len(account.counters) == 1 and account.role == "clerk":
        # Bound to one window: no choice needed; they sit down there unless someone else has.
        only = account.counters[0]
        try:
            await hall.db(hall.engine.windows.sign_in, only, actor=principal.actor)
        except DomainError:
            pass  # the terminal shows the window picker with the reason
        else:
            request.session["window"] = only
            principal = replace(principal, window=only)
    if is_form:
        return RedirectResponse(target, status_code=303)
    return JSONResponse(_me(principal, request))


@router.post("/auth/logout")
async def logout(request: Request) -> dict[str, Any]:
    """Sign out; a clerk signed in at a window leaves it (unstaffed, with an event)."""
    await check_csrf(request)
    principal = await resolve(request)
    if principal.kind == "user" and principal.window is not None:
        hall = hall_of(request)
        await hall.db(hall.engine.windows.sign_out, principal.window, actor=principal.actor,
                      reason="signed_out", force=True)
    request.session.clear()
    return {"authenticated": False, "csrf_token": csrf_token(request)}


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
    elif principal.window is not None:
        await hall.db(hall.engine.windows.sign_out, principal.window, actor=principal.actor)
    request.session["window"] = body.counter
    return _me(replace(principal, window=body.counter), request)
