"""The results file: its metadata schema (pydantic), writing and strict reading.

A results file is one ``.npz`` (a zip of ``.npy`` arrays) with two entries:
``values``, the float64 array, and ``metadata``, a 0-d unicode array holding one
JSON object validated by :class:`ResultsMetadata`. Reading never unpickles
anything (``allow_pickle=False``) and checks, in this order: that the file is a
zip archive at all (a scenario ``.toml`` or random bytes are named as such),
that it has the two entries, that the metadata is a JSON object of the schema
(a missing, extra or mistyped key is one error naming the key), and that the
array has the shape the metadata announces (checked from the archive's index
before the array is read).
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pydantic
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

__all__ = [
    "RESULTS_FORMAT",
    "RESULTS_SCHEMA_VERSION",
    "PolicySpec",
    "ResultsFileError",
    "ResultsMetadata",
    "read_results_file",
    "write_results_file",
]

RESULTS_FORMAT = "peakend.results"
RESULTS_SCHEMA_VERSION = 1
_ENTRIES = ("values", "metadata")
#: Largest metadata entry read, bytes (a scenario and policy set are a few kB).
MAX_METADATA_BYTES = 64 * 2**20


class ResultsFileError(ValueError):
    """A file that is not a readable peakend results file (the message says why)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PolicySpec(_Strict):
    """One policy as stored in a results file (``Policy.to_dict()``)."""

    name: StrictStr = Field(description="policy name")
    description: StrictStr = Field(description="what the policy does")
    changes: dict[str, Any] = Field(description="partial scenario merged into the base scenario")


class ResultsMetadata(_Strict):
    """The JSON object stored as ``metadata`` in a results file (see docs/reference/results.md)."""

    format: Literal["peakend.results"] = Field(description='always "peakend.results"')
    schema_version: StrictInt = Field(description="layout version of the file")
    version: StrictStr = Field(description="peakend version that wrote the file")
    policies: list[StrictStr] = Field(min_length=1, description="policy labels, baseline first")
    segments: list[StrictStr] = Field(min_length=1, description='segment labels, "all" first')
    metrics: list[StrictStr] = Field(min_length=1, description="metric labels")
    n_replications: StrictInt = Field(ge=1, description="replications per policy")
    seed: StrictInt = Field(ge=0, description="root seed of the run")
    rules: list[StrictStr] = Field(min_length=1, description="memory rule labels, headline first")
    scenario: dict[str, Any] = Field(description="the base scenario as JSON")
    policy_specs: list[PolicySpec] = Field(description="one entry per policy")
    engine: Literal["simpy", "compiled"] | None = Field(
        None,
        description="movement engine that simulated the run's days (optional: files written "
        "before it was recorded have none; every engine gives the same values)",
    )

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> ResultsMetadata:
        for key in ("policies", "segments", "metrics", "rules"):
            labels = getattr(self, key)
            dup = sorted({x for x in labels if labels.count(x) > 1})
            if dup:
                raise ValueError(f"{key}: labels must be distinct, repeated: {dup}")
        missing = [r for r in self.rules if f"remembered[{r}]" not in self.metrics]
        if missing:
            raise ValueError(f"rules: no metric remembered[<rule>] for {missing}")
        names = [p.name for p in self.policy_specs]
        if names != self.policies:
            raise ValueError(f"policy_specs: names {names} differ from policies {self.policies}")
        return self

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Shape of ``values`` announced by the metadata."""
        return (len(self.policies), self.n_replications, len(self.segments), len(self.metrics))


def _first_error(exc: pydantic.ValidationError) -> str:
    """One line naming the key of each problem (at most 5), e.g. ``seed: missing``."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err["loc"]) or "metadata"
        kind = err["type"]
        if kind == "missing":
            msg = "missing key"
        elif kind == "extra_forbidden":
            msg = "unknown key"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "input" in err and kind not in ("value_error",):
                shown = repr(err["input"])
                msg += f", got {shown if len(shown) <= 60 else shown[:57] + '...'}"
        parts.append(f"{loc}: {msg}")
    more = len(exc.errors()) - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def validated(metadata: dict[str, Any]) -> ResultsMetadata:
    """Validate metadata about to be saved; a ValueError naming the key if it breaks the schema."""
    try:
        return ResultsMetadata.model_validate(metadata)
    except pydantic.ValidationError as exc:
        raise ValueError(f"cannot save these results: invalid metadata: {_first_error(exc)}"
                         ) from None


def write_results_file(path: Path, values: np.ndarray, metadata: ResultsMetadata) -> Path:
    """Write ``values`` and ``metadata`` atomically to ``path`` (``.npz`` appended if missing)."""
    target = Path(path)
    if target.suffix != ".npz":
        target = target.with_name(target.name + ".npz")
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        values=np.asarray(values, dtype=np.float64),
        metadata=np.array(json.dumps(metadata.model_dump(mode="json"), allow_nan=True)),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{os.getpid()}-{id(buf):x}-{target.name}")
    try:
        tmp.write_bytes(buf.getvalue())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _what_is_it(head: bytes, path: Path) -> str:
    """Guess what a file that is not a zip archive is, in a few words."""
    if not head:
        return "an empty file"
    if head.startswith(b"PK\x03\x04"):
        return "a damaged or truncated zip archive"
    if head.startswith(b"\x93NUMPY"):
        return "a single numpy array (.npy), not an .npz archive"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not an .npz archive (binary data of another kind)"
    if path.suffix.lower() == ".toml" or any(
        line.lstrip().startswith("[") or "=" in line for line in text.splitlines()[:20]
    ):
        return "a text file (a scenario or policy .toml?), not an .npz archive"
    return "a text file, not an .npz archive"


