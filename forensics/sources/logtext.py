"""Bounded log text: a log is streamed in chunks, its first ``HEAD_LINES`` and last
``TAIL_LINES`` lines are kept (the error is nearly always at the end), each line at most
``MAX_LINE_BYTES``; undecodable bytes are replaced."""

from __future__ import annotations

from collections import deque
from pathlib import Path

from forensics.model.deploys import DeployLog

HEAD_LINES = 200
TAIL_LINES = 3000
MAX_LINE_BYTES = 8192
_CHUNK = 256 * 1024


class LineCollector:
    """Takes a log's bytes in chunks and keeps its head and tail lines, bounded."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.dropped = 0
        self._partial = bytearray()
        self._overlong = False

    def feed(self, chunk: bytes) -> None:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._extend(chunk[start:])
                return
            self._extend(chunk[start:end])
            self._line()
            start = end + 1

    def _extend(self, data: bytes) -> None:
        room = MAX_LINE_BYTES - len(self._partial)
        if len(data) > room:
            self._overlong = True
            data = data[: max(room, 0)]
        self._partial += data

    def _line(self) -> None:
        text = bytes(self._partial).decode("utf-8", errors="replace").rstrip("\r")
        if self._overlong:
            text += " …"
        self._partial.clear()
        self._overlong = False
        self.add(text)

    def add(self, text: str) -> None:
        if len(self.head) < HEAD_LINES:
            self.head.append(text)
            return
        if len(self.tail) == self.tail.maxlen:
            self.dropped += 1
        self.tail.append(text)

    def finish(self, deploy: str, source: str) -> DeployLog:
        if self._partial or self._overlong:
            self._line()
        lines = list(self.head)
        if self.dropped:
            lines.append(f"[… {self.dropped} lines of this log were left out …]")
        lines += self.tail
        return DeployLog(deploy, tuple(lines), source, truncated=self.dropped > 0)


def read_file(path: Path, deploy: str, source: str) -> DeployLog:
    """One log file, streamed and bounded."""
    collector = LineCollector()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            collector.feed(chunk)
    return collector.finish(deploy, source)
