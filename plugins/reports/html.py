"""The HTML leaderboard: one self-contained file (inline CSS, JS and SVG plots; nothing is fetched
at view time) with a table sortable by clicking a column header."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any, ClassVar

from harness.components import ReportFormat
from harness.leaderboard import plots
from harness.leaderboard.table import columns, group_spans, grouped, rows

if TYPE_CHECKING:
    from harness.leaderboard.model import Leaderboard

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem}
th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top}
th{background:#f0f3f5;cursor:pointer;user-select:none;white-space:nowrap}
th.group{cursor:default;text-align:center;background:#e2e8ec}
th[aria-sort=ascending]::after{content:" \\25B2"} th[aria-sort=descending]::after{content:" \\25BC"}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.best{background:#d8f3dc;font-weight:bold}
.runs,.notes{font-size:.85rem;color:#444}
.scroll{overflow-x:auto} figure{margin:1rem 0} figure svg{max-width:100%;height:auto}
table.probes td{max-width:32rem;white-space:pre-wrap;font-size:.8rem}
"""

#: click a header: sort rows by the cell's data-sort number (or its text), toggling the direction
SCRIPT = """
(function(){
  var table=document.getElementById('leaderboard');
  var heads=table.tHead.rows[table.tHead.rows.length-1].cells;
  function key(row,i){
    var c=row.cells[i], v=c.getAttribute('data-sort');
    return v===null||v===''?null:(isNaN(Number(v))?v:Number(v));
  }
  Array.prototype.forEach.call(heads,function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var body=table.tBodies[0], list=Array.prototype.slice.call(body.rows);
      list.sort(function(a,b){
        var x=key(a,i), y=key(b,i);
        if(x===null&&y===null) return 0; if(x===null) return 1; if(y===null) return -1;
        var r=(typeof x==='number'&&typeof y==='number')?x-y:String(x).localeCompare(String(y));
        return asc?r:-r;
      });
      list.forEach(function(r){body.appendChild(r);});
    });
  });
})();
"""


class HTMLFormat(ReportFormat):
    """Self-contained HTML: sortable table, metric bars with CI whiskers, cost plots, loss curves."""

    description = "self-contained HTML with a sortable table and plots"
    extension: ClassVar[str] = "html"

    def render(self, board: Leaderboard) -> str:
        """The whole page as one string."""
        esc = html.escape
        cols = columns(board)
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Leaderboard: {esc(', '.join(r.run for r in board.runs))}</title>",
            f"<style>{STYLE}</style></head><body>",
            "<h1>Leaderboard</h1>",
            '<ul class="runs">',
        ]
        for run in board.runs:
            hardware = ", ".join(f"{k}: {v}" for k, v in sorted(run.hardware.items()))
            parts.append(
                f"<li><code>{esc(run.run)}</code> — created {esc(run.created)}, profile {esc(run.profile)}, "
                f"seed {esc(str(run.seed))}, git {esc(run.git_sha)}; {esc(hardware)}</li>"
            )
        parts += ["</ul>", '<div class="scroll"><table id="leaderboard"><thead>']
        if grouped(cols):
            spans = group_spans(cols)
            parts.append(
                '<tr class="groups">'
                + "".join(f'<th colspan="{n}" class="group">{esc(name)}</th>' for name, n in spans)
                + "</tr>"
            )
        parts.append("<tr>")
        for col in cols:
            hint = (
                ""
                if col.higher_is_better is None
                else (" (higher is better)" if col.higher_is_better else " (lower is better)")
            )
            parts.append(f'<th data-column="{esc(col.id)}" title="click to sort{hint}">{esc(col.title)}</th>')
        parts.append("</tr></thead><tbody>")
        for entry, row in zip(board.entries, rows(board, cols)):
            parts.append(f'<tr data-system="{esc(entry.system)}">')
            probed = probe_anchor(entry)
            for col, cell in zip(cols, row):
                classes = [c for c in ("num" if col.numeric else "", "best" if cell.best and cell.text else "") if c]
                sort = cell.number if cell.number is not None else ("" if col.numeric else cell.text)
                attr = f' class="{" ".join(classes)}"' if classes else ""
                text = esc(cell.text)
                if col.id == "system" and probed:
                    text += f' <a href="#{probed}" title="greedy answers to held-out instructions">probes</a>'
                parts.append(f'<td{attr} data-sort="{esc(str(sort))}">{text}</td>')
            parts.append("</tr>")
        parts.append("</tbody></table></div>")
        parts.append(
            '<p class="notes">Metrics: value [95% CI]; ↑ higher is better, ↓ lower is better; green = best. '
            "Costs sum the system's adapters (peak memory: the largest; tokens/s: the top adapter).</p>"
        )
        parts += [f'<p class="notes">{esc(note)}</p>' for note in board.notes]
        for fig_id, title, svg in (
            ("metric-bars", "Metrics with 95% CI", plots.metric_bars(board)),
            (
                "quality-vs-cost",
                "Quality vs cost (trainable parameters, training time)",
                plots.quality_vs_cost(board),
            ),
            ("loss-curves", "Training and validation loss", plots.loss_curves(board)),
        ):
            if svg:
                parts.append(f'<h2>{esc(title)}</h2><figure class="plot" id="{fig_id}">{svg}</figure>')
        parts += probe_sections(board)
        data = json.dumps(board.to_dict(), sort_keys=True, ensure_ascii=False).replace("</", "<\\/")
        parts.append(f'<script type="application/json" id="leaderboard-data">{data}</script>')
        parts.append(f"<script>{SCRIPT}</script></body></html>")
        return "\n".join(parts) + "\n"


def _probed_adapter(entry: Any) -> Any:
    """The top adapter of a system when it has generation probes (an SFT adapter), else None."""
    return entry.adapters[-1] if entry.adapters and entry.adapters[-1].probes else None


def probe_anchor(entry: Any) -> str:
    """The id of the system's probe section, or ``""``."""
    adapter = _probed_adapter(entry)
    return f"probes-{_slug(adapter.name)}" if adapter is not None else ""


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name)


def probe_sections(board: Leaderboard) -> list[str]:
    """One table per SFT adapter: task type, instruction, reference and the greedy answer."""
    esc = html.escape
    parts: list[str] = []
    seen: set[str] = set()
    for entry in board.entries:
        adapter = _probed_adapter(entry)
        if adapter is None or adapter.name in seen:
            continue
        seen.add(adapter.name)
        if not parts:
            parts.append("<h2>Generation probes</h2>")
            parts.append(
                '<p class="notes">Greedy answers of each SFT adapter to held-out instructions (never trained '
                "on), one or more per task type, next to the reference response.</p>"
            )
        parts.append(f'<h3 id="probes-{_slug(adapter.name)}">{esc(entry.system)}</h3>')
        parts.append('<div class="scroll"><table class="probes"><thead><tr><th>task type</th><th>instruction</th>')
        parts.append("<th>reference</th><th>generated</th></tr></thead><tbody>")
        for probe in adapter.probes:
            instruction = probe.get("instruction", "")
            if probe.get("context"):
                instruction += "\n\n[context] " + probe["context"][:300] + ("…" if len(probe["context"]) > 300 else "")
            parts.append(
                f"<tr><td>{esc(str(probe.get('task_type', '')))}</td><td>{esc(instruction)}</td>"
                f"<td>{esc(str(probe.get('reference', '')))}</td><td>{esc(str(probe.get('generated', '')))}</td></tr>"
            )
        parts.append("</tbody></table></div>")
    return parts
