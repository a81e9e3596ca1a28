"""Bad scenario files: every one refused when loaded, with the field path and the allowed range.

Each case edits the built-in ``default_branch.toml`` (one textual replacement, or an
addition), writes it to a file and loads it. A refused file must give one error that
names the file and matches every pattern of the case (the field path and the allowed
values); nothing is simulated. The cases at the end must load (and simulate).
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import peakend as pe
from peakend.config import (
    MAX_CLOCK_HOURS,
    MAX_FILE_BYTES,
    ConfigError,
    ScenarioValidationError,
    load_scenario,
)

BASE = (pe.config.builtin_dir() / "default_branch.toml").read_text(encoding="utf-8")


def edited(*pairs: tuple[str, str]) -> str:
    """The default branch with each ``old`` replaced by ``new`` (``old`` must occur once)."""
    text = BASE
    for old, new in pairs:
        if old == "":
            text += "\n" + new + "\n"
            continue
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
        text = text.replace(old, new)
    return text


def load_text(tmp_path: Path, text: str, name: str = "branch.toml") -> pe.Scenario:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def refused(tmp_path: Path, text: str, patterns: tuple[str, ...]) -> str:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    message = str(info.value)
    assert "branch.toml" in message, message  # the error names the file
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    return message


R = re.escape

# --------------------------------------------------------------------------- strict types
STRICT = [
    ("rate-string", ("rate = 20 }", 'rate = "20" }'),
     (R("arrivals.profile.0.rate"), "valid number", R("got '20'"), "without quotes",
      R(">= 0, <= 1e+06"))),
    ("share-bool", ("share = 0.05", "share = true"),
     (R("segments.vip.share"), "true/false is not a number", R(">= 0, <= 1"))),
    ("lounge-yes", ("lounge = true\nfarewell", 'lounge = "yes"\nfarewell'),
     (R("segments.vip.lounge"), "valid boolean", R("got 'yes'"))),
    ("lounge-one", ("lounge = true\nfarewell", "lounge = 1\nfarewell"),
     (R("segments.vip.lounge"), "a number is not true/false")),
    ("tellers-float", ("tellers = 4\n", "tellers = 4.0\n"),
     (R("counters.general.tellers"), R("5, not 5.0"))),
    ("tellers-bool", ("tellers = 4\n", "tellers = true\n"),
     (R("counters.general.tellers"), "true/false is not a number")),
    ("tellers-string", ("tellers = 4\n", 'tellers = "4"\n'),
     (R("counters.general.tellers"), "without quotes")),
    ("balk-float", ("balk_queue = 12\n", "balk_queue = 12.5\n"),
     (R("segments.gold.balk_queue"), "whole number")),
    ("expected-wait-string", ("expected_wait = 5.0", 'expected_wait = "5"'),
     (R("segments.gold.expected_wait"), "valid number", R(">= 0, <= 1440"))),
    ("opening-bool", ('opening = "09:00"', "opening = true"),
     (R("opening"), "true/false is not a number", R("<= 1000"))),
    ("after-closing-number", ('after_closing = "serve"', "after_closing = 1"),
     (R("after_closing"), "serve", "dismiss")),
    ("noise-string", ("noise_sd = 0.7", 'noise_sd = "0.7"'),
     (R("segments.gold.noise_sd"), R(">= 0, <= 5"))),
    ("cost-string", ("cost_per_hour = 150", 'cost_per_hour = "150"'),
     (R("counters.vip.cost_per_hour"), "without quotes")),
    ("service-mean-string", ('mean = 12.0, sd = 6.0', 'mean = "12", sd = 6.0'),
     (R("business_types.account.service.mean"), "valid number", R(">= 1e-06"))),
    ("display-bool-string", ("wait_display = false", 'wait_display = "no"'),
     (R("hall.wait_display"), "valid boolean")),
    ("mix-string", ("account = 0.2, wealth = 0.5 }", 'account = 0.2, wealth = "0.5" }'),
     (R("segments.vip.business_mix.wealth"), "valid number")),
    ("currency-number", ('currency = "CNY"', "currency = 7"),
     (R("currency"), "valid string")),
]

# --------------------------------------------------------------------------- ranges
RANGES = [
    ("rate-negative", ("rate = 20 }", "rate = -5 }"),
     (R("arrivals.profile.0.rate"), "greater than or equal to 0")),
    ("share-above-one", ("share = 0.05", "share = 1.5"),
     (R("segments.vip.share"), "less than or equal to 1")),
    ("noise-too-large", ("noise_sd = 0.7", "noise_sd = 6"),
     (R("segments.gold.noise_sd"), "less than or equal to 5")),
    ("expected-wait-day", ("expected_wait = 5.0", "expected_wait = 2000.0"),
     (R("segments.gold.expected_wait"), "less than or equal to 1440")),
    ("appointment-share", ("appointment_share = 0.4", "appointment_share = 1.2"),
     (R("segments.vip.appointment_share"), "less than or equal to 1")),
    ("e-channel-all", ("e_channel_share = 0.10", "e_channel_share = 1.0"),
     (R("business_types.deposit.e_channel_share"), "less than 1")),
    ("advice-share", ("advice_share = 0.5", "advice_share = 0.95"),
     (R("business_types.wealth.advice_share"), R("less than or equal to 0.9"))),
    ("tellers-negative", ("tellers = 4\n", "tellers = -4\n"),
     (R("counters.general.tellers"), "between 0 and 1000", "got -4")),
    ("tellers-too-many", ("tellers = 4\n", "tellers = 1001\n"),
     (R("counters.general.tellers"), "between 0 and 1000")),
    ("shift-count", ("tellers = 4\n", 'tellers = [ { start = "09:00", count = 2000 } ]\n'),
     (R("counters.general.tellers"), "less than or equal to 1000")),
    ("managers-too-many", ("managers = 1", "managers = 101"),
     (R("lobby.managers"), "between 0 and 100")),
    ("cost-negative", ("cost_per_hour = 150", "cost_per_hour = -1"),
     (R("counters.vip.cost_per_hour"), "greater than or equal to 0")),
    ("minutes-per-point-zero", ("minutes_per_point = 5.0", "minutes_per_point = 0"),
     (R("hall.minutes_per_point"), "greater than 0")),
    ("perception-p", ("perception_p = 1.0", "perception_p = 4"),
     (R("hall.perception_p"), "less than or equal to 3")),
    ("crowd-half-zero", ("crowd_half = 5.0", "crowd_half = 0"),
     (R("lounge.crowd_half"), "greater than 0")),
    ("alpha", ("alpha = 0.88", "alpha = 1.5"),
     (R("value_function.alpha"), "less than or equal to 1")),
    ("loss-aversion", ("loss_aversion = 2.25", "loss_aversion = 0.5"),
     (R("value_function.loss_aversion"), "greater than or equal to 1")),
    ("gift-curvature", ("curvature = 0.5", "curvature = 0"),
     (R("gift_utility.curvature"), "greater than 0")),
    ("abandon-minutes", ("[abandonment]\nminutes = 0.25", "[abandonment]\nminutes = 0"),
     (R("abandonment.minutes"), "greater than 0")),
    ("entrance-level", ("level = 6.0\n\n[lobby]", "level = 11\n\n[lobby]"),
     (R("entrance.level"), "less than or equal to 10")),
    ("quality-mean", ("quality = { mean = 8.0, sd = 0.5 }", "quality = { mean = 11, sd = 0.5 }"),
     (R("counters.vip.quality.mean"), "less than or equal to 10")),
    ("quality-sd", ("quality = { mean = 8.0, sd = 0.5 }", "quality = { mean = 8, sd = 6 }"),
     (R("counters.vip.quality.sd"), "less than or equal to 5")),
    ("shares-sum", ("share = 0.05", "share = 0.3"),
     (R("segments.*.share"), "sum to 1", "got 1.25")),
    ("mix-sum", ("account = 0.2, wealth = 0.5 }", "account = 0.2, wealth = 0.1 }"),
     (R("segments.vip.business_mix"), "sum to 1")),
    ("unserved-segment", ('segments = ["vip"]\n', 'segments = ["gold"]\n'),
     ("no staffed counter group serves segment 'vip'",)),
]

# --------------------------------------------------------------------------- distributions
DIST = [
    ("deterministic-zero-service",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "deterministic", value = 0 }'),
     (R("business_types.transfer.service.value"), R("at least 0.01 minutes (0.6 s)"),
      "got 0")),
    ("empirical-zero-service",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "empirical", values = [3, 0, 5] }'),
     (R("business_types.transfer.service.values"), R("at least 0.01 minutes"), "index 1")),
    ("service-mean-tiny",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "exponential", mean = 0.001 }'),
     (R("business_types.transfer.service.mean"), R("at least 0.01 minutes"))),
    ("gamma-service-spread",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "gamma", mean = 4.0, sd = 6.0 }'),
     (R("business_types.transfer.service.sd"), R("sd <= mean = 4 minutes"), "lognormal")),
    ("empirical-weights-inf",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [3, 5], weights = [1, inf] }'),
     (R("business_types.transfer.service.weights.1"), "finite number")),
    ("empirical-weights-nan",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [3, 5], weights = [nan, 1] }'),
     (R("business_types.transfer.service.weights.0"), "finite number")),
    ("empirical-weights-negative",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [3, 5], weights = [1, -1] }'),
     (R("business_types.transfer.service.weights.1"), "greater than or equal to 0")),
    ("empirical-weights-length",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [3, 5], weights = [1] }'),
     (R("business_types.transfer.service.weights"), "length 1 must equal", R("(2)"))),
    ("empirical-weights-zero-sum",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [3, 5], weights = [0, 0] }'),
     (R("business_types.transfer.service.weights"), "positive sum")),
    ("empirical-empty",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "empirical", values = [] }'),
     (R("business_types.transfer.service.values"), "at least 1 item")),
    ("empirical-value-inf",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "empirical", values = [3, inf] }'),
     (R("business_types.transfer.service.values.1"), "finite number")),
    ("lognormal-overflow",
     ('{ kind = "lognormal", mean = 5.0, sd = 3.0 }',
      '{ kind = "lognormal", mean = 1e-300, sd = 1e6 }'),
     (R("business_types.deposit.service.mean"), R("greater than or equal to 0.000001"))),
    ("lognormal-spread",
     ('{ kind = "lognormal", mean = 5.0, sd = 3.0 }',
      '{ kind = "lognormal", mean = 5.0, sd = 1e5 }'),
     (R("business_types.deposit.service.sd"), R("at most 100 * mean = 500 minutes"))),
    ("gamma-shape-small",
     ('renege = { kind = "lognormal", mean = 40.0, sd = 15.0 }',
      'renege = { kind = "gamma", mean = 40.0, sd = 500 }'),
     (R("segments.vip.renege.sd"), R("sqrt(10) * mean = 126.491"), "shape")),
    ("gamma-shape-huge",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "gamma", mean = 4.0, sd = 1e-12 }'),
     (R("business_types.transfer.service.sd"), R("between 1e-06 * mean"))),
    ("exponential-zero",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "exponential", mean = 0 }'),
     (R("business_types.transfer.service.mean"), R("greater than or equal to 0.000001"))),
    ("exponential-inf",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "exponential", mean = inf }'),
     (R("business_types.transfer.service.mean"), "finite number")),
    ("unknown-kind",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "pareto", mean = 4.0 }'),
     (R("business_types.transfer.service"), "exponential", "empirical")),
    ("missing-sd",
     ('{ kind = "lognormal", mean = 5.0, sd = 3.0 }', '{ kind = "lognormal", mean = 5.0 }'),
     (R("business_types.deposit.service.sd"), "Field required")),
    ("misspelt-sd",
     ('{ kind = "lognormal", mean = 5.0, sd = 3.0 }',
      '{ kind = "lognormal", mean = 5.0, sd = 3.0, sdd = 1 }'),
     (R("business_types.deposit.service.sdd"), R("did you mean 'sd'?"), R("kind, mean, sd"))),
    ("renege-negative",
     ('renege = { kind = "lognormal", mean = 40.0, sd = 15.0 }',
      'renege = { kind = "deterministic", value = -1 }'),
     (R("segments.vip.renege.value"), "greater than or equal to 0")),
]

# --------------------------------------------------------------------------- memory rules
MEMORY = [
    ("window", ('rule = "peak_end"', 'rule = "peak_end"\nparams = { window = 3 }'),
     (R("memory.params.window"), R("did you mean 'end_window'?"), "its parameters: end_window")),
    ("trend-part-above", ('rule = "peak_end"', 'rule = "trend"\nparams = { part = 1.5 }'),
     (R("memory.params.part"), R("a finite number in (0, 1]"), "1.5")),
    ("trend-part-zero", ('rule = "peak_end"', 'rule = "trend"\nparams = { part = 0 }'),
     (R("memory.params.part"), R("(0, 1]"))),
    ("trend-horizon", ('rule = "peak_end"', 'rule = "trend"\nparams = { horizon = -1 }'),
     (R("memory.params.horizon"), R("[0, inf) (minutes)"))),
    ("recency-nan", ('rule = "peak_end"', 'rule = "recency"\nparams = { decay = nan }'),
     (R("memory.params.decay"), "finite number")),
    ("recency-negative", ('rule = "peak_end"', 'rule = "recency"\nparams = { decay = -0.1 }'),
     (R("memory.params.decay"), R("[0, inf) (per minute)"))),
    ("end-window-zero", ('rule = "peak_end"', 'rule = "end"\nparams = { end_window = 0 }'),
     (R("memory.params.end_window"), R("(0, inf) (minutes)"))),
    ("peak-end-weight", ('rule = "peak_end"', 'rule = "peak_end"\nparams = { w_peak = 1 }'),
     (R("memory.params.w_peak"), "rule 'peak_end' has no parameter 'w_peak'")),
    ("mean-has-none", ('rule = "peak_end"', 'rule = "mean"\nparams = { decay = 1 }'),
     (R("memory.params.decay"), "its parameters: none")),
    ("weights-all-zero",
     ('rule = "peak_end"', 'rule = "weighted_peak_end"\nparams = { w_peak = 0, w_end = 0 }'),
     (R("memory.params"), "at least one of w_peak, w_end, w_mean > 0")),
    ("best-worst-zero",
     ('rule = "peak_end"',
      'rule = "best_worst_end"\nparams = { w_best = 0, w_worst = 0, w_end = 0 }'),
     (R("memory.params"), "at least one of w_best, w_worst, w_end > 0")),
    ("unknown-rule", ('rule = "peak_end"', 'rule = "median"'),
     (R("memory.rule"), "peak_end", "recency")),
    ("param-string", ('rule = "peak_end"', 'rule = "recency"\nparams = { decay = "0.2" }'),
     (R("memory.params.decay"), "valid number")),
]

# --------------------------------------------------------------------------- clock and size
CLOCK = [
    ("closing-9999", ('closing = "17:00"', 'closing = "9999:00"'),
     (R("closing"), R("less than or equal to 1000"))),
    ("closing-hours", ('closing = "17:00"', "closing = 1001"),
     (R("closing"), R("less than or equal to 1000"))),
    ("closing-minutes", ('closing = "17:00"', 'closing = "17:75"'),
     (R("closing"), "'HH:MM'")),
    ("closing-text", ('closing = "17:00"', 'closing = "5pm"'),
     (R("closing"), "'HH:MM' or hours as a number")),
    ("closing-before-opening", ('closing = "17:00"', 'closing = "08:00"'),
     (R("closing"), R("after opening (09:00)"))),
    ("block-after-closing", ('{ start = "16:00", rate = 26 }', '{ start = "18:00", rate = 26 }'),
     (R("arrivals.profile"), R("before closing (17:00)"))),
    ("blocks-decrease", ('{ start = "10:00", rate = 28 }', '{ start = "08:00", rate = 28 }'),
     (R("arrivals.profile"), "strictly increase")),
    ("shift-outside-hours",
     ("tellers = 4\n", 'tellers = [ { start = "08:00", count = 4 } ]\n'),
     (R("counters.general.tellers"), R("within opening hours [09:00, 17:00)"))),
    ("too-many-customers",
     [('closing = "17:00"', 'closing = "20:00"'), ("rate = 26 }", "rate = 800000 }")],
     (R("arrivals.profile"), "about 3,200,\\d{3} expected arrivals per day",
      R("limits.max_customers_per_day = 2,000,000"), R("[limits] max_customers_per_day = 3"))),
    ("limit-lowered", ("", "[limits]\nmax_customers_per_day = 100"),
     (R("limits.max_customers_per_day = 100"), "about 253 expected arrivals")),
    ("limit-zero", ("", "[limits]\nmax_customers_per_day = 0"),
     (R("limits.max_customers_per_day"), "greater than or equal to 1")),
    ("limit-string", ("", '[limits]\nmax_customers_per_day = "5000000"'),
     (R("limits.max_customers_per_day"), "without quotes")),
]

# --------------------------------------------------------------------------- unknown names
UNKNOWN = [
    ("top-level", ('currency = "CNY"', 'currency = "CNY"\ntellerz = 4'),
     (R("tellerz"), "unknown field 'tellerz'", "fields here: name, description")),
    ("segment-field", ("value = 50000", 'value = 50000\ncolour = "gold"'),
     (R("segments.vip.colour"), "unknown field 'colour'", "share, business_mix")),
    ("hall-field", ("distraction = false", "distractoin = false"),
     (R("hall.distractoin"), R("did you mean 'distraction'?"))),
    ("counter-field", ('discipline = "dedicated"', 'disciplin = "dedicated"'),
     (R("counters.vip.disciplin"), R("did you mean 'discipline'?"))),
    ("table-name", ("[hall]", "[hal]"), (R("hal"), R("did you mean 'hall'?"))),
    ("journey", ("", 'journey = ["entrance", "coffee", "waiting", "service"]'),
     (R("journey"),)),
    ("expectation-key", ("information = 5, service = 7", "informaton = 5, service = 7"),
     (R("segments.gold.expectations.informaton"), "entrance")),
    ("mix-business", ("account = 0.2, wealth = 0.5 }", "account = 0.2, welth = 0.5 }"),
     (R("segments.vip.business_mix"), "unknown business types", "welth")),
    ("counter-segment", ('segments = ["vip"]\n', 'segments = ["vip", "platinum"]\n'),
     (R("counters.vip.segments"), "platinum", "allowed")),
    ("priority-segment",
     ('discipline = "fifo"', 'discipline = "priority"\npriority = ["platinum"]'),
     (R("counters.general.priority"), "platinum")),
]

BAD_SCENARIO_FILES = STRICT + RANGES + DIST + MEMORY + CLOCK + UNKNOWN


@pytest.mark.parametrize(
    ("change", "patterns"),
    [pytest.param(change, patterns, id=name) for name, change, patterns in BAD_SCENARIO_FILES],
)
def test_bad_scenario_file_is_refused_naming_the_field(tmp_path, change, patterns):
    pairs = change if isinstance(change, list) else [change]
    message = refused(tmp_path, edited(*pairs), patterns)
    assert "Traceback" not in message


def test_validation_errors_are_also_pydantic_errors(tmp_path):
    with pytest.raises(ScenarioValidationError) as info:
        load_text(tmp_path, edited(("tellers = 4\n", "tellers = -4\n")))
    import pydantic

    assert isinstance(info.value, pydantic.ValidationError)
    assert isinstance(info.value, ValueError)
    assert info.value.source.endswith("branch.toml")
    assert info.value.problems == [
        "counters.general.tellers: must be between 0 and 1000, got -4"
    ]


# --------------------------------------------------------------------------- files
def _write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "branch.toml"
    path.write_bytes(data)
    return path


FILE_CASES = [
    ("undecodable", lambda: BASE.encode() + b"\n# \xff\xfe\xfa\n",
     ("not UTF-8 text", "undecodable byte 0xff", r"line 14\d", "save it as UTF-8")),
    ("latin-1", lambda: BASE.replace("Retail", "Détail").encode("latin-1"),
     ("not UTF-8 text", "byte 0xe9", "line 7")),
    ("utf-16", lambda: BASE.encode("utf-16"), ("UTF-16 encoded", "save it as UTF-8")),
    ("utf-16-be", lambda: BASE.encode("utf-16-be").join([b"\xfe\xff", b""]),
     ("UTF-16 encoded",)),
    ("invalid-toml", lambda: b"[segments\nshare = 1\n", ("invalid TOML", "line 1")),
    ("duplicate-key", lambda: ('name = "again"\n' + BASE).encode(),
     ("invalid TOML", "Cannot overwrite a value")),
    ("deep-arrays", lambda: b"a = " + b"[" * 5000 + b"]" * 5000,
     ("nested more than 32 levels deep",)),
    ("deep-inline-tables", lambda: b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000,
     ("nested more than 32 levels deep",)),
    ("deep-dotted-keys", lambda: ".".join(["a"] * 5000).encode() + b" = 1\n",
     ("nested more than 32 levels deep",)),
    ("deep-headers", lambda: ("[" + ".".join(["a"] * 5000) + "]\n").encode(),
     ("nested more than 32 levels deep",)),
    ("empty", lambda: b"", (R("opening"), "Field required", R("counters"))),
    ("not-a-table-value", lambda: b"segments = 5\n" + BASE.split("\n", 1)[1].encode()[:0],
     (R("segments"), "valid dictionary")),
]


@pytest.mark.parametrize(
    ("make", "patterns"),
    [pytest.param(make, patterns, id=name) for name, make, patterns in FILE_CASES],
)
def test_unreadable_file_gives_one_clear_error(tmp_path, make, patterns):
    path = _write_bytes(tmp_path, make())
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)) or str(path) in message.splitlines()[0]
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    assert len(message.splitlines()) <= 2 * 20 + 2  # never millions of lines


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "junk.toml"
    with path.open("wb") as fh:
        line = b"junk_key_%08d = 1\n"
        fh.write(b"".join(line % i for i in range(2_000_000)))
    assert path.stat().st_size > 40_000_000

    def no_reading(*args, **kwargs):  # pragma: no cover - must not be reached
        raise AssertionError("the file was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    monkeypatch.setattr(Path, "open", no_reading)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message and f"more than the limit of {MAX_FILE_BYTES:,} bytes" in message
    assert "max_bytes=" in message


def test_junk_keys_under_the_cap_show_20_errors_and_a_count(tmp_path):
    lines = [f"junk_{i} = {i}" for i in range(40_000)]  # in the file's last table, [memory]
    path = tmp_path / "branch.toml"
    path.write_text(BASE + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size < MAX_FILE_BYTES
    with pytest.raises(ScenarioValidationError) as info:
        load_scenario(path)
    message = str(info.value)
    assert info.value.error_count() == 20
    assert info.value.n_problems == 40_000
    assert "39,980 more errors not shown" in message
    assert info.value.problems[0].startswith("memory.junk_0: unknown field 'junk_0'")
    assert "fields here: rule, params" in info.value.problems[0]
    assert str(path) in message.splitlines()[0]
    assert len(message.splitlines()) < 100


def test_max_bytes_reads_a_larger_file(tmp_path):
    padding = "# " + "x" * 1000 + "\n"
    path = tmp_path / "big.toml"
    path.write_text(BASE + padding * 2100, encoding="utf-8")
    with pytest.raises(ConfigError, match="more than the limit"):
        load_scenario(path)
    assert load_scenario(path, max_bytes=3_000_000).name == "default_branch"


def test_a_directory_or_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="is a directory"):
        load_scenario(tmp_path)
    with pytest.raises(FileNotFoundError, match="name_or_path"):
        load_scenario(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- must succeed
GOOD = [
    ("int-for-float", ("minutes_per_point = 5.0", "minutes_per_point = 5"),
     lambda s: s.hall.minutes_per_point == 5.0),
    ("patience-zero",
     ('renege = { kind = "lognormal", mean = 40.0, sd = 15.0 }',
      'renege = { kind = "deterministic", value = 0 }'),
     lambda s: s.segments["vip"].renege.value == 0.0),
    ("weights-overflow-mean-50-50",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [2, 6], weights = [1e308, 1e308] }'),
     lambda s: s.business_types["transfer"].service.mean == pytest.approx(4.0)),
    ("weights-unequal-huge",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
      '{ kind = "empirical", values = [2, 6], weights = [1.5e308, 0.5e308] }'),
     lambda s: s.business_types["transfer"].service.mean == pytest.approx(3.0)),
    ("gamma-service-at-the-bound",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "gamma", mean = 4.0, sd = 4.0 }'),
     lambda s: s.business_types["transfer"].service.shape == 1.0),
    ("gamma-patience-spread",
     ('renege = { kind = "lognormal", mean = 40.0, sd = 15.0 }',
      'renege = { kind = "gamma", mean = 40.0, sd = 120 }'),
     lambda s: s.segments["vip"].renege.shape > 0.1),
    ("short-service",
     ('{ kind = "gamma", mean = 4.0, sd = 2.0 }', '{ kind = "deterministic", value = 0.01 }'),
     lambda s: s.business_types["transfer"].service.mean == 0.01),
    ("lognormal-at-the-bound",
     ('{ kind = "lognormal", mean = 5.0, sd = 3.0 }',
      '{ kind = "lognormal", mean = 5.0, sd = 500 }'),
     lambda s: math.isfinite(s.business_types["deposit"].service.mu)),
    ("utf-8-bom", None, lambda s: s.name == "default_branch"),
    ("long-day", ('closing = "17:00"', 'closing = "999:00"'),
     lambda s: s.open_minutes == pytest.approx((999 - 9) * 60)),
    ("limit-raised",
     ("rate = 45 }", "rate = 400000 }"),
     None),
    ("trend-params", ('rule = "peak_end"', 'rule = "trend"\nparams = { part = 1, horizon = 0 }'),
     lambda s: s.memory.params == {"part": 1.0, "horizon": 0.0}),
    ("weighted-one-weight",
     ('rule = "peak_end"', 'rule = "weighted_peak_end"\nparams = { w_peak = 0, w_end = 1 }'),
     lambda s: s.memory.rule == "weighted_peak_end"),
    ("end-window", ('rule = "peak_end"', 'rule = "peak_end"\nparams = { end_window = 3 }'),
     lambda s: s.memory.params["end_window"] == 3.0),
]


@pytest.mark.parametrize(
    ("change", "check"), [pytest.param(c, k, id=n) for n, c, k in GOOD]
)
def test_good_scenario_files_load_and_simulate(tmp_path, change, check):
    if change is None:  # a UTF-8 byte-order mark is fine
        path = _write_bytes(tmp_path, b"\xef\xbb\xbf" + BASE.encode())
        s = load_scenario(path)
    elif check is None:  # a big branch, allowed by raising the limit deliberately
        text = edited(change, ("", "[limits]\nmax_customers_per_day = 500_000"))
        s = load_text(tmp_path, text)
        assert s.limits.max_customers_per_day == 500_000
        return  # too big to simulate in a unit test
    else:
        s = load_text(tmp_path, edited(change))
    assert check(s)
    if s.open_minutes > 600:
        return  # a 990-hour day: loading is what is tested here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        day = pe.simulate(s, seed=3)
    assert len(day) > 0
    assert np.all(np.isfinite(day.customers["remembered"]))


def test_overflowing_weights_sample_50_50(tmp_path):
    s = load_text(tmp_path, edited(
        ('{ kind = "gamma", mean = 4.0, sd = 2.0 }',
         '{ kind = "empirical", values = [2, 6], weights = [1e308, 1e308] }')))
    from peakend.sim.sampling import ppf

    u = np.random.default_rng(1).random(20_000)
    draws = ppf(s.business_types["transfer"].service, u)
    share = np.mean(draws == 2.0)
    assert set(np.unique(draws)) == {2.0, 6.0}
    assert abs(share - 0.5) < 4 * math.sqrt(0.25 / u.size)


def test_the_longest_day_is_documented_and_allowed():
    assert MAX_CLOCK_HOURS == 1000.0
    text = (Path(__file__).parent.parent / "docs" / "reference" / "scenario.md").read_text()
    assert "from 0 to **1000**" in text
    s = pe.scenarios.mmc(0.01, 0.5, 1, 1000.0)
    assert s.closing == 1000.0
    with pytest.raises(ValueError, match=R("hours: must be in (0, 1000]")):
        pe.scenarios.mmc(0.01, 0.5, 1, 1000.5)


def test_validation_messages_of_a_file_error_are_the_problems(tmp_path):
    from peakend.experiment._policy import validation_messages

    with pytest.raises(ScenarioValidationError) as info:
        load_text(tmp_path, edited(("rate = 20 }", 'rate = "20" }')))
    lines = validation_messages(info.value)
    assert lines == info.value.problems
    assert lines[0].count("(got '20')") == 1
