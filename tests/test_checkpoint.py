"""Checkpoints: damaged, foreign or swapped files are re-simulated, never mixed in; a bad
manifest is refused; temporary files of live runs are left alone.

The reference is always the same run without a checkpoint: a resumed run must equal
it exactly, whatever was done to the files, and must simulate again exactly the days
whose files were damaged.
"""

import hashlib
import io
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import peakend as pe
from peakend.experiment import CheckpointError, CheckpointWarning, Policy
from peakend.experiment._checkpoint import Checkpoint, _canonical, seal

N_REP = 4
SEED = 3


@pytest.fixture(scope="module")
def scenario():
    return pe.scenarios.mmc(1.8, 0.5, 4, 2)


@pytest.fixture(scope="module")
def policies():
    return [Policy("baseline"), Policy("five", {"counters": {"servers": {"tellers": 5}}})]


@pytest.fixture(scope="module")
def fresh(scenario, policies):
    return pe.run(scenario, policies, replications=N_REP, seed=SEED, progress=False)


@pytest.fixture(scope="module")
def fresh_journeys(scenario, policies):
    return pe.run(scenario, policies, replications=N_REP, seed=SEED, progress=False,
                  keep_journeys=True)


def count_simulations(monkeypatch):
    """Record the (seed sequence) of every day run simulates in this process."""
    import peakend.sim.batch

    calls = []
    real = peakend.sim.batch.simulate_chunk  # what run's workers call for a policy's days

    def counting(scenario, seeds, engine="simpy"):
        calls.extend(seed.spawn_key for seed in seeds)
        return real(scenario, seeds, engine)

    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", counting)
    return calls


def full_checkpoint(tmp_path, scenario, policies, seed=SEED, keep_journeys=False, name="ck"):
    ck = tmp_path / name
    pe.run(scenario, policies, replications=N_REP, seed=seed, checkpoint=ck, progress=False,
           keep_journeys=keep_journeys)
    assert len(list((ck / "done").glob("p*.npz"))) == 2 * N_REP
    return ck


def rewrite(path, change, sealed=True):
    """Rewrite a done file with ``change(arrays, record)`` applied.

    ``sealed``: with a valid checksum of the new bytes (a consistent file whose contents
    are wrong), or else without (its old checksum, or none).
    """
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    record = json.loads(str(arrays["record"][()]))
    change(arrays, record)
    arrays["record"] = np.array(json.dumps(record))
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    if sealed:
        data = seal(data)
    else:  # keep the old seal: the zip's comment as it was
        old = path.read_bytes()
        data = data[:-2] + old[-66:]
    path.write_bytes(data)


def flip_byte(path, where):
    data = bytearray(path.read_bytes())
    i = int(where * (len(data) - 1))
    data[i] ^= 0x10
    path.write_bytes(bytes(data))


def values_plus_one(arrays, record):
    arrays["values"] = arrays["values"] + 1.0


def one_metric_fewer(arrays, record):
    arrays["values"] = arrays["values"][:, :-1]


def metrics_renamed(arrays, record):
    arrays["metrics"] = np.array([f"x{m}" for m in arrays["metrics"]])


def values_as_float32(arrays, record):
    arrays["values"] = arrays["values"].astype(np.float32)


def no_record(arrays, record):
    record.clear()


def other_key(arrays, record):
    record["key"] = "0" * 64


