"""Guards for the architecture: the stdlib `queue` is not shadowed, the domain core stays free
of web frameworks and hardware libraries, and drivers know nothing of tickets."""

from __future__ import annotations

import ast
import queue
import sys
from pathlib import Path

import onestop

PACKAGE = Path(onestop.__file__).parent
FORBIDDEN_IN_CORE = {
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "websockets",
    "serial",
    "escpos",
    "pygame",
    "usb",
    "httpx",
}


def imports_under(root: Path) -> list[tuple[str, str]]:
    """(file, imported module) for every absolute import in the tree."""
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found += [(path.name, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path.name, node.module))
    return found


def test_import_queue_is_the_standard_library() -> None:
    assert hasattr(queue, "Queue") and hasattr(queue, "SimpleQueue")
    assert Path(queue.__file__).parent == Path(sys.modules["os"].__file__).parent


def test_domain_core_imports_no_web_or_hardware_library() -> None:
    offenders = [
        (f, m) for f, m in imports_under(PACKAGE / "queue") if m.split(".")[0] in FORBIDDEN_IN_CORE
    ]
    assert not offenders


def test_drivers_know_no_tickets() -> None:
    offenders = [
        (f, m)
        for f, m in imports_under(PACKAGE / "drivers")
        if m.startswith(("onestop.queue", "onestop.kiosk", "onestop.signage"))
    ]
    assert not offenders
