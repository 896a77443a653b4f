"""Shared mode needs a real PostgreSQL (never a mock): each test gets a fresh database, dropped
after it. Where none is reachable the tests are skipped with the reason, except under CI
(``CI=true``), where that fails the run: CI's machine starts PostgreSQL before the tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

ADMIN_URL = os.environ.get("SSOT_TEST_DATABASE_URL",
                           "postgresql://postgres@127.0.0.1:5432/test")


def _admin() -> object:
    try:
        import psycopg
    except ImportError as exc:  # the extra is part of .[test]; a bare install lacks it
        if os.environ.get("CI") == "true":
            pytest.fail(f"psycopg is not installed (pip install -e '.[test]'): {exc}")
        pytest.skip("shared mode's tests need psycopg: pip install 'ssot-bot[shared]'")
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is not reachable at {ADMIN_URL}: {str(exc).strip()[:200]}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI runs the shared-mode tests against it)")
        pytest.skip(f"{reason}; shared-mode tests skipped (set SSOT_TEST_DATABASE_URL)")


@pytest.fixture
def database_url() -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards."""
    name = f"ssot_test_{uuid.uuid4().hex[:12]}"
    conn = _admin()
    with conn:  # type: ignore[attr-defined]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[attr-defined]
    yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    conn = _admin()
    with conn:  # type: ignore[attr-defined]
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[attr-defined]