def _one_line(text: str) -> str:
    """``text`` with its line breaks escaped (an error message stays one line)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def read_results_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, ResultsMetadata]:
    """Read and check a results file; return its values and validated metadata.

    Parameters
    ----------
    path : path-like
        A ``.npz`` file written by :meth:`peakend.experiment.Results.save`.

    Returns
    -------
    values : ndarray of float64, shape (n_policies, n_replications, n_segments, n_metrics)
    metadata : ResultsMetadata

    Raises
    ------
    ResultsFileError
        (a ``ValueError``) naming the file and what is wrong with it: missing,
        not a zip archive, no ``values``/``metadata`` entries, metadata that is
        not JSON or breaks the schema (naming the key), another schema version,
        or an array of the wrong shape or dtype.
    """
    p = Path(path)
    name = repr(str(p))
    if not p.exists():
        raise ResultsFileError(f"results file {name} does not exist")
    if not p.is_file():
        raise ResultsFileError(f"results file {name} is not a file (a directory?)")
    with p.open("rb") as fh:
        head = fh.read(4096)
    if not zipfile.is_zipfile(p):
        raise ResultsFileError(f"{name} is not a peakend results file: it is "
                               f"{_what_is_it(head, p)}")
    try:
        with zipfile.ZipFile(p) as zf:
            infos = {i.filename: i for i in zf.infolist()}
            # entry names of a damaged archive may hold any character: one line each
            found = sorted(_one_line(n.removesuffix(".npy")) for n in infos)
            absent = [e for e in _ENTRIES if f"{e}.npy" not in infos]
            if absent:
                raise ResultsFileError(
                    f"{name} is not a peakend results file: an archive without the entries "
                    f"{', '.join(absent)} (it has: {', '.join(found[:10]) or 'nothing'})")
            if infos["metadata.npy"].file_size > MAX_METADATA_BYTES:
                raise ResultsFileError(f"{name}: entry 'metadata' is implausibly large "
                                       f"({infos['metadata.npy'].file_size} bytes)")
            meta_arr = _read_npy(zf, "metadata", name)
            meta = _parse_metadata(meta_arr, name)
            expected = math.prod(meta.shape) * 8
            size = infos["values.npy"].file_size
            if not expected <= size <= expected + 4096:
                raise ResultsFileError(
                    f"{name}: entry 'values' holds {size} bytes, but the metadata announces "
                    f"shape {meta.shape} (float64: {expected} bytes plus a header)")
            values = _read_npy(zf, "values", name)
    except ResultsFileError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as exc:
        raise ResultsFileError(f"{name} is a damaged results file: {_one_line(str(exc))}"
                               ) from exc
    except Exception as exc:  # zlib.error, struct.error and the like from a corrupted archive
        raise ResultsFileError(f"{name} is a damaged results file: "
                               f"{type(exc).__name__}: {_one_line(str(exc))}") from exc
    if values.dtype.kind not in "fiu" or values.shape != meta.shape:
        raise ResultsFileError(
            f"{name}: entry 'values' must be a float64 array of shape {meta.shape} "
            f"(from the metadata), got {values.dtype} of shape {values.shape}")
    return np.asarray(values, dtype=np.float64), meta


def _read_npy(zf: zipfile.ZipFile, entry: str, name: str) -> np.ndarray:
    with zf.open(f"{entry}.npy") as fh:
        data = fh.read()
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise ResultsFileError(
                f"{name}: entry {entry!r} holds Python objects; peakend never unpickles "
                "files (a results file holds only numbers and a JSON string)") from None
        raise
    if not isinstance(arr, np.ndarray):
        raise ResultsFileError(f"{name}: entry {entry!r} is not an array")
    return arr


def _parse_metadata(arr: np.ndarray, name: str) -> ResultsMetadata:
    if arr.shape != () or arr.dtype.kind != "U":
        raise ResultsFileError(f"{name}: entry 'metadata' must be one JSON string, got an "
                               f"array of {arr.dtype} with shape {arr.shape}")
    try:
        data = json.loads(str(arr))
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{name}: entry 'metadata' is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ResultsFileError(f"{name}: entry 'metadata' must be a JSON object, got "
                               f"{type(data).__name__}")
    if data.get("format") != RESULTS_FORMAT:
        raise ResultsFileError(f"{name} is not a peakend results file (metadata key 'format' "
                               f"is {data.get('format')!r}, expected {RESULTS_FORMAT!r})")
    version = data.get("schema_version")
    if type(version) is int and version != RESULTS_SCHEMA_VERSION:
        raise ResultsFileError(f"{name} has results schema version {version}; this peakend "
                               f"reads version {RESULTS_SCHEMA_VERSION}")
    try:
        return ResultsMetadata.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ResultsFileError(f"{name}: invalid results metadata: {_first_error(exc)}") from None
