"""What the local stack keeps across restarts: moto's backends, the movable clock and the outbox journal.

``make run`` (``python -m chalicelib.local.run``) keeps its state in ``var/state``; a ``LocalStack`` keeps
nothing unless given a ``state_dir`` (the tests' stacks keep nothing). The state is one file,
``snapshot.pickle``, the way other AWS emulators persist moto: moto's backend objects (DynamoDB tables
and items, SNS topics and messages, S3 buckets and objects, KMS keys, and whatever else the stack touched)
pickled as one graph, so the objects they share stay shared, and apart from them the CloudFormation
backend that made them (STACK_SERVICES). The stack takes it while holding the lock that serialises every
request to moto, so it is a state moto was in between two requests; it writes a temporary file in the same
folder, fsyncs it and renames it (``os.replace``) over the last one, so a crash mid-write leaves the previous
snapshot whole.

A ``lock`` file (``flock``) keeps two stacks from using one folder. ``python -m chalicelib.local.state
reset`` (``make reset``) deletes the folder — refusing while a stack holds it.

The stack writes the file and reads it back; pickle is not for files from anywhere else.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import pickle
import shutil
import sys
import tempfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.clock import wall_now

FORMAT = 1
MAGIC = b"FZT-SNAPSHOT\n"  # then zlib (level 1: about 7x smaller for 3 ms) over the pickle
SNAPSHOT = "snapshot.pickle"
LOCK = "lock"


class StateInUse(RuntimeError):
    pass


class SnapshotUnreadable(RuntimeError):
    pass


class SnapshotFailed(RuntimeError):
    pass


# --- moto's backends ---


def _load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, password=None)


def _load_public_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    return load_der_public_key(der)


class _Pickler(pickle.Pickler):
    """pickle, plus the key objects of ``cryptography`` (moto's KMS keeps an RSA key per key it creates,
    e.g. for the tables' SSE): they do not pickle, so they travel as DER bytes."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj).__module__.startswith("cryptography."):
            from cryptography.hazmat.primitives import serialization as s

            if hasattr(obj, "private_bytes"):
                der = obj.private_bytes(s.Encoding.DER, s.PrivateFormat.PKCS8, s.NoEncryption())
                return _load_private_key, (der,)
            if hasattr(obj, "public_bytes"):
                try:
                    der = obj.public_bytes(s.Encoding.DER, s.PublicFormat.SubjectPublicKeyInfo)
                except (TypeError, ValueError):
                    return NotImplemented
                return _load_public_key, (der,)
        return NotImplemented


# The CloudFormation backend is kept apart: it changes only when the stack is provisioned or updated, and
# loading it imports all of moto's CloudFormation (about half of a restart). A restart loads it only to
# apply a changed template; otherwise its bytes are carried from snapshot to snapshot unread. The objects
# of its resource map are then copies of what they were when it was pickled (names and attributes, which
# is all an update reads; the tables' items live in the DynamoDB backend).
STACK_SERVICES = frozenset({"cloudformation"})


@contextlib.contextmanager
def _no_gc():
    """Pickling and unpickling make or visit millions of objects: the cyclic collector, running in the
    middle, about doubles the time (and a snapshot is taken while moto waits)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dump_backends(stack: bool = False) -> bytes:
    """moto's backends in use, pickled as one graph (objects they share stay shared):
    ``{service: {account: {region: backend}}}`` — all but STACK_SERVICES, or (``stack``) only those.
    Call it while no request is being served (the stack holds the moto server's lock)."""
    from moto.core.base_backend import BackendDict

    in_use: list[Any] = list(BackendDict._instances)  # type: ignore[misc]  # moto's registry of backends in use
    state = {
        bd.service_name: {account: dict(regions) for account, regions in bd.items()}
        for bd in in_use
        if len(bd) and (bd.service_name in STACK_SERVICES) == stack
    }
    buffer = io.BytesIO()
    try:
        with _no_gc():
            _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    except Exception as exc:  # noqa: BLE001 - e.g. a backend holding a lock or a socket
        raise SnapshotFailed(f"moto's state does not pickle ({exc!r}); --no-state keeps nothing") from exc
    return buffer.getvalue()


def restore_backends(blob: bytes) -> list[str]:
    """Puts dump_backends' backends in place in this process's moto (freshly reset, serving no request);
    returns the services restored."""
    from moto.backends import get_backend

    try:
        with _no_gc():
            state = pickle.loads(blob)  # noqa: S301 - our own file
    except Exception as exc:  # noqa: BLE001 - any failure means the same: this moto cannot read it
        raise SnapshotUnreadable(f"moto's saved backends do not load in this moto ({exc!r})") from exc
    for service, accounts in state.items():
        try:
            live = get_backend(service)
        except Exception as exc:  # noqa: BLE001
            raise SnapshotUnreadable(f"this moto has no backend named {service!r}") from exc
        for account, regions in accounts.items():
            per_account = live[account]
            for region, backend in regions.items():
                per_account[region] = backend
    return sorted(state)


# --- the snapshot file ---


@dataclass
class Snapshot:
    saved_at: datetime  # wall time
    clock_now: datetime | None  # the movable clock's instant when saved
    clock_offset: float | None  # ... and its lead over wall time, in seconds
    journal: list[dict]
    meta: dict[str, Any]  # template and directory hashes, stack name and outputs, moto version
    backends: bytes  # dump_backends()
    stack: bytes  # dump_backends(stack=True)

    def clock_start(self, wall: datetime | None = None) -> datetime | None:
        """Where the clock resumes: as if it had kept ticking while the stack was down, and never
        before the instant saved (nor, after a crash, before any instant the stack showed since)."""
        if self.clock_now is None:
            return None
        wall = wall or wall_now()
        resumed = wall + timedelta(seconds=self.clock_offset or 0.0)
        return max(self.clock_now, resumed)


def moto_version() -> str:
    try:
        from importlib.metadata import version

        return version("moto")
    except Exception:  # noqa: BLE001
        return "unknown"


class StateDir:
    """One folder: ``snapshot.pickle`` and the ``lock`` a running stack holds."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.file = self.path / SNAPSHOT
        self._lock_fd: int | None = None

    def acquire(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise StateInUse(
                f"another stack is using {self.path} (stop it, or give this one another --state-dir)"
            )
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        for stale in self.path.glob(".snapshot-*.tmp"):  # a write a crash interrupted; ours now
            with contextlib.suppress(OSError):
                stale.unlink()

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = None

    def load(self) -> Snapshot | None:
        if not self.file.exists():
            return None
        try:
            raw = self.file.read_bytes()
            if not raw.startswith(MAGIC):
                raise SnapshotUnreadable(f"{self.file} is not a snapshot of this stack")
            outer = pickle.loads(zlib.decompress(raw[len(MAGIC) :]))  # noqa: S301 - our own file
            if outer.get("format") != FORMAT:
                raise SnapshotUnreadable(f"format {outer.get('format')!r}, this code reads {FORMAT}")
            return Snapshot(
                saved_at=outer["saved_at"],
                clock_now=outer["clock_now"],
                clock_offset=outer["clock_offset"],
                journal=list(outer["journal"]),
                meta=dict(outer["meta"]),
                backends=outer["backends"],
                stack=outer["stack"],
            )
        except SnapshotUnreadable:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SnapshotUnreadable(f"{self.file} does not load ({exc!r})") from exc

    def write(self, snapshot: Snapshot) -> int:
        """Atomically replaces the snapshot; returns its size in bytes."""
        outer = {
            "format": FORMAT,
            "saved_at": snapshot.saved_at,
            "clock_now": snapshot.clock_now,
            "clock_offset": snapshot.clock_offset,
            "journal": snapshot.journal,
            "meta": snapshot.meta,
            "backends": snapshot.backends,
            "stack": snapshot.stack,
        }
        data = MAGIC + zlib.compress(pickle.dumps(outer, protocol=pickle.HIGHEST_PROTOCOL), 1)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".snapshot-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.path)
        return len(data)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, one stack per folder is then the user's to keep
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- make reset ---


def reset(paths: list[Path]) -> list[Path]:
    """Deletes the folders (the state first, under its lock, so no running stack loses it half-way)."""
    removed = []
    state = StateDir(paths[0])
    if state.path.exists():
        state.acquire()
        try:
            shutil.rmtree(state.path)
        finally:
            state.release()
        removed.append(state.path)
    for extra in paths[1:]:
        if extra.exists():
            shutil.rmtree(extra)
            removed.append(extra)
    return removed


def main(argv: list[str] | None = None) -> int:
    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(prog="python -m chalicelib.local.state")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("reset", help="delete the local stack's saved state and exports: start clean")
    r.add_argument("--state-dir", type=Path, default=root / "var" / "state")
    r.add_argument("--exports-dir", type=Path, default=root / "var" / "exports")
    args = parser.parse_args(argv)
    try:
        removed = reset([args.state_dir, args.exports_dir])
    except StateInUse as exc:
        print(f"not reset: {exc}", file=sys.stderr)
        return 1
    print("removed " + ", ".join(str(p) for p in removed) if removed else "nothing to remove")
    return 0


if __name__ == "__main__":
    sys.exit(main())
