"""Environment -> Settings: every problem named at once, keys in PEM or base64, .env, rotation."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.settings import SettingsError, load_settings

PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption()).decode()


def test_every_missing_variable_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({}, dotenv_path=tmp_path / "none")
    message = str(err.value)
    assert "WEBHOOK_SECRET" in message
    assert "APP_ID" in message
    assert "PRIVATE_KEY" in message


def test_pem_or_base64_pem_and_secret_rotation(tmp_path: Path) -> None:
    env = {"WEBHOOK_SECRET": "old, new", "APP_ID": "42", "PRIVATE_KEY": PEM}
    s = load_settings(env, dotenv_path=None)
    assert s.webhook_secrets == ("old", "new")
    assert s.private_key is not None and s.private_key.startswith("-----BEGIN")
    env["PRIVATE_KEY"] = "-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----"
    with pytest.raises(SettingsError, match="not a valid unencrypted PEM"):
        load_settings(env, dotenv_path=None)
    env["PRIVATE_KEY"] = PEM
    env["PRIVATE_KEY"] = base64.b64encode(PEM.encode()).decode()
    assert load_settings(env, dotenv_path=None).private_key == PEM
    env["PRIVATE_KEY"] = "not a key"
    with pytest.raises(SettingsError, match="PRIVATE_KEY is neither"):
        load_settings(env, dotenv_path=None)


def test_key_from_path_and_defaults(tmp_path: Path) -> None:
    key = tmp_path / "app.pem"
    key.write_text(PEM)
    s = load_settings({"WEBHOOK_SECRET": "x", "APP_ID": "7", "PRIVATE_KEY_PATH": str(key)},
                      dotenv_path=None)
    assert s.private_key == PEM
    assert (s.host, s.port, s.webhook_path) == ("0.0.0.0", 3000, "/api/github/webhooks")  # noqa: S104
    assert s.api_url == "https://api.github.com"
    with pytest.raises(SettingsError, match="cannot be read"):
        load_settings({"WEBHOOK_SECRET": "x", "APP_ID": "7",
                       "PRIVATE_KEY_PATH": str(tmp_path / "missing.pem")}, dotenv_path=None)


def test_dotenv_fills_in_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f'WEBHOOK_SECRET=from-file\nAPP_ID=1\nPORT=4000\nPRIVATE_KEY="{PEM}"\n')
    s = load_settings({"PORT": "5000", "GITHUB_API_URL": "http://127.0.0.1:9/"},
                      dotenv_path=dotenv)
    assert s.webhook_secrets == ("from-file",)
    assert s.port == 5000
    assert s.api_url == "http://127.0.0.1:9"


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"WEBHOOK_SECRET": "x", "APP_ID": "abc", "PRIVATE_KEY": PEM,
                       "PORT": "http", "WEBHOOK_PATH": "hooks", "GITHUB_API_URL": "ftp://x"},
                      dotenv_path=None)
    message = str(err.value)
    for name in ("APP_ID", "PORT", "WEBHOOK_PATH", "GITHUB_API_URL"):
        assert name in message
    assert PEM not in message


def test_secrets_are_not_in_the_repr() -> None:
    s = load_settings({"WEBHOOK_SECRET": "hush", "APP_ID": "1", "PRIVATE_KEY": PEM},
                      dotenv_path=None)
    assert "hush" not in repr(s)
    assert "BEGIN" not in repr(s)


def test_serve_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for name in ("WEBHOOK_SECRET", "APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH"):
        monkeypatch.delenv(name, raising=False)
    assert main(["serve"]) == 2
    assert "WEBHOOK_SECRET is required" in capsys.readouterr().err


def test_reconcile_minutes_setting(tmp_path: Path) -> None:
    env = {"WEBHOOK_SECRET": "s", "APP_ID": "1", "PRIVATE_KEY": PEM}
    assert load_settings(env, dotenv_path=None).reconcile_minutes == 30
    assert load_settings({**env, "SSOT_RECONCILE_MINUTES": "0"},
                         dotenv_path=None).reconcile_minutes == 0
    assert load_settings({**env, "SSOT_RECONCILE_MINUTES": "2.5"},
                         dotenv_path=None).reconcile_minutes == 2.5
    for bad in ("-1", "soon", "nan", "100000"):
        with pytest.raises(SettingsError, match="SSOT_RECONCILE_MINUTES"):
            load_settings({**env, "SSOT_RECONCILE_MINUTES": bad}, dotenv_path=None)
