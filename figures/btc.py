"""Beyond the paper: the boundary time crystal in the rightmost Liouvillian modes and the emission spectrum.

Collective decay plus drive (chi = 0) has, above Upsilon_c, a mean-field limit cycle; at finite N
it shows up as oscillating Liouvillian modes lambda = -g +- i w whose decay rate g stays finite
as N grows while their frequency grows like N (Iemini et al., PRL 121, 035301 (2018)). The
figure shows, against Upsilon/Upsilon_c:

* (a) -Re of the slowest real and of the slowest oscillating mode among the k = 6 rightmost
  eigenvalues (``liouvillian_spectrum``, j = N/2) for several N: where the oscillating ones
  become the slowest;
* (b) the same with local emission gamma_s > 0 (all j blocks);
* (c) the decay rate of the slowest oscillating mode against N at one drive above threshold,
  collective and with gamma_s;
* (d) the emission spectrum S(omega) (``emission_spectrum``, qutip.spectrum's convention, the
  coherent part removed) across the threshold.
"""
from __future__ import annotations

import numpy as np

from . import style
from .common import cached, resolve_params

FULL = {
    "chi": 0.0,
    "k": 6,
    "Ns": [20, 50, 100, 200],
    "ratios": [0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0],
    "gamma_s": 0.5,
    "Ns_local": [10, 20, 30],
    "scaling_ratio": 1.5,
    "scaling_Ns": [10, 20, 40, 80, 160, 200],
    "scaling_Ns_local": [6, 10, 16, 20, 30],
    "spectrum_N": 20,
    "spectrum_ratios": [0.7, 0.9, 1.1, 1.5],
    "omega_max": 40.0,
    "n_omegas": 801,
}
QUICK = {"Ns": [8, 16], "ratios": [0.5, 1.0, 1.5, 2.0], "Ns_local": [6], "scaling_Ns": [8, 16, 24],
         "scaling_Ns_local": [4, 6], "spectrum_N": 10, "omega_max": 25.0, "n_omegas": 101}


def _slowest(lam):
    """(-Re of the slowest non-zero real mode, -Re and |Im| of the slowest oscillating mode) among lam."""
    lam = np.asarray(lam)
    nz = lam[np.abs(lam) > 1e-9]
    real = nz[np.abs(nz.imag) <= 1e-7 * np.maximum(1.0, np.abs(nz))]
    osc = nz[np.abs(nz.imag) > 1e-7 * np.maximum(1.0, np.abs(nz))]
    g_r = float(-real.real.max()) if real.size else np.nan
    if osc.size:
        z = osc[np.argmax(osc.real)]
        return g_r, float(-z.real), float(abs(z.imag))
    return g_r, np.nan, np.nan


def compute(quick: bool = True, cache_dir=None, progress=None, **overrides) -> dict:
    """Rightmost eigenvalues over (N, Upsilon/Upsilon_c), their N scaling, and S(omega)."""
    p = resolve_params(FULL, QUICK, quick, overrides)

    def spectra(q):
        import piqs_squeeze as ps

        lam = np.full((len(q["Ns"]), len(q["ratios"]), q["k"]), np.nan, complex)
        for a, N in enumerate(q["Ns"]):
            for b, r in enumerate(q["ratios"]):
                m = ps.Model.from_upsilon_ratio(int(N), float(r), chi=q["chi"], gamma_s=q["gamma_s"])
                lam[a, b] = ps.liouvillian_spectrum(m, k=q["k"]).eigenvalues
                if progress:
                    progress(f"N={N} ratio={r} gamma_s={q['gamma_s']}: {lam[a, b]}")
        return {"lam_re": lam.real, "lam_im": lam.imag}

    def run(p):
        import piqs_squeeze as ps

        base = {"chi": p["chi"], "k": p["k"], "ratios": p["ratios"]}
        coll = cached("btc_spectra", {**base, "Ns": p["Ns"], "gamma_s": 0.0}, spectra, cache_dir)
        loc = cached("btc_spectra", {**base, "Ns": p["Ns_local"], "gamma_s": p["gamma_s"]}, spectra, cache_dir)
        sc = cached("btc_spectra", {**base, "ratios": [p["scaling_ratio"]], "Ns": p["scaling_Ns"], "gamma_s": 0.0},
                    spectra, cache_dir)
        scl = cached("btc_spectra", {**base, "ratios": [p["scaling_ratio"]], "Ns": p["scaling_Ns_local"],
                                     "gamma_s": p["gamma_s"]}, spectra, cache_dir)
        omegas = np.linspace(-p["omega_max"], p["omega_max"], int(p["n_omegas"]))
        S = np.array([ps.emission_spectrum(ps.Model.from_upsilon_ratio(int(p["spectrum_N"]), float(r), chi=p["chi"]),
                                           omegas) for r in p["spectrum_ratios"]])
        out = {"ratio": np.asarray(p["ratios"], float), "Ns": np.asarray(p["Ns"]), "Ns_local": np.asarray(p["Ns_local"]),
               "scaling_Ns": np.asarray(p["scaling_Ns"]), "scaling_Ns_local": np.asarray(p["scaling_Ns_local"]),
               "omegas": omegas, "S": S}
        for key, d in (("coll", coll), ("local", loc), ("scal", sc), ("scal_local", scl)):
            out[f"{key}_re"] = np.asarray(d["lam_re"])
            out[f"{key}_im"] = np.asarray(d["lam_im"])
        return out

    return cached("btc", p, run, cache_dir)


