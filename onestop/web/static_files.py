"""Versioned links to static files, so screens that stay open for weeks pick up new scripts
after an update: /static/<room>/<name>?v=<content hash>.

Each room serves its own files from /static/<room>/; what more than one room's pages load
(common.js, common.css, day.js) lives in onestop/web/static/ and is served once at /static/web/
(SHARED_DIR, SHARED_URL; templates link to it with web_static_url()).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

SHARED_DIR = Path(__file__).resolve().parent / "static"
SHARED_URL = "/static/web"


class VersionedStatic:
    def __init__(self, directory: Path, url_prefix: str) -> None:
        self.directory = directory
        self.url_prefix = url_prefix.rstrip("/")
        self._versions: dict[str, tuple[float, str]] = {}

    def url(self, name: str) -> str:
        path = self.directory / name
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return f"{self.url_prefix}/{name}"
        cached = self._versions.get(name)
        if cached is None or cached[0] != mtime:
            cached = (mtime, hashlib.sha256(path.read_bytes()).hexdigest()[:10])
            self._versions[name] = cached
        return f"{self.url_prefix}/{name}?v={cached[1]}"


shared = VersionedStatic(SHARED_DIR, SHARED_URL)
web_static_url = shared.url
