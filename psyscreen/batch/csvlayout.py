"""The layout of a CSV/TXT/TSV export: encoding, delimiter, header, and the hidden columns.

What the readers of :mod:`psyscreen.batch.csvread` agree on before any record is read:
the codec, the sniffed or given delimiter, the header line and where the data starts,
and the size limits of a line and a cell.

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
import re
from dataclasses import dataclass
from pathlib import Path

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

#: why a file with an unquoted carriage return not followed by a line feed is refused: its
#: lines cannot be told apart from its cells without guessing
LONE_CR = (
    "lines end in a carriage return alone (CR without LF: old Mac line endings, or a file "
    "that mixes them); psyscreen does not guess where such records end. Save the file again "
    "as CSV with Windows (CRLF) or Unix (LF) line endings"
)


def has_lone_cr(text: str) -> bool:
    """Whether ``text`` holds a CR that is neither followed by LF nor at its very end."""
    return re.search("\r(?!\n|$)", text) is not None


SURROGATE = re.compile("[\udc80-\udcff]")


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
        if has_lone_cr(text):
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
