"""The `onestop` command as an operator runs it, in a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from onestop.queue.clock import SystemClock
from onestop.queue.store import Store
from onestop.web.accounts import Accounts

CONFIG = Path(__file__).resolve().parent.parent / "config"


def onestop(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onestop.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_everywhere(tmp_path: Path) -> None:
    top = onestop("--help", cwd=tmp_path)
    assert top.returncode == 0 and "init" in top.stdout and "serve" in top.stdout
    for command in ("init", "serve", "status"):
        result = onestop(command, "--help", cwd=tmp_path)
        assert result.returncode == 0 and "--db" in result.stdout


def test_init_then_status_on_a_fresh_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "data"
    init = onestop("init", "--config", str(CONFIG), "--data", str(data), cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    assert (data / "onestop.db").exists()
    assert "12 windows" in init.stdout
    again = onestop("init", "--config", str(CONFIG), "--data", str(data), cwd=tmp_path)
    assert again.returncode == 0, "init must be idempotent"
    status = onestop("status", "--config", str(CONFIG), "--data", str(data), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "社会保障" in status.stdout and "5号窗口" in status.stdout


def test_config_error_is_a_message_not_a_trace(tmp_path: Path) -> None:
    (tmp_path / "hall.toml").write_text("[hall]\nname = 1\n", encoding="utf-8")
    (tmp_path / "services.toml").write_text("", encoding="utf-8")
    result = onestop("init", "--config", str(tmp_path), "--data", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "Traceback" not in result.stderr
    assert "hall.toml: hall.name" in result.stderr


def test_unreachable_database_is_a_message(tmp_path: Path) -> None:
    result = onestop(
        "init",
        "--config",
        str(CONFIG),
        "--db",
        "postgresql://nobody@127.0.0.1:1/none",
        cwd=tmp_path,
    )
    assert result.returncode == 3
    assert "cannot use the database" in result.stderr and "Traceback" not in result.stderr


def onestop_in(*args: str, cwd: Path, stdin: str | None = None
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "onestop.cli", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_accounts_and_devices_from_the_command_line(tmp_path: Path) -> None:
    where = ["--config", str(CONFIG), "--data", str(tmp_path / "data")]

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return onestop_in(*args[:2], *where, *args[2:], cwd=tmp_path, stdin=stdin)

    weak = run("user", "add", "wang-li", "--role", "clerk", "--password-stdin", stdin="123456\n")
    assert weak.returncode == 2 and "does not meet the policy" in weak.stderr
    assert "Traceback" not in weak.stderr
    made = run("user", "add", "wang-li", "--role", "clerk")
    assert made.returncode == 0, made.stderr
    assert "windows 1" in made.stdout and "password: " in made.stdout
    first = made.stdout.split("password: ")[1].strip()
    assert run("user", "add", "boss", "--role", "admin", "--password-stdin",
               stdin="Lanterns-by-the-river-7\n").returncode == 0

    disabled = run("user", "disable", "wang-li")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    listed = run("user", "list")
    assert "wang-li" in listed.stdout and "DISABLED" in listed.stdout
    assert run("user", "enable", "wang-li").returncode == 0
    assert "DISABLED" not in run("user", "list").stdout
    missing = run("user", "disable", "nobody")
    assert missing.returncode == 2 and "no account 'nobody'" in missing.stderr

    passwd = run("user", "passwd", "wang-li")
    assert passwd.returncode == 0, passwd.stderr
    second = passwd.stdout.split("password: ")[1].strip()
    assert second != first
    weak = run("user", "passwd", "wang-li", "--password-stdin", stdin="wang-li-2024\n")
    assert weak.returncode == 2 and "user name" in weak.stderr
    assert run("user", "passwd", "wang-li", "--password-stdin",
               stdin="Quiet-Harbour-42\n").stdout.strip() == "password of wang-li changed"

    device = run("device", "add", "tv-1", "--role", "screen")
    assert device.returncode == 0 and "token: " in device.stdout
    old_token = device.stdout.split("token: ")[1].split()[0]
    rotated = run("device", "rotate", "tv-1")
    assert rotated.returncode == 0 and "new token" in rotated.stdout
    new_token = rotated.stdout.split("token: ")[1].split()[0]
    assert new_token != old_token and f"/screen#token={new_token}" in rotated.stdout
    revoked = run("device", "revoke", "tv-1")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "REVOKED" in run("device", "list").stdout
    assert run("device", "revoke", "tv-9").returncode == 2

    # What the command line did is in the record, by 命令行, naming nobody in public.
    store = Store(f"sqlite:///{tmp_path / 'data' / 'onestop.db'}")
    try:
        accounts = Accounts(store, SystemClock())
        record = accounts.audit()
        assert accounts.device_by_token(old_token) is None
        assert accounts.device_by_token(new_token) is None
    finally:
        store.dispose()
    assert [e["type"] for e in record] == [
        "device.revoked", "device.rotated", "device.added", "account.password_reset",
        "account.password_reset", "account.enabled", "account.disabled", "account.added",
        "account.added"]
    assert all(e["actor"] == {"kind": "system", "id": "cli", "name": "命令行", "role": "system"}
               for e in record)
    assert all(set(e["data"]) == {"change"} for e in record)
    assert record[-1]["staff"]["user"] == "wang-li"
