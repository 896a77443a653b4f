"""Environment (and an optional ``.env``) -> one frozen :class:`Settings`; clear errors."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_STATE_DIR = ".ssot-state"  # relative to the working directory


class SettingsError(Exception):
    """The environment cannot run the service; the message names what is missing or wrong."""


@dataclass(frozen=True)
class Settings:
    webhook_secrets: tuple[str, ...] = field(repr=False)
    app_id: str | None = None
    private_key: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    host: str = "0.0.0.0"  # noqa: S104 - a service listens on all interfaces by default
    port: int = 3000
    webhook_path: str = "/api/github/webhooks"
    log_level: str = "INFO"
    workers: int | None = None  # analysis processes; None = cpu count
    max_concurrent_analyses: int = 4
    state_dir: str = DEFAULT_STATE_DIR  # SSOT_STATE_DIR: the inventory's on-disk cache
    worker_memory_mb: int | None = 1536  # RLIMIT_AS of each engine worker; None = no ceiling
    # Catch-up pass (docs/behaviour.md §12): minutes between passes, 0 = off (no pass at start
    # either). The environment's default is 30 (SSOT_RECONCILE_MINUTES); built in code (tests,
    # the demo) the service runs no pass unless asked.
    reconcile_minutes: float = 0.0
    # Shared mode (docs/deploy.md, contract §15): the PostgreSQL database every replica shares
    # (None: one process, SQLite), and which part this process plays.
    database_url: str | None = field(default=None, repr=False)
    role: str = "all"  # web | worker | all

    @property
    def shared(self) -> bool:
        return self.database_url is not None

    @property
    def serves_webhooks(self) -> bool:
        return self.role in ("web", "all")

    @property
    def runs_jobs(self) -> bool:
        return self.role in ("worker", "all")

    @property
    def can_call_github(self) -> bool:
        return self.app_id is not None and self.private_key is not None


def _decode_private_key(value: str) -> str:
    text = value.strip()
    if "-----BEGIN" in text:
        # Some platforms store the PEM on one line with literal "\n".
        return text.replace("\\n", "\n") + "\n"
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SettingsError(
            "PRIVATE_KEY is neither a PEM private key nor a base64-encoded PEM"
        ) from exc
    if "-----BEGIN" not in decoded:
        raise SettingsError("PRIVATE_KEY decodes from base64 but is not a PEM private key")
    return decoded


def load_settings(
    environ: Mapping[str, str] | None = None,
    *,
    dotenv_path: Path | None = Path(".env"),
    require_app: bool = True,
) -> Settings:
    """Read the environment variables of docs/behaviour.md §3 (Probot's names).

    ``.env`` values fill in what the environment does not set. Raises :class:`SettingsError`
    naming every missing or invalid variable at once.
    """
    env: dict[str, str] = {}
    if dotenv_path is not None and dotenv_path.is_file():
        from dotenv import dotenv_values

        env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
    env.update(os.environ if environ is None else environ)

    problems: list[str] = []
    secrets = tuple(s.strip() for s in env.get("WEBHOOK_SECRET", "").split(",") if s.strip())
    if not secrets:
        problems.append("WEBHOOK_SECRET is required (comma-separate several to rotate)")

    app_id = env.get("APP_ID", "").strip() or None
    private_key: str | None = None
    if env.get("PRIVATE_KEY", "").strip():
        try:
            private_key = _decode_private_key(env["PRIVATE_KEY"])
        except SettingsError as exc:
            problems.append(str(exc))
    elif env.get("PRIVATE_KEY_PATH", "").strip():
        key_path = Path(env["PRIVATE_KEY_PATH"].strip())
        try:
            private_key = key_path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"PRIVATE_KEY_PATH {key_path} cannot be read: {exc.strerror}")
    if private_key is not None:
        from cryptography.hazmat.primitives import serialization

        try:
            serialization.load_pem_private_key(private_key.encode("utf-8"), password=None)
        except (ValueError, TypeError):
            problems.append("the private key is not a valid unencrypted PEM private key")
            private_key = None
    if require_app:
        if app_id is None:
            problems.append("APP_ID is required (the GitHub App's id)")
        elif not app_id.isdigit():
            problems.append(f"APP_ID must be a number, got {app_id!r}")
        if private_key is None and not any("private key" in p.lower() for p in problems):
            problems.append("PRIVATE_KEY (PEM or base64 PEM) or PRIVATE_KEY_PATH is required")

    port_text = env.get("PORT", "3000").strip()
    port = 3000
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        problems.append(f"PORT must be a number 0-65535, got {port_text!r}")
    else:
        port = int(port_text)
    path = env.get("WEBHOOK_PATH", "/api/github/webhooks").strip() or "/api/github/webhooks"
    if not path.startswith("/"):
        problems.append(f"WEBHOOK_PATH must start with '/', got {path!r}")
    api_url = (env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")
    if not api_url.startswith(("http://", "https://")):
        problems.append(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
    workers_text = env.get("SSOT_WORKERS", "").strip()
    workers = int(workers_text) if workers_text.isdigit() else None
    memory_text = env.get("SSOT_WORKER_MEMORY_MB", "").strip()
    memory_mb: int | None = 1536
    if memory_text:
        if not memory_text.isdigit():
            problems.append(f"SSOT_WORKER_MEMORY_MB must be a number of MB, got {memory_text!r}")
        else:
            memory_mb = int(memory_text) or None  # 0: no ceiling
    reconcile_text = env.get("SSOT_RECONCILE_MINUTES", "").strip() or "30"
    reconcile_minutes = 30.0
    try:
        reconcile_minutes = float(reconcile_text)
        if not 0 <= reconcile_minutes <= 24 * 60:
            raise ValueError(reconcile_text)
    except ValueError:
        problems.append("SSOT_RECONCILE_MINUTES must be a number of minutes 0-1440 "
                        f"(0 turns the catch-up pass off), got {reconcile_text!r}")

    database_url = env.get("DATABASE_URL", "").strip() or None
    if database_url is not None and not database_url.startswith(
            ("postgresql://", "postgres://")):
        problems.append("DATABASE_URL must be a postgresql:// URL")
    role = (env.get("SSOT_ROLE", "").strip() or "all").lower()
    problems.extend(role_problems(role, shared=database_url is not None))

    if problems:
        raise SettingsError("; ".join(problems))
    return Settings(
        webhook_secrets=secrets,
        app_id=app_id,
        private_key=private_key,
        api_url=api_url,
        host=env.get("HOST", "0.0.0.0").strip() or "0.0.0.0",  # noqa: S104
        port=port,
        webhook_path=path,
        log_level=(env.get("LOG_LEVEL", "INFO").strip() or "INFO").upper(),
        workers=workers,
        state_dir=env.get("SSOT_STATE_DIR", "").strip() or DEFAULT_STATE_DIR,
        worker_memory_mb=memory_mb,
        reconcile_minutes=reconcile_minutes,
        database_url=database_url,
        role=role,
    )


ROLES = ("web", "worker", "all")


def role_problems(role: str, *, shared: bool) -> list[str]:
    """What is wrong with ``role`` (SSOT_ROLE or ``serve --role``): only ``all`` without a
    shared database (one process does both halves)."""
    if role not in ROLES:
        return [f"SSOT_ROLE must be web, worker or all, got {role!r}"]
    if role != "all" and not shared:
        return [f"role {role!r} needs DATABASE_URL (shared mode); one process alone is 'all'"]
    return []
