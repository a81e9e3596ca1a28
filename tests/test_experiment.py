"""Tests for peakend.experiment: policies, run (CRN, executors, checkpoints), Results.

The simulation tests use a short version of the built-in default branch (a
two-hour day) so that the whole file stays within about a minute on 2 cores.
"""

import concurrent.futures as cf
import itertools
import json
import multiprocessing
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import peakend as pe
from peakend.experiment import (
    ALL,
    BASE_METRICS,
    METRIC_DESCRIPTIONS,
    TIDY_COLUMNS,
    CheckpointError,
    Policy,
    PolicyError,
    Results,
    builtin_policy_sets,
    deep_merge,
    load_policies,
    replication_seed,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "reference" / "results.md"


# --------------------------------------------------------------------------- helpers
def short_branch():
    """default_branch cut to its two busiest hours, 11:00-13:00 (fast, same structure)."""
    s = pe.load_scenario("default_branch")
    profile = [b for b in s.model_dump()["arrivals"]["profile"] if 11.0 <= b["start"] < 13.0]
    changes = {"opening": 11.0, "closing": 13.0, "arrivals": {"profile": profile}}
    return Policy("short", changes).apply(s)


POLICIES = [
    Policy("baseline"),
    Policy("five_tellers", {"counters": {"general": {"tellers": 5}}}),
    Policy("same"),  # no change: must give exactly the baseline's numbers
]


def synthetic_results(values=None, policies=("baseline", "a", "b"), seed=3):
    rng = np.random.default_rng(0)
    metrics = ("remembered[peak_end]", "remembered[integral]", *BASE_METRICS)
    segments = (ALL, "mass", "vip")
    if values is None:
        values = rng.normal(size=(len(policies), 8, len(segments), len(metrics)))
    return Results(
        values, policies=policies, segments=segments, metrics=metrics, seed=seed,
        rules=("peak_end", "integral"), scenario={"name": "x"},
        policy_specs=[{"name": p, "description": "", "changes": {}} for p in policies],
        version=pe.__version__,
    )


# --------------------------------------------------------------------------- policies
def test_deep_merge_merges_tables_and_replaces_the_rest():
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 2}
    out = deep_merge(base, {"a": {"y": [3]}, "c": {"z": 1}})
    assert out == {"a": {"x": 1, "y": [3]}, "b": 2, "c": {"z": 1}}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 2}  # not modified


def test_policy_apply_changes_only_named_fields():
    s = pe.load_scenario("default_branch")
    group = next(iter(s.counters))
    p = Policy("one_more", {"counters": {group: {"cost_per_hour": 999.0}}})
    t = p.apply(s)
    assert t.counters[group].cost_per_hour == 999.0
    assert t.counters[group].tellers == s.counters[group].tellers
    assert t.segments == s.segments and t.arrivals == s.arrivals
    assert Policy("baseline").apply(s) is s


def test_policy_errors_name_policy_and_field():
    s = pe.load_scenario("default_branch")
    group = next(iter(s.counters))
    with pytest.raises(PolicyError, match=rf"'bad'.*counters\.{group}\.cost_per_hour"):
        Policy("bad", {"counters": {group: {"cost_per_hour": -5}}}).apply(s)
    with pytest.raises(PolicyError, match=r"'typo'.*hal\b"):
        Policy("typo", {"hal": {"distraction": True}}).apply(s)
    with pytest.raises(PolicyError, match="non-empty"):
        Policy("")
    with pytest.raises(PolicyError, match="values must be"):
        Policy("obj", {"x": object()})


def test_policy_compose_later_wins_and_add():
    a = Policy("a", {"hall": {"distraction": True, "wait_display": False}}, "distract")
    b = Policy("b", {"hall": {"wait_display": True}}, "display")
    c = a + b
    assert c.name == "a+b" and c.description == "distract; display"
    assert c.changes == {"hall": {"distraction": True, "wait_display": True}}
    d = Policy.compose(a, b, name="both")
    assert d.name == "both" and d.changes == c.changes
    assert (b + a).changes["hall"]["wait_display"] is False


def test_builtin_policy_set_is_valid_for_default_branch():
    assert "default_branch" in builtin_policy_sets()
    s = pe.load_scenario("default_branch")
    policies = load_policies("default_branch", s)
    names = [p.name for p in policies]
    assert names[0] == "baseline" and policies[0].changes == {}
    assert len(names) == len(set(names)) >= 6
    # every non-baseline policy changes the scenario
    base = s.model_dump()
    for p in policies[1:]:
        assert p.apply(s).model_dump() != base, p.name


