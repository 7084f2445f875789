"""Reading CSV/TXT/TSV exports record by record: every record accounted for, in place.

A *record* is one data line, or the lines that a properly quoted newline joins.
Each record yields exactly one row, at its own position, with the 1-based line
where it starts in the file (:data:`LINE`); a record that cannot be read yields
a row too, with the reason in :data:`DAMAGE` and no cell text. Blank lines are
not records (they are skipped, as Excel and pyarrow do; later line numbers stay
true).

Two readers share that contract:

* the **fast path**: pyarrow's streaming parser, for the part of the file a
  vectorised scan (:class:`RecordScan`, numpy over the raw bytes) shows to be
  plain: every quote where RFC 4180 allows one (opening a field, closing it, or
  doubled inside it) and every quote closed. The scan also gives each record's
  byte offset and start line;
* the **careful path** (:func:`careful_records`): Python's ``csv`` module line by
  line, from the first record the scan or pyarrow found damaged (a stray or
  unclosed quote, too many or too few fields, a cell too large for a block, a
  byte sequence the encoding cannot decode) to the end of the file. A quoted
  field that runs into later lines is accepted only if the joined record has the
  header's number of fields; otherwise its first line is unreadable
  (``unclosed_quote``) and reading goes on at the next line.

Example:
    >>> sniff_delimiter("学号\\t姓名\\tQ1")
    '\\t'
    >>> sniff_delimiter("id;q1;q2"), sniff_delimiter("id,q1"), sniff_delimiter("id")
    (';', ',', ',')
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import PsyscreenError
from .io import InputFileError

#: hidden chunk columns: the 1-based line where the record starts, and why it is unreadable
LINE = "psyscreen.line"
DAMAGE = "psyscreen.damage"
#: the header may be longer than pyarrow's 64 KiB probe, but not unbounded
MAX_HEADER_BYTES = 16 << 20
#: a cell in a column the run reads may hold at most this many characters
MAX_CELL_CHARS = 1 << 20
#: a physical line longer than this is unreadable (read past without keeping it)
MAX_LINE_BYTES = 256 << 20
#: a quoted field may join at most this many lines (a stray quote costs no more)
MAX_RECORD_LINES = 200
#: encodings whose multi-byte characters never contain the bytes of ``\n``, ``"``, ``,``,
#: tab or ``;`` (so the raw bytes can be scanned and split into lines)
BYTE_SAFE = frozenset(
    {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "ascii",
     "latin-1", "iso8859-1", "cp1252", "cp936", "cp950"}
)  # fmt: skip
#: delimiters sniffed from the header line (the first wins a tie)
DELIMITERS = (",", "\t", ";")
DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}

_NL, _QUOTE, _CR = 10, 34, 13
#: why a file with an unquoted carriage return not followed by a line feed is refused: its
#: lines cannot be told apart from its cells without guessing
LONE_CR = (
    "lines end in a carriage return alone (CR without LF: old Mac line endings, or a file "
    "that mixes them); psyscreen does not guess where such records end. Save the file again "
    "as CSV with Windows (CRLF) or Unix (LF) line endings"
)


def _lone_cr(text: str) -> bool:
    """Whether ``text`` holds a CR that is neither followed by LF nor at its very end."""
    return re.search("\r(?!\n|$)", text) is not None


_SURROGATE = re.compile("[\udc80-\udcff]")


def codec_name(encoding: str) -> str:
    """The codec's canonical name (``UTF8`` -> ``utf-8``).

    Example:
        >>> codec_name("UTF8"), codec_name("GBK")
        ('utf-8', 'gbk')
    """
    return codecs.lookup(encoding).name


def delimiter_option(value: str | None) -> str | None:
    """A ``--delimiter`` value as the character (``tab`` / ``\\t`` -> a tab).

    Example:
        >>> delimiter_option("tab"), delimiter_option(";"), delimiter_option(None)
        ('\\t', ';', None)
    """
    if value is None:
        return None
    d = DELIMITER_NAMES.get(value.lower(), value)
    if len(d) != 1 or d in ('"', "\n", "\r"):
        raise InputFileError(
            f"--delimiter must be one character (or tab, comma, semicolon), not {value!r}"
        )
    return d


def sniff_delimiter(header: str, default: str = ",") -> str:
    """The delimiter of a header line: the most frequent of comma, tab and semicolon."""
    counts = [header.count(d) for d in DELIMITERS]
    best = max(counts)
    return DELIMITERS[counts.index(best)] if best else default


# ---------------------------------------------------------------------------
# the header


@dataclass
class Layout:
    """Where the data start and how to split them."""

    names: list[str]  # headers as written (untrimmed)
    delimiter: str
    data_start: int  # byte offset of the first data line (byte-safe encodings)
    first_line: int  # its 1-based line number
    byte_safe: bool


def read_layout(path: Path, encoding: str, delimiter: str | None) -> Layout:
    """Read the header record of ``path``: names, delimiter and where the data start.

    Raises :class:`InputFileError` saying what the file is when it has no usable header
    (empty, only blank lines, NUL bytes, a header over 16 MiB, undecodable).
    """
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path.name}: the file is empty (0 bytes)")
    enc = codec_name(encoding)
    safe = enc in BYTE_SAFE
    if safe:
        raw, start, line = _header_bytes(path, enc)
        text = _decode(raw, "utf-8" if enc == "utf-8-sig" else enc, start, line, path)
    else:
        with open(path, "rb") as f:
            head = f.read(4096)
        text, start, line = _header_text(path, enc, head)
    if "\x00" in text:
        raise InputFileError(
            f"{path.name}: the header line contains NUL bytes: not a text export "
            "(a damaged download, or UTF-16 text without a byte-order mark: try --encoding utf-16)"
        )
    text = text.rstrip("\r\n")
    if suffix_tab(path) and delimiter is None:
        delimiter = sniff_delimiter(text, default="\t")
    d = delimiter or sniff_delimiter(text)
    try:
        names = next(csv.reader([text], delimiter=d), [])
    except csv.Error:
        if _lone_cr(text):
            raise InputFileError(f"{path.name}: {LONE_CR}") from None
        raise InputFileError(
            f"{path.name}: the header line is not valid CSV (a stray or unclosed quote)"
        ) from None
    return Layout(names=names, delimiter=d, data_start=start, first_line=line, byte_safe=safe)


def suffix_tab(path: Path) -> bool:
    return path.suffix.lower() == ".tsv"


def _header_bytes(path: Path, enc: str) -> tuple[bytes, int, int]:
    """(header record bytes, offset after it, line number after it); blank lines skipped."""
    bom = codecs.BOM_UTF8 if enc in ("utf-8", "utf-8-sig") else b""
    with open(path, "rb") as f:
        pos, line, quotes, first = 0, 1, 0, None
        parts: list[bytes] = []
        while True:
            raw = f.readline(MAX_HEADER_BYTES + 1)
            if pos == 0 and bom and raw.startswith(bom):
                raw, pos = raw[len(bom) :], len(bom)
            if not raw:
                break
            if len(raw) > MAX_HEADER_BYTES or sum(map(len, parts)) > MAX_HEADER_BYTES:
                raise InputFileError(
                    f"{path.name}: the header line is longer than {MAX_HEADER_BYTES >> 20} MiB: "
                    "not a CSV export with one header line?"
                )
            pos += len(raw)
            line += 1
            if not parts and not raw.strip(b"\r\n"):
                continue  # blank lines before the header
            if not parts and not raw.strip(b"\x00\r\n"):
                first = first or line - 1
            parts.append(raw)
            quotes += raw.count(b'"')
            if quotes % 2 == 0 or len(parts) >= MAX_RECORD_LINES:
                break
    if not parts:
        raise InputFileError(f"{path.name}: the file holds no header line (only blank lines)")
    if first is not None and len(parts) == 1:
        raise InputFileError(
            f"{path.name}: the header (line {first}) holds only NUL bytes "
            "(a damaged or incompletely written file)"
        )
    return b"".join(parts), pos, line


def _header_text(path: Path, enc: str, head: bytes) -> tuple[str, int, int]:
    """The header of a text in a multi-byte-unsafe encoding (UTF-16): read as text."""
    with open(path, "rb") as f:
        text = io.TextIOWrapper(f, encoding=enc, newline="")
        try:
            line = 1
            for raw in text:
                if raw.strip("\r\n\ufeff"):
                    return raw.lstrip("\ufeff"), -1, line + 1
                line += 1
        except UnicodeDecodeError as e:
            raise InputFileError(
                f"{path.name}: line {line} is not valid {enc} text ({e.reason}); "
                "pass --encoding (utf-8, gb18030, utf-16, ...)"
            ) from None
    raise InputFileError(f"{path.name}: the file holds no header line (only blank lines)")


def _decode(raw: bytes, enc: str, offset: int, line: int, path: Path) -> str:
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as e:
        raise InputFileError(
            f"{path.name}: the header (line {line - 1}, byte {offset - len(raw) + e.start}) "
            f"is not valid {enc} text (psyscreen tries a byte-order mark, UTF-8, then GB18030); "
            "pass --encoding (utf-8, gb18030, big5, utf-16, ...)"
        ) from None


# ---------------------------------------------------------------------------
# the vectorised scan


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


class _Damaged(PsyscreenError):
    def __init__(self, reason: str):
        self.reason = reason


class _Lines:
    """Physical lines for ``csv.reader``, numbered, with push-back; raises on bad lines."""

    def __init__(self, source: Iterator[tuple[int, str | None, str]]):
        self._source = source
        self.back: deque = deque()
        self.taken: list[tuple[int, str | None, str]] = []
        self.last_line_ends = True

    def __iter__(self) -> _Lines:
        return self

    def pull(self) -> tuple[int, str | None, str] | None:
        """The next line, outside ``csv.reader`` (None at the end)."""
        if self.back:
            return self.back.popleft()
        return next(self._source, None)

    def __next__(self) -> str:
        item = self.back.popleft() if self.back else next(self._source)
        self.taken.append(item)
        if item[1] is None:
            raise _Damaged(item[2])
        if len(self.taken) > MAX_RECORD_LINES:
            raise _Damaged("unclosed_quote")
        return item[1]


_Line = tuple[int, "str | None", str]


def _byte_lines(path: Path, offset: int, line: int, enc: str) -> Iterator[_Line]:
    """(line number, text or None, reason) per physical line from ``offset``."""
    dec = "utf-8" if enc == "utf-8-sig" else enc
    with open(path, "rb") as f:
        f.seek(offset)
        while True:
            raw = f.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the line
                    raw = f.readline(1 << 24)
                yield line, None, "line_too_long"
            else:
                try:
                    yield line, raw.decode(dec), ""
                except UnicodeDecodeError:
                    # kept (as surrogates) so the line still splits: only a read cell
                    # with bad bytes makes the record unreadable, as on the fast path
                    yield line, raw.decode(dec, "surrogateescape"), "lossy"
            line += 1


def _text_lines(path: Path, line: int, enc: str) -> Iterator[_Line]:
    """Lines of a text in a byte-unsafe encoding (UTF-16), from data line ``line``."""
    with open(path, "rb") as f:
        text = io.TextIOWrapper(f, encoding=enc, newline="", errors="surrogateescape")
        for n, raw in enumerate(text, start=1):
            if n >= line:
                yield n, raw, "lossy" if _SURROGATE.search(raw) else ""


def _has_newline(fields: list[str], i: int) -> bool:
    return i < len(fields) and ("\n" in fields[i] or "\r" in fields[i])


def careful_records(
    lines: Iterator[tuple[int, str | None, str]],
    delimiter: str,
    n_fields: int,
    read: Sequence[int],
) -> Iterator[tuple[int, str | None, str]]:
    """(start line, the record's text or None, reason) per record of ``lines``.

    A plain line (no quote, no carriage return inside, not too long, decoded) is
    checked by counting its delimiters; anything else goes through ``csv.reader``.

    Example:
        >>> src = iter([(2, "1,2\\n", ""), (3, '3,"4\\n', ""), (4, "5,6\\n", ""),
        ...             (5, "7,8,9\\n", ""), (6, "10", "")])
        >>> list(careful_records(src, ",", 2, [0, 1]))  # doctest: +NORMALIZE_WHITESPACE
        [(2, '1,2\\n', ''), (3, None, 'unclosed_quote'), (4, '5,6\\n', ''),
         (5, None, 'wrong_number_of_fields'), (6, None, 'truncated_last_line')]
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
    src = _Lines(lines)
    reader = csv.reader(src, delimiter=delimiter, strict=True)
    while True:
        item = src.pull()
        if item is None:
            return
        start, text, why = item
        if (
            text is not None
            and not why
            and '"' not in text
            and len(text) <= MAX_CELL_CHARS
            and text.find("\r") in (-1, len(text) - 2)
        ):
            if not text.strip("\r\n"):
                continue  # a blank line
            if text.count(delimiter) + 1 == n_fields:
                yield start, text, ""
            else:
                ends = text.endswith("\n")
                yield start, None, "wrong_number_of_fields" if ends else "truncated_last_line"
            continue
        src.back.appendleft(item)
        src.taken = []
        reason = ""
        # stays [] only when a failed read set a reason; every later use checks the reason first
        fields: list[str] = []
        try:
            fields = next(reader)
        except StopIteration:
            if not src.taken:
                return
            reason = "unclosed_quote"  # the file ended inside a quoted field
        except _Damaged as e:
            reason = e.reason
        except csv.Error as e:
            if "new-line character" in str(e) and any(_lone_cr(t[1] or "") for t in src.taken):
                raise InputFileError(f"line {start}: {LONE_CR}") from None
            reason = "unclosed_quote" if "end of data" in str(e) else "stray_quote"
        taken = src.taken
        if not taken:
            return
        if fields == [] and not reason:
            continue  # a blank line
        # without a reason every taken line was read (a None line raises _Damaged)
        text = "" if reason else "".join(t[1] or "" for t in taken)
        if '"' in text and not quotes_conform(text, delimiter):
            reason = "stray_quote"
        if not reason and len(taken) > 1 and any(_has_newline(fields, i) for i in read):
            # a line break inside an answer or role cell: a stray quote joined two lines
            reason = "unclosed_quote"
        if reason or len(fields) != n_fields:
            first = taken[0]
            if first[1] is None:
                reason = first[2]
            elif len(taken) > 1:
                # a quote opened on this line ran into later lines without making a
                # record: this line is damaged, the next ones are read again
                reason = "unclosed_quote"
            elif not reason:
                ends = first[1].endswith(("\n", "\r"))
                reason = "wrong_number_of_fields" if ends else "truncated_last_line"
            src.back.extendleft(reversed(taken[1:]))
            yield start, None, reason
            continue
        if max(map(len, fields)) > MAX_CELL_CHARS and any(
            len(fields[i]) > MAX_CELL_CHARS for i in read
        ):
            yield start, None, "cell_too_large"
        elif any(t[2] == "lossy" for t in taken) and any(
            _SURROGATE.search(fields[i]) for i in read
        ):
            yield start, None, "undecodable"
        else:
            yield start, text, ""


# ---------------------------------------------------------------------------
# chunks of records


def read_tables(
    path: Path,
    layout: Layout,
    encoding: str,
    columns: Sequence[str],
    chunk_rows: int,
    block_size: int = 1 << 20,
) -> Iterator:
    """``pyarrow.Table`` chunks of ``columns`` (text) plus :data:`LINE` and :data:`DAMAGE`.

    One row per record, in file order; the fast path until the first damage, the
    careful path from there (see the module docstring).
    """
    names = [n.strip() for n in layout.names]
    pos = [names.index(c) for c in columns]
    enc = codec_name(encoding)
    n_fields = len(names)
    if not layout.byte_safe:
        lines = _text_lines(path, layout.first_line, enc)
        yield from _careful_tables(lines, layout.delimiter, n_fields, pos, columns, chunk_rows)
        return
    scan = RecordScan(path, layout.data_start, layout.first_line, layout.delimiter)
    try:
        yield from _fast_tables(path, layout, enc, scan, pos, columns, chunk_rows, block_size)
        offset, line = scan.next_start()
        scan.close()
        if offset < path.stat().st_size:
            lines = _byte_lines(path, offset, line, enc)
            yield from _careful_tables(lines, layout.delimiter, n_fields, pos, columns, chunk_rows)
    finally:
        scan.close()


def _fast_tables(path, layout, enc, scan: RecordScan, pos, columns, chunk_rows, block_size):
    """Chunks read by pyarrow while the scan vouches for the records; returns at damage."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    internal = [f"c{i}" for i in range(len(layout.names))]
    include = [internal[p] for p in pos]
    ropts = pacsv.ReadOptions(
        encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc,
        block_size=block_size,
        column_names=internal,
    )
    popts = pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True)
    copts = pacsv.ConvertOptions(
        include_columns=include,
        column_types={c: pa.string() for c in include},
        strings_can_be_null=False,
    )
    f = pa.OSFile(str(path))
    f.seek(layout.data_start)
    pending: list = []
    n_pending = 0
    stopped = False

    def emit(table):
        """``table`` (the next records) cut where the scan stops vouching; None if cut."""
        nonlocal stopped
        n = table.num_rows
        ok = scan.clean(scan.taken + n) - scan.taken
        multi = np.flatnonzero(scan.multi_line(ok))
        if len(multi):  # a quoted newline in a cell the run reads: two damaged lines?
            ok = min(ok, _first_newline_row(table, multi))
        if ok < n:
            stopped = True
            table = table.slice(0, ok)
        if not table.num_rows:
            return None
        table = table.rename_columns(list(columns))
        lines = pa.array(scan.take(table.num_rows), type=pa.int64())
        table = table.append_column(LINE, lines)
        return table.append_column(DAMAGE, pa.nulls(table.num_rows, type=pa.string()))

    try:
        try:
            reader = pacsv.open_csv(f, read_options=ropts, parse_options=popts,
                                    convert_options=copts)  # fmt: skip
            for batch in reader:
                pending.append(batch)
                n_pending += batch.num_rows
                if n_pending < chunk_rows:
                    continue
                table = pa.Table.from_batches(pending)
                while table.num_rows >= chunk_rows and not stopped:
                    out = emit(table.slice(0, chunk_rows))
                    if out is not None:
                        yield out
                    table = table.slice(chunk_rows)
                if stopped:
                    return
                pending, n_pending = table.to_batches(), table.num_rows
            reader.close()
        except (pa.ArrowInvalid, UnicodeDecodeError, pa.ArrowNotImplementedError):
            pass  # damage pyarrow found: the records from here go to the careful path
        if n_pending and not stopped:
            out = emit(pa.Table.from_batches(pending))
            if out is not None:
                yield out
    finally:
        f.close()


def _first_newline_row(table, rows: np.ndarray) -> int:
    """The first of ``rows`` with a line break in a cell of ``table`` (its length if none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    sub = table.take(pa.array(rows))
    hit = np.zeros(len(rows), dtype=bool)
    for col in sub.columns:
        hit |= pc.match_substring_regex(col, "[\r\n]").to_numpy(zero_copy_only=False)
    return int(rows[hit][0]) if hit.any() else table.num_rows


def _careful_tables(lines, delimiter, n_fields, pos, columns, chunk_rows):
    """Chunks of the careful path: the accepted records' text parsed by pyarrow.

    Records were checked (field count, quotes, cells) record by record; their text is
    then parsed in one go, an unreadable record replaced by a line of empty fields.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    internal = [f"c{i}" for i in range(n_fields)]
    include = [internal[p] for p in pos]
    empty = delimiter * (n_fields - 1) + "\n"  # an unreadable record: no cell text
    recs = careful_records(lines, delimiter, n_fields, pos)
    while True:
        batch = list(itertools.islice(recs, chunk_rows))
        if not batch:
            return
        text = "".join(
            empty if t is None else (t if t.endswith("\n") else t + "\n") for _, t, _ in batch
        )
        # bytes the encoding could not decode come back as they were (in unread cells)
        data = text.encode("utf-8", "surrogateescape")
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(
                column_names=internal, block_size=min(len(data) + 1, (1 << 31) - 1)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=include,
                column_types={c: pa.string() for c in include},
                strings_can_be_null=False,
            ),
        )
        if table.num_rows != len(batch):  # pragma: no cover - checked records must parse
            raise RuntimeError("careful CSV reading lost a record: a bug in psyscreen")
        table = table.rename_columns(list(columns))
        table = table.append_column(LINE, pa.array([r[0] for r in batch], type=pa.int64()))
        yield table.append_column(DAMAGE, pa.array([r[2] or None for r in batch], type=pa.string()))
