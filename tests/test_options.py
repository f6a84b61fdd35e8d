"""Method options: one options object per method and kind, checked before anything is computed,
discoverable (``method_options``, ``run --options``, ``--help``), recorded whole in Result.options;
diagnostics in Result.stats; the registry loads methods only when they are used."""
import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

import piqs_squeeze as ps
from piqs_squeeze.cli import main
from piqs_squeeze.methods import registry
from piqs_squeeze.result import Result

KINDS = [(m, k) for m in registry.METHODS for k in registry.KINDS if registry.provides(m, k)]
T = np.linspace(0.0, 0.2, 3)
COLLECTIVE = ps.Model(6, omega=1.0, chi=1.0)  # every method runs it (carmichael: collective only)


def _call(method, kind, model=COLLECTIVE, **kw):
    if kind == "evolve":
        return ps.evolve(model, T, method=method, **kw)
    if kind == "steady_state":
        return ps.steady_state(model, method=method, **kw)
    if kind in ("correlation", "g2", "emission_spectrum"):
        grid = [0.0] if kind == "emission_spectrum" else [0.0, 0.5]  # frequencies or delays
        return getattr(ps, kind)(model, grid, method=method, **kw)
    return ps.liouvillian_spectrum(model, k=2, method=method, **kw)


@pytest.fixture
def nothing_computed(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a method was called")
    monkeypatch.setattr(registry, "call", refuse)


def test_kinds_cover_every_method():
    assert {m for m, _ in KINDS} == set(registry.METHODS)
    assert ("exact", "liouvillian_spectrum") in KINDS and ("carmichael", "steady_state") in KINDS


@pytest.mark.parametrize("method, kind", KINDS)
def test_misspelled_option_from_python_fails_before_computing(method, kind, nothing_computed):
    cls = registry.options_class(method, kind)
    good = cls.names()[0]
    bad = good + "x"
    with pytest.raises(ps.UnknownOptionError) as err:
        _call(method, kind, **{bad: 1})
    msg = str(err.value)
    assert repr(bad) in msg and f"did you mean {good!r}" in msg and method in msg
    assert all(name in msg for name in cls.names())


@pytest.mark.parametrize("method, old", [("exact", "stepper"), ("mcwf", "propagator"), ("cumulant", "integrator"),
                                         ("meanfield", "integrator")])
def test_old_scheme_names_are_refused_with_the_new_one(method, old, nothing_computed):
    with pytest.raises(ps.UnknownOptionError, match=f"'{old}'.*did you mean 'scheme'"):
        ps.evolve(COLLECTIVE, T, method=method, **{old: "x"})


@pytest.mark.parametrize("method, kind", KINDS)
def test_method_options_lists_every_option_with_default_and_doc(method, kind):
    opts = ps.method_options(method, kind)
    assert isinstance(opts, registry.options_class(method, kind))
    text = opts.describe()
    for f in dataclasses.fields(opts):
        doc = f.metadata["doc"]
        assert doc and "\n" not in doc
        assert f.name in text and doc in text and repr(f.default) in text
    assert opts == type(opts).from_kwargs()  # the defaults pass their own checks


@pytest.mark.parametrize("method, kind, name, value, exc", [
    ("exact", "evolve", "rtol", 2.0, ValueError), ("exact", "evolve", "scheme", "euler", ValueError),
    ("exact", "steady_state", "solver", "qr", ValueError), ("exact", "liouvillian_spectrum", "blocks", "x", ValueError),
    ("mcwf", "evolve", "ntraj", 0, ValueError), ("mcwf", "evolve", "executor", "pool", TypeError),
    ("cumulant", "evolve", "on_failure", "ignore", ValueError), ("meanfield", "steady_state", "t_relax", -1.0, ValueError),
    ("carmichael", "steady_state", "return_state", "yes", TypeError)])
def test_bad_values_name_the_option(method, kind, name, value, exc, nothing_computed):
    with pytest.raises(exc, match=name):
        _call(method, kind, **{name: value})


def test_options_object_is_accepted_and_equals_keywords():
    opts = ps.method_options("cumulant").replace(rtol=1e-9)
    a = ps.evolve(COLLECTIVE, T, method="cumulant", options=opts)
    b = ps.evolve(COLLECTIVE, T, method="cumulant", rtol=1e-9)
    c = ps.evolve(COLLECTIVE, T, method="cumulant", options=opts, atol=1e-12)
    assert np.array_equal(a.mean, b.mean) and a.options == b.options
    assert c.options["rtol"] == 1e-9 and c.options["atol"] == 1e-12
    with pytest.raises(ps.UnknownOptionError, match="'rtool'"):
        opts.replace(rtool=1.0)
    with pytest.raises(TypeError, match="CumulantOptions"):
        ps.evolve(COLLECTIVE, T, method="cumulant", options=ps.method_options("meanfield"))


@pytest.mark.parametrize("method, kind, kw", [
    ("exact", "evolve", {}), ("exact", "steady_state", {}), ("mcwf", "evolve", {"ntraj": 2, "seed": 1, "workers": 1}),
    ("cumulant", "evolve", {}), ("meanfield", "evolve", {}), ("meanfield", "steady_state", {}),
    ("carmichael", "steady_state", {})])
def test_result_options_hold_every_field_as_json(method, kind, kw):
    res = _call(method, kind, **kw)
    names = registry.options_class(method, kind).names()
    assert set(names) <= set(res.options)
    json.dumps(res.options)  # plain JSON values
    for k, v in kw.items():
        assert res.options[k] == v
    assert res.stats["wall_time"] >= 0


def test_diagnostics_are_stats_not_extras():
    ex = ps.evolve(COLLECTIVE, T, method="exact")
    assert {"products", "steps", "packed_size", "wall_time"} <= set(ex.stats)
    assert not {"products", "steps", "packed_size", "wall_time"} & set(ex.extras)
    cu = ps.evolve(COLLECTIVE, T, method="cumulant")
    assert {"steps", "rhs_evaluations"} <= set(cu.stats) and "steps" not in cu.extras
    ss = ps.steady_state(ps.Model(6, omega=1.0, chi=1.0, gamma_s=1.0), method="exact")
    assert {"iterations", "products", "lu_fill", "setup_time"} <= set(ss.stats)
    assert "residual" in ss.extras and "iterations" not in ss.extras


def test_stats_round_trip_and_old_files_load(tmp_path):
    res = ps.evolve(COLLECTIVE, T, method="cumulant")
    path = res.save(tmp_path / "r.npz")
    back = Result.load(path)
    assert back.stats == res.stats and back.options == res.options
    # a file written before Result.stats existed: no "stats" in its metadata
    with np.load(path) as f:
        data = {k: f[k] for k in f.files}
    meta = json.loads(str(data["meta"]))
    del meta["stats"]
    data["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(tmp_path / "old.npz", **data)
    old = Result.load(tmp_path / "old.npz")
    assert old.stats == {} and np.array_equal(old.mean, res.mean)


def test_run_cli_refuses_a_misspelled_option_before_computing(tmp_path, capsys):
    out = tmp_path / "out"
    for option in ("rtool=1e-9", "exact.rtool=1e-9"):
        assert main(["run", "--N", "4", "--method", "exact", "--option", option, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "'rtool'" in err and "did you mean 'rtol'" in err and "krylov_dim" in err
    assert main(["run", "--N", "4", "--method", "mcwf", "--option", "ntraj=0", "--out", str(out)]) == 2
    assert "ntraj" in capsys.readouterr().err
    assert not out.exists()


def test_run_cli_passes_options(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--N", "4", "--t-max", "0.2", "--n-times", "3", "--method", "cumulant", "--method",
                 "meanfield", "--option", "rtol=1e-7", "--option", "cumulant.scheme=DOP853", "--out", str(out)]) == 0
    cu, mf = Result.load(out / "cumulant.npz"), Result.load(out / "meanfield.npz")
    assert cu.options["rtol"] == mf.options["rtol"] == 1e-7
    assert cu.options["scheme"] == "DOP853" and mf.options["scheme"] == "dopri5"


def test_run_lists_options_and_help_shows_them(capsys):
    assert main(["run", "--options", "mcwf"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in registry.options_class("mcwf").names())
    from piqs_squeeze.cli import build_parser

    sub = build_parser()._subparsers._group_actions[0].choices
    run_help, sweep_help = sub["run"].format_help(), sub["sweep"].format_help()
    for method, kind in KINDS:
        for name in registry.options_class(method, kind).names():
            if kind == "evolve":
                assert name in run_help
            if kind not in ("liouvillian_spectrum", "correlation", "g2", "emission_spectrum"):  # not in sweeps
                assert name in sweep_help
    assert "carmichael (steady_state) options" in sweep_help


@pytest.mark.parametrize("method", ["exact", "mcwf", "cumulant", "meanfield", "carmichael"])
def test_sweep_file_with_a_misspelled_option_fails_before_computing(tmp_path, capsys, method):
    kind = "steady_state" if method == "carmichael" else "evolve"
    good = registry.options_class(method, kind).names()[0]
    cfg = tmp_path / "s.json"
    cfg.write_text(json.dumps({"fixed": {"N": 4, "chi": 1.0}, "grid": {"omega": [0.5, 1.0]},
                               "times": {"t_end": 0.2, "num": 3}, "summaries": ["final"],
                               "methods": [{"method": method, "kind": kind, "options": {good + "x": 1}}]}))
    assert main(["sweep", str(cfg), "--workers", "1", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert repr(good + "x") in err and f"did you mean {good!r}" in err
    assert not (tmp_path / "s.sweep").exists()


def test_sweep_file_with_a_bad_option_value_fails_before_computing(tmp_path, capsys):
    cfg = tmp_path / "s.json"
    cfg.write_text(json.dumps({"fixed": {"N": 4}, "grid": {"omega": [0.5]}, "times": {"t_end": 0.2, "num": 3},
                               "summaries": ["final"],
                               "methods": [{"method": "cumulant", "option_grid": {"scheme": ["dopri5", "euler"]}}]}))
    assert main(["sweep", str(cfg), "--workers", "1", "--no-progress"]) == 2
    assert "scheme" in capsys.readouterr().err
    assert not (tmp_path / "s.sweep").exists()


def test_registry_imports_no_method_until_one_is_used():
    code = ("import sys, piqs_squeeze as ps; from piqs_squeeze.methods import registry; "
            "print(sorted(m for m in sys.modules if m.startswith('piqs_squeeze.methods.') "
            "and m != 'piqs_squeeze.methods.registry'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_method_packages_export_their_entry_points():
    import piqs_squeeze.methods.carmichael as carmichael
    import piqs_squeeze.methods.exact as exact
    import piqs_squeeze.methods.mcwf as mcwf
    from piqs_squeeze.methods.moments import cumulant, meanfield

    for mod in (exact, mcwf, cumulant, meanfield, carmichael):
        assert all(hasattr(mod, name) for name in mod.__all__)
        assert set(mod.OPTIONS) <= set(registry.KINDS) and all(hasattr(mod, k) for k in mod.OPTIONS)
    assert {"evolve", "steady_state", "liouvillian_spectrum", "unsupported", "OPTIONS"} <= set(exact.__all__)
