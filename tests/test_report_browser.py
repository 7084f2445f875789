"""Both outputs rendered by headless Chromium: no text overflows its box, and the
Chinese glyphs are drawn (the page differs from a rendering with no CJK font).

Skipped only where no Chromium is installed (CI installs it). Screenshots are kept
under ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"


def _shots():
    spec = importlib.util.spec_from_file_location(
        "make_screenshots", ROOT / "docs/make_screenshots.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


shots = _shots()
pytestmark = pytest.mark.skipif(shots.chromium() is None, reason="Chromium is not installed")

#: appended to a copy of the page: lists every element whose content is wider than its
#: box, every SVG text outside its chart, and a page wider than the window
CHECK = """<script>
(function () {
  const bad = [];
  document.querySelectorAll("body *").forEach((el) => {
    if (el.closest("svg") || el.tagName === "SCRIPT") return;
    if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1)
      bad.push(el.tagName + " " + el.scrollWidth + ">" + el.clientWidth);
  });
  document.querySelectorAll("svg").forEach((svg) => {
    const w = svg.width.baseVal.value, h = svg.height.baseVal.value;
    svg.querySelectorAll("text").forEach((t) => {
      const b = t.getBBox();
      if (b.x < -1 || b.x + b.width > w + 1 || b.y < -1 || b.y + b.height > h + 1)
        bad.push("svg text " + Math.round(b.x + b.width) + ">" + w);
    });
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    bad.push("page " + document.documentElement.scrollWidth + ">" + window.innerWidth);
  const out = document.createElement("pre");
  out.id = "overflow-check";
  out.textContent = JSON.stringify(bad);
  document.body.appendChild(out);
})();
</script>"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("browser")
    report, wl = shots.make_example_outputs(d)
    report_en, wl_en = shots.make_example_outputs(d / "en", "en")
    return {"report": report, "warning_list": wl, "report.en": report_en, "warning_list.en": wl_en}


SIZES = {
    "report": (1100, 1400),
    "warning_list": (1300, 900),
    "report.en": (1100, 1400),
    "warning_list.en": (1300, 900),
}


@pytest.mark.parametrize("name", ["report", "warning_list", "report.en", "warning_list.en"])
def test_no_text_overflows_its_box(pages, name, tmp_path):
    page = tmp_path / f"{name}.check.html"
    page.write_text(pages[name].read_text("utf-8").replace("</body>", CHECK + "</body>"), "utf-8")
    dom = shots.dump_dom(page, *SIZES[name])
    found = re.search(r'<pre id="overflow-check">(.*?)</pre>', dom, re.S)
    assert found, "the check did not run"
    bad = json.loads(found.group(1).replace("&gt;", ">").replace("&amp;", "&"))
    assert bad == [], bad


@pytest.mark.parametrize("name", ["report", "warning_list"])
def test_chinese_glyphs_are_drawn(pages, name, tmp_path):
    Image = pytest.importorskip("PIL.Image")  # Pillow comes with matplotlib (the dev extra)
    from PIL import ImageChops

    ARTIFACTS.mkdir(exist_ok=True)
    with_cjk = shots.screenshot(pages[name], ARTIFACTS / f"{name}.png", *SIZES[name])
    without = shots.screenshot(
        pages[name], ARTIFACTS / f"{name}.no-cjk-font.png", *SIZES[name],
        env=shots.no_cjk_env(tmp_path / "fontconfig"),
    )  # fmt: skip
    with Image.open(with_cjk) as a, Image.open(without) as b:
        assert a.size == b.size
        diff = ImageChops.difference(a.convert("L"), b.convert("L")).point(lambda v: v > 40)
        changed = sum(diff.histogram()[1:]) / (a.size[0] * a.size[1])
        # the Chinese text (titles, labels, table heads) is drawn differently without the font
        assert changed > 0.01
        # and the rendering with the font is not blank
        assert a.convert("L").getextrema()[0] < 100


@pytest.mark.parametrize("name", ["report", "report.en"])
def test_the_crisis_and_critical_item_counts_are_read_from_the_top_of_the_page(pages, name):
    import pandas as pd

    results = pd.read_csv(pages[name].parent / "results.csv", keep_default_na=False, dtype=str)
    crisis = int((results["risk.level_code"] == "crisis").sum())
    critical = int(results["risk.rules"].str.split(";").map(lambda r: "critical_item" in r).sum())
    assert crisis >= 5 and critical >= 5  # the example has enough for both to be published
    dom = shots.dump_dom(pages[name], *SIZES[name])
    # the key figures come before every table and chart of the page
    key = re.search(r"<p class=\"key\" id=\"key-figures\">(.*?)</p>", dom, re.S)
    assert key and key.start() < dom.index("<svg") and key.start() < dom.index("<h3>")
    numbers = [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", key.group(1))]
    assert numbers[0] == crisis
    assert critical in numbers[1:]
