"""The `onestop` command: init, serve, status, user, device, voice, screen.

Every subcommand takes --config/--data/--db so one machine can run several halls; the same
values can come from ONESTOP_CONFIG_DIR, ONESTOP_DATA_DIR and ONESTOP_DB.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from onestop import __version__
from onestop.queue.catalogue import HallConfig
from onestop.settings import ConfigError, RuntimeSettings, load_hall_config
from onestop.web.accounts import DEVICE_ROLES, USER_ROLES


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="DIR",
        help="folder with hall.toml and services.toml (default: ./config)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="data folder for the embedded SQLite database (default: ./data)",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL, e.g. postgresql://user@host/db (default: SQLite in the data folder)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onestop",
        description="Queueing and signage for a one-stop government service hall (政务服务中心).",
    )
    parser.add_argument("--version", action="version", version=f"onestop {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser(
        "init",
        help="create or migrate the database and load the config",
        description="Create or migrate the database (idempotent) and create "
        "the windows configured in hall.toml.",
    )
    _common(init)

    serve = sub.add_parser(
        "serve",
        help="run the hall server",
        description="Run the hall server (migrates the database first).",
    )
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="address residents' phones reach, used in ticket QR codes",
    )

    user = sub.add_parser("user", help="staff accounts: add, list, disable, enable, passwd",
                          description="Staff accounts (admin, supervisor, clerk, desk). Every "
                                      "change is recorded in the ledger (GET /api/admin/audit).")
    user_sub = user.add_subparsers(dest="action", required=True, metavar="ACTION")
    user_add = user_sub.add_parser("add", help="add a staff account and print its password",
                                   description="Add a staff account. Without --password-stdin a "
                                               "random password is generated and printed once.")
    user_add.add_argument("username")
    user_add.add_argument("--role", required=True, choices=USER_ROLES)
    user_add.add_argument("--name", help="name shown on screens (default: the user name)")
    user_add.add_argument("--counters", default="", metavar="N,N",
                          help="windows a clerk may sit at, e.g. 3,4 (default: from hall.toml's "
                               "clerk with the same id)")
    user_add.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input")
    _common(user_add)
    _common(user_sub.add_parser("list", help="list staff accounts"))
    for action, text in (("disable", "disable an account: it cannot sign in, its sessions end "
                                     "at once and a clerk at a window leaves it"),
                         ("enable", "enable a disabled account again")):
        change = user_sub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        change.add_argument("username")
        _common(change)
    passwd = user_sub.add_parser("passwd", help="set a new password (ends the account's sessions)",
                                 description="Reset an account's password: without "
                                             "--password-stdin a password is generated and "
                                             "printed once. Every session of the account ends.")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the new password from standard input")
    _common(passwd)

    device = sub.add_parser("device", help="kiosk and hall-screen devices: add, list, revoke, "
                                           "rotate",
                            description="Devices sign in with a bearer token instead of a password.")
    device_sub = device.add_subparsers(dest="action", required=True, metavar="ACTION")
    device_add = device_sub.add_parser("add", help="add a device and print its token",
                                       description="Add a device; its token is printed once.")
    device_add.add_argument("name")
    device_add.add_argument("--role", required=True, choices=DEVICE_ROLES)
    device_add.add_argument("--kiosk", help="for --role kiosk: the kiosk id in devices.toml")
    _common(device_add)
    _common(device_sub.add_parser("list", help="list devices"))
    for action, text in (("revoke", "revoke a device's token: its next request is refused"),
                         ("rotate", "give a device a new token (printed once; the old one stops "
                                    "working; a revoked device is enabled again)")):
        change = device_sub.add_parser(action, help=text,
                                       description=text[0].upper() + text[1:] + ".")
        change.add_argument("name")
        _common(change)

    voice = sub.add_parser("voice", help="voice calling: build the voice pack, say a call",
                           description="Offline voice calling (espeak-ng voice pack).")
    voice_sub = voice.add_subparsers(dest="action", required=True, metavar="ACTION")
    voice_build = voice_sub.add_parser("build", help="generate the default Mandarin voice pack",
                                       description="Generate the voice pack with espeak-ng "
                                                   "(a no-op when the cached pack is current).")
    voice_build.add_argument("--pack", type=Path, metavar="DIR",
                             help="pack folder (default: DATA/voice/cmn)")
    voice_build.add_argument("--engine", default="auto", choices=("auto", "library", "program"),
                             help="espeakng-loader library, espeak-ng program, or auto")
    _common(voice_build)
    voice_say = voice_sub.add_parser("say", help="announce a call, e.g. say A012 3",
                                     description="Say 请 <number> 号 到 <window> 号窗口 办理.")
    voice_say.add_argument("number", help="ticket number, e.g. A012")
    voice_say.add_argument("window", help="window number, e.g. 3")
    voice_say.add_argument("--wav", type=Path, metavar="FILE",
                           help="write a WAV file instead of playing")
    voice_say.add_argument("--pack", type=Path, metavar="DIR",
                           help="pack folder (default: DATA/voice/cmn)")
    voice_say.add_argument("--clips", type=Path, metavar="DIR",
                           help="the hall's own recorded clips (default: DATA/voice/custom)")
    _common(voice_say)

    status = sub.add_parser(
        "status",
        help="show queues and windows in the terminal",
        description="Print every queue's length and every window's state.",
    )
    _common(status)

    screen = sub.add_parser("screen", help="show the hall screen on this machine's display",
                            description="The hall screen as a native full-screen program "
                                        "(pygame), following a server's event stream.")
    from onestop.signage.hallscreen.options import add_arguments as screen_arguments

    screen_arguments(screen)
    return parser


def _settings(args: argparse.Namespace) -> RuntimeSettings:
    overrides: dict[str, Any] = {}
    for arg, key in (
        ("config", "config_dir"),
        ("data", "data_dir"),
        ("db", "db"),
        ("host", "host"),
        ("port", "port"),
        ("public_url", "public_url"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            overrides[key] = value
    return RuntimeSettings(**overrides)


def _engine(settings: RuntimeSettings, config: HallConfig) -> Any:
    from onestop.queue.engine import QueueEngine
    from onestop.queue.store import Store, migrate

    migrate(settings.db_url())
    engine = QueueEngine(Store(settings.db_url()), config, settings.clock())
    engine.sync_counters()
    return engine


def cmd_init(settings: RuntimeSettings, config: HallConfig) -> int:
    engine = _engine(settings, config)
    print(f"database ready: {_safe_url(settings.db_url())}")
    print(
        f"hall: {config.hall.name} — {len(config.services)} service items, "
        f"{len(config.queues)} queues, {len(config.counters)} windows"
    )
    engine.store.dispose()
    return 0


def first_run(settings: RuntimeSettings, config: HallConfig) -> list[str]:
    """On an empty hall: an admin account and a token per kiosk and for one hall screen, so the
    quick start opens working pages. Credentials go to a file only the owner can read."""
    from onestop.web import passwords

    accounts = _accounts(settings, config)
    note = settings.data_dir.resolve() / "first-run.txt"
    if accounts.counts() != (0, 0):
        accounts.store.dispose()
        return [f"first-run sign-in and device links: {note}"] if note.exists() else []
    base = settings.base_url()
    password = passwords.generate("admin")
    accounts.add_user("admin", "管理员", "admin", password)
    lines = [f"admin sign-in      {base}/login   user admin   password {password}"]
    for kiosk in config.kiosks:
        _, token = accounts.add_device(f"kiosk-{kiosk.id}", "kiosk", kiosk.id)
        lines.append(f"kiosk {kiosk.id:<12} {base}/kiosk?k={kiosk.id}#token={token}")
    _, token = accounts.add_device("hall-screen", "screen")
    lines.append(f"hall screen        {base}/screen#token={token}")
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text("\n".join(lines) + "\n", encoding="utf-8")
    note.chmod(0o600)
    accounts.store.dispose()
    return ["first run: created these (also saved in " + str(note) + "):", *lines]


def cmd_serve(settings: RuntimeSettings, config: HallConfig) -> int:
    import uvicorn

    from onestop.app import create_app
    from onestop.web.ws_transport import WS_PROTOCOL

    for line in first_run(settings, config):
        print(line)
    app = create_app(settings, config, settings.clock())
    base = f"http://{settings.host}:{settings.port}"
    print(f"onestop {__version__}: {config.hall.name} ({_safe_url(settings.db_url())})")
    first_kiosk = f"/kiosk?k={config.kiosks[0].id}" if config.kiosks else "/kiosk"
    for label, path in (
        ("kiosk", first_kiosk),
        ("counter terminal", "/counter"),
        ("hall screen", "/screen"),
        ("admin", "/admin"),
        ("first-inquiry desk", "/desk"),
        ("API docs", "/docs"),
        ("live events (websocket)", "/ws/events"),
    ):
        print(f"  {label:<24} {base}{path}")
    print("  windows open when a clerk signs in at the counter terminal "
          "(add clerks with `onestop user add NAME --role clerk`)")
    for line in today_lines(settings, config):
        print(line)
    sys.stdout.flush()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=False,
        # The client's address is decided by [security] trusted_proxies (onestop.web.access),
        # not by uvicorn believing X-Forwarded-For from any local process.
        proxy_headers=False,
        ws_ping_interval=20,
        ws_ping_timeout=20,
        # uvicorn's websockets plus a bounded buffer and an abort for silent clients.
        ws=WS_PROTOCOL,
    )
    return 0


def today_lines(settings: RuntimeSettings, config: HallConfig) -> list[str]:
    """What the hall's day looks like now, and how to try the hall outside its hours."""
    from onestop.queue.calendar import HallCalendar
    from onestop.queue.clock import HallTime

    time = HallTime(settings.clock(), config.hall.timezone)
    now = time.local()
    plan = HallCalendar(config).plan(now.date())
    if plan.early_open_at is None or plan.closes_at is None:
        lines = [f"today {plan.day}: {plan.label} ({plan.label_en})"]
    else:
        lines = [f"today {plan.day}: {plan.label}, tickets from {plan.early_open_at:%H:%M}, "
                 f"closing {plan.closes_at:%H:%M} ({config.hall.timezone})"]
    if plan.kind != "working" or not (plan.early_open_at and plan.closes_at
                                      and plan.early_open_at <= now < plan.closes_at):
        lines.append("  the hall is not issuing walk-in tickets now; to try it out, start it on "
                     "a training clock: ONESTOP_CLOCK_START=2026-11-25T09:30+08:00 "
                     "python3 dev.py run")
    return lines


