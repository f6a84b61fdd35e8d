"""Cross-method validation of piqs-squeeze: ``piqs-squeeze validate [--quick|--full] [--out DIR]``.

Modules
-------
core               check registry, CheckResult, runner (SKIPPED for missing methods, ERROR on crash)
report             report.md + report.json (every number) + plots/*.png
cli                the ``validate`` subcommand (verdict line per check, exit 1 on any failure)
checks_exact       1. exact vs brute force 2^N; 2. exact vs qutip.piqs (Liouvillian, dynamics)
checks_carmichael  3. analytic steady state vs exact and vs the large-N phase boundary
checks_mcwf        4. MCWF vs exact (k standard errors, error ~ 1/sqrt(ntraj)); the step kernel (N + 1 > 64)
                      vs exact, and its two propagators on one seed
checks_cumulant    5. cumulant vs exact (N = 2 exact, deviation vs N and t*); 6. mean field
checks_paper       7. the paper's quantitative claims, recomputed
export             ``--export-benchmarks DIR``: exact reference data (JSON/CSV)
bruteforce         the independent full-Hilbert-space reference
"""
