"""``walk`` (one ``scandir`` per folder, ``.gitignore`` patterns kept per folder) finds what a
plain ``os.walk`` with a ``relpath`` per path and every ``.gitignore`` from the root down finds,
in the same order: on a tree of ignored folders, re-included files, virtual environments,
skipped folders and symbolic links, walked from the root and from a folder below it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pathspec
import pytest

from bot.workspace.files import SKIPPED_DIRS, walk


def _reference(directory: str, root: str) -> Iterator[tuple[str, bool]]:
    """The walk as it was: ``os.walk``, then every ``.gitignore`` from the root to the path."""
    root = os.path.abspath(root)

    def spec(folder: str) -> pathspec.GitIgnoreSpec | None:
        try:
            with open(os.path.join(folder, ".gitignore"), encoding="utf-8") as f:
                return pathspec.GitIgnoreSpec.from_lines(f.read().splitlines())
        except OSError:
            return None

    def ignored(path: str, folder: bool) -> bool:
        parts = os.path.relpath(os.path.abspath(path), root).split(os.sep)
        verdict, base = False, root
        for i in range(len(parts)):
            found = spec(base)
            if found is not None:
                said = found.check_file("/".join(parts[i:]) + ("/" if folder else "")).include
                verdict = said if said is not None else verdict
            base = os.path.join(base, parts[i])
        return verdict

    for current, dirs, names in os.walk(directory):
        kept = []
        for name in sorted(dirs):
            full = os.path.join(current, name)
            if name in SKIPPED_DIRS or ignored(full, True):
                continue
            if not os.path.islink(full) and os.path.isfile(os.path.join(full, "pyvenv.cfg")):
                continue
            kept.append(name)
        dirs[:] = kept
        for name in dirs:
            if os.path.islink(os.path.join(current, name)):
                yield os.path.join(current, name), True
        for name in sorted(names):
            full = os.path.join(current, name)
            if not ignored(full, False):
                yield full, os.path.islink(full)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    files = {
        ".gitignore": "*.log\nbuild/\n/top_only.py\ngen_*\n!gen_keep.py\n",
        "top_only.py": "", "a/top_only.py": "", "a/x.log": "", "a/gen_1.py": "",
        "a/gen_keep.py": "", "a/build/b.py": "", "a/.gitignore": "!x.log\nlocal/\n",
        "a/local/c.py": "", "a/b/d.py": "", "a/b/.gitignore": "gen_keep.py\n",
        "a/b/gen_keep.py": "", "a/b/e.log": "", "a/b/c/deep.py": "", "env/pyvenv.cfg": "",
        "env/lib/s.py": "", "node_modules/m.js": "", "z.py": "", "B.py": "", "a_b.py": "",
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "a/link_dir").symlink_to(root / "a/b", target_is_directory=True)
    (root / "a/link_file.py").symlink_to(root / "z.py")
    (root / "a/broken.py").symlink_to(root / "missing.py")
    (root / "out").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(root / "a/fifo")
    return root


@pytest.mark.parametrize("start", ["", "a", "a/b"])
def test_walk_finds_what_os_walk_found_in_the_same_order(tree: Path, start: str) -> None:
    directory = str(tree / start) if start else str(tree)
    expected = [(p, link) for p, link in _reference(directory, str(tree))
                if link or not os.path.exists(p) or os.path.isfile(p)]  # never a FIFO
    found = [(e.on_disk, e.link) for e in walk(directory, str(tree))]
    assert found == expected
    assert [e.rel for e in walk(directory, str(tree))] == [
        os.path.relpath(p, tree).replace(os.sep, "/") for p, _ in expected]


def test_ignored_and_kept(tree: Path) -> None:
    rels = {e.rel for e in walk(str(tree))}
    assert {"a/gen_keep.py", "a/x.log", "a/b/d.py", "a/top_only.py", "a/link_dir",
            "a/b/c/deep.py", "B.py", "out"} <= rels
    assert not rels & {"top_only.py", "a/gen_1.py", "a/build/b.py", "a/local/c.py",
                       "a/b/gen_keep.py", "a/b/e.log", "env/lib/s.py", "a/fifo"}
