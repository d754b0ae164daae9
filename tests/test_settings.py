"""Config loading: the sample hall is valid, and every mistake names its file, key and problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from onestop.queue.catalogue import HallConfig
from onestop.settings import ConfigError, RuntimeSettings, load_hall_config

SAMPLE = Path(__file__).resolve().parent.parent / "config"


def test_sample_hall_matches_the_brief(config: HallConfig) -> None:
    assert 10 <= len(config.counters) <= 14
    comprehensive = [c for c in config.counters if c.services == ["*"]]
    assert len(comprehensive) == 2
    assert 18 <= len(config.services) <= 24
    assert 4 <= len(config.queues) <= 6
    names = {s.name for s in config.services}
    assert {"老年人优待证办理", "最低生活保障申请", "居住证办理", "天然气缴费"} <= names
    for s in config.services:
        assert s.name_en and s.materials and len(s.materials) == len(s.materials_en)
        assert s.committed_days <= s.legal_days or s.legal_days == 0
        assert any(s.id in config.counter_services(c.number) for c in config.counters)
    assert any(s.anywhere for s in config.services)


@pytest.fixture
def hall_dir(tmp_path: Path) -> Path:
    for name in ("hall.toml", "services.toml"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "hall.toml",
            "max_priority_streak",
            "max_priority_streek",
            "hall.toml: policy.max_priority_streek: unknown key",
        ),
        ("hall.toml", 'prefix = "B"', 'prefix = "b"', "hall.toml: queues[1].prefix:"),
        ("hall.toml", 'prefix = "B"', 'prefix = "A"', "hall.toml: queues[1].prefix: prefix 'A'"),
        (
            "services.toml",
            "legal_days = ",
            "legal_days = -",
            "services.toml: services[0].legal_days",
        ),
        (
            "services.toml",
            'queue = "social-security"',
            'queue = "nowhere"',
            "services.toml: services[0].queue: unknown queue 'nowhere'",
        ),
        ("hall.toml", "[hall]", "[hall]\nfoo = 1", "hall.toml: hall.foo: unknown key"),
        ("hall.toml", "[hall]", "[hall", "hall.toml: TOML syntax error"),
    ],
)
def test_config_errors_name_file_key_and_problem(
    hall_dir: Path, file: str, old: str, new: str, expected: str
) -> None:
    edit(hall_dir / file, old, new)
    with pytest.raises(ConfigError) as info:
        load_hall_config(hall_dir)
    assert expected in str(info.value).replace(str(hall_dir) + "/", "")


def test_counter_with_unknown_service_is_named(hall_dir: Path) -> None:
    text = (hall_dir / "hall.toml").read_text(encoding="utf-8")
    marker = "number = 3"
    start = text.index(marker)
    services_at = text.index("services = [", start)
    text = text[:services_at] + 'services = ["typo-item", ' + text[services_at + 12 :]
    (hall_dir / "hall.toml").write_text(text, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"counters\[2\]\.services\[0\]: unknown service 'typo-item'"
    ):
        load_hall_config(hall_dir)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"hall\.toml: file not found"):
        load_hall_config(tmp_path)


def test_environment_overrides(hall_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONESTOP_HALL__NAME", "测试街道政务服务中心")
    monkeypatch.setenv("ONESTOP_POLICY__MAX_PRIORITY_STREAK", "5")
    monkeypatch.setenv("ONESTOP_PORT", "9123")
    config = load_hall_config(hall_dir)
    assert config.hall.name == "测试街道政务服务中心"
    assert config.policy.max_priority_streak == 5
    assert RuntimeSettings().port == 9123
