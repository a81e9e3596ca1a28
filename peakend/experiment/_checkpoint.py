"""Checkpoints of a run: finished (policy, replication) results on disk, verified when read.

Layout of a checkpoint directory:

* ``manifest.json``: the format, the run's key (SHA-256 of the canonical JSON of its
  arguments) and the arguments;
* ``done/p<policy>-r<replication>.npz``: one per finished task, with the task's
  segments, metrics and values and a ``record``: the run's key, the policy and
  replication and the SHA-256 of the journeys file (if kept); the file ends with the
  SHA-256 of all its other bytes (as the zip comment: it stays a plain ``.npz``);
* ``journeys/p<policy>-r<replication>.npz`` when journeys are kept.

Every file is written to a temporary file named after this process
(``.tmp-<pid>@<host>~...``), fsynced and renamed into place (``os.replace``, atomic),
so that a reader sees a whole file or none, and two runs on one checkpoint never
touch each other's temporary files: a run removes only those of dead processes of
its own host. A finished file that is truncated, altered, of the wrong shape or
from another run or task (another seed's, or copied between replications) is not
used: its task is simulated again, and one :class:`CheckpointWarning` per run lists
such files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import socket
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from peakend import journeys as journeys_module

__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "CheckpointError", "CheckpointWarning"]

#: Format of the files written; a checkpoint of another format is refused.
CHECKPOINT_FORMAT = 2

_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"
_TEMP = re.compile(r"^\.tmp-(\d+)@([A-Za-z0-9._-]+)~")


class CheckpointError(ValueError):
    """A checkpoint cannot be used: made with other arguments, or not a checkpoint."""


class CheckpointWarning(RuntimeWarning):
    """Finished files of a checkpoint could not be used; their tasks are simulated again."""


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _temp_prefix() -> str:
    return f".tmp-{os.getpid()}@{_HOST}~"


def _atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Write ``path`` through a temporary file of this process: ``write(tmp)``, fsync, rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(), suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _write_bytes(data: bytes) -> Callable[[str], None]:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            fh.write(data)

    return write


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would not just probe there: keep every file
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def _remove_dead_temps(folder: Path) -> None:
    """Delete the temporary files left by killed runs of this host (never a live one's)."""
    if not folder.is_dir():
        return
    for tmp in folder.glob(".tmp-*"):
        match = _TEMP.match(tmp.name)
        if match and match[2] == _HOST and not _process_alive(int(match[1])):
            tmp.unlink(missing_ok=True)


_SEAL = 64  # hex digits of the SHA-256 that ends every done file


def seal(npz: bytes) -> bytes:
    """End an ``.npz`` (a zip without comment) with the SHA-256 of all its bytes before it.

    The digest is the zip's comment, so the file stays an ordinary ``.npz``; any flipped
    bit or lost byte anywhere in the file makes :func:`unseal` fail.
    """
    if npz[-22:-18] != b"PK\x05\x06" or npz[-2:] != b"\x00\x00":
        raise ValueError("expected a zip file without a comment")
    body = npz[:-2] + _SEAL.to_bytes(2, "little")
    return body + hashlib.sha256(body).hexdigest().encode()


def unseal(data: bytes) -> bytes:
    """Return ``data`` if its seal (see :func:`seal`) matches, else raise ValueError."""
    body, digest = data[:-_SEAL], data[-_SEAL:]
    if len(data) < _SEAL + 22 or hashlib.sha256(body).hexdigest().encode() != digest:
        raise ValueError("its checksum does not match its contents (truncated or altered)")
    return data


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Checkpoint:
    """A directory of finished (policy, replication) results (see the module docstring).

    Parameters
    ----------
    path : path-like
        The directory (created if missing).
    arguments : Mapping
        JSON-able description of the call (scenario, policies, seed, rules,
        library version); replications are not part of it, so a run can be
        extended with more replications.

    Raises
    ------
    CheckpointError
        If ``path`` is a file, cannot be written, holds a checkpoint made with
        other arguments or an unreadable manifest, or is a non-empty directory
        that is not a checkpoint.
    """

    def __init__(self, path: str | os.PathLike[str], arguments: Mapping[str, Any]) -> None:
        self.root = Path(path)
        self.arguments = dict(arguments)
        self.key = hashlib.sha256(_canonical(self.arguments).encode()).hexdigest()
        self.problems: list[tuple[str, str]] = []  # (file name, why it was not used)
        where = f"checkpoint {str(self.root)!r}"
        if self.root.exists() and not self.root.is_dir():
            raise CheckpointError(f"checkpoint: {str(self.root)!r} is a file, not a directory; "
                                  "give a new or empty directory, or an earlier checkpoint")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(
                f"checkpoint: cannot create the directory {str(self.root)!r} "
                f"({exc.strerror or exc})"
            ) from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise CheckpointError(
                f"checkpoint: cannot write in the directory {str(self.root)!r}; give a "
                "directory this process may write in"
            )
        manifest = self.root / "manifest.json"
        if not manifest.is_file():
            others = [p.name for p in self.root.iterdir() if not p.name.startswith(".tmp-")]
            if others:
                raise CheckpointError(
                    f"{where} is a directory that is not empty and has no manifest.json "
                    f"(it holds {others[0]!r}); give a new or empty directory"
                )
            payload = {"format": CHECKPOINT_FORMAT, "key": self.key, "arguments": self.arguments}
            try:
                self._create_manifest(manifest, json.dumps(payload, indent=1).encode())
            except OSError as exc:
                raise CheckpointError(
                    f"checkpoint: cannot write in the directory {str(self.root)!r} "
                    f"({exc.strerror or exc})"
                ) from exc
        stored = self._read_manifest(manifest)
        if stored["key"] != self.key:
            raise CheckpointError(self._mismatch(stored["arguments"]))
        self.done_dir = self.root / "done"
        self.journeys_dir = self.root / "journeys"
        try:
            self.done_dir.mkdir(exist_ok=True)
        except OSError as exc:
            raise CheckpointError(f"{where}: cannot create done/ ({exc.strerror or exc})") from exc
        for folder in (self.root, self.done_dir, self.journeys_dir):
            _remove_dead_temps(folder)

    @staticmethod
    def _create_manifest(manifest: Path, data: bytes) -> None:
        """Put the manifest in place unless another run has just done so (then keep theirs)."""
        fd, tmp = tempfile.mkstemp(dir=manifest.parent, prefix=_temp_prefix(), suffix=".json")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, manifest)  # atomic, and never replaces another run's manifest
            except FileExistsError:
                pass
            except OSError:  # no hard links on this file system
                os.replace(tmp, manifest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _read_manifest(self, manifest: Path) -> dict[str, Any]:
        where = f"checkpoint {str(self.root)!r}: manifest.json"
        try:
            stored = json.loads(manifest.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CheckpointError(
                f"{where} cannot be read ({type(exc).__name__}: {exc}); it is damaged: delete "
                "the directory to start over, or use another checkpoint path"
            ) from exc
        if not isinstance(stored, dict):
            raise CheckpointError(f"{where} must hold a JSON object, got {type(stored).__name__}")
        if stored.get("format") != CHECKPOINT_FORMAT:
            raise CheckpointError(
                f"{where} has format {stored.get('format')!r}; this peakend reads format "
                f"{CHECKPOINT_FORMAT}: use another checkpoint path, or delete this one"
            )
        key, arguments = stored.get("key"), stored.get("arguments")
        if not isinstance(key, str) or not isinstance(arguments, dict):
            missing = "key" if not isinstance(key, str) else "arguments"
            raise CheckpointError(f"{where}: {missing!r} is missing or of the wrong type")
        if hashlib.sha256(_canonical(arguments).encode()).hexdigest() != key:
            raise CheckpointError(f"{where}: its key does not match its arguments (edited?)")
        return stored

    def _mismatch(self, stored: Mapping[str, Any]) -> str:
        differ = [k for k in sorted(set(stored) | set(self.arguments))
                  if _canonical(stored.get(k)) != _canonical(self.arguments.get(k))]
        details = []
        for k in differ:
            a, b = stored.get(k), self.arguments.get(k)
            if isinstance(a, (int, float, str)) or a is None:
                details.append(f"{k} (checkpoint {a!r}, now {b!r})")
            else:
                details.append(k)
        return (
            f"checkpoint {str(self.root)!r} was made with different arguments: "
            f"{', '.join(details) or 'unknown'}; use another checkpoint path, or delete "
            "this one to start over"
        )

    @staticmethod
    def name(policy: int, replication: int) -> str:
        """File name of a task's results (the same in ``done/`` and ``journeys/``)."""
        return f"p{policy:04d}-r{replication:06d}.npz"

    def load(
        self, policy: int, replication: int, need_journeys: bool, metrics: Sequence[str]
    ) -> dict[str, Any] | None:
        """Return a finished task's result, or None if it is not there or not usable.

        A file that is there but not usable (see the module docstring) is recorded
        in :attr:`problems`, for :meth:`warn_problems`.

        Raises
        ------
        CheckpointError
            If something other than a file (a directory) has the task's file name.
        """
        name = self.name(policy, replication)
        path = self.done_dir / name
        if not path.is_file():
            if path.exists():  # it could never be replaced by the task's results
                raise CheckpointError(
                    f"checkpoint {str(self.root)!r}: done/{name} is not a file; remove it"
                )
            return None
        try:
            result, record = self._read_done(path, policy, replication, metrics)
        except Exception as exc:  # anything wrong with the file: simulate the task again
            self.problems.append((f"done/{name}", str(exc) or type(exc).__name__))
            return None
        if not need_journeys:
            return result
        jpath = self.journeys_dir / name
        if record["journeys"] is None or not jpath.is_file():
            return None  # written by a run that did not keep journeys
        try:
            if _file_sha256(jpath) != record["journeys"]:
                raise ValueError("its checksum does not match the one recorded in done/")
            result["journeys"] = journeys_module.load_journeys(jpath)
        except Exception as exc:
            self.problems.append((f"journeys/{name}", str(exc) or type(exc).__name__))
            return None
        return result

    def _read_done(
        self, path: Path, policy: int, replication: int, metrics: Sequence[str]
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        with np.load(io.BytesIO(unseal(path.read_bytes())), allow_pickle=False) as z:
            record = json.loads(str(z["record"][()]))
            segments = [str(s) for s in z["segments"]]
            names = [str(m) for m in z["metrics"]]
            values = np.array(z["values"])
        if not isinstance(record, dict):
            raise ValueError("its record is not a JSON object")
        if record.get("key") != self.key:
            raise ValueError("it belongs to another run (other arguments)")
        if (record.get("policy"), record.get("replication")) != (policy, replication):
            raise ValueError(
                f"it holds policy {record.get('policy')!r}, replication "
                f"{record.get('replication')!r} (copied or renamed)"
            )
        if names != list(metrics):
            raise ValueError(f"it has metrics {names}, expected {list(metrics)}")
        if values.dtype != np.float64 or values.shape != (len(segments), len(names)):
            raise ValueError(
                f"its values have shape {values.shape} and dtype {values.dtype}, expected "
                f"({len(segments)}, {len(names)}) float64"
            )
        if not segments or len(set(segments)) != len(segments):
            raise ValueError(f"its segments {segments} are empty or repeated")
        result = {"policy": policy, "replication": replication, "segments": segments,
                  "metrics": names, "values": values, "journeys": None}
        return result, record

    def save(self, result: Mapping[str, Any]) -> None:
        """Write one finished task atomically (journeys first, then the results with a record)."""
        policy, replication = int(result["policy"]), int(result["replication"])
        name = self.name(policy, replication)
        journeys_sha = None
        if result.get("journeys") is not None:
            self.journeys_dir.mkdir(exist_ok=True)
            jpath = self.journeys_dir / name
            _atomic_write(jpath, result["journeys"].save)
            journeys_sha = _file_sha256(jpath)
        segments = [str(s) for s in result["segments"]]
        metrics = [str(m) for m in result["metrics"]]
        values = np.asarray(result["values"], dtype=np.float64)
        record: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "key": self.key,
                                  "policy": policy, "replication": replication,
                                  "journeys": journeys_sha}
        buf = io.BytesIO()
        np.savez(buf, record=np.array(json.dumps(record)), segments=np.array(segments),
                 metrics=np.array(metrics), values=values)
        _atomic_write(self.done_dir / name, _write_bytes(seal(buf.getvalue())))

    def warn_problems(self, stacklevel: int = 2) -> None:
        """Issue one :class:`CheckpointWarning` for the files :meth:`load` could not use."""
        if not self.problems:
            return
        shown = "; ".join(f"{name}: {why}" for name, why in self.problems[:5])
        more = f"; and {len(self.problems) - 5} more" if len(self.problems) > 5 else ""
        warnings.warn(
            f"checkpoint {str(self.root)!r}: {len(self.problems)} finished file(s) could not "
            f"be used; their tasks are simulated again ({shown}{more})",
            CheckpointWarning,
            stacklevel=stacklevel + 1,
        )
        self.problems.clear()
