"""The hall as configured: service items, queues, windows, clerks and the calling policy.

These models are plain pydantic (no web framework); `onestop.settings` fills them from the TOML
files in `config/` and cross-checks them, so the engine can trust every reference it follows.
"""

from __future__ import annotations

import ipaddress
import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from onestop.queue.day_config import AppointmentsDef, HoursDef, LunchDef

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", min_length=1, max_length=64)
]
Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Z]$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Strict(BaseModel):
    """Unknown keys are typos in a hall's config, so they are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class HallInfo(Strict):
    name: Text = Field(description="Hall name as printed on tickets and screens (zh-CN).")
    name_en: Text
    timezone: str = "Asia/Shanghai"
    site: Slug = "main"
    public_screen: bool = Field(
        True, description="The hall screen and its live data may be viewed without a device token."
    )


class ServiceItem(Strict):
    """One item of the catalogue (事项), with its one-time notification of materials (一次性告知)."""

    id: Slug
    name: Text
    name_en: Text
    queue: Slug
    category: Text = Field(description="Kiosk category the item is listed under (zh-CN).")
    category_en: Text
    materials: list[Text] = Field(default_factory=list)
    materials_en: list[Text] = Field(default_factory=list)
    legal_days: int = Field(
        ge=0, le=365, description="Statutory time limit (法定时限), working days."
    )
    committed_days: int = Field(
        ge=0, le=365, description="Time limit the hall commits to (承诺时限), working days."
    )
    anywhere: bool = Field(False, description="Can be handled at any site (全域通办).")
    service_minutes: float = Field(
        8.0, gt=0, le=240, description="Typical service time, used until real times are known."
    )


class QueueDef(Strict):
    """A line of residents that shares one ticket prefix (A001, A002...)."""

    id: Slug
    prefix: Prefix
    name: Text
    name_en: Text
    issue_cutoff_minutes: int | None = Field(
        None, ge=0, le=240, description="This queue's own cut-off before closing ([hours] default)")


class CounterDef(Strict):
    """A service window. `services` is the calling priority order; ["*"] means every item (综合窗口)."""

    number: int = Field(ge=1, le=9999)
    name: Text
    name_en: Text
    services: list[str] = Field(min_length=1)


class ClerkDef(Strict):
    id: Slug
    name: Text
    counters: list[int] = Field(default_factory=list)


class CallingPolicy(Strict):
    """Fairness guard: normal tickets must not starve behind a stream of priority ones.

    Two independent bounds, both on by default:
    - after `max_priority_streak` consecutive priority calls at a window while normal tickets wait
      for it, the window's next call takes the oldest normal ticket;
    - a normal ticket that has waited `promote_after_minutes` ranks with the green channel, by
      issue time, so it goes before every priority ticket issued after it.
    """

    max_priority_streak: int = Field(3, ge=1, le=100)
    promote_after_minutes: float = Field(30.0, gt=0, le=24 * 60)
    estimate_sample: int = Field(
        20, ge=1, le=1000, description="Recent services averaged for wait estimates."
    )


class PresenceDef(Strict):
    """A window is staffed while its clerk's terminal is heard from: every action, and a
    heartbeat the terminal sends while it is open. Silence longer than this unstaffs it."""

    heartbeat_seconds: int = Field(60, ge=15, le=3600)


class CorrectionsDef(Strict):
    """How clerks and the desk correct mistakes at the windows.

    - 过号 only after the resident has had a fair chance: called at least
      `no_show_after_seconds` ago, or recalled once;
    - the window's last finish or no-show can be undone for `undo_seconds`;
    - a no-show put back in line (过号顺延) is placed `requeue_places` tickets after the head of
      its queue."""

    no_show_after_seconds: int = Field(60, ge=0, le=3600)
    undo_seconds: int = Field(30, ge=0, le=600)
    requeue_places: int = Field(3, ge=0, le=100)


class RateLimitsDef(Strict):
    """Requests one network address may make to the public routes, in the `limits` package's
    notation ("20/hour", "5/minute"). A hall's own Wi-Fi puts many phones behind one address:
    keep these generous; the per-phone rules of [appointments] stop hoarding."""

    booking: str = Field("20/hour", pattern=r"^\d+\s*/\s*(second|minute|hour|day)$")
    lookup: str = Field("120/hour", pattern=r"^\d+\s*/\s*(second|minute|hour|day)$")
    cancel: str = Field("30/hour", pattern=r"^\d+\s*/\s*(second|minute|hour|day)$")
    enabled: bool = True


class SecurityDef(Strict):
    """Staff sign-in sessions and the network in front of the server.

    A session ends when its user signs out, is deactivated or has their password changed, when
    an admin ends it, after `session_idle_minutes` without a request, and `session_max_hours`
    after sign-in whatever happens. `max_body_kb` and the websocket caps bound what one client
    can make the server hold. `trusted_proxies` are the addresses (or networks) of reverse
    proxies whose X-Forwarded-For header is believed for the client's address; from anyone
    else the header is ignored, so a client cannot pick the address sign-in throttling sees."""

    session_idle_minutes: int = Field(240, ge=5, le=7 * 24 * 60)
    session_max_hours: int = Field(12, ge=1, le=7 * 24)
    trusted_proxies: list[str] = Field(default_factory=list, max_length=100)
    # Request bodies above this are refused (413) before they are read; the largest legitimate
    # body (a notice, a ticket template) is a few KB.
    max_body_kb: int = Field(64, ge=4, le=4096)
    # Open websockets: per client address (a screen PC runs a few pages) and in all.
    websockets_per_address: int = Field(50, ge=1, le=10_000)
    websockets_total: int = Field(2000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _addresses(self) -> SecurityDef:
        for i, entry in enumerate(self.trusted_proxies):
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies[{i}]: {entry!r} is not an IP address or "
                                 "network (e.g. 10.0.0.2 or 10.0.0.0/24)") from None
        return self

    def proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in self.trusted_proxies)


class TicketTemplate(Strict):
    """What the printed ticket says; the layout itself lives in onestop.kiosk.ticket_layout."""

    paper_mm: Literal[58, 80] = 80
    language: Literal["zh", "en", "both"] = "zh"
    footer: Text = "请留意叫号，过号请到咨询台重新取号。"
    footer_en: Text = "Please listen for your number; if you miss it, ask at the front desk."
    show_qr: bool = True


class PrinterDef(Strict):
    """A kiosk's ticket printer. `type` picks the transport; the other keys belong to it."""

    type: Literal["emulator", "network", "serial", "usb", "file", "none"] = "emulator"
    host: str = "127.0.0.1"
    port: int = Field(9100, ge=0, le=65535)
    device: str = Field("", description="Serial port or pyserial URL, e.g. /dev/ttyUSB0")
    baudrate: int = Field(9600, ge=1200, le=921600)
    vendor_id: int = Field(0, ge=0, le=0xFFFF)
    product_id: int = Field(0, ge=0, le=0xFFFF)
    path: str = Field("", description="File transport: where to append the bytes")
    timeout: float = Field(2.0, gt=0, le=60, description="Seconds to wait for the printer")
    encoding: Literal["gb18030", "gbk"] = "gb18030"


