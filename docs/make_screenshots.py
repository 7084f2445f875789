"""Screenshots of the aggregate report and the warning list, rendered by headless Chromium.

Runs ``psyscreen score`` on the bundled synthetic example (``examples/``) with
``--warning-list``, then writes ``docs/img/report.zh.png`` and
``docs/img/warning_list.zh.png`` (the top of each page, as palette PNGs to stay
small). The browser tests (``tests/test_report_browser.py``) use the helpers here.

Usage::

    python docs/make_screenshots.py

Chromium runs as a plain command line (no driver): ``--screenshot`` and
``--dump-dom`` are all the tests need, so no Selenium or Playwright is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
#: fonts without any CJK glyphs (DejaVu ships with Debian's fontconfig)
NO_CJK_FONTS = ("/usr/share/fonts/truetype/dejavu",)


def chromium() -> str | None:
    """The Chromium executable, or ``None`` when none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], env: dict[str, str] | None, timeout: float) -> str:
    exe = chromium()
    if exe is None:
        raise RuntimeError("Chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="psyscreen-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", *args]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, env=env, check=True
        )
    return done.stdout


def screenshot(
    page: Path, png: Path, width: int, height: int, env: dict[str, str] | None = None
) -> Path:
    """Render ``page`` into ``png`` (``width`` x ``height`` pixels)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri()],
        env,
        120,
    )
    return png


def dump_dom(page: Path, width: int, height: int) -> str:
    """The page's DOM after its scripts ran."""
    return _run(
        [f"--window-size={width},{height}", "--dump-dom", page.resolve().as_uri()], None, 120
    )


def no_cjk_env(directory: Path) -> dict[str, str]:
    """Environment for Chromium with a fontconfig that knows no CJK font."""
    directory.mkdir(parents=True, exist_ok=True)
    dirs = "".join(f"<dir>{d}</dir>" for d in NO_CJK_FONTS)
    conf = directory / "fonts.conf"
    conf.write_text(
        "<?xml version='1.0'?><!DOCTYPE fontconfig SYSTEM 'fonts.dtd'><fontconfig>"
        f"{dirs}<cachedir>{directory / 'cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def make_example_outputs(out: Path, lang: str = "zh") -> tuple[Path, Path]:
    """(report, warning list HTML) of the bundled example, written under ``out``."""
    from psyscreen.cli import main

    wl = out / f"warning_list.{lang}.html"
    code = main(
        [
            "score",
            os.path.relpath(ROOT / "examples/annual_export.csv"),
            "--map",
            os.path.relpath(ROOT / "examples/mapping.yaml"),
            "-o",
            str(out / "results.csv"),
            "--lang",
            lang,
            "--warning-list",
            str(wl),
            "--quiet",
        ]
    )
    if code not in (0, 1):
        raise RuntimeError(f"psyscreen score failed ({code})")
    return out / "results.report.html", wl


def _small(png: Path) -> None:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return
    with Image.open(png) as im:
        im.convert("RGB").quantize(colors=256).save(png, optimize=True)


def main() -> int:
    if chromium() is None:
        print("Chromium is not installed", file=sys.stderr)
        return 2
    os.chdir(ROOT)  # the report names its input as given: examples/annual_export.csv
    with tempfile.TemporaryDirectory() as d:
        report, wl = make_example_outputs(Path(d))
        for page, name, size in (
            (report, "report.zh.png", (1000, 1500)),
            (wl, "warning_list.zh.png", (1300, 900)),
        ):
            png = screenshot(page, ROOT / "docs/img" / name, *size)
            _small(png)
            print(f"{png.relative_to(ROOT)}: {png.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
