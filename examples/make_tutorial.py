"""Writes examples/tutorial.ipynb (the notebook is generated from this script, so that its cells
stay reviewable as code): python examples/make_tutorial.py"""
import nbformat as nbf

cells = []
md = lambda s: cells.append(nbf.v4.new_markdown_cell(s))
code = lambda s: cells.append(nbf.v4.new_code_cell(s))

md("""# piqs-squeeze in an hour: one model through every method

This notebook is executed by the test suite (`tests/test_examples.py`), so every number below is
what the current code gives. It follows Tucker et al. (2022): N two-level atoms with collective
drive Omega, exchange chi, collective decay Gamma and single-particle emission gamma_s,

    d rho/dt = -i[H, rho] + Gamma D[J-] rho + gamma_s sum_i D[sigma_i^-] rho,   H = chi J+ J- + Omega Jx.

Times are in 1/Gamma (Gamma = 1). Squeezing is Wineland's xi^2 (paper Eq. 4), also in dB.""")
code("""import numpy as np
import piqs_squeeze as ps
from piqs_squeeze import analysis

# drive as a fraction of the threshold Upsilon_c = sqrt(Gamma^2 + 4 chi^2): Omega = N ratio Upsilon_c / 2
model = ps.Model.from_upsilon_ratio(20, 0.9, chi=1.0, gamma_s=1.0)
print(model)
print("Upsilon_c =", model.upsilon_c, " N_c = 2 Omega / Upsilon_c =", round(model.n_c, 3))""")
md("""## Every method, one result type

`evolve(model, times, method=...)` returns a `Result` for every method: `times`, the moments
`mean` (<J_a>) and `second`, and the derived `xi2`, `xi2_db`, `n_eff`. The default initial state is
the coherent spin state along -x.""")
code("""times = np.linspace(0.0, 1.5, 61)
runs = {
    "exact": ps.evolve(model, times, method="exact"),
    "mcwf": ps.evolve(model, times, method="mcwf", ntraj=100, seed=1),
    "cumulant": ps.evolve(model, times, method="cumulant"),
    "meanfield": ps.evolve(model, times, method="meanfield"),
}
for name, r in runs.items():
    i = int(np.nanargmin(r.xi2))
    print(f"{name:>9}: min xi^2 = {r.xi2_db[i]:+.2f} dB at t = {r.times[i]:.3f}, final N_eff = {r.n_eff[-1]:.2f}")""")
md("""Mean-field has no correlations, so xi^2 stays 1 (0 dB); the cumulant expansion follows the
exact solver up to the time N_eff crosses N_c; MCWF agrees with exact within its standard error
(`extras["xi2_err"]`).""")
code("""ex, mc = runs["exact"], runs["mcwf"]
z = np.abs(mc.xi2 - ex.xi2)[1:] / mc.extras["xi2_err"][1:]
print("MCWF vs exact: worst deviation over 60 times", round(float(z.max()), 2), "standard errors")
print("at t = 0.55 (nearest output time):", ex.at(0.55))""")
md("""The steady state of the collective model (gamma_s = 0) is known analytically (Carmichael);
the exact solver finds the same one.""")
code("""collective = model.replace(gamma_s=0.0)
ss = ps.steady_state(collective, method="carmichael")
ss_exact = ps.steady_state(collective, method="exact")
print("steady-state xi^2: Carmichael", ss.xi2_db[0].round(6), "dB, exact", ss_exact.xi2_db[0].round(6), "dB")""")
md("""## States as qutip objects

The exact solver keeps the final state on request; `Result.state()` returns it as a `qutip.Qobj`
in qutip.piqs' Dicke basis, and any method can start from it (the moment methods through its one-
and two-particle moments).""")
code("""end = ps.evolve(model, 0.5, method="exact", return_state=True)   # a single time t: the grid [0, t]
rho = end.state()
print(rho.shape, "trace", round(rho.tr(), 9))
cont = ps.evolve(model, [0.5, 1.0], method="cumulant", initial=rho)
print("cumulant from the exact state at t = 0.5: xi^2(1.0) =", cont.xi2_db[-1].round(3), "dB; exact:",
      runs["exact"].xi2_db[np.searchsorted(times, 1.0)].round(3), "dB")""")
md("""The cumulant run started from the exact state parts from the exact one after N_eff crosses N_c
(t* ~ 0.5 here): that is the truncation, measured by `piqs-squeeze validate` (check `cumulant_vs_exact_N`).""")
md("""## Large N: the minimum transient squeezing

At N = 1e4 only the cumulant (and mean-field) methods reach. The paper's Fig. 3 plots the minimum
squeezing "in the transient dynamics, after the initial collective minimum";
`analysis.min_transient_xi2` takes it on the 1/gamma_s time scale and says when there is none.""")
code("""for ratio in (0.9, 1.2):
    big = ps.Model.from_upsilon_ratio(10_000, ratio, chi=1.0, gamma_s=5.0)
    r = ps.evolve(big, np.linspace(0.0, 1.0, 2001), method="cumulant")
    print(f"Upsilon/Upsilon_c = {ratio}:", analysis.min_transient_xi2(r))""")
md("""## The validation report

`piqs-squeeze validate --quick` runs every cross-check; here two fast ones, written to a temporary
directory (report.md, report.json, plots/).""")
code("""import tempfile
from piqs_squeeze.validation.core import run_checks
from piqs_squeeze.validation.registry import Context
from piqs_squeeze.validation.report import summary_line, write_report

out = tempfile.mkdtemp()
ctx = Context(mode="quick", out=out)
results = run_checks(ctx, only=["cumulant_exact_n2", "claim_early_dip"], progress=False)
for r in results:
    print(f"{r.status:<10} {r.name}: {r.message}")
md_path, _ = write_report(results, ctx, 0.0)
print(summary_line(__import__("piqs_squeeze.validation.report", fromlist=["summary"]).summary(results)), "->", md_path)""")
md("""## A parameter sweep

A sweep is a dict (or a TOML file, see `examples/*.toml` and `piqs-squeeze sweep --help`): fixed
parameters, a grid, times, methods and summaries. It runs on local processes or a Dask cluster and
resumes from its checkpoints.""")
code("""from piqs_squeeze.sweep import run_sweep

table = run_sweep({
    "fixed": {"N": 10_000, "chi": 1.0},
    "grid": {"ratio": [0.8, 0.9, 0.95, 1.1], "gamma_s": [5.0, 50.0]},
    "times": {"t_end": 5.0, "unit": "gamma_s", "num": 801},
    "methods": ["cumulant"], "summaries": ["min_transient_xi2"],
}, out=tempfile.mkdtemp() + "/map.sweep", workers=1, progress=False)
for i in range(len(table["ratio"])):
    print(f"ratio {table['ratio'][i]:.2f}, gamma_s {table['gamma_s'][i]:4.0f}: "
          f"{table['min_transient_xi2_db'][i]:+.2f} dB")""")
md("""## A figure of the paper

Each figure is one call (or `piqs-squeeze figure NAME --quick`); the data are cached.""")
code("""from piqs_squeeze.figures.cli import make_figure

info = make_figure("fig3b", quick=True, out=tempfile.mkdtemp(), workers=1)  # workers=1: no process pool here
print(info["paths"], f"{info['wall_s']:.1f} s")""")
code("""from IPython.display import Image
Image(filename=[p for p in info["paths"] if p.endswith(".png")][0], width=400)""")

nb = nbf.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"},
                                                  "language_info": {"name": "python"}})
nbf.write(nb, __import__("pathlib").Path(__file__).with_name("tutorial.ipynb"))
