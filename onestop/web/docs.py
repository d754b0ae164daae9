"""The API documentation for integrators (/docs), from the installed swagger-ui-py package.

FastAPI's own /docs page loads Swagger UI from a public CDN, with an inline script: it fails on
a hall network without Internet, and it runs a third party's script on a staff site. This page
serves the same Swagger UI from the package's files (`/static/docs`) and starts it with a
script of ours. `ONESTOP_DOCS=false` turns the documentation (and /openapi.json) off.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from onestop.web.static_files import web_static_url

router = APIRouter(include_in_schema=False)
DOCS_URL = "/docs"
ASSETS_URL = "/static/docs"


def assets_dir() -> Path:
    """Where swagger-ui-py keeps Swagger UI's built files."""
    import swagger_ui

    return Path(swagger_ui.__file__).resolve().parent / "static"


@router.get(DOCS_URL, response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onestop · API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css"></head>
<body><div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{web_static_url('docs.js')}"></script></body></html>"""
    return HTMLResponse(page)