def corrupt(case, ck, tmp_path, scenario, policies):
    """Damage the files of a full checkpoint; return the (policy, replication)s damaged."""
    done = ck / "done"
    a, b = done / "p0000-r000001.npz", done / "p0000-r000002.npz"
    if case == "truncated":
        a.write_bytes(a.read_bytes()[: a.stat().st_size // 2])
    elif case == "empty":
        a.write_bytes(b"")
    elif case == "flipped-bit-in-data":
        flip_byte(a, 0.5)
    elif case == "flipped-bit-in-directory":
        flip_byte(a, 0.9)
    elif case == "flipped-bit-in-checksum":
        flip_byte(a, 1.0)
    elif case == "junk":
        a.write_bytes(b"PK\x03\x04" + os.urandom(300))
    elif case == "value-changed":
        rewrite(a, values_plus_one, sealed=False)
    elif case == "unsealed":  # a plain npz without the checksum (as peakend 0.1 wrote)
        with np.load(a) as z:
            arrays = {k: z[k] for k in z.files}
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        a.write_bytes(buf.getvalue())
    elif case == "wrong-shape":
        rewrite(a, one_metric_fewer)
    elif case == "wrong-metrics":
        rewrite(a, metrics_renamed)
    elif case == "wrong-dtype":
        rewrite(a, values_as_float32)
    elif case == "no-record":
        rewrite(a, no_record)
    elif case == "record-of-another-task":
        rewrite(a, lambda arrays, record: record.update(replication=3))
    elif case == "other-run-key":
        rewrite(a, other_key)
    elif case == "pickled":
        buf = io.BytesIO()
        np.savez(buf, record=np.array([{"a": 1}], dtype=object), values=np.zeros((2, 2)))
        a.write_bytes(seal(buf.getvalue()))
    elif case == "swapped":
        data_a, data_b = a.read_bytes(), b.read_bytes()
        a.write_bytes(data_b)
        b.write_bytes(data_a)
        return {(0, 1), (0, 2)}
    elif case == "copied-between-replications":
        a.write_bytes(b.read_bytes())
    elif case == "copied-between-policies":
        a.write_bytes((done / "p0001-r000001.npz").read_bytes())
    elif case == "from-another-seed":
        other = full_checkpoint(tmp_path, scenario, policies, seed=SEED + 1, name="other")
        a.write_bytes((other / "done" / a.name).read_bytes())
    else:
        raise AssertionError(case)
    return {(0, 1)}


BAD_SUM = "its checksum does not match its contents (truncated or altered)"
OTHER_TASK = "it holds policy 0, replication "
WHY = {  # the reason the warning gives for each case
    "truncated": BAD_SUM, "empty": BAD_SUM, "flipped-bit-in-data": BAD_SUM,
    "flipped-bit-in-directory": BAD_SUM, "flipped-bit-in-checksum": BAD_SUM, "junk": BAD_SUM,
    "value-changed": BAD_SUM, "unsealed": BAD_SUM,
    "record-of-another-task": "it holds policy 0, replication 3 (copied or renamed)",
    "wrong-shape": "its values have shape (2, 13) and dtype float64, expected (2, 14) float64",
    "wrong-metrics": "it has metrics ['xremembered[peak_end]'",
    "wrong-dtype": "its values have shape (2, 14) and dtype float32, expected (2, 14) float64",
    "no-record": "it belongs to another run (other arguments)",
    "other-run-key": "it belongs to another run (other arguments)",
    "pickled": "Object arrays cannot be loaded when allow_pickle=False",
    "swapped": OTHER_TASK, "copied-between-replications": "it holds policy 0, replication 2",
    "copied-between-policies": "it holds policy 1, replication 1",
    "from-another-seed": "it belongs to another run (other arguments)",
}

CASES = list(WHY)


@pytest.mark.parametrize("case", CASES)
def test_damaged_or_foreign_file_is_simulated_again_not_mixed_in(
    case, tmp_path, scenario, policies, fresh, monkeypatch
):
    ck = full_checkpoint(tmp_path, scenario, policies)
    damaged = corrupt(case, ck, tmp_path, scenario, policies)
    calls = count_simulations(monkeypatch)
    with pytest.warns(CheckpointWarning) as caught:
        resumed = pe.run(scenario, policies, replications=N_REP, seed=SEED, checkpoint=ck,
                         progress=False)
    assert resumed == fresh
    assert np.array_equal(resumed.values, fresh.values, equal_nan=True)
    # exactly the damaged days were simulated again (both policies share replication seeds)
    assert sorted(calls) == sorted((r,) for _, r in damaged)
    assert len(caught) == 1 and caught[0].filename == __file__
    message = str(caught[0].message)
    assert f"{len(damaged)} finished file(s) could not be used" in message
    for p, r in damaged:
        assert f"done/p{p:04d}-r{r:06d}.npz: {WHY[case]}" in message
    # the damaged files were rewritten: the next run loads everything, silently
    calls.clear()
    with _no_checkpoint_warning():
        again = pe.run(scenario, policies, replications=N_REP, seed=SEED, checkpoint=ck,
                       progress=False)
    assert calls == [] and again == fresh


class _no_checkpoint_warning:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", CheckpointWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@pytest.mark.parametrize("case", [
    "truncated", "swapped", "copied-between-replications", "done-says-no-journeys-file"])
def test_damaged_journeys_file_is_simulated_again(
    case, tmp_path, scenario, policies, fresh_journeys, monkeypatch
):
    ck = full_checkpoint(tmp_path, scenario, policies, keep_journeys=True)
    folder = ck / "journeys"
    a, b = folder / "p0001-r000000.npz", folder / "p0001-r000003.npz"
    damaged = {(1, 0)}
    if case == "truncated":
        a.write_bytes(a.read_bytes()[:100])
    elif case == "swapped":
        data_a, data_b = a.read_bytes(), b.read_bytes()
        a.write_bytes(data_b)
        b.write_bytes(data_a)
        damaged = {(1, 0), (1, 3)}
    elif case == "copied-between-replications":
        a.write_bytes(b.read_bytes())
    else:  # a run without journeys wrote this task's results: nothing is wrong, but redo
        a.unlink()
    calls = count_simulations(monkeypatch)
    if case == "done-says-no-journeys-file":
        with _no_checkpoint_warning():
            resumed = pe.run(scenario, policies, replications=N_REP, seed=SEED,
                             checkpoint=ck, progress=False, keep_journeys=True)
    else:
        with pytest.warns(CheckpointWarning, match=re.escape("journeys/p0001-r000000.npz")):
            resumed = pe.run(scenario, policies, replications=N_REP, seed=SEED,
                             checkpoint=ck, progress=False, keep_journeys=True)
    assert sorted(calls) == sorted((r,) for _, r in damaged)
    assert resumed == fresh_journeys
    for name in ("baseline", "five"):
        assert np.array_equal(resumed.journeys[name].customers["wait"],
                              fresh_journeys.journeys[name].customers["wait"])


