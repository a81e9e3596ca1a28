"""Tests of the Journeys container: schema, validation, selection, concat, I/O."""

import numpy as np
import pytest

import peakend as pe
from peakend.journeys import CUSTOMER_COLUMNS, EPISODE_COLUMNS, QUEUE_COLUMNS, Journeys

TABLES = dict(
    segments=["vip", "gold", "ordinary"],
    business_types=["deposit", "advice"],
    touchpoints=["entrance", "waiting", "service", "farewell"],
    counters=["general-1", "vip-1"],
)


def make(n=4, lengths=(2, 0, 3, 1), day=0):
    lengths = np.asarray(lengths)
    off = np.concatenate([[0], np.cumsum(lengths)])
    m = int(off[-1])
    start = np.arange(m, dtype=float)
    return Journeys(
        customers={
            "day": np.full(n, day),
            "customer": np.arange(n),
            "segment": np.arange(n) % 3,
            "arrival": np.arange(n) * 10.0,
            "wait": np.arange(n) * 1.5,
            "departure": np.arange(n) * 10.0 + 20,
            "counter": np.where(np.arange(n) % 2 == 0, 0, -1),
        },
        episodes={
            "touchpoint": np.arange(m) % 4,
            "start": start,
            "end": start + 0.5,
            "affect": np.linspace(-5, 5, m),
        },
        offsets=off,
        queue={"time": [0.0, 3.0], "length": [0, 2], "day": [day, day]},
        meta={"scenario": "test", "seed": 1},
        **TABLES,
    )


def test_schema_is_pinned():
    """The documented schema: changing it must be deliberate (update docs/reference/journeys.md)."""
    assert {k: v[0] for k, v in CUSTOMER_COLUMNS.items()} == {
        "day": "int32", "customer": "int32", "segment": "int16", "business": "int16",
        "appointment": "bool", "arrival": "float64", "queue_on_arrival": "int32",
        "queue_ahead": "int32",
        "expected_wait": "float64", "wait": "float64", "perceived_wait": "float64",
        "slips": "int32", "balked": "bool", "reneged": "bool", "counter": "int16",
        "service_start": "float64", "service_end": "float64", "departure": "float64",
        "gift_cost": "float64", "remembered": "float64",
    }
    assert {k: v[0] for k, v in EPISODE_COLUMNS.items()} == {
        "touchpoint": "int16", "start": "float64", "end": "float64",
        "experience": "float64", "expectation": "float64", "affect": "float64",
    }
    assert {k: v[0] for k, v in QUEUE_COLUMNS.items()} == {
        "day": "int32", "time": "float64", "length": "int32",
    }
    j = make()
    for name, (dtype, _, _) in CUSTOMER_COLUMNS.items():
        assert j.customers[name].dtype == np.dtype(dtype), name
        assert len(j.customers[name]) == len(j)
    for name, (dtype, _, _) in EPISODE_COLUMNS.items():
        assert j.episodes[name].dtype == np.dtype(dtype), name


def test_docs_table_lists_every_column():
    from pathlib import Path

    page = Path(__file__).parents[1] / "docs" / "reference" / "journeys.md"
    text = page.read_text(encoding="utf-8")
    for name in [*CUSTOMER_COLUMNS, *EPISODE_COLUMNS, *QUEUE_COLUMNS]:
        assert f"`{name}`" in text, name


def test_defaults_filled_and_views_read_only():
    j = make()
    assert np.all(np.isnan(j.customers["service_start"]))
    assert not j.customers["balked"].any()
    with pytest.raises(TypeError):
        j.customers["wait"] = np.zeros(4)  # type: ignore[index]
    assert j.lengths.tolist() == [2, 0, 3, 1]
    assert j.episode_customer.tolist() == [0, 0, 2, 2, 2, 3]
    assert np.allclose(j.durations, 0.5)
    assert j.served.tolist() == [True, False, True, False]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(offsets=[1, 2, 2, 5, 6]), r"offsets\[0\]"),
        (dict(offsets=[0, 2, 2, 5, 5]), r"offsets\[-1\]"),
        (dict(offsets=[0, 3, 2, 5, 6]), "non-decreasing"),
        (dict(offsets=[0.0, 2, 2, 5, 6]), "integers"),
        (dict(offsets=[0, 2, 2, 6]), "length n_customers"),
    ],
)
def test_bad_offsets(kwargs, match):
    j = make()
    with pytest.raises(ValueError, match=match):
        Journeys(dict(j.customers), dict(j.episodes), kwargs["offsets"], **TABLES)


