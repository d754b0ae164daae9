"""The one Jinja environment every room renders its pages with.

Autoescape is on for every template whatever its file name, so data from the config or the API
is always escaped; nothing is inserted as HTML. Templates several rooms use (base.html,
not_found.html, login.html) live in onestop/web/templates/ and go by their plain names. Each
room registers its own folder with `room()`, and its templates go by "<room>/<file>", e.g.
"kiosk/kiosk.html" (they extend "base.html" as before). Rooms come to web/; web/ imports no room.

In every template `web_static_url('common.js')` links to a shared static file (onestop/web/static,
served at /static/web); a room's `render` also passes `static_url` for the room's own files.

Security headers are not set here: the SecurityHeaders middleware (onestop.web.security) puts
them on every HTML response. Each page still chooses its Cache-Control.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from onestop.web.static_files import VersionedStatic, web_static_url

SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"

_room_templates: dict[str, Path] = {}


def _loader() -> jinja2.BaseLoader:
    return jinja2.ChoiceLoader([
        jinja2.PrefixLoader({name: jinja2.FileSystemLoader(directory)
                             for name, directory in _room_templates.items()}),
        jinja2.FileSystemLoader(SHARED_TEMPLATES),
    ])


environment = jinja2.Environment(
    loader=_loader(),
    autoescape=True,  # every template, whatever its name
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals["web_static_url"] = web_static_url
templates = Jinja2Templates(env=environment)


def render(request: Request, name: str, context: Mapping[str, Any], *, status_code: int = 200,
           cache: str | None) -> HTMLResponse:
    """A page from the one environment; `cache` is its Cache-Control (None: no header)."""
    response = templates.TemplateResponse(request, name, dict(context), status_code=status_code)
    if cache is not None:
        response.headers["Cache-Control"] = cache
    return response


@dataclass(frozen=True)
class Room:
    """One room's pages: `static_url` links to its own static files, `render` draws a page."""

    name: str
    static_url: Callable[[str], str]

    def render(self, request: Request, name: str, context: Mapping[str, Any], *,
               status_code: int = 200, cache: str | None) -> HTMLResponse:
        return render(request, name, {"static_url": self.static_url, **context},
                      status_code=status_code, cache=cache)


def room(name: str, templates_dir: Path, static_dir: Path, static_url_prefix: str) -> Room:
    """Register a room: its templates become "<name>/<file>"; its static files, served by the
    application at `static_url_prefix`, get versioned links."""
    known = _room_templates.get(name)
    if known is not None and known != templates_dir:
        raise ValueError(f"room {name!r} already has its templates in {known}")
    _room_templates[name] = templates_dir
    environment.loader = _loader()
    return Room(name, VersionedStatic(static_dir, static_url_prefix).url)
