"""The shell of a self-contained HTML report: one page, inline CSS, nothing fetched."""

from __future__ import annotations

from html import escape

# Shared by the report files and the dashboard (which serves it under its per-page nonce), so a
# matrix or a badge looks the same in both.
CSS = """
.report { font: 14px/1.4 system-ui, sans-serif; color: #1d2330; }
.report h1 { font-size: 1.3rem; } .report h2 { font-size: 1.1rem; margin-top: 1.6rem; }
.muted { color: #6b7385; }
.counts { display: flex; gap: .6rem; flex-wrap: wrap; margin: .6rem 0; }
.count { border-radius: .4rem; padding: .3rem .7rem; background: #f0f2f6; }
.count strong { font-size: 1.1rem; margin-right: .25rem; }
.count.bad { background: #f8d7d7; color: #7a1010; } .count.good { background: #d9f2df; }
.count.warn { background: #fdf0c4; }
table.matrix { border-collapse: collapse; margin: .5rem 0 1rem; }
table.matrix th, table.matrix td { padding: .25rem .6rem; border: 1px solid #e2e5ec;
  text-align: left; font-size: 13px; }
table.matrix th { background: #f6f7fa; }
td.cell.pass { background: #d9f2df; } td.cell.fail { background: #f2b8b8; font-weight: 600; }
td.cell.error { background: #f6d3a8; font-weight: 600; } td.cell.skip { background: #eceef3; color: #555; }
td.cell.none { color: #aaa; }
section.failure { border: 1px solid #e7b3b3; border-left: 5px solid #d64545; border-radius: .4rem;
  padding: .4rem .9rem; margin: .8rem 0; }
section.failure.error { border-color: #efc894; border-left-color: #e08a1e; }
section.failure h3 { font-size: .95rem; margin: .3rem 0 .5rem; }
.failure dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
.failure dt { font-weight: 600; }
.failure pre, .report pre { background: #f6f7fa; padding: .5rem; margin: 0; white-space: pre-wrap;
  word-break: break-all; font: 12px/1.45 ui-monospace, monospace; }
p.reproduce code { background: #1d2330; color: #f6f7fa; padding: .2rem .4rem; border-radius: .3rem;
  font: 12px/1.6 ui-monospace, monospace; word-break: break-all; }
figure.chart { margin: .8rem 0; } svg.chart { max-width: 100%; height: auto; }
.badge { padding: 0 .4rem; border-radius: .3rem; font-size: 12px; }
.badge.delivered { background: #d9f2df; } .badge.failed, .badge.exhausted { background: #f8d7d7; }
.badge.pending { background: #eceef3; } .badge.retrying { background: #fdf0c4; } .badge.resent { background: #f3ecd4; }
.badge.verified { background: #dbe8fb; }
table.list { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
table.list th, table.list td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #eceef3;
  vertical-align: top; font-size: 13px; }
table.list th { background: #f6f7fa; }
"""


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body`` (already HTML): ``title`` is escaped here."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>\nbody {{ margin: 1rem 2rem 3rem; }}\n{CSS}</style>\n</head>\n"
        f'<body class="report">\n{body}\n</body>\n</html>\n'
    )


def counts(items: list[tuple[str, int, str]]) -> str:
    """The counts strip: ``(label, n, kind)``, kind one of ``bad``, ``warn``, ``good`` or ``""``."""
    return (
        '<div class="counts">'
        + "".join(
            f'<span class="count {kind}" data-count="{escape(label)}"><strong>{n}</strong>{escape(label)}</span>'
            for label, n, kind in items
        )
        + "</div>"
    )
