"""Unified diffs -> added lines per file; GitHub patches; marking violations new."""

from __future__ import annotations

from pathlib import Path

from bot.engine.diff import (
    added_lines_from_diff,
    added_lines_from_patch,
    commentable_lines_from_patch,
    mark_new,
)
from bot.engine.model import Violation
from tests.gitrepo import NEEDS_GIT, git

MULTI = """\
diff --git a/pkg/keep.py b/pkg/keep.py
index de98044..f8f7a32 100644
--- a/pkg/keep.py
+++ b/pkg/keep.py
@@ -1,3 +1,4 @@
 a
-b
+B
 c
+d
\\ No newline at end of file
diff --git a/pkg/other.py b/pkg/other.py
index 1111111..2222222 100644
--- a/pkg/other.py
+++ b/pkg/other.py
@@ -10,7 +10,8 @@ def f():
     x = 1
     y = 2
-    z = 3
+    z = 4
+    w = 5
     return x

     pass
@@ -40,2 +41,3 @@ class C:
     one
+    two
     three
"""

NEW_FILE = """\
diff --git a/added.py b/added.py
new file mode 100644
index 0000000..2fe4df4
--- /dev/null
+++ b/added.py
@@ -0,0 +1,2 @@
+n1
+n2
"""

DELETED = """\
diff --git a/gone.py b/gone.py
deleted file mode 100644
index b77b4eb..0000000
--- a/gone.py
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
"""

RENAMED = """\
diff --git a/old.py b/new.py
similarity index 80%
rename from old.py
rename to new.py
index 0ec1772..49db0cb 100644
--- a/old.py
+++ b/new.py
@@ -1,5 +1,5 @@
 r1
 r2
-r3
+R3
 r4
 r5
"""

PURE_RENAME = """\
diff --git a/was.py b/is.py
similarity index 100%
rename from was.py
rename to is.py
"""

BINARY = """\
diff --git a/logo.png b/logo.png
index 88768ef..3e3315e 100644
Binary files a/logo.png and b/logo.png differ
diff --git a/blob.bin b/blob.bin
new file mode 100644
index 0000000..3e3315e
GIT binary patch
literal 5
McmZQzWMT#}00ZR!0ssI2

literal 0
HcmV?d00001

"""

EMPTY_NEW = """\
diff --git a/pkg/__init__.py b/pkg/__init__.py
new file mode 100644
index 0000000..e69de29
"""

QUOTED = """\
diff --git "a/sp ace/f\\303\\251.py" "b/sp ace/f\\303\\251.py"
new file mode 100644
index 0000000..bca70f3
--- /dev/null
+++ "b/sp ace/f\\303\\251.py"\t
@@ -0,0 +1 @@
+q
"""


def test_multiple_files_and_hunks() -> None:
    assert added_lines_from_diff(MULTI) == {
        "pkg/keep.py": frozenset({2, 4}),
        "pkg/other.py": frozenset({12, 13, 42}),
    }


def test_new_file_is_wholly_added() -> None:
    assert added_lines_from_diff(NEW_FILE) == {"added.py": None}
    assert added_lines_from_diff(EMPTY_NEW) == {"pkg/__init__.py": None}


def test_deleted_file_is_omitted() -> None:
    assert added_lines_from_diff(DELETED + NEW_FILE) == {"added.py": None}


def test_rename_keeps_the_new_path() -> None:
    assert added_lines_from_diff(RENAMED) == {"new.py": frozenset({3})}
    assert added_lines_from_diff(PURE_RENAME) == {"is.py": frozenset()}


def test_binary_diffs_are_omitted() -> None:
    assert added_lines_from_diff(BINARY + NEW_FILE) == {"added.py": None}


def test_no_newline_markers_do_not_shift_lines() -> None:
    diff = """\
diff --git a/f.py b/f.py
index 1..2 100644
--- a/f.py
+++ b/f.py
@@ -1,2 +1,2 @@
 a
-b
\\ No newline at end of file
+b
+c
\\ No newline at end of file
@@ -9,1 +9,1 @@
-x
+y
"""
    # A second hunk after a marker is still read; the marker counts as no line.
    assert added_lines_from_diff(diff.replace("@@ -1,2 +1,2 @@", "@@ -1,2 +1,3 @@")) == {
        "f.py": frozenset({2, 3, 9})
    }


def test_crlf_diff_text_and_crlf_file_content() -> None:
    crlf = MULTI.replace("\n", "\r\n")
    assert added_lines_from_diff(crlf) == added_lines_from_diff(MULTI)
    content_crlf = NEW_FILE.replace("+n1\n", "+n1\r\n")
    assert added_lines_from_diff(content_crlf) == {"added.py": None}


