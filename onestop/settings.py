"""Configuration: where things are (RuntimeSettings) and what the hall is (config/*.toml).

Both are read with pydantic-settings, and environment variables `ONESTOP_*` override them:
`ONESTOP_DB`, `ONESTOP_PORT`... for the runtime, `ONESTOP_HALL__NAME` (nested with `__`) for
the hall. A mistake in a file is reported as one line per problem naming the file, the key and
what is wrong, because the person reading it is a hall's IT officer, not a Python developer.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from onestop.queue.catalogue import HallConfig, cross_check
from onestop.queue.clock import Clock, ShiftedClock, SystemClock
from onestop.queue.store import sqlite_url

CONFIG_FILES = ("hall.toml", "services.toml")
OPTIONAL_FILES = ("devices.toml",)


class ConfigError(Exception):
    """Raised with every problem found, one per line, ready to print."""


class RuntimeSettings(BaseSettings):
    """Where the hall's files live and how the server listens."""

    model_config = SettingsConfigDict(env_prefix="ONESTOP_", extra="ignore")

    config_dir: Path = Path("config")
    data_dir: Path = Path("data")
    db: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    printer_poll_seconds: float = 5.0
    secret_key: str = ""
    secure_cookies: bool = False
    docs: bool = Field(True, description="Serve the API documentation at /docs (ONESTOP_DOCS)")
    clock_start: datetime | None = Field(
        None, description="Run the hall's clock from this instant (training, demos, tests)")

    def clock(self) -> Clock:
        """The one clock of this server: real time, or shifted to begin at clock_start."""
        if self.clock_start is None:
            return SystemClock()
        start = self.clock_start
        if start.tzinfo is None:
            raise ConfigError("ONESTOP_CLOCK_START needs a time zone, e.g. 2026-11-30T10:00+08:00")
        return ShiftedClock(start)

    def session_secret(self) -> str:
        """The key that signs session cookies: ONESTOP_SECRET_KEY, else one kept in the data
        folder (created on first run, readable only by its owner) so sign-ins survive restarts."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir.resolve() / "secret.key"
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()

    def cookies_secure(self) -> bool:
        """Session cookies only over HTTPS when the hall is reached over HTTPS."""
        return self.secure_cookies or self.public_url.lower().startswith("https://")

    def db_url(self) -> str:
        return self.db or sqlite_url(self.data_dir.resolve())

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


class _HallSettings(HallConfig, BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONESTOP_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings, TomlConfigSettingsSource(settings_cls))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (expected one of {CONFIG_FILES} here)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None


def load_hall_config(config_dir: Path) -> HallConfig:
    """Load and check the hall's config; raise ConfigError naming file, key and problem."""
    files = [config_dir / name for name in CONFIG_FILES]
    files += [config_dir / name for name in OPTIONAL_FILES if (config_dir / name).exists()]
    owner: dict[str, Path] = {}
    for path in files:
        for key in _read_toml(path):
            owner.setdefault(key, path)

    settings_cls = type(
        "HallSettings",
        (_HallSettings,),
        {"model_config": {**_HallSettings.model_config, "toml_file": files}},
    )
    try:
        loaded = settings_cls()
    except ValidationError as exc:
        raise ConfigError("\n".join(_describe(err, owner) for err in exc.errors())) from None
    config = HallConfig.model_validate(loaded.model_dump())
    problems = cross_check(config)
    if problems:
        raise ConfigError(
            "\n".join(f"{_file_for(key, owner)}: {key}: {msg}" for key, msg in problems)
        )
    return config


def _file_for(key: str, owner: dict[str, Path]) -> str:
    top = key.split(".", 1)[0].split("[", 1)[0]
    path = owner.get(top)
    return str(path) if path else f"environment (ONESTOP_{top.upper()}__...)"


def _describe(err: Any, owner: dict[str, Path]) -> str:
    key = ""
    for part in err["loc"]:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    problem = err["msg"]
    if err["type"] == "extra_forbidden":
        problem = "unknown key (check the spelling)"
    elif err["type"] == "missing":
        problem = "required key is missing"
    elif "input" in err and not isinstance(err["input"], dict | list):
        problem += f" (got {err['input']!r})"
    return f"{_file_for(key or '?', owner)}: {key or '(top level)'}: {problem}"
