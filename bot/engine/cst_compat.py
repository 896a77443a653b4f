"""The one place that uses libcst internals: code generation that records where nodes are.

libcst's public positions (``PositionProvider``) generate the code of the whole file for every
file; the engine generates only the statements that hold a violation, and only up to the last
node it needs. That needs libcst's code generation state (``libcst._nodes.internal.
CodegenState``: ``tokens``, ``indent_tokens``, the ``before_codegen``/``after_codegen`` hooks and
``record_syntactic_position``) and a node's ``_codegen(state)``. Those are private: a libcst
release may change them. :func:`check_internals` says what is missing, and a test calls it, so
an upgrade that breaks them fails loudly there rather than misplacing violations.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, MutableMapping, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState

__all__ = ["check_internals", "generate"]


class _Done(Exception):
    pass


class _Recorder(CodegenState):
    """Code generation that only remembers where the wanted nodes start and end."""

    wanted: MutableMapping[int, list[int]]
    remaining: int

    def before_codegen(self, node: cst.CSTNode) -> None:
        slot = self.wanted.get(id(node))
        if slot is not None:
            slot[0] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        slot = self.wanted.get(id(node))
        if slot is not None and slot[1] < 0:
            slot[1] = len(self.tokens)
            self.remaining -= 1
            if self.remaining <= 0:
                raise _Done

    @contextlib.contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> Iterator[None]:
        """A parenthesised expression's span is the expression itself, without ``(``/``)``
        (so ``x: (WebSocketManager)`` keeps its parentheses in the suggestion)."""
        slot = self.wanted.get(id(node)) if getattr(node, "lpar", None) else None
        if slot is not None:
            slot[0] = len(self.tokens)
        yield
        if slot is not None and slot[1] < 0:
            slot[1] = len(self.tokens)
            self.remaining -= 1
            if self.remaining <= 0:
                raise _Done


def generate(
    root: cst.CSTNode,
    module: cst.Module,
    wanted: MutableMapping[int, list[int]],
    indents: Sequence[str] = (),
) -> list[str]:
    """The code tokens of ``root`` (inside blocks indented by ``indents``), generated up to the
    end of the last wanted node. ``wanted``: node id -> ``[-1, -1]``, filled with the token
    indexes where the node starts and ends (left at -1 for a node not generated)."""
    state = _Recorder(default_indent=module.default_indent, default_newline=module.default_newline)
    state.indent_tokens = list(indents)
    state.wanted = wanted
    state.remaining = len(wanted)
    with contextlib.suppress(_Done):
        root._codegen(state)
    tokens: list[str] = state.tokens
    return tokens


def check_internals() -> list[str]:
    """What of the libcst internals :func:`generate` relies on is missing or changed (empty:
    all there)."""
    problems: list[str] = []
    try:
        state = CodegenState(default_indent="    ", default_newline="\n")
    except TypeError as exc:
        return [f"CodegenState(default_indent=, default_newline=) fails: {exc}"]
    for name in ("tokens", "indent_tokens"):
        if not isinstance(getattr(state, name, None), list):
            problems.append(f"CodegenState.{name} is no longer a list")
    for name in ("before_codegen", "after_codegen", "record_syntactic_position"):
        if not callable(getattr(CodegenState, name, None)):
            problems.append(f"CodegenState.{name} is gone")
    record = getattr(CodegenState, "record_syntactic_position", None)
    if callable(record):
        params = inspect.signature(record).parameters
        if not {"node", "start_node", "end_node"} <= set(params):
            problems.append("CodegenState.record_syntactic_position changed its parameters")
    if not callable(getattr(cst.CSTNode, "_codegen", None)):
        problems.append("CSTNode._codegen is gone")
    return problems
