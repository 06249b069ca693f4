"""moto in a child process of its own: ``LocalStack(moto_process=True)``.

In the default layout moto's server runs on threads of the stack's process, so moto, the Chalice app,
the outbox drain and any client threads share one GIL: on a machine with two cores, a create waits on
moto's share of that one core (about 40% of it under load, issue 17). Here the same ``MotoServer``
(stack.py: the same moto patches, the same ``_Serialized`` lock, now in the child) serves from
``python -m chalicelib.local.moto_process``; the stack's process points every client at its URL.

The child dies with its parent: it blocks reading its stdin, a pipe only the parent holds, and exits
when that reads end-of-file — when the parent closes it (``stop()``), exits, or is killed (the kernel
closes the parent's end either way), so no moto process outlives a Ctrl-C or a crash. It ignores
SIGINT: a Ctrl-C in the terminal reaches the whole process group, and the parent still needs moto to
send what its last requests committed before it closes the pipe.

moto's state lives in the child, so the stack's snapshots (state.py reads moto's objects in its own
process) are not available in this layout: a stack given both a ``state_dir`` and ``moto_process``
refuses to start (``PersistenceUnavailable``).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0


class PersistenceUnavailable(RuntimeError):
    """A state_dir asked of a stack whose moto runs in another process: its state cannot be read here."""


class MotoProcess:
    """The parent's handle on the child: ``url`` to point at, ``pid``, ``alive()``, ``stop()``."""

    def __init__(self, timeout: float = READY_TIMEOUT) -> None:
        self._proc = subprocess.Popen(  # noqa: S603 - our own module, on our own interpreter
            [sys.executable, "-m", "chalicelib.local.moto_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            close_fds=True,
        )
        self.pid = self._proc.pid
        try:
            self.url = self._read_url(timeout)
        except BaseException:
            self.stop()
            raise

    def _read_url(self, timeout: float) -> str:
        out = self._proc.stdout
        assert out is not None
        ready, _, _ = select.select([out], [], [], timeout)
        line = out.readline().decode().strip() if ready else ""
        if not line.startswith("http://"):
            code = self._proc.poll()
            raise RuntimeError(
                f"moto's process did not start (exit code {code}, said {line!r} within {timeout:g} s)"
            )
        return line

    def alive(self) -> bool:
        return self._proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        """Closes the child's stdin (it exits at once) and reaps it; kills it if it lingers."""
        proc = self._proc
        if proc.stdin is not None and not proc.stdin.closed:
            try:
                proc.stdin.close()
            except OSError:
                pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)
        if proc.stdout is not None:
            proc.stdout.close()


def _child() -> None:
    from chalicelib.local.stack import MotoServer, quiet_library_logs

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_library_logs()
    # moto's CloudFormation warns of the resource types it skips (Cognito, Glue); in-process, provision()
    # silences those around its call; here they would be printed by the child.
    warnings.simplefilter("ignore")
    server = MotoServer(keep_alive=True)
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    # Blocks until the parent closes the pipe, exits or dies: then nothing else may run here.
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    _child()
