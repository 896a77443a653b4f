"""Rule sets over the Python standard library, for the engine benchmark
(``benchmarks/engine.py``) and the tests that compare the engine's modes on a stdlib sample.

- :func:`dense_config`: ten rules of all five kinds on names the standard library uses a lot
  (``typing.Optional``, ``os.path.join``, ``subprocess.Popen``...): many files hold findings.
- :func:`typical_config`: the bundled configuration (the seed's WebSocket rules), as a project
  configures it: a few first-party symbols that almost no file names.
"""

from __future__ import annotations

from dataclasses import replace

from bot.config.loader import bundled_config
from bot.config.model import Config, PathFilter, Rule

DENSE_RULES: tuple[Rule, ...] = (
    Rule(
        id="no-ordereddict",
        kind="banned-import",
        message="Use dict.",
        symbols=("collections.OrderedDict",),
        use="builtins.dict",
    ),
    Rule(
        id="no-asyncore",
        kind="banned-import",
        message="asyncore is gone in 3.12.",
        symbols=("asyncore", "asynchat", "imp"),
    ),
    Rule(
        id="no-optional",
        kind="banned-annotation",
        message="Write X | None.",
        symbols=("typing.Optional",),
        use="types.NoneType",
    ),
    Rule(
        id="no-any",
        kind="banned-annotation",
        message="Be precise.",
        symbols=("typing.Any",),
        severity="warning",
    ),
    Rule(
        id="no-os-system",
        kind="banned-call",
        message="Use subprocess.run.",
        symbols=("os.system", "os.popen"),
        allow=("subprocess.py",),
    ),
    Rule(
        id="no-popen",
        kind="banned-call",
        message="Use subprocess.run.",
        symbols=("subprocess.Popen",),
        allow=("subprocess.py", "asyncio/**"),
    ),
    Rule(
        id="no-warn-in-lib",
        kind="banned-call",
        message="No warnings here.",
        symbols=("warnings.warn",),
        paths=PathFilter(("email/**", "json/**")),
    ),
    Rule(
        id="optparse-argparse",
        kind="dual-pattern",
        message="Pick one option parser.",
        legacy=("optparse.OptionParser", "getopt.getopt"),
        ssot=("argparse.ArgumentParser",),
    ),
    Rule(
        id="ospath-pathlib",
        kind="dual-pattern",
        message="Pick os.path or pathlib.",
        legacy=("os.path.join",),
        ssot=("pathlib.Path",),
    ),
    Rule(
        id="one-ordereddict",
        kind="canonical-definition",
        message="Defined in collections.",
        canonical={
            "OrderedDict": "collections/__init__.py",
            "namedtuple": "collections/__init__.py",
        },
        severity="notice",
    ),
)


def dense_config() -> Config:
    return Config(rules=DENSE_RULES, file_time_budget=60.0, paths=PathFilter(("**/*.py",), ()))


def typical_config() -> Config:
    return replace(bundled_config(), file_time_budget=60.0)