def _accounts(settings: RuntimeSettings, config: HallConfig) -> Any:
    """The hall's accounts; their changes are ledger events."""
    return _engine_accounts(settings, config)[1]


def _engine_accounts(settings: RuntimeSettings, config: HallConfig) -> tuple[Any, Any]:
    from onestop.web.accounts import Accounts

    engine = _engine(settings, config)
    return engine, Accounts(engine.store, engine.time.clock, engine.unit)


def _fail(message: str) -> int:
    print(f"onestop: {message}", file=sys.stderr)
    return 2


def cmd_user(settings: RuntimeSettings, config: HallConfig, args: argparse.Namespace) -> int:
    from onestop.queue.errors import DomainError

    engine, accounts = _engine_accounts(settings, config)
    try:
        return _user_action(config, args, engine, accounts)
    except DomainError as exc:
        return _fail(exc.message_en)
    finally:
        accounts.store.dispose()


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _user_action(config: HallConfig, args: argparse.Namespace, engine: Any, accounts: Any
                 ) -> int:
    from onestop.web import passwords
    from onestop.web.accounts import CLI
    from onestop.web.sessions import leave_windows

    if args.action == "list":
        for a in accounts.list_users():
            windows = ",".join(map(str, a.counters)) or "-"
            state = "" if a.active else "  DISABLED"
            print(f"{a.username:<20}{a.role:<12}{a.display_name:<16}windows {windows}{state}")
        return 0
    if args.action in ("disable", "enable"):
        account = accounts.user_by_name(args.username)
        account, ended = accounts.set_active(account.id, args.action == "enable", actor=CLI)
        leave_windows(engine.windows, ended, CLI)
        print(f"user {account.username} {'enabled' if account.active else 'disabled'}"
              + (f"; {len(ended)} session(s) ended" if ended else ""))
        return 0
    if args.action == "passwd":
        account = accounts.user_by_name(args.username)
        password = _read_password() if args.password_stdin else passwords.generate(
            account.username)
        passwords.check(password, account.username)
        password_hash = passwords.hash_now(password)
        account, ended = accounts.set_password(account.id, password_hash, actor=CLI, reset=True)
        leave_windows(engine.windows, ended, CLI)
        print(f"password of {account.username} changed"
              + (f"; {len(ended)} session(s) ended" if ended else ""))
        if not args.password_stdin:
            print(f"password: {password}")
        return 0
    clerk = next((c for c in config.clerks if c.id == args.username), None)
    counters = [int(x) for x in args.counters.split(",") if x.strip()] if args.counters else (
        list(clerk.counters) if clerk else [])
    unknown = [n for n in counters if config.counter(n) is None]
    if unknown:
        return _fail(f"unknown window(s) {unknown}")
    password = _read_password() if args.password_stdin else passwords.generate(args.username)
    name = args.name or (clerk.name if clerk else args.username)
    account = accounts.add_user(args.username, name, args.role, password, counters, actor=CLI)
    print(f"user {account.username} ({account.role}) added"
          + (f", windows {','.join(map(str, account.counters))}" if account.counters else ""))
    if not args.password_stdin:
        print(f"password: {password}")
    return 0


