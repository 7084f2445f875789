"""What a failure means to the person running the job: one line, what to fix.

Damaged or mis-named input files (a CSV saved as ``.xlsx``, a truncated Parquet
file, a broken SPSS file) make the reading libraries raise their own errors;
:func:`guard_reading` turns those into :class:`~psyscreen.batch.io.InputFileError`
naming the file and the fix, and :func:`os_error_message` says why a file could
not be read or written (permission, read-only, full disk) in Chinese and English.
No message quotes a library's own text, which can hold a line of the file.

Example:
    >>> import zipfile
    >>> e = as_input_error(zipfile.BadZipFile("File is not a zip file"), "x.xlsx", "xlsx")
    >>> print(str(e).split(" / ")[1])
    x.xlsx is not a readable Excel workbook (damaged, or another kind of file named .xlsx): open it in Excel or WPS and save it again as .xlsx, or export CSV
    >>> import errno
    >>> print(os_error_message(OSError(errno.ENOSPC, "No space left on device", "out/r.csv")))
    磁盘已满：out/r.csv / no space left on the device: out/r.csv; free space or choose another output folder
"""  # noqa: E501

from __future__ import annotations

import errno
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .io import InputFileError

#: what each input format is called, and how to make a readable one
_FORMAT_HELP = {
    "xlsx": (
        "不是可读的 Excel 工作簿（文件损坏，或其他格式的文件被命名为 .xlsx）；请用 Excel 或 WPS "
        "打开后重新另存为 .xlsx，或导出 CSV",
        "is not a readable Excel workbook (damaged, or another kind of file named .xlsx): "
        "open it in Excel or WPS and save it again as .xlsx, or export CSV",
    ),
    "parquet": (
        "不是可读的 Parquet 文件（文件损坏或不完整）；请重新导出",
        "is not a readable Parquet file (damaged or incomplete): export it again",
    ),
    "sav": (
        "不是可读的 SPSS 数据文件（文件损坏或不完整）；请在 SPSS 中重新保存，或导出 CSV",
        "is not a readable SPSS data file (damaged or incomplete): save it again in SPSS, "
        "or export CSV",
    ),
    "csv": (
        "无法按文本表格读取（文件损坏或不完整）；请重新导出",
        "cannot be read as a text table (damaged or incomplete): export it again",
    ),
}

#: errno -> (Chinese, English) reason, and what to do
_FREE = "free space or choose another output folder"
_PERMS = "check the file's permissions or choose another folder"
_OS_REASONS = {
    errno.ENOSPC: ("磁盘已满", "no space left on the device", _FREE),
    errno.EDQUOT: ("磁盘配额已满", "disk quota exceeded", _FREE),
    errno.EACCES: ("没有权限", "permission denied", _PERMS),
    errno.EPERM: ("没有权限", "permission denied", _PERMS),
    errno.EROFS: ("只读文件系统", "read-only file system", "choose a writable output folder"),
    errno.ENOTDIR: ("路径中有一段不是文件夹", "a part of the path is not a folder", "check it"),
    errno.EISDIR: ("这是一个文件夹", "this is a folder, not a file", "give a file name"),
    errno.ENOENT: ("文件或文件夹不存在", "no such file or folder", "check the path"),
    errno.EIO: (
        "读写错误（磁盘或网络盘故障）",
        "input/output error (disk or network drive)",
        "copy the file to a local disk and retry",
    ),
}


def _reading_errors() -> tuple[type[BaseException], ...]:
    """Exception types that the reading libraries raise for a damaged file."""
    import xml.etree.ElementTree as ET
    import zipfile

    kinds: list[type[BaseException]] = [
        zipfile.BadZipFile,
        ET.ParseError,
        EOFError,
        UnicodeDecodeError,
        KeyError,  # openpyxl: a part missing from the workbook's zip archive
        ValueError,
        TypeError,
        OSError,
    ]
    try:
        import pyarrow as pa

        kinds.append(pa.ArrowException)
    except ImportError:  # pragma: no cover - pyarrow comes with the io extra
        pass
    try:
        from openpyxl.utils.exceptions import InvalidFileException

        kinds.append(InvalidFileException)
    except ImportError:  # pragma: no cover
        pass
    try:
        import pyreadstat

        kinds += [pyreadstat.ReadstatError, pyreadstat.PyreadstatError]
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    return tuple(kinds)


def as_input_error(e: BaseException, path: str | Path, fmt: str) -> InputFileError:
    """A reading library's error on ``path`` as a one-line :class:`InputFileError`."""
    name = Path(path).name
    if isinstance(e, OSError) and e.errno in _OS_REASONS:
        return InputFileError(os_error_message(e, name))
    zh, en = _FORMAT_HELP.get(fmt, _FORMAT_HELP["csv"])
    return InputFileError(f"{name} {zh} / {name} {en}")


def guard_reading(make: Any, path: str | Path, fmt: str) -> Any:
    """``make()``, with a reading library's error turned into :class:`InputFileError`.

    Our own errors (``InputFileError``, ``BatchError``: already one line) pass unchanged.
    """
    try:
        return make()
    except InputFileError:
        raise
    except _reading_errors() as e:
        if _ours(e):
            raise
        raise as_input_error(e, path, fmt) from e


def guard_chunks(chunks: Iterable[Any], path: str | Path, fmt: str) -> Iterator[Any]:
    """The chunks of a reader, a damaged file's error turned into :class:`InputFileError`."""
    it, end = iter(chunks), object()
    while (item := guard_reading(lambda: next(it, end), path, fmt)) is not end:
        yield item


def _ours(e: BaseException) -> bool:
    """psyscreen's own one-line errors (they already say what to fix)."""
    from ..yamlio import DefinitionError

    return isinstance(e, DefinitionError) or type(e).__module__.startswith("psyscreen")


def check_plain_columns(src: Any, columns: Iterable[str]) -> None:
    """Refuse Parquet columns that hold lists, structs or maps: a cell must be one value.

    Example:
        >>> import pyarrow as pa, pyarrow.parquet as pq, tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.parquet"
        >>> pq.write_table(pa.table({"q1": [[1, 2]]}), p)
        >>> from psyscreen.batch.io import Source
        >>> try:
        ...     check_plain_columns(Source(p, "parquet", ["q1"]), ["q1"])
        ... except InputFileError as e:
        ...     print(str(e).split(" / ")[1])
        x.parquet: column 'q1' holds lists or records, not one value per cell: export one column per question
    """  # noqa: E501
    if src.format != "parquet":
        return
    import pyarrow.parquet as pq
    import pyarrow.types as pt

    schema = guard_reading(lambda: pq.read_schema(src.path), src.path, src.format)
    wanted = set(columns)
    for f in schema:
        if f.name in wanted and pt.is_nested(f.type):
            name = src.path.name
            raise InputFileError(
                f"{name}：列 {f.name!r} 的单元格是列表或结构，不是单个值；请每题导出一列 / "
                f"{name}: column {f.name!r} holds lists or records, not one value per cell: "
                "export one column per question"
            )


def os_error_message(e: OSError, name: str | Path | None = None) -> str:
    """Why a file could not be read or written, Chinese then English, and what to do."""
    where = str(name if name is not None else (e.filename or ""))
    zh, en, fix = _OS_REASONS.get(
        e.errno or 0,
        ("读写失败", e.strerror or str(e) or type(e).__name__, "check the path and retry"),
    )
    tail = f"：{where}" if where else ""
    return f"{zh}{tail} / {en}{': ' + where if where else ''}; {fix}"
