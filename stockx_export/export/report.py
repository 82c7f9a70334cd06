"""A delivery as text for the terminal: what was sent, acknowledged and refused."""

from __future__ import annotations

from stockx_export.export.deliver import DeliverySummary
from stockx_export.tables import plural

SHOWN_REJECTIONS = 10  # rejected rows named in the summary; all are in rejected.jsonl


def summary_text(summary: DeliverySummary, url: str, rejected_file: str, dry_run: bool) -> str:
    """What a push did, for stdout; names the first rejected rows."""
    rate = summary.rows / summary.elapsed if summary.elapsed > 0 else 0.0
    verb = "validated" if dry_run else "pushed"
    text = (
        f"{verb} {plural(summary.pages, 'page')} to {url}: {plural(summary.acknowledged, 'row')} acknowledged, "
        f"{len(summary.rejected):,} rejected; {plural(summary.requests, 'request')}, "
        f"{plural(summary.retries, 'retry', 'retries')}, {summary.elapsed:.1f}s ({rate:,.0f} rows/s)"
    )
    if summary.rejected:
        lines = [
            f"  page {r.page}: ({', '.join(str(v) for v in r.key)}): HTTP {r.status} {r.response[:200]}"
            for r in summary.rejected[:SHOWN_REJECTIONS]
        ]
        more = len(summary.rejected) - SHOWN_REJECTIONS
        if more > 0:
            lines.append(f"  ... and {more:,} more")
        text += (f"\n{plural(len(summary.rejected), 'row')} rejected (all listed in {rejected_file}):\n"
                 + "\n".join(lines))
    return text
