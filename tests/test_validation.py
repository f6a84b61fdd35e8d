"""The validation command end to end (a small subset of checks into a tmp dir), a check made to
fail on purpose with a perturbed reference rate, and the benchmark export."""
import json

import numpy as np
import pytest

from piqs_squeeze.cli import main
from piqs_squeeze.validation.core import load_checks, run_checks
from piqs_squeeze.validation.registry import REGISTRY, Context, Entry
from piqs_squeeze.validation.report import write_report

FAST = ["exact_vs_piqs_liouvillian", "exact_vs_piqs_dynamics", "cumulant_exact_n2", "claim_early_dip"]


def test_validate_subset_writes_report(tmp_path, capsys):
    out = tmp_path / "rep"
    rc = main(["validate", "--quick", "--out", str(out), "--only", *FAST])
    text = capsys.readouterr().out
    assert rc == 0
    for name in FAST[:-1]:
        assert f"PASSED   {name}" in text
    # a paper claim is reproduced / differs / not reproduced, never PASSED
    assert "REPRODUCED  claim_early_dip" in text and "PASSED   claim_early_dip" not in text
    doc = json.loads((out / "report.json").read_text())
    assert doc["summary"]["ok"] and doc["summary"]["PASSED"] == len(FAST) - 1
    assert doc["summary"]["REPRODUCED"] == 1
    checks = {c["name"]: c for c in doc["checks"]}
    assert set(checks) == set(FAST)
    liou = checks["exact_vs_piqs_liouvillian"]
    # the headline number is really the largest recorded deviation, and below the tolerance
    assert liou["value"] == pytest.approx(max(max(liou["numbers"]["max_rel_entry_dev"].values()),
                                              max(liou["numbers"]["off_block_coupling"].values())))
    assert 0 < liou["value"] <= liou["tolerance"]
    md = (out / "report.md").read_text()
    assert "ALL CHECKS PASSED" in md and "| **PASSED** |" in md and "| **REPRODUCED** |" in md
    # the value column says what the claim's number is
    assert "spread of the dip's depth over gamma_s = 0..8 (dB)" in md
    pngs = list((out / "plots").glob("*.png"))
    assert {p.stem for p in pngs} == {"exact_vs_piqs_dynamics", "claim_early_dip"}
    for p in pngs:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000
        assert f"plots/{p.name}" in md


def test_perturbed_reference_rate_fails(tmp_path, capsys):
    # collective emission of the qutip.piqs reference off by 0.1%: far above piqs' 1e-7 precision
    out = tmp_path / "bad"
    rc = main(["validate", "--out", str(out), "--only", "exact_vs_piqs_liouvillian", "claim_early_dip",
               "--perturb", "gamma=1.001"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "FAILED   exact_vs_piqs_liouvillian" in text
    doc = json.loads((out / "report.json").read_text())
    checks = {c["name"]: c for c in doc["checks"]}
    assert checks["exact_vs_piqs_liouvillian"]["status"] == "FAILED"
    assert checks["exact_vs_piqs_liouvillian"]["value"] > 1e-4
    assert checks["claim_early_dip"]["status"] == "REPRODUCED"  # no reference model: unaffected
    assert not doc["summary"]["ok"] and doc["meta"]["perturb"] == {"gamma": 1.001}
    md = (out / "report.md").read_text()
    assert "**FAILED**" in md and "Testing perturbation" in md


def test_skipped_and_crashing_checks_are_not_passes(tmp_path, monkeypatch):
    load_checks()

    def boom(ctx):
        raise RuntimeError("kaput")

    monkeypatch.setitem(REGISTRY, "boom", Entry("boom", boom, 0, "crashes", ()))
    monkeypatch.setitem(REGISTRY, "needs_nothing", Entry("needs_nothing", boom, 0, "x", ("nomethod",)))
    ctx = Context(out=tmp_path)
    res = run_checks(ctx, only=["boom", "needs_nothing"], progress=False)
    assert [r.status for r in res] == ["ERROR", "SKIPPED"]
    assert res[1].passed is None and res[0].passed is False
    md, js = write_report(res, ctx, 0.0)
    assert "kaput" in md.read_text() and json.loads(js.read_text())["summary"]["ok"] is False


def test_bad_arguments():
    assert main(["validate", "--only", "no_such_check"]) == 2
    assert main(["validate", "--perturb", "gamma"]) == 2
    assert main(["validate", "--perturb", "bogus=2"]) == 2
    with pytest.raises(ValueError, match="mode"):
        Context(mode="slow")


def test_every_check_has_a_title_and_group():
    load_checks()
    assert len(REGISTRY) >= 14
    for e in REGISTRY.values():
        assert e.title and 1 <= e.group <= 7


def test_export_benchmarks(tmp_path):
    import piqs_squeeze as ps
    from piqs_squeeze.validation import bruteforce
    from piqs_squeeze.validation.export import benchmark_models, export_benchmarks

    models = [m for m in benchmark_models() if m[1].N == 3]
    paths = export_benchmarks(tmp_path, models=models, progress=False)
    assert len(paths) == 2 * len(models) + 1
    name, model, times = models[-1]  # every rate on
    doc = json.loads((tmp_path / f"{name}.json").read_text())
    assert ps.Model.from_dict(doc["model"]) == model
    assert doc["initial_state"]["theta"] == pytest.approx(np.pi / 2)
    # the exported data agree with the independent 2^N reference (integrators at <= 1e-10)
    bf = bruteforce.evolve(model, np.array(doc["times"]), ps.css())
    np.testing.assert_allclose(np.array(doc["mean"]), bf.mean, atol=1e-8)
    np.testing.assert_allclose(np.array(doc["second"]), bf.second, atol=1e-8)
    rows = np.loadtxt(tmp_path / f"{name}.csv", delimiter=",", comments="#", skiprows=6)
    np.testing.assert_allclose(rows[:, 1:4], np.array(doc["mean"]), rtol=0, atol=0)
    np.testing.assert_allclose(rows[:, 10], np.array(doc["xi2"]), rtol=1e-15)


def test_claim_verdicts_and_summary():
    """A claim that holds in part DIFFERS, the others are REPRODUCED / NOT REPRODUCED; claims
    never make the run fail, failures of checks do."""
    from piqs_squeeze.validation.registry import CheckResult, claim_verdict
    from piqs_squeeze.validation.report import summary, summary_line

    assert claim_verdict(True) == "REPRODUCED"
    assert claim_verdict(True, differs=True) == "DIFFERS"
    assert claim_verdict(False, differs=True) == "DIFFERS"
    assert claim_verdict(False) == "NOT REPRODUCED"
    res = [CheckResult("a", status="PASSED"), CheckResult("b", status="DIFFERS"),
           CheckResult("c", status="NOT REPRODUCED")]
    s = summary(res)
    assert s["ok"] and (s["PASSED"], s["DIFFERS"], s["NOT REPRODUCED"]) == (1, 1, 1)
    assert res[1].passed is None and res[1].is_claim and not res[0].is_claim
    assert summary_line(s) == ("1 passed, 0 failed, 0 errors, 0 skipped; paper claims: 0 reproduced, "
                               "1 differ, 1 not reproduced")
    assert not summary(res + [CheckResult("d", status="FAILED")])["ok"]
