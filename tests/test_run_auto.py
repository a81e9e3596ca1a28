"""pe.run(replications="auto") hands over to run_auto and equals a fixed-size run."""

import pytest

import peakend as pe


def _mmc():
    return pe.scenarios.mmc(1.0, 0.3, 4, 8)


def test_run_auto_equals_a_run_with_the_final_count():
    auto = pe.run(_mmc(), replications="auto", half_width=0.4, progress=False, seed=3)
    n = auto.auto.n_replications
    assert auto.n_replications == n
    assert all(h <= 0.4 for h in auto.auto.half_widths.values())
    fixed = pe.run(_mmc(), replications=n, progress=False, seed=3)
    assert auto == fixed


@pytest.mark.parametrize("option", [{"half_width": 0.1}, {"metric": "all.wait_mean"},
                                    {"relative": True}])
def test_auto_options_without_auto_are_refused(option):
    with pytest.raises(TypeError, match=f"{next(iter(option))} apply only with "
                                        "replications='auto'"):
        pe.run(_mmc(), replications=5, progress=False, **option)


def test_a_misspelt_auto_is_a_clear_error():
    with pytest.raises(TypeError, match="replications"):
        pe.run(_mmc(), replications="atuo", progress=False)