def cmd_device(settings: RuntimeSettings, config: HallConfig, args: argparse.Namespace) -> int:
    from onestop.queue.errors import DomainError
    from onestop.web.accounts import CLI

    accounts = _accounts(settings, config)
    try:
        if args.action == "list":
            for d in accounts.list_devices():
                state = "" if d.active else "  REVOKED"
                print(f"{d.name:<24}{d.role:<8}{d.kiosk or '':<12}{state}".rstrip())
            return 0
        if args.action == "revoke":
            device = accounts.revoke_device(accounts.device_by_name(args.name).id, actor=CLI)
            print(f"device {device.name} revoked: its token no longer works")
            return 0
        if args.action == "rotate":
            device, token = accounts.rotate_device(accounts.device_by_name(args.name).id,
                                                   actor=CLI)
            print(f"device {device.name} has a new token; the old one no longer works")
        else:
            if args.role == "kiosk" and (not args.kiosk or config.kiosk(args.kiosk) is None):
                known = ", ".join(k.id for k in config.kiosks) or "none configured"
                return _fail(f"--kiosk must name a kiosk in devices.toml ({known})")
            device, token = accounts.add_device(args.name, args.role, args.kiosk, actor=CLI)
            print(f"device {device.name} ({device.role}) added")
    except DomainError as exc:
        return _fail(exc.message_en)
    finally:
        accounts.store.dispose()
    page = f"/kiosk?k={device.kiosk}" if device.role == "kiosk" else "/screen"
    print(f"token: {token}")
    print(f"open once on the device: {settings.base_url()}{page}#token={token}")
    return 0


