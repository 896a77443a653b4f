"""The libcst internals the engine's positions rely on (bot/engine/cst_compat.py): a libcst
upgrade that changes them fails here, loudly, instead of misplacing violations."""

from __future__ import annotations

import libcst as cst

from bot.engine.cst_compat import check_internals, generate


def test_libcst_internals_are_still_there() -> None:
    problems = check_internals()
    assert problems == [], (
        f"libcst {getattr(cst, '__version__', '?')} changed the internals that "
        f"bot/engine/cst_compat.py uses: {problems}"
    )


def test_generate_records_where_nodes_start_and_end_and_stops_after_the_last() -> None:
    module = cst.parse_module("import os\nx = (os.sep)\ny = 2\n")
    assign = module.body[1].body[0]  # type: ignore[attr-defined]
    value = assign.value
    wanted = {id(value): [-1, -1]}
    tokens = generate(module, module, wanted)
    start, end = wanted[id(value)]
    assert "".join(tokens[start:end]) == "os.sep"  # a parenthesised expression: without ( )
    assert "y" not in "".join(tokens)  # generation stopped after the last wanted node


def test_generate_inside_indented_blocks() -> None:
    module = cst.parse_module("if x:\n    a = b\n")
    block = module.body[0].body  # type: ignore[attr-defined]
    stmt = block.body[0]
    name = stmt.body[0].value
    wanted = {id(name): [-1, -1]}
    tokens = generate(stmt, module, wanted, ["    "])
    start, end = wanted[id(name)]
    assert "".join(tokens[:start]) == "    a = " and "".join(tokens[start:end]) == "b"
