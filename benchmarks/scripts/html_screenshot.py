"""Check the HTML leaderboard in a real headless browser (Debian's ``chromium``) and screenshot it.

Usage::

    python benchmarks/scripts/html_screenshot.py [RUN ...] [--out DIR]   (default DIR: a temp folder)

With no RUN it renders a fabricated four-system run (tests/reports/fabricate.py).  It prints what
the browser saw: the row order before and after clicking a column header, the rendered size of
each plot, the time chromium took, and the screenshot's path and size.  Works offline.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

#: runs after the page's own script: clicks a header where it is drawn (elementFromPoint, so the
#: header must really be visible there), then records what the page looks like in <body> attributes
PROBE = """
<script>
(function(){
  function order(){return Array.prototype.map.call(document.querySelectorAll('#leaderboard tbody tr'),
    function(r){return r.getAttribute('data-system')+'@'+r.cells[COL].getAttribute('data-sort');});}
  var th=document.querySelectorAll('#leaderboard thead th[data-column]')[COL];
  th.scrollIntoView({block:'center',inline:'center'});
  var box=th.getBoundingClientRect();
  var report={before:order(), header:th.textContent};
  var target=document.elementFromPoint(box.left+box.width/2, box.top+box.height/2);
  report.hit=!!target&&(target===th||th.contains(target));
  if(!report.hit){document.body.setAttribute('data-probe', JSON.stringify(report));return;}
  for(var n=0;n<CLICKS;n++){
    target.dispatchEvent(new MouseEvent('click',{bubbles:true,clientX:box.left+4,clientY:box.top+4}));
  }
  report.after=order();
  report.aria=th.getAttribute('aria-sort');
  report.plots=Array.prototype.map.call(document.querySelectorAll('figure.plot'),function(f){
    var s=f.querySelector('svg'), b=s?s.getBoundingClientRect():{width:0,height:0};
    return {id:f.id, width:Math.round(b.width), height:Math.round(b.height),
            shapes:f.querySelectorAll('path,rect,use').length};});
  report.rows=document.querySelectorAll('#leaderboard tbody tr').length;
  report.best=document.querySelectorAll('td.best').length;
  document.body.setAttribute('data-probe', JSON.stringify(report));
})();
</script>
"""


def chromium() -> str | None:
    """Path of a chromium binary, or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(args: list[str], profile: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium not found (apt-get install chromium)")
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def probe(html_path: Path, column: int, clicks: int = 1) -> dict:
    """Open a copy of the page with the probe appended; return what it recorded after ``clicks``
    clicks on header ``column``."""
    page = html_path.read_text(encoding="utf-8")
    script = PROBE.replace("COL", str(column)).replace("CLICKS", str(clicks))
    with tempfile.TemporaryDirectory() as tmp:
        probed = Path(tmp) / "probe.html"
        probed.write_text(page.replace("</body></html>", script + "</body></html>"), encoding="utf-8")
        result = _run(
            ["--window-size=1280,1000", "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
            Path(tmp) / "profile",
        )
    match = re.search(r'data-probe="([^"]*)"', result.stdout)
    if not match:
        raise RuntimeError(f"the page did not run the probe; chromium said: {result.stderr[-2000:]}")
    import html

    return json.loads(html.unescape(match.group(1)))


def screenshot(html_path: Path, png: Path, width: int = 1600, height: int = 2400) -> Path:
    """Full-window PNG of the page."""
    with tempfile.TemporaryDirectory() as tmp:
        _run(
            [f"--screenshot={png}", f"--window-size={width},{height}", html_path.resolve().as_uri()],
            Path(tmp) / "profile",
        )
    if not png.is_file():
        raise RuntimeError(f"chromium wrote no screenshot at {png}")
    return png


def ink_fraction(png: Path) -> float:
    """Share of pixels that are not white: a blank page gives about 0."""
    import matplotlib.image as mpimg

    pixels = mpimg.imread(png)[..., :3]
    return float((pixels.min(axis=-1) < 0.95).mean())


def column_index(html_path: Path, column_id: str) -> int:
    """Index of the header with ``data-column=column_id``."""
    ids = re.findall(r'<th data-column="([^"]+)"', html_path.read_text(encoding="utf-8"))
    return ids.index(column_id)


def main(argv: list[str] | None = None) -> int:
    """Render, probe and screenshot; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="folder for the page and PNG (default: a temp dir)")
    args = parser.parse_args(argv)
    repo = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(repo / "tests" / "reports"))
    from harness.leaderboard import collect
    from harness_plugins.reports.html import HTMLFormat

    runs = args.runs
    if not runs:
        from fabricate import make_run

        runs = [make_run(Path(tempfile.mkdtemp()) / "runs")]
    board = collect(runs)
    args.out = args.out or Path(tempfile.mkdtemp(prefix="harness-html-"))
    args.out.mkdir(parents=True, exist_ok=True)
    page = args.out / "leaderboard.html"
    started = time.perf_counter()
    page.write_text(HTMLFormat().render(board), encoding="utf-8")
    render_s = time.perf_counter() - started
    metric = board.columns[0].key if board.columns else "system"
    index = column_index(page, metric)
    started = time.perf_counter()
    once = probe(page, index, clicks=1)
    probe_s = time.perf_counter() - started
    twice = probe(page, index, clicks=2)
    started = time.perf_counter()
    png = screenshot(page, args.out / "leaderboard.png")
    shot_s = time.perf_counter() - started
    print(f"html: {page} ({page.stat().st_size / 1024:.0f} KiB, rendered in {render_s:.2f}s)")
    print(f"sort column: {once['header']} ({once['rows']} rows, {once['best']} best cells)")
    print(f"  before:           {once['before']}")
    print(f"  after 1 click:    {once['after']} (aria-sort={once['aria']})")
    print(f"  after 2 clicks:   {twice['after']} (aria-sort={twice['aria']})")
    for plot in once["plots"]:
        print(f"plot {plot['id']}: {plot['width']}x{plot['height']} px, {plot['shapes']} shapes")
    print(
        f"chromium probe {probe_s:.1f}s; screenshot {png} ({png.stat().st_size / 1024:.0f} KiB, "
        f"{shot_s:.1f}s, ink {ink_fraction(png):.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
