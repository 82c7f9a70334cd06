"""A throwaway PostgreSQL server on 127.0.0.1 for the transpile round-trip tests.

``STOCKX_PG_DSN`` (a libpq connection string to a server where the user may
create databases) is used when set. Otherwise Debian's PostgreSQL binaries
(``/usr/lib/postgresql/<version>/bin``) start a private cluster in a temporary
directory, with the C locale so text sorts bytewise as in DuckDB; as root they
run as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager


class Unavailable(Exception):
    """Why no PostgreSQL server can be had here (shown as the skip reason)."""


def _bin_dir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise Unavailable(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install -y postgresql, or set STOCKX_PG_DSN to a server"
        )
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_server():
    """Yields a libpq connection string (without dbname) to a running server."""
    if os.environ.get("STOCKX_PG_DSN"):
        yield os.environ["STOCKX_PG_DSN"]
        return
    bin_dir = _bin_dir()
    prefix: list[str] = []
    workdir = tempfile.mkdtemp(prefix="stockx-pg-")
    try:
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no 'postgres' user to run PostgreSQL as") from None
            os.chown(workdir, user.pw_uid, user.pw_gid)
            prefix = ["runuser", "-u", "postgres", "--"]
        data, port = os.path.join(workdir, "data"), _free_port()

        def run(*args: str) -> None:
            done = subprocess.run([*prefix, *args], capture_output=True, text=True)
            if done.returncode != 0:
                raise Unavailable(f"{os.path.basename(args[0])} failed: {(done.stderr or done.stdout).strip()[-500:]}")

        run(f"{bin_dir}/initdb", "-D", data, "-U", "stockx", "-A", "trust", "--no-locale", "-E", "UTF8", "-N")
        options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        run(f"{bin_dir}/pg_ctl", "-D", data, "-w", "-l", os.path.join(workdir, "log"), "-o", options, "start")
        try:
            yield f"host=127.0.0.1 port={port} user=stockx"
        finally:
            subprocess.run([*prefix, f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
