"""The `onestop` command as an operator runs it, in a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
