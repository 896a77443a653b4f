"""Keys and records of results reused across pushes (bot/usecases/reuse.py, docs §14)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import graphql
import pytest

from bot.config.model import Config
from bot.engine.model import FileError, FileResult, Violation
from bot.github.client import BlobRef, blob_bytes, blob_query
from bot.state import store as store_module
from bot.state.store import open_store
from bot.usecases import reuse
from ssot_emulator.graphql import schema

V = Violation("no-legacy", "banned-import", "app/a.py", 3, 1, 3, 20, "error", "Use the new one.",
              new=True, fingerprint="abc", suggestion="from new import Thing")


def test_a_result_round_trips_without_its_new_flag() -> None:
    result = FileResult("app/a.py", (V,), None, parsed=True)
    text = reuse.dumps(result)
    assert text is not None
    back = reuse.loads(text)
    assert back == FileResult("app/a.py", (dataclasses.replace(V, new=False),), None)
    assert back is not None and back.parsed


def test_a_result_with_an_error_is_never_kept_and_garbage_is_not_read() -> None:
    assert reuse.dumps(FileResult("a.py", (), FileError("a.py", "over its time budget"))) is None
    assert reuse.loads("{") is None and reuse.loads('{"violations": [{"x": 1}]}') is None


def _config(**entries: tuple[str, ...]) -> Config:
    return Config(reexports={k.replace("__", "."): v for k, v in entries.items()})


def test_a_file_depends_only_on_the_re_export_facts_it_can_reach() -> None:
    config = _config(app__mod_1__Legacy=("legacy.core.Legacy",),
                     app__mod_2__Legacy=("legacy.core.Legacy",),
                     app__Legacy=("legacy.core.Legacy",))
    facts = reuse.facts_by_name(config)
    words = {"from", "legacy", "core", "import", "Legacy"}
    own = reuse.facts_digest(facts, "app/mod_3.py", words)
    # another module becoming a shim changes nothing for a file that does not name it
    more = reuse.facts_by_name(_config(**{**{k.replace(".", "__"): v for k, v in
                                             config.reexports.items()},
                                          "app__mod_4__Legacy": ("legacy.core.Legacy",)}))
    assert reuse.facts_digest(more, "app/mod_3.py", words) == own
    # but it does for a file that imports from it ...
    assert reuse.facts_digest(more, "app/mod_3.py", words | {"mod_4"}) != \
        reuse.facts_digest(facts, "app/mod_3.py", words | {"mod_4"})
    # ... and "app.Legacy" is reachable by a relative import (the path names the package)
    assert reuse.facts_digest(facts, "app/mod_3.py", words) != \
        reuse.facts_digest(facts, "other/mod_3.py", words)


def test_a_module_valued_entry_makes_its_targets_reachable() -> None:
    config = _config(pkg__mod=("legacy.core",), legacy__core__Name=("legacy.real.Name",))
    facts = reuse.facts_by_name(config)
    # ``from pkg import mod; mod.Name``: "core" is never written, yet legacy.core.Name counts
    words = {"from", "pkg", "import", "mod", "Name"}
    without = reuse.facts_by_name(_config(pkg__mod=("legacy.core",)))
    assert reuse.facts_digest(facts, "x.py", words) != reuse.facts_digest(without, "x.py", words)


def test_keys_differ_by_path_blob_configuration_and_facts() -> None:
    key = reuse.result_key("a.py", "1" * 40, "k", "f")
    assert len({key, reuse.result_key("b.py", "1" * 40, "k", "f"),
                reuse.result_key("a.py", "2" * 40, "k", "f"),
                reuse.result_key("a.py", "1" * 40, "j", "f"),
                reuse.result_key("a.py", "1" * 40, "k", "g")}) == 5


def test_the_bots_blob_query_is_valid_against_githubs_schema() -> None:
    refs = [BlobRef(f"{i:040x}", f"{'a' * 40}:app/we\"ird {i}.py") for i in range(49)]
    query, variables = blob_query([*refs, BlobRef("f" * 40)])
    document = graphql.parse(query)
    assert graphql.validate(schema(), document) == []
    assert variables["e0"] == f"{'a' * 40}:app/we\"ird 0.py" and variables["o49"] == "f" * 40
    assert query.count("object(") == 50


def test_only_a_whole_text_stands_for_a_blob() -> None:
    assert blob_bytes({"text": "é\n", "byteSize": 3, "isBinary": False,
                       "isTruncated": False}) == "é\n".encode()
    for node in ({"text": "x", "byteSize": 9, "isBinary": False, "isTruncated": True},
                 {"text": None, "byteSize": 9, "isBinary": True, "isTruncated": False},
                 {"text": "x", "byteSize": 2, "isBinary": False, "isTruncated": False},
                 None):
        assert blob_bytes(node) is None


def test_the_store_keeps_findings_per_installation(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.put_findings(1, [("k1", "one"), ("k2", "two")])
    store.put_findings(2, [("k1", "other")])
    assert store.findings(1, ["k1", "k2", "k3"]) == {"k1": "one", "k2": "two"}
    assert store.findings(2, ["k1", "k2"]) == {"k1": "other"}
    assert store.findings(3, ["k1"]) == {}
    store.forget_installation(1)
    assert store.findings(1, ["k1", "k2"]) == {} and store.findings(2, ["k1"]) == {"k1": "other"}
    many = [f"k{i}" for i in range(1200)]  # past SQLite's bound on parameters, in chunks
    store.put_findings(4, [(k, k) for k in many])
    assert len(store.findings(4, many)) == 1200


def test_the_least_recently_used_findings_go_past_the_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "MAX_FINDINGS_PER_INSTALLATION", 3)
    store = open_store(tmp_path)
    for key in ("a", "b", "c"):
        store.put_findings(1, [(key, key)])
        time.sleep(0.01)
    store.findings(1, ["a"])  # used again: kept
    time.sleep(0.01)
    store.put_findings(1, [("d", "d")])
    assert sorted(store.findings(1, ["a", "b", "c", "d"])) == ["a", "c", "d"]
