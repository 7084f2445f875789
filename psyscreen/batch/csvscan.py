"""The vectorised scan of a CSV's raw bytes: record starts, and where plain quoting ends.

:class:`RecordScan` (numpy over the bytes) finds each record's byte offset and start
line and the first place the file stops being plain RFC 4180, so that the fast reader
takes everything before it and the careful reader everything after.

Example:
    >>> quotes_conform("a,'b',c".replace("'", '"'), ",")
    True
    >>> quotes_conform('a,b"c,d', ",")
    False
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np

#: the bytes the scan looks for
_NL, _QUOTE, _CR = 10, 34, 13


class RecordScan:
    """Record boundaries of the data part of a CSV file, found block by block with numpy.

    For each record: the byte offset where it starts and its 1-based start line.
    :attr:`damage` is the index of the first record the fast path must not read (a
    quote outside RFC 4180's places, an unclosed quote, a lone carriage return);
    records from there on go to the careful path. Blocks are scanned as the reader
    needs them (:meth:`ensure`), so the scan overlaps the rest of the run; records
    handed out (:meth:`take`) are forgotten.

    Example:
        >>> import tempfile, os
        >>> p = Path(tempfile.mkdtemp()) / "x.csv"
        >>> _ = p.write_bytes(b'a,b\\n1,"x\\ny"\\n\\n2,3\\n4,"5\\n')
        >>> s = RecordScan(p, 4, 2, ",")
        >>> s.ensure(10)
        >>> s.known, s.damage, s.take(2).tolist()
        (3, 2, [2, 5])
        >>> s.next_start()
        (17, 6)
    """

    def __init__(self, path: Path, start: int, first_line: int, delimiter: str,
                 block: int = 1 << 22):  # fmt: skip
        self._f = open(path, "rb")  # noqa: SIM115 - closed at EOF or in close()
        self._f.seek(start)
        self._block = block
        self._delim = ord(delimiter) if len(delimiter.encode()) == 1 else -1
        self._base = start  # offset of the next unscanned byte
        self._line = first_line  # line number at _base
        self._carry = b""
        self._parity = 0  # quotes seen before _base, mod 2
        self._open: tuple[int, int] | None = None  # (offset, line) of a record crossing _base
        self._offsets: deque = deque()
        self._lines: deque = deque()
        self._multi: deque = deque()  # per record: a quoted newline inside it
        self._open_multi = False
        self.known = 0  # records found (taken or not)
        self.taken = 0
        self.damage: int | None = None
        self.done = False
        self._end = (start, first_line)

    def close(self) -> None:
        self._f.close()

    def ensure(self, n: int) -> None:
        """Scan until ``n`` records are known, damage is found or the file ends."""
        while not self.done and self.known < n:
            self._next_block()

    def clean(self, n: int) -> int:
        """How many of the first ``n`` records the fast path may read."""
        self.ensure(n)
        limit = self.known if self.damage is None else self.damage
        return min(n, limit)

    def take(self, n: int) -> np.ndarray:
        """Start lines of the next ``n`` records (already known), forgetting them."""
        out, got = [], 0
        while got < n:
            lines, offs, multi = self._lines[0], self._offsets[0], self._multi[0]
            k = min(n - got, len(lines))
            out.append(lines[:k])
            if k == len(lines):
                self._lines.popleft()
                self._offsets.popleft()
                self._multi.popleft()
            else:
                self._lines[0], self._offsets[0], self._multi[0] = lines[k:], offs[k:], multi[k:]
            got += k
        self.taken += n
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)

    def multi_line(self, n: int) -> np.ndarray:
        """Which of the next ``n`` known records hold a quoted newline (not forgotten)."""
        parts, got = [], 0
        for m in self._multi:
            if got >= n:
                break
            parts.append(m[: n - got])
            got += len(parts[-1])
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)

    def next_start(self) -> tuple[int, int]:
        """(byte offset, line) of the first record not taken (the end if none is left)."""
        self.ensure(self.taken + 1)
        while self._offsets and not len(self._offsets[0]):
            self._offsets.popleft()
            self._lines.popleft()
            self._multi.popleft()
        if self._offsets:
            return int(self._offsets[0][0]), int(self._lines[0][0])
        if self._open is not None:
            return self._open
        return self._end

    def _add(self, offsets: np.ndarray, lines: np.ndarray, multi: np.ndarray | None = None) -> None:
        if len(offsets):
            self._offsets.append(offsets)
            self._lines.append(lines)
            self._multi.append(np.zeros(len(offsets), dtype=bool) if multi is None else multi)
            self.known += len(offsets)

    def _next_block(self) -> None:
        # blocks are scanned in place (no copy of the block): the partial line at its end
        # is carried and scanned with the first line of the next block
        chunk = self._f.read(self._block)
        if not chunk:
            data, self._carry = self._carry, b""
            if data:
                self._segment(data, 0, len(data), eof=True)
            if not self.done:
                self._finish()
            return
        first = chunk.find(b"\n")
        if first < 0:  # a line longer than the block: read on
            self._carry += chunk
            if len(self._carry) > max(4 * self._block, 1 << 24):
                # a very long line: hand the rest to the careful path
                self._mark_damage_open(self._base)
            return
        cut = chunk.rfind(b"\n")
        body = 0
        if self._carry:
            head = self._carry + chunk[: first + 1]
            self._segment(head, 0, len(head), eof=False)
            body = first + 1
        if not self.done and body <= cut:
            self._segment(chunk, body, cut + 1, eof=False)
        self._carry = chunk[cut + 1 :]

    def _segment(self, buf: bytes, start: int, end: int, eof: bool) -> None:
        self._scan(buf, start, end, eof)
        self._base += end - start

    def _mark_damage_open(self, pos: int) -> None:
        """Damage in the record that is open at ``pos``."""
        if self._open is None:
            self._open = (pos, self._line)
        self._add(np.array([self._open[0]]), np.array([self._open[1]]))
        self.damage = self.known - 1
        self._open = None
        self._stop()

    def _stop(self) -> None:
        self.done = True
        self._f.close()

    def _finish(self) -> None:
        if self._open is not None:  # a record at the end: an unclosed quote, or no newline
            self._add(np.array([self._open[0]]), np.array([self._open[1]]))
            if self._parity:
                self.damage = self.known - 1
            self._open = None
        self._end = (self._base, self._line)
        self._stop()

    def _scan(self, buf: bytes, s: int, e: int, eof: bool) -> None:
        """Scan ``buf[s:e]`` (whole lines, unless at the end of the file)."""
        a = np.frombuffer(buf, dtype=np.uint8, count=e - s, offset=s)
        base, line0 = self._base, self._line
        nl = np.flatnonzero(a == _NL)
        bad: list[int] = []  # positions (in a) where the fast path must stop
        if buf.find(b'"', s, e) >= 0:
            q = np.flatnonzero(a == _QUOTE)
            k = (self._parity + np.arange(len(q))) & 1  # 0: opens a quoted part
            prev = np.where(q > 0, a[np.maximum(q - 1, 0)], _NL)
            has_next = q + 1 < len(a)
            nxt = np.where(has_next, a[np.minimum(q + 1, len(a) - 1)], _NL)
            ok_open = (prev == self._delim) | (prev == _NL) | (prev == _QUOTE)
            ok_close = (nxt == self._delim) | (nxt == _NL) | (nxt == _CR) | (nxt == _QUOTE)
            wrong = np.flatnonzero(np.where(k == 0, ~ok_open, ~ok_close))
            if len(wrong):
                bad.append(int(q[wrong[0]]))
            inside = (self._parity + np.searchsorted(q, nl)) & 1
            ends = nl[inside == 0]
            inside_nl = nl[inside == 1]
            self._parity = (self._parity + len(q)) & 1
        else:
            ends = nl if not self._parity else nl[:0]
            inside_nl = nl[:0] if not self._parity else nl
        if buf.find(b"\r", s, e) >= 0:
            cr = np.flatnonzero(a == _CR)
            lone = cr[(cr + 1 >= len(a)) | (a[np.minimum(cr + 1, len(a) - 1)] != _NL)]
            if len(lone) and not (eof and lone[-1] == len(a) - 1 and len(lone) == 1):
                bad.append(int(lone[0]))
        # records: [start, end] with end a record-ending newline; starts after each end
        # line number of each record-ending newline
        every = len(ends) == len(nl)  # no quoted line break: each newline ends a record
        line_of_end = line0 + (np.arange(len(nl)) if every else np.searchsorted(nl, ends))
        starts = np.concatenate(([0], ends + 1))
        start_lines = np.concatenate(([line0], line_of_end + 1))
        if self._open is not None:
            starts[0], start_lines[0] = self._open[0] - base, self._open[1]
        stops = np.concatenate((ends, [len(a)]))  # the last one: still open
        closed_starts, closed_lines, closed_stops = starts[:-1], start_lines[:-1], stops[:-1]
        length = closed_stops - closed_starts
        first = a[np.clip(closed_starts, 0, len(a) - 1)] if len(a) else closed_starts
        blank = (length == 0) | ((length == 1) & (first == _CR) & (closed_starts >= 0))
        keep = ~blank
        rec_off, rec_line = closed_starts[keep] + base, closed_lines[keep]
        multi = np.zeros(len(starts), dtype=bool)  # the last one: the open tail
        multi[0] = self._open is not None and self._open_multi
        if len(inside_nl):
            multi[np.searchsorted(starts, inside_nl, side="right") - 1] = True
        rec_multi = multi[:-1][keep]
        # the record still open at the end of the block (none if the block ends a record)
        tail_start, tail_line = int(starts[-1]), int(start_lines[-1])
        tail_open = tail_start < len(a) or self._parity
        n_before = self.known
        self._line = line0 + len(nl)
        if bad:
            pos = min(bad) + base
            i = int(np.searchsorted(rec_off, pos, side="right")) - 1
            if i >= 0 and (i + 1 < len(rec_off) or not tail_open or tail_start + base > pos):
                self._add(rec_off[: i + 1], rec_line[: i + 1], rec_multi[: i + 1])
                self.damage = n_before + i
                self._open = None
                self._stop()
                return
            self._add(rec_off, rec_line, rec_multi)
            self._open = (tail_start + base, tail_line)
            self._mark_damage_open(pos)
            return
        self._add(rec_off, rec_line, rec_multi)
        self._open = (tail_start + base, tail_line) if tail_open else None
        self._open_multi = bool(multi[-1]) if tail_open else False


# ---------------------------------------------------------------------------
# the careful path


def quotes_conform(text: str, delimiter: str) -> bool:
    """Whether every quote of a record is where RFC 4180 puts one (the scan's rule).

    A quote opens a field (after a delimiter or at the line start), closes it
    (before a delimiter or the line end), or is doubled inside a quoted field.

    Example:
        >>> quotes_conform('1,"a""b",3', ","), quotes_conform('1,a"b,3', ",")
        (True, False)
    """
    start = 0
    k = 0
    n = len(text)
    while (p := text.find('"', start)) >= 0:
        if k % 2 == 0:
            ok = p == 0 or text[p - 1] in (delimiter, "\n", '"')
        else:
            ok = p + 1 >= n or text[p + 1] in (delimiter, "\r", "\n", '"')
        if not ok:
            return False
        k += 1
        start = p + 1
    return k % 2 == 0
