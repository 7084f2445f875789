"""The files of one run: inputs never written, outputs written whole or not at all.

A run registers every file it reads (:meth:`RunFiles.add_input`: the export, the
mapping, a key file, ...) and every file it writes (:meth:`RunFiles.add_output`:
results, problems, report, manifest, and any later output such as a warning list
or an archive file). Registering is all a new output needs to join the checks:

* **no two the same file**: :meth:`RunFiles.check` refuses, before anything is
  read, any two registered files that are one file (same ``realpath``, or the same
  device and inode, which also catches hard links and symbolic links), an output
  that is a directory, and an output whose directory is a file;
* **a lock per output** (:meth:`RunFiles.open`): ``fcntl.flock`` on a hidden lock
  file beside each output, taken without waiting, so a second run on the same
  outputs refuses instead of interleaving with the first; the kernel releases the
  lock when the process ends, even on ``kill -9``;
* **temporary files, renamed at the end**: each output is written to
  :meth:`RunFiles.temp` (a hidden file in the target directory, so the rename is
  atomic) and :meth:`RunFiles.commit` first removes the stale manifest, then renames
  the other outputs into place and the manifest last. A run that fails, is
  interrupted or killed leaves the previous outputs (and their matching manifest)
  as they were; :meth:`RunFiles.abort` removes its temporary files, and the next
  run on the same outputs removes those a killed run left.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "in.csv").write_text("id\\n1\\n")
    >>> files = RunFiles()
    >>> files.add_input("input", d / "in.csv")
    >>> files.add_output("results", d / "in.csv")
    >>> try:
    ...     files.check()
    ... except OutputPathError as e:
    ...     print(str(e).split(" / ")[1])
    the results file and the input file are the same file (in.csv): choose another output path
    >>> files = RunFiles()
    >>> files.add_output("results", d / "out.csv")
    >>> with files.open():
    ...     _ = files.temp("results").write_text("x")
    ...     files.commit()
    >>> (d / "out.csv").read_text(), sorted(p.name for p in d.iterdir())
    ('x', ['in.csv', 'out.csv'])
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import PsyscreenError

#: Chinese and English names of the files a run reads or writes
ROLE_NAMES = {
    "input": ("输入文件", "input file"),
    "mapping": ("映射文件", "mapping file"),
    "profile": ("风险方案文件", "profile file"),
    "key": ("密钥文件", "key file"),
    "results": ("结果文件", "results file"),
    "problems": ("问题清单", "problems file"),
    "manifest": ("运行清单", "manifest"),
    "report": ("报告", "report"),
    "warning_list": ("预警名单", "warning list"),
}
#: the output renamed last: it vouches for the others
MANIFEST = "manifest"
_TEMP_MARK = ".psyscreen-tmp-"


class OutputPathError(PsyscreenError, ValueError):
    """An output path cannot be used (same file as another, unwritable, locked).

    The message (Chinese, then English) says what to fix.
    """


def role_name(role: str) -> tuple[str, str]:
    """(Chinese, English) name of a file role (unknown roles: the role itself)."""
    return ROLE_NAMES.get(role, (role, role))


@dataclass
class _Output:
    path: Path
    temp: Path | None = None
    lock: int | None = None  # file descriptor holding the flock


class RunFiles:
    """Inputs and outputs of one run. See the module docstring."""

    def __init__(self) -> None:
        self.inputs: dict[str, Path] = {}
        self.outputs: dict[str, _Output] = {}
        self._open = False

    def add_input(self, role: str, path: str | Path | None) -> None:
        """Register a file the run reads (``None``: nothing to register)."""
        if path is not None:
            self.inputs[role] = Path(path)

    def add_output(self, role: str, path: str | Path | None) -> None:
        """Register a file the run writes (``None``: nothing to register)."""
        if self._open:
            raise RuntimeError("outputs must be registered before RunFiles.open()")
        if path is not None:
            self.outputs[role] = _Output(Path(path))

    # -- checks before anything is read -----------------------------------------
    def check(self) -> None:
        """Refuse two registered files that are one file, and unusable output paths."""
        seen: list[tuple[str, str, tuple[int, int] | None]] = []
        named = [(r, p) for r, p in self.inputs.items()]
        named += [(r, o.path) for r, o in self.outputs.items()]
        for role, path in named:
            real = os.path.realpath(path)
            ident = _identity(real)
            for other, other_real, other_ident in seen:
                if real == other_real or (ident is not None and ident == other_ident):
                    raise OutputPathError(_same_file(role, other, path))
            seen.append((role, real, ident))
        for role, out in self.outputs.items():
            if out.path.is_dir():
                zh, en = role_name(role)
                raise OutputPathError(
                    f"{zh}路径是一个文件夹：{out.path}；请给出文件名 / the {en} path "
                    f"{out.path} is a directory: give a file name"
                )

    # -- writing ------------------------------------------------------------------
    @contextlib.contextmanager
    def open(self) -> Iterator[RunFiles]:
        """Create the output directories, lock every output, clean a killed run's leftovers.

        On leaving by an exception (an error, Ctrl-C) the temporary files are removed;
        the locks are released either way.
        """
        self._open = True
        try:
            for role, out in sorted(self.outputs.items(), key=lambda kv: str(kv[1].path)):
                _make_dir(role, out.path.parent)
                out.lock = _lock(role, out.path)
                _remove_leftovers(out.path)
            yield self
        except BaseException:
            self.abort()
            raise
        finally:
            self._release()

    def temp(self, role: str) -> Path:
        """The temporary file to write output ``role`` to (same directory, hidden name)."""
        out = self.outputs[role]
        if out.temp is None:
            token = f"{os.getpid()}-{secrets.token_hex(4)}"
            # keep the extension: writers choose the format by it
            out.temp = out.path.with_name(f".{out.path.name}{_TEMP_MARK}{token}{out.path.suffix}")
        return out.temp

    def path(self, role: str) -> Path:
        """The final path of output ``role``."""
        return self.outputs[role].path

    def describe(self, filename: str | os.PathLike | None) -> str:
        """A file name for a message: a temporary file as the output it stands for.

        Example:
            >>> f = RunFiles()
            >>> f.add_output("results", "out/r.csv")
            >>> f.describe(f.temp("results")), f.describe(None)
            ('out/r.csv', 'out')
        """
        for out in self.outputs.values():
            if filename is not None and out.temp is not None and Path(filename) == out.temp:
                return str(out.path)
        if filename is not None:
            return str(filename)
        first = next(iter(self.outputs.values()), None)
        return str(first.path.parent) if first else ""

    def commit(self) -> None:
        """Rename the written outputs into place: stale manifest removed first, manifest last.

        Outputs never written (no :meth:`temp` asked, or the file not made) are left alone.
        """
        man = self.outputs.get(MANIFEST)
        if man is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(man.path)  # never pair new files with an old manifest
        order = [r for r in self.outputs if r != MANIFEST] + ([MANIFEST] if man else [])
        for role in order:
            out = self.outputs[role]
            if out.temp is not None and out.temp.exists():
                os.replace(out.temp, out.path)
                out.temp = None

    def abort(self) -> None:
        """Remove the temporary files of this run (the final files stay as they were)."""
        for out in self.outputs.values():
            if out.temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(out.temp)
                out.temp = None

    def _release(self) -> None:
        for out in self.outputs.values():
            if out.lock is not None:
                with contextlib.suppress(OSError):
                    os.unlink(_lock_path(out.path))  # while still holding it
                os.close(out.lock)
                out.lock = None
        self._open = False


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _same_file(role: str, other: str, path: Path) -> str:
    zh, en = role_name(role)
    ozh, oen = role_name(other)
    return (
        f"{zh}与{ozh}是同一个文件 / the {en} and the {oen} are the same file "
        f"({path.name}): choose another output path"
    )


def _make_dir(role: str, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        zh, en = role_name(role)
        raise OutputPathError(
            f"{zh}的目录 {directory} 中有一段是普通文件而不是文件夹 / the folder of the {en} "
            f"({directory}) is under a regular file, not a folder: choose another output path"
        ) from None
    except OSError as e:
        raise OutputPathError(_cannot_write(role, directory, e)) from None


def _cannot_write(role: str, directory: Path, e: OSError) -> str:
    zh, en = role_name(role)
    why = {
        errno.EACCES: ("没有写入权限", "permission denied"),
        errno.EPERM: ("没有写入权限", "permission denied"),
        errno.EROFS: ("只读文件系统", "read-only file system"),
        errno.ENOSPC: ("磁盘已满", "no space left on the device"),
    }.get(e.errno or 0, (e.strerror or "错误", e.strerror or type(e).__name__))
    return (
        f"无法在 {directory} 写入{zh}：{why[0]} / cannot write the {en} in {directory}: "
        f"{why[1]}; choose a writable output folder"
    )


def _lock_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.lock")


def _lock(role: str, path: Path) -> int:
    """An exclusive flock on ``path``'s lock file, taken without waiting (else refuse)."""
    import fcntl

    lock_path = _lock_path(path)
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise OutputPathError(_cannot_write(role, path.parent, e)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            zh, en = role_name(role)
            raise OutputPathError(
                f"另一个 psyscreen 任务正在写入{zh} {path}；请等它结束或换一个输出路径 / "
                f"another psyscreen run is writing the {en} {path}: wait for it to finish "
                "or choose another output path"
            ) from None
        # the holder before us may have removed the lock file while we waited to open it
        st = os.fstat(fd)
        if _identity(str(lock_path)) == (st.st_dev, st.st_ino):
            return fd
        os.close(fd)


def _remove_leftovers(path: Path) -> None:
    """Temporary files of killed runs on this output (we hold its lock: none is live)."""
    prefix = f".{path.name}{_TEMP_MARK}"
    with contextlib.suppress(OSError):
        for p in path.parent.iterdir():
            if p.name.startswith(prefix):
                with contextlib.suppress(OSError):
                    p.unlink()
