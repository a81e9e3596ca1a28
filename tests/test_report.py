"""The HTML report: content, self-containment, and rendering in a real (headless) browser."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import peakend as pe
from peakend import report

LUNCH = {"counters": {"general": {"tellers": [
    {"start": "09:00", "count": 4}, {"start": "11:30", "count": 5},
    {"start": "14:00", "count": 4}]}}}
GIFT = {"segments": {"ordinary": {"farewell": {
    "enabled": True, "minutes": 0.5, "level": 7.0, "plain_level": 5.0, "gift_size": 1.0,
    "gift_cost": 3.0}}}}


@pytest.fixture(scope="module")
def results():
    scenario = pe.load_scenario("default_branch")
    policies = [pe.Policy("baseline", description="as configured"),
                pe.Policy("lunch_teller", LUNCH, "one more teller at lunch"),
                pe.Policy("farewell_gift", GIFT, "a small gift for ordinary customers")]
    return pe.run(scenario, policies, replications=6, seed=3, progress=False)


@pytest.fixture(scope="module")
def page(results, tmp_path_factory):
    path = report.write_report(results, tmp_path_factory.mktemp("report") / "report")
    return path, path.read_text(encoding="utf-8")


def test_write_report_writes_one_html_file_with_every_section(results, page):
    path, text = page
    assert path.name == "report.html" and path.is_file()
    assert text.startswith("<!DOCTYPE html>")
    for anchor in ("what", "findings", "policies", "comparison", "cost", "rules", "headline",
                   "scenario", "reproduce"):
        assert f"id='{anchor}'" in text, anchor
    # what was compared and why: every policy with its description
    for spec in results.policy_specs:
        assert f"<strong>{spec['name']}</strong>" in text
        assert html.escape(spec["description"]) in text
    assert "common random numbers" in text
    # the figures: forest plot, cost-value with frontier, rules bump chart, as inline SVG
    figures = re.findall(r'<figure id="figure-(\w+)" class="figure"><svg', text)
    assert figures == ["comparison", "pareto", "rules"]
    # seed, replications and version
    assert f"<td class=\"text\">{results.seed}</td>" in text
    assert f"<td class=\"text\">{results.n_replications}</td>" in text
    assert f"peakend {results.version}" in text
    assert "CNY" in text  # the scenario's currency on cost


def test_report_comparison_table_marks_holm_significance(results, page):
    _, text = page
    table = results.compare("baseline", "peak_end")
    n_better = int(((table["p_holm"] < 0.05) & (table["difference"] > 0)).sum())
    n_worse = int(((table["p_holm"] < 0.05) & (table["difference"] < 0)).sum())
    assert text.count('<tr class="better">') == n_better
    assert text.count('<tr class="worse">') == n_worse
    assert n_better > 0  # the lunch teller and the gift help somebody at 6 replications


def test_report_lists_every_scenario_field_with_its_meaning(results, page):
    _, text = page
    rows = dict(re.findall(r'<tr><td class="text"><code>([\w.\[\]-]+)</code></td>'
                           r'<td class="text">.*?</td><td class="text">(.*?)</td></tr>', text))
    paths = [p for p, _ in report._flatten(results.scenario)]
    assert set(paths) <= set(rows) and len(paths) > 80
    assert "minutes" in rows["segments.vip.expected_wait"]
    assert "per hour" in rows["counters.general.cost_per_hour"] or "hour" in rows[
        "counters.general.cost_per_hour"]
    assert rows["hall.perception_k"]  # nested model fields are described too
    described = sum(bool(v) for v in rows.values())
    assert described >= 0.9 * len(rows)


def test_report_loads_nothing_from_the_network(page):
    _, text = page
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"url\((?!#)", text)  # only references inside the page


def test_report_rejects_a_bad_baseline_before_writing(results, tmp_path):
    target = tmp_path / "r.html"
    with pytest.raises(ValueError, match="baseline"):
        report.write_report(results, target, baseline="nope")
    with pytest.raises(ValueError, match="confidence"):
        report.write_report(results, target, confidence=1.5)
    assert not target.exists()


def test_report_of_a_single_policy_says_there_is_nothing_to_compare(tmp_path):
    one = pe.run(pe.scenarios.mmc(1.8, 0.5, 4, 2), replications=3, seed=1, progress=False)
    text = report.render_report(one, title="M/M/4")
    assert "<title>M/M/4</title>" in text and "nothing to compare" in text
    assert "<figure" not in text


# ------------------------------------------------------------ in a real browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("chromium is missing under CI=true: .ci/run installs Debian's chromium "
                    "package before the tests")
    pytest.skip("chromium is not installed (apt-get install chromium): the report was not "
                "opened in a browser")


_PROBE = """<script>
window.__errors = [];
window.addEventListener("error", function (e) {
  var t = e.target;
  window.__errors.push(t && t !== window ? "failed to load " + t.tagName + " "
                       + (t.src || t.href || "") : String(e.message));
}, true);
console.error = function () {
  window.__errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
};
window.addEventListener("load", function () {
  var figures = Array.prototype.map.call(document.querySelectorAll("figure"), function (f) {
    var g = f.querySelector("svg, img");
    var r = g ? g.getBoundingClientRect() : {width: 0, height: 0};
    return {id: f.id, width: r.width, height: r.height,
            shapes: g ? g.querySelectorAll("path, use").length : 0};
  });
  var out = document.createElement("pre");
  out.id = "__probe";
  out.textContent = JSON.stringify({errors: window.__errors, figures: figures,
                                    title: document.title});
  document.body.appendChild(out);
});
</script>"""


def _open_in_chromium(chromium: str, page: str, tmp_path, *, screenshot=None) -> dict:
    """Load ``page`` (HTML text) with a probe script first in <head>; return what it saw."""
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>\n" + _PROBE, 1), encoding="utf-8")
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--no-first-run", "--host-resolver-rules=MAP * ~NOTFOUND",
              "--virtual-time-budget=10000", "--window-size=1280,2400"]
    out = subprocess.run([*common, "--dump-dom", probed.as_uri()], capture_output=True,
                         text=True, timeout=120, check=True)
    found = re.search(r'<pre id="__probe">(.*?)</pre>', out.stdout, flags=re.DOTALL)
    assert found, f"the page did not finish loading; chromium said: {out.stderr[-2000:]}"
    if screenshot is not None:
        subprocess.run([*common, f"--screenshot={screenshot}", probed.as_uri()],
                       capture_output=True, timeout=120, check=True)
    return json.loads(html.unescape(found.group(1)))


def test_report_renders_in_headless_chromium_without_errors(results, page, tmp_path):
    chromium = _chromium()
    _, text = page
    shot = tmp_path / "report.png"
    seen = _open_in_chromium(chromium, text, tmp_path, screenshot=shot)
    assert seen["errors"] == []
    assert seen["title"] == "Policy experiment: default_branch"
    assert [f["id"] for f in seen["figures"]] == ["figure-comparison", "figure-pareto",
                                                  "figure-rules"]
    for figure in seen["figures"]:  # every figure is laid out at a real size and drawn
        assert figure["width"] > 300 and figure["height"] > 200, figure
        assert figure["shapes"] > 50, figure
    # the screenshot shows the page: not blank, and the report's blue is on it
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[0] >= 2000 and pixels.shape[1] >= 1200
    assert pixels.std() > 0.05
    blue = np.array([0x00, 0x72, 0xB2]) / 255
    assert (np.abs(pixels - blue).max(axis=-1) < 0.05).sum() > 100


def test_the_browser_probe_can_see_a_broken_page(results, tmp_path):
    """The check above could fail: a missing image and a script error are both reported."""
    chromium = _chromium()
    broken = ("<!DOCTYPE html><html><head><title>x</title></head><body>"
              "<figure id='f'><img src='missing.png'></figure>"
              "<script>undefinedFunction();</script></body></html>")
    seen = _open_in_chromium(chromium, broken, tmp_path)
    assert any("failed to load IMG" in e for e in seen["errors"])
    assert any("undefinedFunction" in e for e in seen["errors"])
    assert seen["figures"][0]["shapes"] == 0


def test_report_numbers_are_formatted_for_reading():
    assert report._fmt(0.456, "difference") == "0.46"
    assert report._fmt(-6e-05, "value_difference") == "0.00"  # no "-0.00", no "6e-05"
    assert report._fmt(1234.6, "cost") == "1,235"
    assert report._fmt(3e-6, "p_holm") == "< 0.0001" and report._fmt(0.0123, "p_a") == "0.012"
    assert report._fmt(float("nan"), "low") == "–"
    assert report._fmt(np.True_, "significant") == "yes"
    assert report._fmt("<b>", "policy") == "&lt;b&gt;"  # names are escaped
