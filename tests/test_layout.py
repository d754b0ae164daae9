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



ROOMS = ("kiosk", "counter", "signage", "admin", "appointments")


def modules_imported(source: str, package: str) -> set[str]:
    """Every module some code in `package` imports, absolute or relative, at the top or inside a
    function: `from onestop.kiosk import pages` and `from ..kiosk import pages` both name
    onestop.kiosk and onestop.kiosk.pages."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *base.split(".")])
            found.add(base.strip("."))
            found.update(f"{base.strip('.')}.{alias.name}" for alias in node.names)
    return found


def imports_of(path: Path) -> set[str]:
    package = ".".join(("onestop", *path.relative_to(PACKAGE).parent.parts))
    return modules_imported(path.read_text(encoding="utf-8"), package)


def names_room(module: str, room: str) -> bool:
    return module == f"onestop.{room}" or module.startswith(f"onestop.{room}.")


WIRING = ("app.py", "hall.py")  # the routers and the running hall's devices


def test_only_the_wiring_imports_the_kiosk() -> None:
    """What several rooms need lives in onestop/web/, so nothing outside the kiosk's room
    reaches into it, except the wiring: app.py includes the kiosk's routers, hall.py opens the
    kiosks' printers."""
    offenders = sorted(
        (str(path.relative_to(PACKAGE)), module)
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "kiosk"
        and path not in [PACKAGE / name for name in WIRING]
        for module in imports_of(path)
        if names_room(module, "kiosk")
    )
    assert not offenders


def test_no_room_imports_another_and_web_imports_no_room() -> None:
    """Rooms register with web/ (templates, static files); web/ never imports a room."""
    offenders = sorted(
        (str(path.relative_to(PACKAGE)), module)
        for top in ("web", *ROOMS)
        for path in (PACKAGE / top).rglob("*.py")
        for module in imports_of(path)
        for room in ROOMS
        if room != top and names_room(module, room)
    )
    assert not offenders


def test_the_import_guard_sees_every_kind_of_import() -> None:
    source = ("import onestop.kiosk.api\n"
              "from onestop import kiosk\n"
              "from ..kiosk import pages\n"
              "from . import api\n"
              "def f():\n    from onestop.kiosk.printing import KioskPrinters\n")
    seen = modules_imported(source, "onestop.counter")
    assert {"onestop.kiosk.api", "onestop.kiosk", "onestop.kiosk.pages",
            "onestop.kiosk.printing", "onestop.counter.api"} <= seen
    assert all(names_room(m, "kiosk") for m in seen - {"onestop", "onestop.counter",
                                                         "onestop.counter.api"})