def manifest_cases():
    return {
        "not-json": (b"{", "manifest.json cannot be read (JSONDecodeError"),
        "empty": (b"", "manifest.json cannot be read (JSONDecodeError"),
        "undecodable": (b"\xff\xfe{\x00}\x00", "manifest.json cannot be read "
                                               "(UnicodeDecodeError"),
        "a-list": (b"[1, 2]", "manifest.json must hold a JSON object, got list"),
        "old-format": (None, "manifest.json has format 1; this peakend reads format 2"),
        "no-key": (None, "manifest.json: 'key' is missing or of the wrong type"),
        "no-arguments": (None, "manifest.json: 'arguments' is missing or of the wrong type"),
        "edited-arguments": (None, "manifest.json: its key does not match its arguments"),
        "other-run": (None, "was made with different arguments: seed (checkpoint 4, now 3)"),
    }


@pytest.mark.parametrize("case", list(manifest_cases()))
def test_bad_manifest_is_a_checkpoint_error(case, tmp_path, scenario, policies):
    ck = full_checkpoint(tmp_path, scenario, policies)
    manifest = ck / "manifest.json"
    data, message = manifest_cases()[case]
    if data is None:
        stored = json.loads(manifest.read_text())
        if case == "old-format":
            stored["format"] = 1
        elif case == "no-key":
            del stored["key"]
        elif case == "no-arguments":
            stored["arguments"] = None
        elif case == "edited-arguments":
            stored["arguments"]["seed"] = 4
        else:  # a consistent manifest of another run
            stored["arguments"]["seed"] = 4
            stored["key"] = hashlib.sha256(_canonical(stored["arguments"]).encode()).hexdigest()
        data = json.dumps(stored).encode()
    manifest.write_bytes(data)
    with pytest.raises(CheckpointError, match=re.escape(message)):
        pe.run(scenario, policies, replications=N_REP, seed=SEED, checkpoint=ck,
               progress=False)


def test_temporary_files_of_live_runs_are_kept_of_dead_ones_removed(tmp_path):
    from peakend.experiment._checkpoint import _HOST

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    ck = tmp_path / "ck"
    Checkpoint(ck, {"x": 1})
    done = ck / "done"
    live = done / f".tmp-{os.getpid()}@{_HOST}~abc.npz"
    gone = done / f".tmp-{dead_pid}@{_HOST}~def.npz"
    other_host = done / f".tmp-{dead_pid}@another-host~ghi.npz"
    unknown = done / ".tmp-old-style.npz"
    for f in (live, gone, other_host, unknown):
        f.write_bytes(b"partial")
    Checkpoint(ck, {"x": 1})  # a second run opens the same checkpoint
    assert live.exists() and other_host.exists() and unknown.exists()
    assert not gone.exists()


def test_a_temporary_file_in_a_new_checkpoint_is_not_a_foreign_file(tmp_path):
    """Another run may be writing the manifest of a new checkpoint right now."""
    from peakend.experiment._checkpoint import _HOST

    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / f".tmp-{os.getpid()}@{_HOST}~xyz.json").write_bytes(b"{")
    Checkpoint(ck, {"x": 1})
    assert (ck / "manifest.json").is_file()


def test_a_manifest_written_meanwhile_by_another_run_is_kept(tmp_path, monkeypatch):
    """Two runs create one checkpoint at once: the second never replaces the first's manifest."""
    ck = tmp_path / "ck"
    real = Checkpoint._create_manifest

    def racing(manifest, data):  # the other run puts its manifest in place first
        real(manifest, json.dumps({"format": 2, "key": "k", "arguments": {}}).encode())
        real(manifest, data)

    monkeypatch.setattr(Checkpoint, "_create_manifest", staticmethod(racing))
    with pytest.raises(CheckpointError, match="its key does not match its arguments"):
        Checkpoint(ck, {"x": 1})
    assert json.loads((ck / "manifest.json").read_text())["key"] == "k"


def test_a_directory_in_place_of_a_done_file_is_refused_before_simulating(
    tmp_path, scenario, policies, monkeypatch
):
    ck = full_checkpoint(tmp_path, scenario, policies)
    target = ck / "done" / "p0001-r000002.npz"
    target.unlink()
    target.mkdir()
    calls = count_simulations(monkeypatch)
    with pytest.raises(CheckpointError, match=re.escape("done/p0001-r000002.npz is not a file")):
        pe.run(scenario, policies, replications=N_REP, seed=SEED, checkpoint=ck,
               progress=False)
    assert calls == []