def test_policy_file_errors(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("[a]\nchanges.hall.distraction = true\n[b]\ncompose = ['zzz']\n")
    with pytest.raises(PolicyError, match=r"'b'.*'zzz'"):
        load_policies(f)
    f.write_text("[a]\nchange = 1\n")
    with pytest.raises(PolicyError, match="unknown key"):
        load_policies(f)
    f.write_text("[a\n")
    with pytest.raises(PolicyError, match="invalid TOML"):
        load_policies(f)
    with pytest.raises(PolicyError, match="neither"):
        load_policies("no_such_set")
    f.write_text("[a]\nchanges.hall.distraction = true\n[b]\ncompose = ['a']\n"
                 "changes.hall.wait_display = true\n")
    _, b = load_policies(f)
    assert b.changes == {"hall": {"distraction": True, "wait_display": True}}


# --------------------------------------------------------------------------- seeds
def test_replication_seed_is_the_spawned_child():
    kids = np.random.SeedSequence(42).spawn(5)
    for r in (0, 3, 4):
        assert np.array_equal(replication_seed(42, r).generate_state(8),
                              kids[r].generate_state(8))


# --------------------------------------------------------------------------- results (synthetic)
def test_summary_matches_stats_and_flags_small_n():
    res = synthetic_results()
    tab = res.summary("peak_end", "vip")
    assert len(tab) == 3
    x = res.values[1, :, 2, 0]
    row = tab[tab["policy"] == "a"].iloc[0]
    assert row["mean"] == pytest.approx(x.mean())
    assert row["sd"] == pytest.approx(x.std(ddof=1))
    full = res.summary()
    assert len(full) == 3 * 3 * len(res.metrics)
    for row in full.to_dict("records"):
        x = res.get(row["metric"], row["segment"], row["policy"])
        assert row["mean"] == pytest.approx(x.mean())
    small = synthetic_results(np.zeros((3, 2, 3, 2 + len(BASE_METRICS))))
    assert set(small.summary()["note"]) == {"n<3"}


def test_compare_holm_across_policies_and_self_zero():
    vals = synthetic_results().values.copy()
    vals[2] = vals[0]  # policy b identical to baseline
    vals[1, :, :, 0] = vals[0, :, :, 0] + 1.0 + 0.01 * np.arange(8)[:, None]
    res = synthetic_results(vals)
    cmp = res.compare("baseline", "peak_end")
    b = cmp[cmp["policy"] == "b"]
    assert np.all(b["difference"] == 0.0) and np.all(b["p_value"] == 1.0)
    a = cmp[(cmp["policy"] == "a") & (cmp["segment"] == "all")].reset_index(drop=True)
    assert a["difference"][0] == pytest.approx(1.035)
    # Holm with a family of two: the smaller p is doubled
    assert a["p_holm"][0] == pytest.approx(min(1.0, 2 * a["p_value"][0]))


def test_cost_per_point_and_pareto():
    vals = np.zeros((3, 5, 3, 2 + len(BASE_METRICS)))
    cost = 2 + BASE_METRICS.index("cost")
    noise = np.array([0.0, 0.1, -0.1, 0.05, -0.05])
    vals[0, :, :, 0] = 1.0 + noise[:, None]
    vals[1, :, :, 0] = 3.0 + noise[:, None]  # +2 points
    vals[2, :, :, 0] = 0.5 + noise[:, None]  # worse
    vals[0, :, :, cost] = 1000.0
    vals[1, :, :, cost] = 1300.0  # +300 per day
    vals[2, :, :, cost] = 1100.0
    res = synthetic_results(vals)
    cpp = res.cost_per_point()
    assert cpp.set_index("policy").loc["a", "cost_per_point"] == pytest.approx(150.0)
    assert cpp.set_index("policy").loc["b", "note"] == "dominated"
    par = res.pareto()
    assert dict(zip(par["policy"], par["efficient"], strict=True)) == {
        "baseline": True, "a": True, "b": False}


def test_cost_per_point_notes_rest_on_the_value_interval_not_the_point_estimate():
    """Dominance needs a value difference whose interval excludes 0 (or no difference)."""
    rng = np.random.default_rng(3)
    vals = np.zeros((5, 12, 3, 2 + len(BASE_METRICS)))
    cost = 2 + BASE_METRICS.index("cost")
    base = rng.normal(1.0, 1.0, size=(12, 1))
    vals[0, :, :, 0] = base
    vals[1, :, :, 0] = base + 0.001 + rng.normal(0, 0.5, size=(12, 1))  # a noisy tiny gain
    vals[2, :, :, 0] = base - 1.0  # clearly worse
    vals[3, :, :, 0] = base  # the same memories
    vals[4, :, :, 0] = base + 1.0  # clearly better
    vals[:, :, :, cost] = 1000.0
    vals[2, :, :, cost] = 900.0  # ... and cheaper
    vals[3, :, :, cost] = 900.0  # cheaper, same value
    vals[4, :, :, cost] = 1000.0  # better at the same cost
    res = synthetic_results(vals, policies=["baseline", "tiny", "cheap", "same", "better"])
    notes = res.cost_per_point().set_index("policy")["note"].to_dict()
    assert notes == {"tiny": "not significant", "cheap": "cheaper, worse",
                     "same": "dominant", "better": "dominant"}


def test_rule_disagreement_finds_reversed_pair():
    vals = np.zeros((3, 6, 3, 2 + len(BASE_METRICS)))
    jitter = np.linspace(-0.1, 0.1, 6)[:, None]
    vals[:, :, :, 0] = np.array([1.0, 2.0, 3.0])[:, None, None] + jitter  # peak_end: b > a > base
    vals[:, :, :, 1] = np.array([10.0, 30.0, 20.0])[:, None, None] + jitter  # integral: a > b
    res = synthetic_results(vals)
    dis = res.rule_disagreement("peak_end", "integral")
    assert len(dis) == 1
    row = dis.iloc[0]
    assert {row["policy_1"], row["policy_2"]} == {"a", "b"} and row["both_significant"]
    ranks = res.rankings()
    assert ranks["peak_end"].tolist() == [3.0, 2.0, 1.0]
    assert ranks["integral"].tolist() == [3.0, 1.0, 2.0]


def test_to_pandas_tidy_schema():
    res = synthetic_results()
    df = res.to_pandas()
    assert [(c, str(t)) for c, t in df.dtypes.items()] == list(TIDY_COLUMNS)
    assert len(df) == res.values.size
    row = df.iloc[517]
    p, r, s, m = np.unravel_index(517, res.values.shape)
    assert (row.policy, row.replication, row.segment, row.metric) == (
        res.policies[p], r, res.segments[s], res.metrics[m])
    assert row.value == res.values[p, r, s, m] and row.seed == 3


def test_save_load_roundtrip_without_pickle(tmp_path):
    res = synthetic_results()
    path = res.save(tmp_path / "r")
    assert path.suffix == ".npz"
    back = pe.load_results(path)
    assert back == res and back.policy_specs == res.policy_specs
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["metadata", "values"]
        meta = json.loads(str(z["metadata"]))
    assert meta["format"] == "peakend.results" and meta["seed"] == 3
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a peakend results file"):
        pe.load_results(tmp_path / "bad.npz")


def test_repr_and_html():
    res = synthetic_results()
    text = repr(res)
    assert "3 policies x 8 replications" in text and "baseline" in text
    html = res._repr_html_()
    assert html.count("<tr") == 1 + 3 * 3


def test_results_schema_matches_docs():
    """docs/reference/results.md documents every metric, tidy column and file key."""
    text = DOCS.read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z_0-9\[\]<>]+)` \|", text, flags=re.M)
    for metric in ("remembered[<rule>]", *BASE_METRICS):
        assert metric in documented, metric
    assert set(METRIC_DESCRIPTIONS) == {"remembered[<rule>]", *BASE_METRICS}
    from peakend.experiment import survey_metric_names

    for metric in survey_metric_names():
        assert metric in documented, metric
    for column, dtype in TIDY_COLUMNS:
        assert f"| `{column}` | {dtype} |" in text
    meta = synthetic_results().metadata()
    for key in meta:
        assert f"`{key}`" in text, key
    assert f"| `schema_version` | `{meta['schema_version']}` |" in text


# --------------------------------------------------------------------------- run (simulation)
@pytest.fixture(scope="module")
def scenario():
    return short_branch()


@pytest.fixture(scope="module")
def serial(scenario):
    return pe.run(scenario, POLICIES, replications=8, seed=5, progress=False)


def test_run_default_is_baseline_only(scenario):
    res = pe.run(scenario, replications=3, progress=False)
    assert res.policies == ("baseline",)
    assert res.segments == (ALL, *scenario.segments)
    assert res.metrics[:4] == tuple(f"remembered[{r}]" for r in pe.experiment.DEFAULT_RULES)
    assert res.values.shape == (1, 3, 1 + len(scenario.segments), 4 + len(BASE_METRICS))


def test_self_comparison_is_exactly_zero(serial):
    v = serial.values
    assert np.array_equal(v[0], v[2], equal_nan=True)
    cmp = serial.compare("baseline")
    cmp = cmp[cmp["policy"] == "same"]
    finite = np.isfinite(cmp["difference"])
    assert finite.sum() > 0.8 * len(cmp)
    assert np.all(cmp["difference"][finite] == 0.0)
    assert np.all(cmp["low"][finite] == 0.0) and np.all(cmp["high"][finite] == 0.0)


def test_common_random_numbers_same_customers_shorter_waits(serial):
    n = serial.get("n_customers", ALL)
    assert np.array_equal(n[0], n[1])  # same arrivals under a staffing change
    cmp = serial.compare("baseline", "wait_mean", ALL)
    # one more teller: shorter waits, significantly
    assert cmp.loc[cmp["policy"] == "five_tellers", "high"].iloc[0] < 0
    staff = serial.get("staff_cost", ALL)
    group = short_branch().counters["general"]
    hours = 2.0
    assert staff[1, 0] - staff[0, 0] == pytest.approx(group.cost_per_hour * hours)


def test_aggregates_match_a_plain_loop(scenario, serial):
    r = 3
    day = pe.simulate(scenario, replication_seed(5, r))
    c = day.customers
    pe_scores = day.score("peak_end")
    for s_idx, seg in enumerate(serial.segments):
        rows = [i for i in range(day.n_customers) if seg == ALL or c["segment"][i] == s_idx - 1]
        joined = [i for i in rows if not c["balked"][i]]
        vals = dict(zip(serial.metrics, serial.values[0, r, s_idx], strict=True))
        assert vals["n_customers"] == len(rows)
        if not rows:
            continue
        assert vals["remembered[peak_end]"] == pytest.approx(
            sum(pe_scores[i] for i in rows) / len(rows))
        assert vals["abandonment_rate"] == pytest.approx(
            sum(bool(c["balked"][i] or c["reneged"][i]) for i in rows) / len(rows))
        if joined:
            waits = sorted(c["wait"][i] for i in joined)
            assert vals["wait_mean"] == pytest.approx(sum(waits) / len(waits))
            assert vals["wait_p90"] == pytest.approx(float(np.percentile(waits, 90)))
        assert vals["gift_cost"] == pytest.approx(sum(c["gift_cost"][i] for i in rows))
    assert vals["cost"] == pytest.approx(
        scenario.staff_cost() + scenario.fixed_cost() + c["gift_cost"].sum())


def test_two_workers_bit_identical_to_serial(scenario, serial):
    par = pe.run(scenario, POLICIES, replications=8, seed=5, workers=2, progress=False)
    assert np.array_equal(par.values, serial.values, equal_nan=True)
    assert par == serial


def test_three_workers_bit_identical_to_serial(scenario, serial):
    # this process and two spawned workers share the chunks
    par = pe.run(scenario, POLICIES, replications=8, seed=5, workers=3, progress=False)
    assert np.array_equal(par.values, serial.values, equal_nan=True)


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_workers_bit_identical_to_serial_with_either_start_method(
    scenario, serial, method, monkeypatch
):
    import peakend.experiment._executor as run_module

    if method not in multiprocessing.get_all_start_methods():  # fork, forkserver: POSIX
        pytest.skip(f"start method {method!r} is not available on {sys.platform}")
    monkeypatch.setattr(run_module, "_start_method", lambda: method)
    par = pe.run(scenario, POLICIES, replications=8, seed=5, workers=2, progress=False)
    assert np.array_equal(par.values, serial.values, equal_nan=True)


@pytest.mark.parametrize("n", [0, 1, 7, 40, 200, 2201])
@pytest.mark.parametrize("workers", [1, 2, 4])
def test_chunks_cover_every_task_in_order_and_shrink_where_processes_meet(n, workers):
    from peakend.experiment._executor import CHUNK_DAYS, _chunks

    tasks = [{"i": i} for i in range(n)]
    for shared in (False, True):
        chunks = _chunks(tasks, workers, shared=shared)
        assert [t for c in chunks for t in c] == tasks
        assert all(1 <= len(c) <= CHUNK_DAYS for c in chunks)
        assert n == 0 or len(chunks) >= min(n, 4 * workers)  # enough to share out
    sizes = [len(c) for c in _chunks(tasks, workers, shared=True)]
    if workers > 1 and n >= 16 * workers:  # the pool and this process meet at one-day chunks
        meet = n * (workers - 1) // workers
        ends = list(itertools.accumulate(sizes))
        k = ends.index(meet)
        assert sizes[k] == 1 and sizes[k + 1] == 1
        assert sizes[0] == sizes[-1] == max(sizes) == min(CHUNK_DAYS, -(-n // (8 * workers)))


def test_start_method_forks_only_without_other_threads():
    from peakend.experiment._executor import _start_method

    release = threading.Event()
    other = threading.Thread(target=release.wait, daemon=True)
    other.start()
    linux = sys.platform.startswith("linux")
    try:  # another thread could hold a lock at fork: a fresh fork server forks instead
        assert _start_method() == ("forkserver" if linux else "spawn")
    finally:
        release.set()
        other.join()
    alone = _start_method()
    if linux:  # threads may be left by other tests (Dask)
        assert alone == ("fork" if threading.active_count() == 1 else "forkserver")
    else:
        assert alone == "spawn"


def test_fork_server_preloads_peakend_and_keeps_other_modules(monkeypatch):
    from multiprocessing import forkserver

    from peakend.experiment._executor import _PRELOAD, _context

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip(f"no fork server on {sys.platform}")
    server = forkserver._forkserver
    monkeypatch.setattr(server, "_preload_modules", ["__main__", "json"])
    _context("forkserver")
    assert server._preload_modules == ["__main__", "json", *_PRELOAD]
    _context("forkserver")  # idempotent
    assert server._preload_modules == ["__main__", "json", *_PRELOAD]


def test_progress_bar_starts_after_the_workers(scenario, monkeypatch):
    """tqdm's monitor thread must not exist yet when run picks the start method."""
    import peakend.experiment._executor as run_module

    real = run_module._start_method
    seen = []

    def spy():
        seen.append(threading.active_count())
        return real()

    monkeypatch.setattr(run_module, "_start_method", spy)
    before = threading.active_count()
    res = pe.run(scenario, POLICIES[:1], replications=4, seed=5, workers=2, progress=True)
    assert seen == [before]
    assert res.values.shape[:2] == (1, 4)


def settle_pools_of_earlier_runs():
    """Wait for the threads of pools that earlier tests' short runs left to shut down."""
    import concurrent.futures.process as cf_process

    for _ in range(3):  # a launch thread ends, then its shutdown thread, then the pool's
        for thread in threading.enumerate():
            if thread.name.startswith("peakend-") or isinstance(
                thread, cf_process._ExecutorManagerThread
            ) or thread.name == "QueueFeederThread":
                thread.join(timeout=60)


@pytest.mark.parametrize(
    ("workers", "method"), [(None, None), (2, "fork"), (2, "forkserver"), (2, "spawn")])
def test_run_leaves_no_thread_behind(scenario, workers, method, monkeypatch):
    """A thread left by a run (tqdm's monitor, the pool's manager) would make later runs
    use a fork server instead of fork.

    Only a worker that is not forked and had not started when the run ended is not
    waited for: the helper threads and the pool's threads end once it has started.
    """
    import peakend.experiment._executor as run_module

    settle_pools_of_earlier_runs()
    if method is not None:
        monkeypatch.setattr(run_module, "_start_method", lambda: method)
    before = set(threading.enumerate())
    for _ in range(2):
        pe.run(scenario, POLICIES[:1], replications=16, seed=5, workers=workers, progress=True)
        left = set(threading.enumerate()) - before
        if method in ("forkserver", "spawn"):
            for thread in left:
                thread.join(timeout=60)
            assert not any(t.is_alive() for t in left)
        else:
            assert not left


def chunk_tasks(scenario, n):
    """``n`` tasks of one policy for ``simulate_chunk``, as ``run`` makes them."""
    text, rules = scenario.model_dump_json(), pe.experiment.DEFAULT_RULES
    return [{"policy": 0, "replication": r, "seed": 5, "scenario": text, "rules": rules,
             "labels": rules, "keep_journeys": False} for r in range(n)]


def test_run_computes_alone_while_its_worker_cannot_start(scenario):
    """A worker that has not started (a fork server still importing) gets no work."""
    from peakend.experiment._executor import _chunks, _share

    release = threading.Event()

    class NotStarting(cf.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            release.wait()  # like launching through a fork server that is still starting
            return super().submit(fn, *args, **kwargs)

    tasks = chunk_tasks(scenario, 6)
    got = []
    pool = NotStarting(max_workers=1)
    run_thread = threading.Thread(target=_share, args=(
        pool, _chunks(tasks, 2, shared=True), got.append), kwargs={
        "n_workers": 1, "method": "forkserver"})
    try:
        run_thread.start()
        run_thread.join(timeout=120)  # it must not wait for the worker
        assert not run_thread.is_alive()
        assert sorted(r["replication"] for r in got) == list(range(6))
    finally:
        release.set()
        run_thread.join()
    settle_pools_of_earlier_runs()


class FailingPool(cf.Executor):
    """A pool whose worker fails: calls after the first ``healthy`` get ``error``.

    The healthy calls run at once, in this thread (``run``'s workers are processes:
    a worker thread's ``catch_warnings`` would catch this thread's warnings too).
    """

    def __init__(self, error, healthy=0):
        self.error, self.healthy, self.calls = error, healthy, 0

    def submit(self, fn, /, *args, **kwargs):
        self.calls += 1
        fut = cf.Future()
        if self.calls <= self.healthy:
            fut.set_result(fn(*args, **kwargs))
        else:
            fut.set_exception(self.error)
        return fut


@pytest.mark.parametrize("healthy", [0, 1, 2])  # the worker fails to start / after 0, 1 chunk
@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_run_finishes_here_when_its_worker_process_fails(scenario, healthy, method):
    from concurrent.futures.process import BrokenProcessPool

    from peakend.experiment._executor import _chunks, _share
    from peakend.experiment._tasks import simulate_chunk

    tasks = chunk_tasks(scenario, 40)
    got = []
    with pytest.warns(RuntimeWarning, match="worker process failed.*in this process"):
        _share(FailingPool(BrokenProcessPool("worker died"), healthy),
               _chunks(tasks, 2, shared=True), got.append, n_workers=1, method=method)
    assert sorted(r["replication"] for r in got) == list(range(40))
    alone = {r["replication"]: r["values"] for r in simulate_chunk(tasks)}
    for r in got:
        assert np.array_equal(r["values"], alone[r["replication"]], equal_nan=True)


def test_an_error_in_a_workers_simulation_is_raised(scenario):
    from peakend.experiment._executor import _chunks, _share

    with pytest.raises(ZeroDivisionError, match="in the model"):
        _share(FailingPool(ZeroDivisionError("in the model"), healthy=1),
               _chunks(chunk_tasks(scenario, 40), 2, shared=True), lambda r: None,
               n_workers=1, method="fork")


UNGUARDED_SCRIPT = """
import warnings
import peakend as pe
import peakend.experiment._executor as run_module
run_module._start_method = lambda: "spawn"
# no `if __name__ == "__main__":` guard: a spawned worker re-runs this file and fails
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    res = pe.run(pe.scenarios.mmc(1.8, 0.5, 4, 8), replications=60, seed=1, workers=2,
                 progress=False)
alone = pe.run(pe.scenarios.mmc(1.8, 0.5, 4, 8), replications=60, seed=1, progress=False)
print("same" if res == alone else "differ", sum("worker process failed" in str(w.message)
                                               for w in caught))
"""


def test_a_failing_worker_is_reported_at_the_line_that_called_run(scenario, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool

    import peakend.experiment._executor as run_module

    for healthy in (0, 2):  # fails at once (no chunk given) / after a chunk (handed back)
        monkeypatch.setattr(cf, "ProcessPoolExecutor", lambda *a, healthy=healthy, **k:
                            FailingPool(BrokenProcessPool("worker died"), healthy))
        monkeypatch.setattr(run_module, "_start_method", lambda: "fork")
        with pytest.warns(RuntimeWarning, match="worker process failed") as caught:
            pe.run(scenario, POLICIES[:1], replications=40, seed=5, workers=2, progress=False)
        assert caught[0].filename == __file__


@pytest.mark.slow
def test_a_script_without_the_main_guard_still_runs(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED_SCRIPT)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    last = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-2000:]
    assert last == "same 1", last


def test_chunk_scores_and_aggregates_days_together_as_if_alone(scenario):
    """A chunk mixing policies, one with another memory rule, gives each task's values."""
    from peakend.experiment import simulate_replication
    from peakend.experiment._tasks import simulate_chunk

    other_rule = Policy("mean_memory", {"memory": {"rule": "mean"}})
    texts = [p.apply(scenario).model_dump_json() for p in (*POLICIES[:2], other_rule)]
    rules = ("end", "peak_end", "mean", "integral")
    tasks = [
        {"policy": p, "replication": r, "seed": 5, "scenario": texts[p], "rules": rules,
         "labels": rules, "keep_journeys": False, "survey": r == 1}
        for p in range(3) for r in range(3)
    ]
    together = simulate_chunk(tasks)
    for task, res in zip(tasks, together, strict=True):
        alone = simulate_replication(task)
        assert (res["policy"], res["replication"]) == (task["policy"], task["replication"])
        assert res["metrics"] == alone["metrics"] and res["segments"] == alone["segments"]
        assert np.array_equal(res["values"], alone["values"], equal_nan=True)


class ReverseExecutor(cf.Executor):
    """Completes futures in reverse submission order, from a background thread."""

    def __init__(self):
        self.pending = []
        self.thread = None

    def submit(self, fn, /, *args, **kwargs):
        fut = cf.Future()
        self.pending.append((fut, fn, args, kwargs))
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, daemon=True)
            self.thread.start()
        return fut

    def _work(self):
        time.sleep(0.2)
        for fut, fn, args, kwargs in reversed(self.pending):
            fut.set_result(fn(*args, **kwargs))


def test_completion_order_does_not_matter(scenario, serial):
    res = pe.run(scenario, POLICIES, replications=8, seed=5, executor=ReverseExecutor(),
                 progress=False)
    assert np.array_equal(res.values, serial.values, equal_nan=True)


def test_dask_executor(scenario, serial):
    import distributed
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        res = pe.run(scenario, POLICIES, replications=8, seed=5,
                     executor=client.get_executor(), progress=False)
    assert np.array_equal(res.values, serial.values, equal_nan=True)


def test_keep_journeys_and_replication_seed(scenario):
    res = pe.run(scenario, POLICIES[:2], replications=3, seed=9, keep_journeys=True,
                 progress=False)
    j = res.journeys["five_tellers"]
    assert j.n_days == 3
    again = pe.simulate(POLICIES[1].apply(scenario), replication_seed(9, 2))
    assert np.array_equal(j.day(2).customers["wait"], again.customers["wait"])


def test_simulation_warnings_are_summarised_once_per_run(scenario):
    from peakend.sim import OverloadWarning

    one = Policy("one", {"counters": {"general": {"tellers": 1}}})
    also = Policy("also_one", {"counters": {"general": {"tellers": 1}}})
    with pytest.warns(OverloadWarning) as rec:
        pe.run(scenario, [Policy("baseline"), one, also], replications=3, progress=False)
    overload = [w for w in rec if issubclass(w.category, OverloadWarning)]
    assert len(overload) == 1  # once per run, not once per policy
    message = str(overload[0].message)
    found = re.search(r"OverloadWarning on (\d+) of 9 simulated days, in ([23]) of 3 policies",
                      message)
    assert found, message
    assert "'one' (3 of 3)" in message and "'also_one' (3 of 3)" in message
    assert "'baseline'" in message or int(found[1]) == 6
    assert "offered load" in message  # what triggered it, in the simulation's own words
    assert overload[0].filename == __file__


def test_run_argument_errors(scenario):
    with pytest.raises(ValueError, match="replications"):
        pe.run(scenario, replications=0)
    with pytest.raises(ValueError, match="seed"):
        pe.run(scenario, seed=-1)
    with pytest.raises(ValueError, match="workers"):
        pe.run(scenario, workers=0)
    with pytest.raises(TypeError, match="executor"):
        pe.run(scenario, executor="dask")
    with pytest.raises(ValueError, match="rules"):
        pe.run(scenario, rules=("peak_end", "nope"))
    with pytest.raises(PolicyError, match="twice"):
        pe.run(scenario, [Policy("a"), Policy("a")])
    with pytest.raises(PolicyError, match=r"'neg'.*tellers"):
        pe.run(scenario, {"neg": {"counters": {"general": {"tellers": -1}}}})


# --------------------------------------------------------------------------- checkpoints
def count_simulations(monkeypatch):
    """Count the days run simulates (in this process: workers=None)."""
    import peakend.sim.batch

    calls = []
    real = peakend.sim.batch.simulate_chunk  # what run's workers call for a policy's days

    def counting(scenario, seeds, engine="simpy"):
        calls.extend(seeds)
        return real(scenario, seeds, engine)

    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", counting)
    return calls


def test_checkpoint_resume_after_exception_and_extension(scenario, tmp_path, monkeypatch):
    import peakend.sim.batch

    ck = tmp_path / "ck"
    real = peakend.sim.batch.simulate_chunk
    calls = []

    def failing(sc, seeds, engine="simpy"):
        calls.extend(seeds)
        if len(calls) >= 7:  # the chunk holding the 7th day
            raise RuntimeError("simulated crash")
        return real(sc, seeds, engine)

    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", failing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        pe.run(scenario, POLICIES, replications=4, seed=5, checkpoint=ck, progress=False)
    assert len(list((ck / "done").glob("p*.npz"))) == 6
    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", real)
    resumed_calls = count_simulations(monkeypatch)
    res = pe.run(scenario, POLICIES, replications=4, seed=5, checkpoint=ck, progress=False)
    assert len(resumed_calls) == 12 - 6
    monkeypatch.setattr(peakend.sim.batch, "simulate_chunk", real)
    fresh = pe.run(scenario, POLICIES, replications=4, seed=5, progress=False)
    assert res == fresh
    # more replications reuse the finished ones
    more_calls = count_simulations(monkeypatch)
    more = pe.run(scenario, POLICIES, replications=6, seed=5, checkpoint=ck, progress=False)
    assert len(more_calls) == 3 * 2
    assert np.array_equal(more.values[:, :4], fresh.values, equal_nan=True)


def test_checkpoint_keeps_journeys_and_progress_bar(scenario, tmp_path, monkeypatch, capsys):
    ck = tmp_path / "ck"
    first = pe.run(scenario, POLICIES[:2], replications=3, seed=1, checkpoint=ck,
                   keep_journeys=True, progress=True)
    assert "peakend run" in capsys.readouterr().err  # the tqdm bar
    assert len(list((ck / "journeys").glob("p*.npz"))) == 6
    calls = count_simulations(monkeypatch)
    again = pe.run(scenario, POLICIES[:2], replications=3, seed=1, checkpoint=ck,
                   keep_journeys=True, progress=False)
    assert calls == [] and again == first
    for name in ("baseline", "five_tellers"):
        assert np.array_equal(again.journeys[name].customers["wait"],
                              first.journeys[name].customers["wait"])


def test_checkpoint_with_other_arguments_is_refused(scenario, tmp_path):
    ck = tmp_path / "ck"
    pe.run(scenario, POLICIES, replications=2, seed=5, checkpoint=ck, progress=False)
    with pytest.raises(CheckpointError, match=r"seed \(checkpoint 5, now 6\)"):
        pe.run(scenario, POLICIES, replications=2, seed=6, checkpoint=ck, progress=False)
    with pytest.raises(CheckpointError, match="policies"):
        pe.run(scenario, POLICIES[:2], replications=2, seed=5, checkpoint=ck, progress=False)
    with pytest.raises(CheckpointError, match="rules"):
        pe.run(scenario, POLICIES, replications=2, seed=5, checkpoint=ck, rules=["mean"],
               progress=False)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("hello")
    with pytest.raises(CheckpointError, match="not empty"):
        pe.run(scenario, replications=2, checkpoint=other, progress=False)


KILL_SCRIPT = """
import sys, time
import peakend as pe, peakend.sim.batch
from peakend.experiment import Policy
sys.path.insert(0, {tests!r})
from test_experiment import POLICIES, short_branch
real = peakend.sim.batch.simulate_chunk  # what run's workers call for a policy's days
def slow(scenario, seeds, engine="simpy"):
    time.sleep(0.03 * len(seeds))
    return real(scenario, seeds, engine)
peakend.sim.batch.simulate_chunk = slow
pe.run(short_branch(), POLICIES, replications=40, seed=5, checkpoint={ck!r}, progress=False)
print("finished")
"""


@pytest.mark.slow
def test_resume_after_sigkill_equals_uninterrupted(scenario, tmp_path, monkeypatch):
    ck = tmp_path / "ck"
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parent), ck=str(ck))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    done = ck / "done"
    while time.monotonic() < deadline:
        if done.is_dir() and len(list(done.glob("p*.npz"))) >= 10:
            break
        if proc.poll() is not None:
            pytest.fail(f"worker exited early: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list(done.glob("p*.npz")))
    assert 10 <= finished < 120, finished
    calls = count_simulations(monkeypatch)
    resumed = pe.run(scenario, POLICIES, replications=40, seed=5, checkpoint=ck,
                     progress=False)
    assert len(calls) == 120 - finished
    monkeypatch.undo()
    fresh = pe.run(scenario, POLICIES, replications=40, seed=5, progress=False)
    assert resumed == fresh
    assert not list(done.glob(".tmp-*"))


# --------------------------------------------------------------------------- back-test
def test_backtest_stored_study():
    """Rerun the study stored in tests/data (see tests/data/README.md): nothing changed."""
    sys.path.insert(0, str(Path(__file__).parent / "data"))
    try:
        from make_backtest_study import STUDY, run_study
    finally:
        sys.path.pop(0)
    stored = pe.load_results(Path(__file__).parent / "data" / "backtest_study.npz")
    assert stored.policies == STUDY["policies"] and stored.seed == STUDY["seed"]
    now = run_study()
    assert (now.policies, now.segments, now.metrics) == (
        stored.policies, stored.segments, stored.metrics)
    counts = stored.metrics.index("n_customers")
    np.testing.assert_array_equal(now.values[..., counts], stored.values[..., counts])
    np.testing.assert_allclose(now.values, stored.values, rtol=1e-9, atol=1e-12)
    assert now.scenario == stored.scenario


# --------------------------------------------------------------------------- docs
def test_how_to_experiments_runs_as_written(tmp_path, monkeypatch, capsys):
    page = ROOT / "docs" / "how-to" / "experiments.md"
    blocks = re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 8
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__how_to__"}
    for block in blocks:
        exec(compile(block, str(page), "exec"), namespace)
    assert namespace["extended"].n_replications == 8
    assert (tmp_path / "study.npz").is_file()
    out = capsys.readouterr().out
    assert "lunch_teller+hall True" in out and "'typo'" in out


def test_survey_metrics_optional_and_paired(scenario, tmp_path):
    from peakend.experiment import survey_metric_names
    from peakend.metrics import segment_survey_metrics

    res = pe.run(scenario, POLICIES, replications=4, seed=5, survey=True, progress=False)
    assert res.metrics[-len(survey_metric_names()):] == survey_metric_names()
    day = pe.simulate(POLICIES[1].apply(scenario), replication_seed(5, 2))
    direct = segment_survey_metrics(day)
    for s_idx, seg in enumerate(res.segments):
        for name in ("survey_nps", "survey_csat", "survey_complaints"):
            got = res.values[1, 2, s_idx, res.metrics.index(name)]
            want = direct[seg][name.removeprefix("survey_")]
            assert got == pytest.approx(want, nan_ok=True)
    # the base metrics are the same as without the survey
    plain = pe.run(scenario, POLICIES, replications=4, seed=5, progress=False)
    assert np.array_equal(res.values[..., : len(plain.metrics)], plain.values, equal_nan=True)
    # a checkpoint without the survey is not mixed with one with it
    pe.run(scenario, POLICIES, replications=2, seed=5, checkpoint=tmp_path / "ck",
           progress=False)
    with pytest.raises(CheckpointError, match="survey"):
        pe.run(scenario, POLICIES, replications=2, seed=5, checkpoint=tmp_path / "ck",
               survey=True, progress=False)


def test_no_progress_bar_does_not_import_tqdm():
    """progress=False must not import tqdm.auto (in a notebook without ipywidgets its
    import alone prints a warning)."""
    import subprocess
    import sys

    code = (
        "import sys, peakend as pe\n"
        "pe.run(pe.scenarios.mmc(1.0, 0.5, 3, 1), replications=2, seed=1, progress=False)\n"
        "print('tqdm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