class KioskDef(Strict):
    id: Slug
    name: Text
    printer: PrinterDef = PrinterDef()


class LedBusDef(Strict):
    """One line to LED screens: an RS-485/RS-232 serial port or a TCP link to a controller.

    Every screen on one line speaks the bus's protocol; `type` picks the transport."""

    id: Slug
    type: Literal["emulator", "serial", "tcp", "none"] = "emulator"
    protocol: Literal["line", "alpha", "onbon-text", "onbon-graphic"] = "line"
    device: str = Field("", description="Serial port or pyserial URL, e.g. /dev/ttyUSB0")
    host: str = "127.0.0.1"
    port: int = Field(5005, ge=1, le=65535)
    baudrate: int = Field(9600, ge=1200, le=921600)
    encoding: Literal["gb2312", "gbk"] = "gbk"


class LedBoardDef(Strict):
    """A screen on a bus: the hall's board (calls, waiting counts, a notice line) or a window's
    own screen (the ticket called there, or "暂停服务")."""

    id: Slug
    bus: Slug
    address: int = Field(ge=0, le=0xFFFE)
    role: Literal["hall", "window"]
    counter: int | None = Field(None, description="For a window screen: its window number")
    width: int = Field(128, ge=16, le=4096, description="LED pixels across")
    height: int = Field(32, ge=8, le=1024, description="LED pixels down")


