"""Shared mode's settings (contract §15): ``DATABASE_URL``, ``SSOT_ROLE`` / ``serve --role``,
``ssot-bot migrate``; without a database only the role ``all`` exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from tests.test_settings import PEM

BASE = {"WEBHOOK_SECRET": "s", "APP_ID": "1"}


def test_one_process_is_all_and_the_default() -> None:
    s = load_settings(BASE, dotenv_path=None, require_app=False)
    assert (s.database_url, s.role, s.shared, s.serves_webhooks, s.runs_jobs) == (
        None, "all", False, True, True)


@pytest.mark.parametrize("role", ["web", "worker"])
def test_a_role_needs_the_shared_database(role: str) -> None:
    with pytest.raises(SettingsError, match="needs DATABASE_URL"):
        load_settings({**BASE, "SSOT_ROLE": role}, dotenv_path=None, require_app=False)
    s = load_settings({**BASE, "SSOT_ROLE": role, "DATABASE_URL": "postgresql://h/db"},
                      dotenv_path=None, require_app=False)
    assert s.shared and s.role == role
    assert (s.serves_webhooks, s.runs_jobs) == (role == "web", role == "worker")


def test_bad_role_and_url_are_named() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({**BASE, "SSOT_ROLE": "boss", "DATABASE_URL": "mysql://x"},
                      dotenv_path=None, require_app=False)
    assert "SSOT_ROLE must be web, worker or all" in str(err.value)
    assert "DATABASE_URL must be a postgresql:// URL" in str(err.value)


def test_serve_role_without_database_and_migrate_without_url_exit_2(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SSOT_ROLE", raising=False)
    monkeypatch.setenv("WEBHOOK_SECRET", "s")
    monkeypatch.setenv("APP_ID", "1")
    monkeypatch.setenv("PRIVATE_KEY", PEM)
    assert main(["serve", "--role", "worker"]) == 2
    assert "role 'worker' needs DATABASE_URL" in capsys.readouterr().err
    assert main(["migrate"]) == 2
    assert "DATABASE_URL is not set" in capsys.readouterr().err
