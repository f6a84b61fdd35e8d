"""``piqs-squeeze run``: evolve one model with one or more methods, save the results and a plot.

Method options: ``--option NAME=VALUE`` (every selected method that has NAME) or
``--option METHOD.NAME=VALUE`` (that method only); VALUE is read as JSON (``1e-10``, ``true``,
``null``) or else taken as a string. ``--options METHOD`` lists a method's options.

Exit status: 0 every method ran, 1 a method failed (the others' results are saved), 2 bad
arguments (an unknown method or option, or a method that cannot run the model: nothing computed).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from piqs_squeeze.api import METHODS, MethodError, available_methods, evolve
from piqs_squeeze.methods import registry
from piqs_squeeze.model import Model
from piqs_squeeze.runtime.fileio import NotWritableError, ensure_writable
from piqs_squeeze.states import css

RATE_OPTIONS = ("chi", "gamma", "gamma_s", "dephasing", "pumping", "collective_dephasing", "collective_pumping")
#: What each rate option is physically (terms of the master equation; qutip.piqs' conventions).
RATE_HELP = {
    "chi": "collective exchange chi of H = chi J+J- (cavity-mediated spin exchange; any sign)",
    "gamma": "collective decay Gamma of Gamma D[J-] (superradiant emission; the unit of rates and 1/time)",
    "gamma_s": "single-particle spontaneous emission gamma_s sum_i D[sigma_i^-]",
    "dephasing": "local dephasing, rate sum_i D[sigma_i^z / 2] (coherences decay at rate/2)",
    "pumping": "local incoherent pumping, rate sum_i D[sigma_i^+]",
    "collective_dephasing": "collective dephasing, rate D[Jz]",
    "collective_pumping": "collective incoherent pumping, rate D[J+]",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--N", type=int, default=20, help="number of atoms (default 20)")
    drive = p.add_mutually_exclusive_group()
    drive.add_argument("--ratio", type=float, default=None,
                       help="drive as Upsilon/Upsilon_c, Omega = N ratio Upsilon_c / 2 (default 0.9)")
    drive.add_argument("--omega", type=float, default=None,
                       help="collective Rabi drive Omega of H = chi J+J- + Omega Jx, in units of Gamma "
                            "(instead of --ratio; the two are exclusive)")
    defaults = {"chi": 1.0, "gamma": 1.0, "gamma_s": 1.0}
    for name in RATE_OPTIONS:
        p.add_argument("--" + name.replace("_", "-"), dest=name, type=float, default=defaults.get(name, 0.0),
                       help=f"{RATE_HELP[name]} (default {defaults.get(name, 0.0):g})")
    p.add_argument("--term", action="append", dest="terms", default=[], metavar="'KEY=VALUE'",
                   help="an extra Hamiltonian term (repeat for several), KEY one of 'Jx', 'Jy', 'Jz', 'Jx Jx', "
                        "'Jy Jy', 'Jz Jz', 'Jx Jy', 'Jx Jz', 'Jy Jz', 'J+ J-' (quote it), e.g. --term 'Jz Jz=1.0'")
    p.add_argument("--cavity", default=None, metavar="'g=G,kappa=K[,detuning=D,drive=E,nmax=M]'",
                   help="an explicit cavity mode: H += detuning a+a + g (a+ J- + a J+) + drive (a + a+), kappa D[a] "
                        "(e.g. --cavity g=0.5,kappa=10; the Model checks the values)")
    p.add_argument("--method", action="append", dest="methods", default=None,
                   help="method to run (repeat for several; default: every method that can run the model)")
    p.add_argument("--t-max", type=float, default=2.0, help="final time in 1/Gamma (default 2)")
    p.add_argument("--n-times", type=int, default=101, help="number of output times (default 101)")
    p.add_argument("--theta", type=float, default=np.pi / 2, help="initial CSS polar angle (default pi/2)")
    p.add_argument("--phi", type=float, default=np.pi, help="initial CSS azimuth (default pi: along -x)")
    p.add_argument("--ntraj", type=int, default=200, help="MCWF trajectories (default 200)")
    p.add_argument("--seed", type=int, default=1234, help="MCWF seed (default 1234)")
    p.add_argument("--out", type=Path, default=Path("piqs-squeeze-output"), help="output directory")
    p.add_argument("--option", action="append", dest="options", default=[], metavar="[METHOD.]NAME=VALUE",
                   help="a method option (repeat for several): for every selected method that has NAME, or "
                        "for METHOD only; VALUE as JSON (1e-10, true, null, \"krylov\") or a plain string")
    p.add_argument("--options", dest="list_options", metavar="METHOD", choices=list(METHODS),
                   help="list the options of METHOD (name, default, what it does) and exit")


def options_help(kinds=("evolve",)) -> str:
    """The options of every registered method for ``kinds`` (the epilog of ``run --help`` and
    ``sweep --help``)."""
    blocks = []
    for method in METHODS:
        for kind in kinds:
            if registry.provides(method, kind):
                blocks.append(registry.options_class(method, kind)().describe())
    return "\n\n".join(blocks)


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_options(items, methods) -> dict:
    """Method -> options from ``--option`` items; unknown names raise MethodError (naming them,
    with the valid ones) before anything is computed."""
    out = {m: {} for m in methods}
    for item in items:
        name, eq, text = item.partition("=")
        if not eq or not name:
            raise MethodError(f"--option {item!r}: expected NAME=VALUE or METHOD.NAME=VALUE")
        target, dot, opt = name.rpartition(".")
        if dot and target not in out:
            raise MethodError(f"--option {item!r}: method {target!r} is not among those run ({', '.join(methods)})")
        if dot:
            out[target][opt] = _value(text)
            continue
        having = [m for m in methods if opt in registry.options_class(m, "evolve").names()]
        for m in having or methods[:1]:
            out[m][opt] = _value(text)
    for m, opts in out.items():
        registry.build_options(m, "evolve", **opts)  # names and values checked here
    return out


def parse_terms(items) -> dict:
    """Hamiltonian terms from ``--term 'KEY=VALUE'`` items (the Model checks the keys)."""
    terms = {}
    for item in items:
        key, eq, text = item.rpartition("=")
        try:
            value = float(text)
        except ValueError:
            value = None
        if not eq or not key.strip() or value is None:
            raise ValueError(f"--term {item!r}: expected 'KEY=VALUE' with a number, e.g. 'Jz Jz=1.0'")
        terms[key.strip()] = value
    return terms


def parse_cavity(text):
    """A Cavity from ``--cavity 'g=...,kappa=...[,detuning=...,drive=...,nmax=...]'`` (None: no cavity)."""
    if text is None:
        return None
    from piqs_squeeze.cavity import Cavity

    params = {}
    for item in text.split(","):
        key, eq, value = item.partition("=")
        key = key.strip()
        try:
            params[key] = int(value) if key == "nmax" else float(value)
        except ValueError:
            raise ValueError(f"--cavity {text!r}: {item!r} is not KEY=NUMBER (keys g, kappa, detuning, drive, "
                             "nmax)") from None
        if not eq:
            raise ValueError(f"--cavity {text!r}: {item!r} is not KEY=NUMBER")
    if "g" not in params or "kappa" not in params:
        raise ValueError(f"--cavity {text!r}: g and kappa are required")
    return Cavity.from_dict(params)


def run_cli(args) -> int:
    if args.list_options:
        for kind in registry.KINDS:
            if registry.provides(args.list_options, kind):
                print(registry.options_class(args.list_options, kind)().describe())
        return 0
    rates = {name: getattr(args, name) for name in RATE_OPTIONS}
    try:
        rates["hamiltonian"] = parse_terms(args.terms)
        cavity = parse_cavity(getattr(args, "cavity", None))
        if cavity is not None:
            rates["cavity"] = cavity
        if args.omega is not None:
            model = Model(N=args.N, omega=args.omega, **rates)
        else:
            ratio = 0.9 if args.ratio is None else args.ratio
            chi, gamma = rates.pop("chi"), rates.pop("gamma")
            gamma_s = rates.pop("gamma_s")
            model = Model.from_upsilon_ratio(args.N, ratio, chi=chi, gamma=gamma, gamma_s=gamma_s, **rates)
    except (TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.methods:  # every requested method must exist and run this model: checked before computing
        methods = list(dict.fromkeys(args.methods))
        ok = available_methods(model)
        bad = [m for m in methods if m not in ok]
        if bad:
            unknown = [m for m in bad if m not in METHODS]
            why = (f"unknown method(s) {', '.join(map(repr, unknown))}; methods: {', '.join(METHODS)}" if unknown
                   else "; ".join(f"method {m!r} cannot run this model: {registry.why_not(m, model)}" for m in bad))
            print(f"error: {why} (for this model: {', '.join(ok) or 'none'})", file=sys.stderr)
            return 2
    else:
        methods = [m for m in available_methods(model) if m != "mcwf" or model.N <= 200]
    try:
        given = parse_options(args.options, methods)
    except (MethodError, TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        ensure_writable(args.out, "run --out")
    except NotWritableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    times = np.linspace(0.0, args.t_max, args.n_times)
    initial = css(args.theta, args.phi)
    print(f"{model}\nmethods: {', '.join(methods) or 'none'}")
    results, failed = [], []
    for method in methods:
        options = {"ntraj": args.ntraj, "seed": args.seed} if method == "mcwf" else {}
        options.update(given[method])
        try:
            res = evolve(model, times, method=method, initial=initial, **options)
        except (MethodError, ValueError, MemoryError) as exc:
            print(f"  {method:>10}: failed ({exc})", file=sys.stderr)
            failed.append(method)
            continue
        path = res.save(args.out / f"{method}.npz")
        i = int(np.nanargmin(res.xi2))
        print(f"  {method:>10}: min xi^2 = {res.xi2[i]:.4f} ({res.xi2_db[i]:+.2f} dB) at t = {res.times[i]:.3g}; "
              f"final N_eff = {res.n_eff[-1]:.3f}  -> {path}")
        results.append(res)
    if not results:
        print("error: no method could run this model", file=sys.stderr)
        return 1
    from piqs_squeeze.plotting import plot_results, save_figure

    fig = plot_results(results)
    for p in save_figure(fig, args.out / "run"):
        print(f"  plot -> {p}")
    return 1 if failed else 0