class VoiceDef(Strict):
    """Spoken calls (请 A012 号到 3号窗口办理). `output` "speaker" plays through this PC's sound
    card, "wav" writes each call to a file (a PC without speakers, or a record), "none" is quiet.
    Folders default to DATA/voice/cmn (generated pack), DATA/voice/custom (the hall's own
    recordings, which replace same-named clips) and DATA/voice/calls (the "wav" output)."""

    output: Literal["none", "speaker", "wav"] = "none"
    pack_dir: str = ""
    clips_dir: str = ""
    wav_dir: str = ""


class LedTexts(Strict):
    """What LED screens say, as templates; each line is "first line|second line".

    Placeholders: {number} ticket, {window} window name, {hall} hall name, {other} the open
    window a paused one sends residents to, {reason} the pause reason, {waiting} the waiting
    counts ("社会保障 3人  民政优抚 0人"), {notice} the first notice showing now."""

    window_called: Text = "{number} 请到{window}|{window}"
    window_serving: Text = "{number} 正在办理|{window}"
    window_idle: Text = "{window}|欢迎光临"
    window_paused: Text = "暂停服务|请到{other}"
    window_paused_alone: Text = "暂停服务|{reason}"
    hall_call: Text = "请 {number} 号到{window}"
    hall_idle: Text = "欢迎光临{hall}"
    hall_waiting: Text = "等候：{waiting}"
    hall_notice: Text = "{notice}"
    no_notice: Text = "请留意叫号信息，过号请到咨询台"

    @model_validator(mode="after")
    def _known_placeholders(self) -> LedTexts:
        allowed = {"number", "window", "hall", "other", "reason", "waiting", "notice"}
        for name, template in self:
            try:
                fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            unknown = fields - allowed
            if unknown:
                raise ValueError(f"{name}: unknown placeholder(s) {sorted(unknown)}; "
                                 f"use {sorted(allowed)}")
        return self


class HallConfig(Strict):
    hall: HallInfo
    policy: CallingPolicy = CallingPolicy()
    presence: PresenceDef = PresenceDef()
    corrections: CorrectionsDef = CorrectionsDef()
    rate_limits: RateLimitsDef = RateLimitsDef()
    security: SecurityDef = SecurityDef()
    ticket: TicketTemplate = TicketTemplate()
    kiosks: list[KioskDef] = Field(default_factory=list)
    led_buses: list[LedBusDef] = Field(default_factory=list)
    led_boards: list[LedBoardDef] = Field(default_factory=list)
    led_texts: LedTexts = LedTexts()
    hours: HoursDef = HoursDef()
    lunch: LunchDef = LunchDef()
    appointments: AppointmentsDef = AppointmentsDef()
    voice: VoiceDef = VoiceDef()
    queues: list[QueueDef] = Field(min_length=1)
    counters: list[CounterDef] = Field(min_length=1)
    clerks: list[ClerkDef] = Field(default_factory=list)
    services: list[ServiceItem] = Field(min_length=1)

    def service(self, service_id: str) -> ServiceItem | None:
        return next((s for s in self.services if s.id == service_id), None)

    def queue(self, queue_id: str) -> QueueDef | None:
        return next((q for q in self.queues if q.id == queue_id), None)

    def counter(self, number: int) -> CounterDef | None:
        return next((c for c in self.counters if c.number == number), None)

    def kiosk(self, kiosk_id: str) -> KioskDef | None:
        return next((k for k in self.kiosks if k.id == kiosk_id), None)

    def clerk(self, clerk_id: str) -> ClerkDef | None:
        return next((c for c in self.clerks if c.id == clerk_id), None)

    def counter_services(self, number: int) -> list[str]:
        """The window's items in calling priority order, with "*" expanded to the catalogue order."""
        counter = self.counter(number)
        if counter is None:
            return []
        expanded: list[str] = []
        for entry in counter.services:
            ids = [s.id for s in self.services] if entry == "*" else [entry]
            expanded.extend(i for i in ids if i not in expanded)
        return expanded

    def queue_services(self, queue_id: str) -> list[str]:
        return [s.id for s in self.services if s.queue == queue_id]


