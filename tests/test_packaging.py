"""The distribution installs exactly one import package, with every subpackage listed."""
from pathlib import Path

from setuptools.config.setupcfg import read_configuration

ROOT = Path(__file__).resolve().parents[1]


def _options():
    return read_configuration(ROOT / "setup.cfg")["options"]


def test_one_top_level_package():
    packages = _options()["packages"]
    assert {p.split(".")[0] for p in packages} == {"piqs_squeeze"}


def test_every_subpackage_is_installed():
    opts = _options()
    package_dir = opts.get("package_dir", {})
    listed = set(opts["packages"])

    def folder(pkg):
        for prefix in sorted(package_dir, key=len, reverse=True):
            if pkg == prefix or pkg.startswith(prefix + "."):
                return ROOT / package_dir[prefix] / Path(*pkg[len(prefix) + 1:].split(".")) if pkg != prefix \
                    else ROOT / package_dir[prefix]
        return ROOT / Path(*pkg.split("."))

    found = set()
    for pkg in listed:
        base = folder(pkg)
        assert (base / "__init__.py").is_file(), f"{pkg}: no {base}/__init__.py"
        for init in base.glob("*/__init__.py"):
            found.add(f"{pkg}.{init.parent.name}")
    assert found <= listed, f"subpackages missing from setup.cfg: {sorted(found - listed)}"
    assert {"piqs_squeeze.validation", "piqs_squeeze.figures"} <= listed
