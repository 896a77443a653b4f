"""`ssot-bot check` never reads outside ``--root`` through a symbolic link
(docs/behaviour.md §8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.test_cli import FLAGGED, repo  # noqa: F401 - the fixture

pytestmark = pytest.mark.skipif(not hasattr(Path, "symlink_to"), reason="no symlinks")


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main([*argv, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return code, json.loads(out)


def test_symlinked_file_and_folder_pointing_outside_the_root_are_skipped_and_reported(
    repo: Path, tmp_path_factory: pytest.TempPathFactory,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.py").write_text(FLAGGED)
    (outside / "pkg").mkdir()
    (outside / "pkg" / "deep.py").write_text(FLAGGED)
    (repo / "pkg" / "leak.py").symlink_to(outside / "secret.py")
    (repo / "pkg" / "vendored").symlink_to(outside / "pkg", target_is_directory=True)
    (repo / "pkg" / "inside.py").symlink_to(repo / "pkg" / "b.py")  # stays in the root: read

    _, doc = _json(capsys, "check", "--root", str(repo))
    paths = {v["path"] for v in doc["violations"]}  # type: ignore[attr-defined]
    assert "pkg/leak.py" not in paths and not any("deep" in p for p in paths)
    assert "pkg/inside.py" in paths
    errors = {e["path"]: e["message"] for e in doc["errors"]}  # type: ignore[attr-defined]
    assert errors == {
        "pkg/leak.py": "not checked: a symbolic link to outside the root",
        "pkg/vendored": "not checked: a symbolic link to outside the root",
    }

    # named explicitly, a link out of the root is not followed either
    _, doc = _json(capsys, "check", "--root", str(repo), str(repo / "pkg" / "leak.py"),
                   str(repo / "pkg" / "vendored"))
    assert doc["violations"] == []
    assert len(doc["errors"]) == 2  # type: ignore[arg-type]