def cross_check(config: HallConfig) -> list[tuple[str, str]]:
    """Return (key, problem) pairs for references that do not resolve; empty when consistent."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for i, q in enumerate(config.queues):
        if q.id in seen:
            problems.append((f"queues[{i}].id", f"duplicate queue id {q.id!r}"))
        if q.prefix in seen.values():
            problems.append(
                (f"queues[{i}].prefix", f"prefix {q.prefix!r} is used by another queue")
            )
        seen[q.id] = q.prefix
    service_ids: set[str] = set()
    for i, s in enumerate(config.services):
        if s.id in service_ids:
            problems.append((f"services[{i}].id", f"duplicate service id {s.id!r}"))
        service_ids.add(s.id)
        if s.queue not in seen:
            problems.append(
                (f"services[{i}].queue", f"unknown queue {s.queue!r}; known: {sorted(seen)}")
            )
        if s.committed_days > s.legal_days and s.legal_days > 0:
            problems.append(
                (
                    f"services[{i}].committed_days",
                    f"committed limit {s.committed_days} exceeds the legal limit {s.legal_days}",
                )
            )
    numbers: set[int] = set()
    for i, c in enumerate(config.counters):
        if c.number in numbers:
            problems.append((f"counters[{i}].number", f"duplicate window number {c.number}"))
        numbers.add(c.number)
        for j, sid in enumerate(c.services):
            if sid != "*" and sid not in service_ids:
                problems.append((f"counters[{i}].services[{j}]", f"unknown service {sid!r}"))
    for i, clerk in enumerate(config.clerks):
        for j, n in enumerate(clerk.counters):
            if n not in numbers:
                problems.append((f"clerks[{i}].counters[{j}]", f"unknown window number {n}"))
    kiosk_ids: set[str] = set()
    for i, k in enumerate(config.kiosks):
        if k.id in kiosk_ids:
            problems.append((f"kiosks[{i}].id", f"duplicate kiosk id {k.id!r}"))
        kiosk_ids.add(k.id)
        needs = {"serial": "device", "file": "path"}.get(k.printer.type)
        if needs and not getattr(k.printer, needs):
            problems.append((f"kiosks[{i}].printer.{needs}",
                             f"a {k.printer.type} printer needs {needs}"))
        if k.printer.type == "usb" and not (k.printer.vendor_id and k.printer.product_id):
            problems.append((f"kiosks[{i}].printer", "a usb printer needs vendor_id and product_id"))
    problems += _check_led(config, numbers)
    for key, mapping in (("lunch.min_open_by_service", config.lunch.min_open_by_service),
                         ("appointments.capacity_by_service",
                          config.appointments.capacity_by_service)):
        problems += [(f"{key}.{sid}", f"unknown service {sid!r}")
                     for sid in mapping if sid not in service_ids]
    if config.appointments.verify_phone and config.appointments.sms_sender == "none":
        problems.append(("appointments.sms_sender",
                         "verify_phone needs an SMS sender (console for trials)"))
    for q in config.queues:
        if not config.queue_services(q.id):
            problems.append(("queues", f"queue {q.id!r} has no service items"))
    return problems


def _check_led(config: HallConfig, windows: set[int]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    buses: dict[str, LedBusDef] = {}
    for i, bus in enumerate(config.led_buses):
        if bus.id in buses:
            problems.append((f"led_buses[{i}].id", f"duplicate LED bus id {bus.id!r}"))
        buses[bus.id] = bus
        if bus.type == "serial" and not bus.device:
            problems.append((f"led_buses[{i}].device", "a serial LED bus needs device"))
    boards: set[str] = set()
    addresses: set[tuple[str, int]] = set()
    for i, board in enumerate(config.led_boards):
        key = f"led_boards[{i}]"
        if board.id in boards:
            problems.append((f"{key}.id", f"duplicate LED board id {board.id!r}"))
        boards.add(board.id)
        if board.bus not in buses:
            problems.append((f"{key}.bus", f"unknown LED bus {board.bus!r}; known: {sorted(buses)}"))
        elif (board.bus, board.address) in addresses:
            problems.append((f"{key}.address",
                             f"address {board.address} is used twice on bus {board.bus!r}"))
        addresses.add((board.bus, board.address))
        if board.role == "window" and board.counter is None:
            problems.append((f"{key}.counter", "a window screen needs its window number"))
        if board.counter is not None and board.counter not in windows:
            problems.append((f"{key}.counter", f"unknown window number {board.counter}"))
    return problems
