"""``stockx ARGS`` in a process that stops at a sync checkpoint, for the crash tests.

    python tests/paused_push.py POINT:PAGE FILE ARGS...

When the push reaches ``POINT`` for page ``PAGE`` (one of
``stockx_export.sync.push.CHECKPOINTS``), it writes ``POINT PAGE`` to ``FILE``
and sleeps, so the test can ``kill -9`` it at that exact place. The checkpoint
is injected through ``Sync.push``'s ``checkpoint`` parameter: production code
holds no test hook.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from stockx_export.cli import main
from stockx_export.sync import push as sync_push


def paused_at(point: str, page: int, file: Path):
    def checkpoint(reached: str, number: int) -> None:
        if (reached, number) != (point, page):
            return
        file.write_text(f"{reached} {number}\n", encoding="utf-8")
        time.sleep(60)
        os._exit(70)  # never killed: fail loudly rather than carry on as if nothing happened

    return checkpoint


def run() -> None:
    spec, file, *args = sys.argv[1:]
    point, _, page = spec.partition(":")
    assert point in sync_push.CHECKPOINTS and page.isdigit(), spec
    checkpoint = paused_at(point, int(page), Path(file))
    original = sync_push.Sync.push

    def push(self, *positional, **options):
        return original(self, *positional, checkpoint=checkpoint, **options)

    sync_push.Sync.push = push
    sys.argv = ["stockx", *args]
    main()


if __name__ == "__main__":
    run()
