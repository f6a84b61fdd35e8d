"""Cross-method validation of piqs-squeeze: ``piqs-squeeze validate [--quick|--full] [--out DIR]``.

Modules
-------
registry             the check decorator, REGISTRY, Context, CheckResult, compare (imports nothing of validation)
cases                rate sets, initial states, model builder, the exact reference evolution (checks and tests)
core                 the runner: loads checks/ and runs them (SKIPPED for missing methods, ERROR on crash)
report               report.md + report.json (every number) + plots/*.png
cli                  the ``validate`` subcommand (verdict line per check, exit 1 on any failure)
checks.exact         1. exact vs brute force 2^N; 2. exact vs qutip.piqs (Liouvillian, dynamics)
checks.exact_steady  exact steady states and Liouvillian spectra vs the 4^N Liouvillian, long-time evolution
checks.carmichael    3. analytic steady state vs exact and vs the large-N phase boundary
checks.mcwf          4. MCWF vs exact (k standard errors, error ~ 1/sqrt(ntraj)); the step kernel (N + 1 > 64)
                        vs exact, and its two schemes on one seed; general H, protocol and ramps vs exact
checks.cumulant      5. cumulant vs exact (N = 2 exact, deviation vs N and t*); 6. mean field
checks.cavity        the cavity mode: exact vs 2^N x Fock and qutip.piqs x Fock, derived moment equations,
                        bad-cavity limit (exact, cumulant), cumulant vs exact
checks.paper         7. the paper's quantitative claims, recomputed (the 9 dB and Fig. 3(b) ones quote MCWF from checks.scale)
checks.scale         4. MCWF at N = 2000-1e4 vs cumulant orders 2 and 3 (Fig. 3(b), the outlook point), error bars that hold
export               ``--export-benchmarks DIR``: exact reference data (JSON/CSV)
bruteforce           the independent full-Hilbert-space reference (and bruteforce_spectrum: its 4^N Liouvillian;
                        bruteforce_cavity: 2^N x Fock)
highprec             the analytic steady state in mpmath (a reference of the tests)
"""
