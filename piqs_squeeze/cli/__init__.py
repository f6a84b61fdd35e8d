"""The ``piqs-squeeze`` command.

Subcommands live in the modules that own them; each provides ``add_arguments(parser)`` and
``run_cli(args) -> int``:

* ``run``      piqs_squeeze.cli.run      one model, one or more methods, saves results and a plot
* ``validate`` piqs_squeeze.validation.cli  cross-method validation report
* ``figure``   piqs_squeeze.figures.cli     the paper's figures
* ``sweep``    piqs_squeeze.sweep.cli    parameter sweeps on local processes or Dask
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from piqs_squeeze._version import __version__

SUBCOMMANDS = {
    "run": ("piqs_squeeze.cli.run", "evolve one model with one or more methods; save results and a plot"),
    "validate": ("piqs_squeeze.validation.cli", "cross-check all methods and write a validation report"),
    "figure": ("piqs_squeeze.figures.cli", "regenerate a figure of the paper (or all of them)"),
    "sweep": ("piqs_squeeze.sweep.cli", "run a parameter sweep described in a TOML/JSON file"),
}


def numba_cache_is_empty() -> bool:
    """Whether numba has no compiled kernel of this package cached yet (a first run compiles them).

    Looks for numba's index files (``*.nbi``) where numba writes them: ``NUMBA_CACHE_DIR`` when set,
    otherwise the ``__pycache__`` folders of the package's modules.
    """
    from pathlib import Path

    pkg = Path(__file__).resolve().parents[1]  # the piqs_squeeze package (this is piqs_squeeze/cli/)
    root = os.environ.get("NUMBA_CACHE_DIR")
    where = Path(root) if root else pkg  # numba writes next to each module, in its __pycache__
    try:
        return not any(where.rglob("*.nbi"))
    except OSError:
        return True


def _jit_notice(command: str) -> None:
    """One line on stderr before the first run compiles the kernels (instead of a silent minute)."""
    if command in ("run", "validate", "figure", "sweep") and numba_cache_is_empty():
        print("first run: numba is compiling piqs_squeeze's kernels (exact, MCWF and cumulant "
              "integrators); this adds 1-3 minutes once, later runs load them from the cache",
              file=sys.stderr, flush=True)


#: Example configs in the repository's examples/ folder, shown by ``piqs-squeeze sweep --help``.
SWEEP_EXAMPLES = {
    "examples/fig3a_map.toml": "Fig. 3(a)-style map of the minimum transient squeezing (cumulant, N = 1e4)",
    "examples/mcwf_ntraj_study.toml": "MCWF trajectory-count study against the exact solver (N = 10)",
    "examples/dask_run.toml": "a map meant for a Dask cluster (--scheduler tcp://HOST:8786)",
}


def _sweep_epilog() -> str:
    """Example configs and the summary names a sweep config may list."""
    from piqs_squeeze.sweep.summaries import SUMMARIES

    lines = ["examples (in the repository's examples/ folder):"]
    lines += [f"  {path:<34} {what}" for path, what in SWEEP_EXAMPLES.items()]
    lines += ["", "summaries (the config's `summaries` list; columns NAME, NAME_db, NAME_time, ...):"]
    for name, func in SUMMARIES.items():
        doc = " ".join((func.__doc__ or "").split())
        first = re.split(r"\.\s+(?=[A-Z])", re.sub(r"\s*\(:func:[^)]*\)", "", doc))[0].rstrip(". ")
        lines.append(f"  {name:<18} {first}")
    lines += ["", "config format: piqs_squeeze.sweep.spec (python -c 'import piqs_squeeze.sweep.spec as s; "
              "help(s)')"]
    from piqs_squeeze.cli.run import options_help

    lines += ["", "method options (a methods entry's `options` and `option_grid`):", "",
              options_help(("evolve", "steady_state"))]
    return "\n".join(lines)


def _run_epilog() -> str:
    """The options of every method (``--option NAME=VALUE``)."""
    from piqs_squeeze.cli.run import options_help

    return "method options (--option [METHOD.]NAME=VALUE):\n\n" + options_help()


#: subcommand -> its epilog; built only when the subcommand is on the command line (it imports the methods)
EPILOGS = {"sweep": _sweep_epilog, "run": _run_epilog}


def build_parser(argv=None) -> argparse.ArgumentParser:
    """The parser; with ``argv``, the epilog of a subcommand is built only when ``argv`` names that
    subcommand (the epilogs import the methods), without it every epilog is built."""
    words = set(EPILOGS) if argv is None else set(argv)
    parser = argparse.ArgumentParser(
        prog="piqs-squeeze",
        description="Spin squeezing in driven-dissipative atomic ensembles (Tucker et al. 2022 model): "
        "exact permutation-invariant, MCWF, cumulant, mean-field and analytic methods.",
    )
    parser.add_argument("--version", action="version", version=f"piqs-squeeze {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (modname, help_) in SUBCOMMANDS.items():
        epilog = EPILOGS[name]() if (name in EPILOGS and name in words) else None
        p = sub.add_parser(name, help=help_, description=help_, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter if epilog else argparse.HelpFormatter)
        mod = importlib.import_module(modname)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run_cli)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if not any(getattr(args, k, False) for k in ("list", "help", "list_options")):
        _jit_notice(args.command)
    try:
        status = int(args._run(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at interpreter exit
        return status
    except KeyboardInterrupt as exc:  # a run's own message says what it kept (e.g. an MCWF checkpoint)
        print(str(exc) or "interrupted; results already written are kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader of our output went away (``piqs-squeeze figure --list | head``): stop quietly,
        # and point stdout at devnull so that the interpreter's final flush does not fail again
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe

