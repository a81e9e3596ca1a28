"""Processes: two runs on one checkpoint at once, and workers that die with their run.

Both need real processes (subprocesses of the test); each case takes a few seconds.
"""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import peakend as pe
from peakend.experiment import Policy

LINUX = sys.platform.startswith("linux")

RUN_SCRIPT = r"""
import hashlib, os, sys, time, warnings
import peakend as pe, peakend.sim.batch
from peakend.experiment import CheckpointWarning, Policy
warnings.simplefilter("error", CheckpointWarning)  # a half-written file would be a bug
ck, replications, workers, barrier = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
real = peakend.sim.batch.simulate_days  # what run's workers call for a policy's days
def slow(scenario, seeds, engine="simpy"):  # longer days: the two runs overlap for sure
    time.sleep(0.004 * len(seeds))
    return real(scenario, seeds, engine)
peakend.sim.batch.simulate_days = slow
scenario = pe.scenarios.mmc(1.8, 0.5, 4, 2)
policies = [Policy("baseline"), Policy("five", {"counters": {"servers": {"tellers": 5}}})]
open(os.path.join(barrier, str(os.getpid())), "w").close()
deadline = time.monotonic() + 60
while len(os.listdir(barrier)) < 2 and time.monotonic() < deadline:  # start together
    time.sleep(0.005)
res = pe.run(scenario, policies, replications=replications, seed=3, checkpoint=ck,
             workers=workers, progress=False)
print(hashlib.sha256(res.values.tobytes()).hexdigest())
"""


def digest(replications):
    scenario = pe.scenarios.mmc(1.8, 0.5, 4, 2)
    policies = [Policy("baseline"), Policy("five", {"counters": {"servers": {"tellers": 5}}})]
    res = pe.run(scenario, policies, replications=replications, seed=3, progress=False)
    return hashlib.sha256(res.values.tobytes()).hexdigest()


ROUNDS = [  # (checkpoint, replications of the two runs, workers of the two runs)
    ("a", (24, 24), (1, 1)),   # both create a new checkpoint
    ("a", (36, 36), (1, 2)),   # both extend it, one with a worker process
    ("b", (16, 30), (2, 1)),   # a new one again, different lengths
    ("b", (30, 30), (1, 1)),   # both find most of it done
]


@pytest.mark.slow
def test_two_runs_on_one_checkpoint_at_once_never_disturb_each_other(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(RUN_SCRIPT)
    expected = {n: digest(n) for n in {n for _, ns, _ in ROUNDS for n in ns}}
    for i, (name, reps, workers) in enumerate(ROUNDS):
        barrier = tmp_path / f"barrier{i}"
        barrier.mkdir()
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(tmp_path / name), str(n), str(w),
                 str(barrier)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
            )
            for n, w in zip(reps, workers, strict=True)
        ]
        for proc, n in zip(procs, reps, strict=True):
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, f"round {i}: {err[-3000:]}"
            assert out.strip().splitlines()[-1] == expected[n], f"round {i}: wrong results"
        for folder in ("", "done"):
            left = list((tmp_path / name / folder).glob(".tmp-*"))
            assert not left, f"round {i}: temporary files left: {left}"
        done = len(list((tmp_path / name / "done").glob("p*.npz")))
        assert done == 2 * max(reps)


# --------------------------------------------------------------------------- lifeline
WORKER_SCRIPT = r"""
import sys, time
import peakend as pe, peakend.sim.batch
import peakend.experiment._executor as executor
method = sys.argv[1]
executor._start_method = lambda: method
real = peakend.sim.batch.simulate_days  # what run's workers call for a policy's days
def slow(scenario, seeds, engine="simpy"):  # forked workers inherit this; others run plain days
    time.sleep(0.01 * len(seeds))
    return real(scenario, seeds, engine)
peakend.sim.batch.simulate_days = slow
if __name__ == "__main__":  # a fork server or a spawned worker imports this file
    pe.run(pe.scenarios.mmc(1.8, 0.5, 4, 2), replications=20000, seed=1, workers=3,
           progress=False)
"""


def _stat(pid):
    """(state, parent pid) of a process from /proc, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def descendants(pid):
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None:
                parents.setdefault(stat[1], []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def running(pid):
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has ended (nobody reaped it yet)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_workers_die_with_their_run_when_it_is_killed(tmp_path, method):
    assert LINUX, "this test reads /proc; the lifeline on other systems is the watchdog"
    script = tmp_path / "workers.py"
    script.write_text(WORKER_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), method], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 120
        # a worker (a fork server's worker is its child), besides the resource tracker
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            kids = [p for p in descendants(proc.pid) if running(p)]
            workers = [p for p in kids if b"resource_tracker" not in _cmdline(p)
                       and (method != "forkserver" or _stat(p)[1] != proc.pid)]
            if workers:
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the workers did not start: {descendants(proc.pid)}")
        time.sleep(1.5)  # let them take work
        kids = [p for p in descendants(proc.pid) if running(p)]
        assert len(kids) >= 2 + (method == "forkserver"), kids  # workers, tracker, server
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(running(p) for p in kids):
        time.sleep(0.05)
    left = [p for p in kids if running(p)]
    assert not left, f"{method}: processes outlived their run: {left}"