def test_bad_columns_named():
    j = make()
    cust = dict(j.customers)
    cust["wiat"] = cust.pop("wait")
    with pytest.raises(ValueError, match="wiat"):
        Journeys(cust, dict(j.episodes), j.offsets, **TABLES)
    cust = dict(j.customers)
    cust["arrival"] = cust["arrival"][:-1]
    with pytest.raises(ValueError, match="arrival"):
        Journeys(cust, dict(j.episodes), j.offsets, **TABLES)
    ep = dict(j.episodes)
    ep["end"] = ep["start"].copy()
    with pytest.raises(ValueError, match="end must be > start"):
        Journeys(dict(j.customers), ep, j.offsets, **TABLES)
    cust = dict(j.customers)
    cust["segment"] = np.full(4, 3)
    with pytest.raises(ValueError, match="codes must lie"):
        Journeys(cust, dict(j.episodes), j.offsets, **TABLES)


def test_select_mask_and_indices_keep_episodes_aligned():
    j = make()
    sub = j.select(np.array([False, True, True, False]))
    assert sub.customers["customer"].tolist() == [1, 2]
    assert sub.offsets.tolist() == [0, 0, 3]
    assert sub.episodes["start"].tolist() == [2.0, 3.0, 4.0]
    rev = j.select([3, 0])
    assert rev.offsets.tolist() == [0, 1, 3]
    assert rev.episodes["start"].tolist() == [5.0, 0.0, 1.0]
    rev.validate()
    assert j.segment("gold").customers["customer"].tolist() == [1]
    with pytest.raises(ValueError, match="not in segments"):
        j.segment("platinum")
    with pytest.raises(ValueError, match="boolean mask"):
        j.select(np.array([True, False]))


def test_concat_renumbers_days_and_offsets():
    a, b = make(day=0), make(day=0)
    both = Journeys.concat([a, b])
    assert len(both) == 8 and both.n_episodes == 12
    assert both.customers["day"].tolist() == [0] * 4 + [1] * 4
    assert both.queue["day"].tolist() == [0, 0, 1, 1]
    assert both.n_days == 2
    both.validate()
    second = both.day(1)
    assert np.array_equal(second.episodes["affect"], b.episodes["affect"])
    assert second.queue["time"].tolist() == [0.0, 3.0]
    with pytest.raises(ValueError, match="at least one"):
        Journeys.concat([])


def test_save_load_roundtrip(tmp_path):
    j = make()
    j.save(tmp_path / "day")
    back = pe.load_journeys(tmp_path / "day.npz")
    for k in CUSTOMER_COLUMNS:
        np.testing.assert_array_equal(back.customers[k], j.customers[k])
    for k in EPISODE_COLUMNS:
        np.testing.assert_array_equal(back.episodes[k], j.episodes[k])
    np.testing.assert_array_equal(back.offsets, j.offsets)
    assert back.segments == j.segments and back.meta == j.meta
    assert not list(tmp_path.glob("*.tmp"))


def test_to_pandas_tables():
    import pandas as pd  # in the test extra: a missing pandas must fail, not skip
    j = make()
    cust = j.to_pandas()
    assert list(cust["segment"]) == ["vip", "gold", "ordinary", "vip"]
    assert cust["counter"].isna().tolist() == [False, True, False, True]
    ep = j.to_pandas("episodes")
    assert len(ep) == j.n_episodes
    assert ep["customer"].tolist() == [0, 0, 2, 2, 2, 3]
    assert isinstance(j.to_pandas("queue"), pd.DataFrame)
    with pytest.raises(ValueError, match="table must be"):
        j.to_pandas("people")


def test_repr_mentions_segments():
    j = make()
    text = repr(j)
    assert "4 customers" in text and "vip" in text
    assert "<table>" in j._repr_html_()
