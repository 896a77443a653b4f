"""What the emulator needs for the inventory (docs/behaviour.md §11): a commit's files as the
gzip tarball GitHub's codeload serves (top-level folder ``<owner>-<repo>-<shortsha>/``), the
compare shape, and the ``push`` webhook payload's commit list."""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from typing import Any

from ssot_emulator.state import Commit, Repository, iso


class _Compressed:
    """A write-only file for tarfile: gzip-compresses what it is given; :meth:`take` hands over
    what is ready."""

    def __init__(self) -> None:
        self._zip = zlib.compressobj(1, zlib.DEFLATED, 31)  # wbits 31: a gzip stream, mtime 0
        self._ready: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._ready.append(self._zip.compress(data))
        return len(data)

    def take(self) -> bytes:
        out, self._ready = b"".join(self._ready), []
        return out

    def finish(self) -> bytes:
        return self.take() + self._zip.flush()


def tarball_chunks(repo: Repository, commit: Commit, blobs: Mapping[str, bytes],
                   chunk: int = 1 << 20) -> Iterator[bytes]:
    """The commit's tree as ``<owner>-<repo>-<sha7>/...`` in a gzip'd tar (with folder
    entries, as git archive writes them), in pieces of about ``chunk`` bytes as it is made:
    codeload streams an archive, so a client can unpack while it downloads."""
    top = f"{repo.owner}-{repo.name}-{commit.sha[:7]}"
    sink = _Compressed()
    with tarfile.open(fileobj=sink, mode="w|",  # type: ignore[call-overload]
                      format=tarfile.PAX_FORMAT) as tar:  # "w|" only writes to it
        folder = tarfile.TarInfo(top + "/")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o775, int(commit.timestamp)
        tar.addfile(folder)
        made: set[str] = set()
        pending = 0
        for path, sha in sorted(commit.tree.items()):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                name = "/".join(parts[:depth])
                if name not in made:
                    made.add(name)
                    info = tarfile.TarInfo(f"{top}/{name}/")
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o775, int(commit.timestamp)
                    tar.addfile(info)
            data = blobs[sha]
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size, info.mode, info.mtime = len(data), 0o664, int(commit.timestamp)
            tar.addfile(info, io.BytesIO(data))
            pending += len(data)
            if pending >= chunk:
                pending = 0
                if ready := sink.take():
                    yield ready
    yield sink.finish()


def tarball(repo: Repository, commit: Commit, blobs: Mapping[str, bytes]) -> bytes:
    """:func:`tarball_chunks`, whole."""
    return b"".join(tarball_chunks(repo, commit, blobs))


def changes(parent: Mapping[str, str] | None, tree: Mapping[str, str]
            ) -> tuple[list[str], list[str], list[str]]:
    """(added, removed, modified) paths from ``parent``'s tree to ``tree``."""
    before = parent or {}
    added = sorted(p for p in tree if p not in before)
    removed = sorted(p for p in before if p not in tree)
    modified = sorted(p for p in tree if p in before and before[p] != tree[p])
    return added, removed, modified


def commit_shape(api: str, html: str, repo: Repository, commit: Commit,
                 author: dict[str, Any]) -> dict[str, Any]:
    """A commit as the compare API lists it."""
    url = f"{api}/repos/{repo.full_name}/commits/{commit.sha}"
    person = {"name": author["login"], "email": f"{author['login']}@users.noreply.emulator",
              "date": iso(commit.timestamp)}
    return {
        "url": url, "sha": commit.sha, "node_id": f"C_{commit.sha[:20]}",
        "html_url": f"{html}/{repo.full_name}/commit/{commit.sha}",
        "comments_url": f"{url}/comments",
        "commit": {
            "url": f"{api}/repos/{repo.full_name}/git/commits/{commit.sha}",
            "author": person, "committer": person, "message": commit.message,
            "comment_count": 0,
            "tree": {"sha": commit.sha, "url": f"{api}/repos/{repo.full_name}/git/trees/"
                                                 f"{commit.sha}"},
        },
        "author": author, "committer": author,
        "parents": [{"sha": p, "url": f"{api}/repos/{repo.full_name}/commits/{p}",
                     "html_url": f"{html}/{repo.full_name}/commit/{p}"}
                    for p in commit.parents],
    }


def diff_entry(api: str, html: str, repo: Repository, head: str, path: str, status: str,
               sha: str | None, previous: str | None = None) -> dict[str, Any]:
    """One file of a compare answer (no patch: the inventory never reads it)."""
    entry: dict[str, Any] = {
        "sha": sha, "filename": path, "status": status, "additions": 0, "deletions": 0,
        "changes": 0, "blob_url": f"{html}/{repo.full_name}/blob/{head}/{path}",
        "raw_url": f"{html}/{repo.full_name}/raw/{head}/{path}",
        "contents_url": f"{api}/repos/{repo.full_name}/contents/{path}?ref={head}",
    }
    if previous is not None:
        entry["previous_filename"] = previous
    return entry