def _rates(re, im):
    lam = np.asarray(re) + 1j * np.asarray(im)
    out = np.array([[_slowest(lam[a, b]) for b in range(lam.shape[1])] for a in range(lam.shape[0])])
    return out[..., 0], out[..., 1], out[..., 2]


def plot(data, out) -> list:
    """Four panels: (a) collective rates vs drive, (b) with gamma_s, (c) N scaling, (d) S(omega)."""
    p = data["params"]
    ratio = np.asarray(data["ratio"])
    with style.rc():
        fig, axes = style.new_figure("double", 5.0, nrows=2, ncols=2, squeeze=False)
        (a, b), (c, d) = axes
        for ax, key, Ns, title in ((a, "coll", data["Ns"], r"collective ($\gamma_s = 0$, $j = N/2$)"),
                                   (b, "local", data["Ns_local"], rf"$\gamma_s/\Gamma = {p['gamma_s']:g}$ (all $j$)")):
            g_r, g_o, _ = _rates(data[f"{key}_re"], data[f"{key}_im"])
            style.threshold_lines(ax, 1.0, prime=key == "local", label=False)
            for i, N in enumerate(Ns):
                col = style.COLORS["cycle"][i % 6]
                ax.semilogy(ratio, g_r[i], "-o", color=col, ms=2.5, lw=0.9, label=f"$N = {int(N)}$ real")
                ax.semilogy(ratio, g_o[i], "--s", color=col, ms=2.5, lw=0.9, mfc="none", label="oscillating")
            ax.set_title(title, fontsize=8)
            ax.set_xlabel(style.LABELS["ratio"])
            ax.set_ylabel(r"$-\mathrm{Re}\,\lambda/\Gamma$ (slowest)")
            ax.legend(fontsize=5.5, ncol=2)
        for key, Ns, lab, mk in (("scal", data["scaling_Ns"], r"$\gamma_s = 0$", "o"),
                                 ("scal_local", data["scaling_Ns_local"], rf"$\gamma_s/\Gamma = {p['gamma_s']:g}$", "s")):
            _, g_o, w_o = _rates(data[f"{key}_re"], data[f"{key}_im"])
            c.plot(Ns, g_o[:, 0], mk + "-", ms=3, lw=0.9, label=f"decay rate, {lab}")
            c.plot(Ns, w_o[:, 0] / np.asarray(Ns), mk + ":", ms=3, lw=0.9, mfc="none", label=f"frequency / N, {lab}")
        c.set_xscale("log")
        c.set_xlabel("N")
        c.set_ylabel(r"slowest oscillating mode ($\Gamma$)")
        c.set_title(rf"$\Upsilon/\Upsilon_c = {p['scaling_ratio']:g}$", fontsize=8)
        c.legend(fontsize=6)
        om, S = np.asarray(data["omegas"]), np.asarray(data["S"])
        for i, r in enumerate(p["spectrum_ratios"]):
            d.semilogy(om, np.maximum(S[i], 1e-6), lw=0.9, label=rf"$\Upsilon/\Upsilon_c = {r:g}$")
        d.set_xlabel(r"$\omega/\Gamma$")
        d.set_ylabel(r"$S(\omega)$")
        d.set_title(rf"emission spectrum, $N = {int(p['spectrum_N'])}$, $\gamma_s = 0$", fontsize=8)
        d.legend(fontsize=6)
        for ax, t in zip((a, b, c, d), ("(a)", "(b)", "(c)", "(d)")):
            style.panel_label(ax, t)
        style.stamp_quick(fig, p["quick"], f"N = {', '.join(str(int(n)) for n in data['Ns'])}")
    return style.save(fig, out, "btc")