def test_quoted_paths_are_unquoted() -> None:
    assert added_lines_from_diff(QUOTED) == {"sp ace/fé.py": None}


def test_removed_lines_that_look_like_headers_stay_in_their_hunk() -> None:
    diff = """\
diff --git a/f.py b/f.py
index 1..2 100644
--- a/f.py
+++ b/f.py
@@ -1,3 +1,2 @@
--- a/other.py
-+++ b/other.py
+@@ -1 +1 @@
"""
    assert added_lines_from_diff(diff) == {"f.py": frozenset({1})}


def test_plain_unified_diff_without_git_headers() -> None:
    diff = """\
--- a/x.py\t2024-01-01 00:00:00
+++ b/x.py\t2024-01-02 00:00:00
@@ -1 +1,2 @@
 keep
+add
--- y.py
+++ y.py
@@ -3 +3 @@
-old
+new
"""
    assert added_lines_from_diff(diff) == {"x.py": frozenset({2}), "y.py": frozenset({3})}


def test_empty_diff() -> None:
    assert added_lines_from_diff("") == {}


@NEEDS_GIT
def test_real_git_diff(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "keep.py").write_text("a\nb\nc\n")
    (tmp_path / "gone.py").write_text("x\n")
    (tmp_path / "old.py").write_text("".join(f"line {i}\n" for i in range(20)))
    (tmp_path / "img.bin").write_bytes(b"\x00\x01\x02")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "one")
    (tmp_path / "keep.py").write_text("a\nB\nc\nd")
    (tmp_path / "gone.py").unlink()
    (tmp_path / "old.py").rename(tmp_path / "new.py")
    text = (tmp_path / "new.py").read_text().replace("line 5\n", "line five\n")
    (tmp_path / "new.py").write_text(text)
    (tmp_path / "img.bin").write_bytes(b"\x00\x03")
    (tmp_path / "crlf.py").write_bytes(b"one\r\ntwo\r\n")
    git(tmp_path, "add", "-A")
    diff = git(tmp_path, "diff", "--cached", "-M", "--src-prefix=a/", "--dst-prefix=b/")
    assert added_lines_from_diff(diff) == {
        "keep.py": frozenset({2, 4}),
        "new.py": frozenset({6}),
        "crlf.py": None,
    }


# -- GitHub's per-file patch ------------------------------------------------------------------

PATCH = """\
@@ -1,4 +1,5 @@
 import os
-import sys
+import sys, re
+import json

 def f():
@@ -20,3 +21,3 @@ def g():
     a = 1
-    b = 2
+    b = 3
     c = 4"""


def test_added_lines_from_patch() -> None:
    assert added_lines_from_patch(PATCH) == frozenset({2, 3, 22})
    assert added_lines_from_patch(None) is None
    assert added_lines_from_patch("") == frozenset()


def test_commentable_lines_from_patch() -> None:
    assert commentable_lines_from_patch(PATCH) == frozenset({1, 2, 3, 4, 5, 21, 22, 23})
    assert commentable_lines_from_patch(None) == frozenset()


def test_new_file_patch_is_all_added() -> None:
    assert added_lines_from_patch("@@ -0,0 +1,3 @@\n+a\n+b\n+c") == frozenset({1, 2, 3})


# -- mark_new ----------------------------------------------------------------------------------


def violation(line: int, end_line: int | None = None, *, new: bool = True) -> Violation:
    return Violation(
        rule="r",
        kind="banned-import",
        path="f.py",
        line=line,
        column=1,
        end_line=line if end_line is None else end_line,
        end_column=5,
        severity="error",
        message="m",
        new=new,
    )


def test_mark_new_by_touched_lines() -> None:
    marked = mark_new([violation(2), violation(5), violation(6, 9), violation(10, 11)], {9, 2})
    assert [v.new for v in marked] == [True, False, True, False]


def test_mark_new_whole_file_and_resetting() -> None:
    assert [v.new for v in mark_new([violation(1, new=False)], None)] == [True]
    assert mark_new([], frozenset()) == []
    [old] = mark_new([violation(3)], frozenset({1}))
    assert old.new is False and old.line == 3


def test_a_truncated_patch_keeps_the_lines_it_has() -> None:
    """GitHub cuts the ``patch`` of a large file mid-hunk; what is there still counts."""
    patch = "@@ -1,5 +1,6 @@\n a\n+b\n c\n"
    assert added_lines_from_patch(patch) == frozenset({2})
    assert commentable_lines_from_patch(patch) == frozenset({1, 2, 3})


def test_an_empty_context_line_whose_space_an_editor_stripped() -> None:
    patch = "@@ -1,3 +1,4 @@\n a\n\n+b\n c\n"
    assert added_lines_from_patch(patch) == frozenset({3})
