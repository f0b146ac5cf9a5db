"""The review as the editor reads it: placed lines, or one page beside the YAML."""

from __future__ import annotations

import difflib
import html

from briefing.review.compare import Finding, Review

KINDS = {"changed": "changed", "insertion": "tracked insertion", "deletion": "tracked deletion",
         "comment": "comment", "outside": "outside the fields", "lost": "not found",
         "footnote": "footnote",
         "conflict": "YAML changed since", "applied": "applied", "left": "left for the editor"}


def summary(review: Review) -> str:
    found = review.findings
    if not found:
        return (f"{review.shown_as}: nothing to review: every field reads as built "
                f"({review.returned.name})")
    counts: dict[str, int] = {}
    for item in found:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    parts = ", ".join(f"{n} {KINDS.get(kind, kind)}" for kind, n in counts.items())
    return f"{review.shown_as}: {len(found)} thing(s) to review in {review.returned.name} ({parts})"


def lines(review: Review) -> list[str]:
    return [str(item) for item in review.findings]


def page(review: Review, applied: list[Finding] | None = None) -> str:
    """A self-contained HTML page: one row per finding, the changed words marked."""
    rows = []
    for item in [*(applied or []), *review.findings]:
        detail = ""
        if item.detail is not None and item.kind in ("changed", "outside", "conflict",
                                                     "applied", "footnote"):
            detail = f"<div class=diff>{_marked(*item.detail)}</div>"
        rows.append(
            f"<tr class={html.escape(item.kind)}><td class=where>"
            f"<code>{html.escape(f'{item.path}:{item.line}:{item.col}')}</code></td>"
            f"<td><code>{html.escape(item.field)}</code></td>"
            f"<td>{html.escape(KINDS.get(item.kind, item.kind))}</td>"
            f"<td>{html.escape(item.message)}{detail}</td></tr>")
    title = f"Review of {review.shown_as}"
    body = ("<p>Nothing to review: every field reads as built.</p>" if not rows else
            "<table><thead><tr><th>Where</th><th>Field</th><th>What</th><th>Details</th>"
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font: 15px/1.45 system-ui, sans-serif; margin: 2rem; color: #1a1a1a; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ border-bottom: 1px solid #ccc; padding: .4rem .6rem; text-align: left;
  vertical-align: top; }}
td.where {{ white-space: nowrap; }}
del {{ background: #fdd; color: #700; }} ins {{ background: #dfd; color: #060;
  text-decoration: none; }}
.diff {{ margin-top: .3rem; padding: .3rem; background: #f6f6f6; white-space: pre-wrap; }}
tr.conflict td, tr.lost td {{ background: #fff4e0; }}
</style></head>
<body><main>
<h1>{html.escape(title)}</h1>
<p>Edition <code>{html.escape(review.returned.name)}</code> ({html.escape(summary(review))}).
Each place is the field's line in the YAML.</p>
{body}
</main></body></html>
"""


def _marked(before: str, after: str) -> str:
    """`before` made `after`, word by word: removed words struck, added ones marked."""
    a, b = before.split(" "), after.split(" ")
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{html.escape(' '.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{html.escape(' '.join(b[j1:j2]))}</ins>")
    return " ".join(out)