def cmd_status(settings: RuntimeSettings, config: HallConfig) -> int:
    engine = _engine(settings, config)
    print(f"{config.hall.name}  ({engine.time.local().strftime('%Y-%m-%d %H:%M')})")
    print(f"{'queue':<18}{'prefix':>7}{'waiting':>9}{'open windows':>14}{'est. wait':>11}")
    for q in engine.reads.queues():
        est = q["estimated_wait_seconds"]
        est_text = "—" if est is None else f"{round(est / 60)} min"
        print(
            f"{q['name']:<14}{q['prefix']:>7}{q['waiting']:>9}{q['open_counters']:>14}"
            f"{est_text:>11}"
        )
    print()
    print(f"{'window':<10}{'state':<22}{'clerk':<12}{'ticket':<16}{'served today':>12}")
    for c in engine.reads.counters(staff=True):
        ticket = c["ticket"]
        now = f"{ticket['number']} {ticket['state']}" if ticket else "—"
        state = c["state"] + (f" ({c['pause_reason']})" if c["pause_reason"] else "")
        clerk = c["clerk_name"] or "—"
        print(f"{c['name']:<10}{state:<22}{clerk:<12}{now:<16}{c['served_today']:>12}")
    engine.store.dispose()
    return 0


def cmd_voice(settings: RuntimeSettings, args: argparse.Namespace) -> int:
    from onestop.signage.voice import command

    pack = args.pack or command.default_pack_dir(settings.data_dir)
    if args.action == "build":
        return command.cmd_build(pack, args.engine)
    clips = args.clips or command.default_custom_dir(settings.data_dir)
    return command.cmd_say(args.number, args.window, pack, clips, args.wav)


def _safe_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}@{host}"
    return url


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "screen":  # a client of a server: needs no config or database here
        from onestop.signage.hallscreen.app import run_args

        return run_args(args)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # What the hall writes (database, secret key, printed tickets, recordings) is its owner's.
    os.umask(0o077)
    settings = _settings(args)
    if args.command == "voice":
        return cmd_voice(settings, args)
    try:
        config = load_hall_config(settings.config_dir)
    except ConfigError as exc:
        print(f"onestop: configuration error:\n{exc}", file=sys.stderr)
        return 2
    commands = {"init": cmd_init, "serve": cmd_serve, "status": cmd_status}
    try:
        if args.command == "user":
            return cmd_user(settings, config, args)
        if args.command == "device":
            return cmd_device(settings, config, args)
        return commands[args.command](settings, config)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a clear last word instead of a trace for operators
        from sqlalchemy.exc import OperationalError

        if isinstance(exc, OperationalError):
            print(
                f"onestop: cannot use the database {_safe_url(settings.db_url())}: {exc.orig}",
                file=sys.stderr,
            )
            return 3
        raise


if __name__ == "__main__":
    sys.exit(main())
