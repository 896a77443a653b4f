"""Wall-clock bounds, kept out of the default run (they flake on a loaded machine).

A test that also bounds its time takes ``timed`` from :data:`TIMED`: it runs once unchecked
(the behaviour, in every run) and once with its wall-clock bounds under the ``perf`` marker,
which the default run deselects and CI runs on its own (``pytest -m perf``)."""

from __future__ import annotations

import pytest

TIMED = pytest.mark.parametrize(
    "timed", [pytest.param(False, id="untimed"),
              pytest.param(True, id="timed", marks=pytest.mark.perf)])
