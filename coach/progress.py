"""A small progress bar on stderr (only drawn on a terminal, one final line otherwise)."""

from __future__ import annotations

import sys


class ProgressBar:
    def __init__(self, label: str, width: int = 30):
        self.label = label
        self.width = width
        self._tty = sys.stderr.isatty()
        self._last = (0, 0)

    def update(self, done: int, total: int) -> None:
        self._last = (done, total)
        if not self._tty or total <= 0:
            return
        filled = int(self.width * done / total)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}")
        sys.stderr.flush()

    def close(self) -> None:
        done, total = self._last
        if self._tty:
            sys.stderr.write("\n")
        elif total:
            sys.stderr.write(f"{self.label}: {done}/{total} documents\n")
