"""``[#####     ] 120/300 files`` on stderr while a local run analyses, only on a terminal."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO

from bot.engine.model import FileResult

#: Show a progress bar (on a terminal's stderr) only for runs of more files than this.
PROGRESS_MIN_FILES = 20


@dataclass
class Progress:
    """``[#####     ] 120/300 files`` on stderr, rewritten in place; only on a terminal."""

    total: int
    stream: IO[str] | None
    done: int = 0
    _last_width: int = -1
    width: int = 30

    @classmethod
    def start(cls, total: int, *, enabled: bool) -> Progress:
        stream: IO[str] | None = sys.stderr
        if not enabled or total <= PROGRESS_MIN_FILES or not isatty(sys.stderr):
            stream = None
        progress = cls(total, stream)
        progress._draw()
        return progress

    def advance(self, _result: FileResult | None = None) -> None:
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        if self.stream is None:
            return
        filled = self.width * min(self.done, self.total) // max(self.total, 1)
        if filled == self._last_width and self.done not in (0, self.total) and self.done % 50:
            return
        self._last_width = filled
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} files")
        self.stream.flush()

    def finish(self) -> None:
        if self.stream is None:
            return
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
