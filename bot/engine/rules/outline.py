"""The ast of a file for rules that read only imports, without building the whole tree.

The ast gate parses every file that passes the text pre-filter, and for ``banned-import``
rules it needs no more than the import statements (at any depth), the module-level
definitions and the blocks around the imports (:func:`bot.engine.trim.imports_only`). Building
the Python objects of a whole tree is most of ``ast.parse``'s cost, and most of a file's lines
are the bodies of functions and classes that hold no import. :func:`import_outline` parses the
file with those bodies cut: each becomes ``...`` on its first statement's line, the other lines
blank, so every kept line keeps its number and columns; the bodies cut are only checked for
syntax (:func:`symtable.symtable`: the same parser, no tree of Python objects). On sympy's
1,211 pre-filtered files: ``ast.parse`` 6.4 s, the outline 5.2 s (2026-12-06, load 4).
Bodies continued with backslashes (sympy's tests continue long asserts so) were kept whole
until 2026-12-06: 9.2 MB of those files' 24.5 MB were parsed; cutting them too, 5.8 MB, and
the outlines' parse took 1.5 s instead of 3.8 s.

The tree it returns has the same import statements (same nodes' lines and columns), the same
module-level definitions and the same statements around each import as ``ast.parse(text)``,
and it is returned only when ``ast.parse(text)`` would succeed:

- a body is cut only when its code holds no ``import`` (an import statement always names the
  keyword; one in a string or a comment, a doctest's ``>>> from x import y``, is no
  statement), its last line does not end in a backslash (the line after it, dedented, would
  be that line's continuation, not the body's end; a backslash inside the body joins lines
  the cut blanks together), and no string is left open at its end (strings and comments are
  read with a pattern, from the code state the header's colon leaves);
- every cut is checked on the tree: a ``def``/``class`` at the header's line whose body is just
  that ``...`` (a "header" inside a string, or a colon misread as the header's, fails this).
  So the body began in code at bracket depth 0; a body that leaves a bracket open leaves the
  rest of the file's closing bracket unmatched in the cut text, which then does not parse;
  so the rest of the file reads the same in both texts;
- each body cut must pass :func:`symtable.symtable` as the body of a function (all of them in
  one text): the parser ``ast.parse`` runs, and stricter checks after it. The grammar of a
  block does not depend on what holds it, so the cut text and its bodies parsing means the
  whole text parses; a ``__future__`` import that changes the grammar (``barry_as_FLUFL``)
  is not outlined.

:func:`definitions_outline` cuts every ``def``/``class`` body the same way, imports or not, for
the re-export index (which reads module-level bindings only), without the syntax check.

None: the caller parses the whole text (a ``\\r`` or form feed in the text, nothing worth
cutting, a cut the tree does not confirm, a body the syntax check refuses, Python 3.12 or
later, whose f-strings may nest quotes the pattern does not follow).
"""

from __future__ import annotations

import ast
import functools
import re
import symtable
import sys
import warnings

from bot.engine.rules.syntax import parse_ast

_SUPPORTED = sys.version_info < (3, 12)
# ``def``/``class`` starting a line; the start of the line is checked by hand (a pattern that
# starts with a literal is searched for fast, one that starts with ``^`` tries every position)
_HEADER = re.compile(r"(?:async[ \t]+def|def|class)\b")
_INDENT = re.compile(r"[ \t]*")
# the end of a header: a colon ending a line (a comment may follow); a misread one (a colon
# ending a line of a multi-line signature) makes a cut the tree does not confirm
_HEADER_END = re.compile(r":[ \t]*(?:#[^\n]*)?\n")
_FIRST_STATEMENT = re.compile(r"^([ \t]*)(?=[^ \t\n#])", re.MULTILINE)
# code read to its end, strings (any prefix reads the same: a backslash keeps a quote in, even
# in a raw string) and comments taken whole, in the order a tokenizer meets them; the match
# stops before a string left open. Possessive: linear, never backtracking. One match in C per
# body instead of a loop over its strings (sympy's cut bodies: 0.36 s -> 0.25 s).
_STRING_ALTERNATIVES = (
    r"|#[^\n]*+"
    r'|"""(?:[^"\\]|\\[\s\S]|"(?!""))*+"""'
    r"|'''(?:[^'\\]|\\[\s\S]|'(?!''))*+'''"
    r'|"(?!"")(?:[^"\\\n]|\\[\s\S])*+"'  # not where a triple quote begins
    r"|'(?!'')(?:[^'\\\n]|\\[\s\S])*+'"
)
_CODE = re.compile(r"(?:[^\"'#]++" + _STRING_ALTERNATIVES + r")*+")
# the same, where the code may not name ``import`` (in a string or a comment it may)
_CODE_WITHOUT_IMPORT = re.compile(r"(?:[^\"'#i]++|i(?!mport)" + _STRING_ALTERNATIVES + r")*+")
_MIN_CUT = 2  # lines: a shorter body is not worth a cut
_MIN_TEXT = 256  # characters: nor a text this short


@functools.lru_cache(maxsize=64)
def _dedent_at(width: int) -> re.Pattern[str]:
    """The start of the next line of code indented at most ``width`` characters."""
    return re.compile(rf"^[ \t]{{0,{width}}}(?=[^ \t\n#])", re.MULTILINE)


def _outlined(text: str) -> bool:
    """The text is one the cuts may be looked for in (see the module doc's last paragraph)."""
    return not (not _SUPPORTED or len(text) < _MIN_TEXT or "\r" in text or "\f" in text
                or "barry_as_FLUFL" in text)  # a __future__ import that changes the grammar


def _cut_text(text: str, cuts: list[tuple[int, int, int, int]]) -> str:
    """``text`` with each cut body ``...`` on its first statement's line, the rest blank."""
    out: list[str] = []
    pos = 0
    for _, start, first, end in cuts:
        indent = _INDENT.match(text, first)
        assert indent is not None  # it matches the empty string
        out.append(text[pos:start])
        out.append("\n" * text.count("\n", start, first))
        out.append(indent.group() + "...")
        out.append("\n" * text.count("\n", first, end))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def definitions_outline(text: str) -> ast.Module | None:
    """``text``'s ast with every ``def``/``class`` body cut, imports or not: what the re-export
    index reads (module-level bindings, the names defined) without the bodies' parse. The cuts
    are found and confirmed on the tree as for :func:`import_outline`; the bodies are not
    syntax-checked (the index reads what a module binds; the analysis decides whether it
    parses). None: the caller parses another way."""
    if not _outlined(text):
        return None
    cuts = _cuts(text, keep_imports=False)
    if not cuts:
        return None
    tree = parse_ast(_cut_text(text, cuts))
    return tree if tree is not None and _confirmed(tree, text, cuts) else None


def import_outline(text: str) -> ast.Module | None:
    """``text``'s ast with the bodies that hold no import cut (see the module doc), or None."""
    if not _outlined(text):
        return None
    cuts = _cuts(text)
    if not cuts:
        return None
    bodies: list[str] = []
    for _, start, _, end in cuts:
        body = text[start:end]
        bodies.append(f"def _():\n{body}" if body.endswith("\n") else f"def _():\n{body}\n")
    tree = parse_ast(_cut_text(text, cuts))
    if tree is None or not _confirmed(tree, text, cuts):
        return None
    try:  # the bodies cut, each as a function's body
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            symtable.symtable("".join(bodies), "<outline>", "exec")
    except Exception:  # anything: ast.parse of the whole text decides
        return None
    return tree


def _cuts(text: str, *, keep_imports: bool = True) -> list[tuple[int, int, int, int]]:
    """(header line start, body start, body's first statement, body end) of each body to
    cut, in order (offsets). ``keep_imports``: a body whose code names ``import`` is not cut
    (the bodies inside it may be)."""
    cuts: list[tuple[int, int, int, int]] = []
    pos = 0
    while (m := _HEADER.search(text, pos)) is not None:
        line = text.rfind("\n", 0, m.start()) + 1
        indent = m.start() - line
        pos = m.end()
        if text[line:m.start()].strip(" \t"):
            continue  # not at the start of its line
        colon = _HEADER_END.search(text, m.end())
        if colon is None:
            break
        start = colon.end()
        # a line of code between the header and the colon, at the header's indentation or
        # less, other than a closing bracket: the colon is not the header's (``def f(): ...``)
        dedent = _dedent_at(indent)
        inner = dedent.search(text, m.end(), colon.start())
        if inner is not None and text[inner.end():inner.end() + 1] not in (")", "]"):
            continue
        stop = dedent.search(text, start)
        end = len(text) if stop is None else stop.start()
        first = _FIRST_STATEMENT.search(text, start, end)
        if (
            first is not None
            and text.count("\n", start, end) >= _MIN_CUT
            and text[end - 2:end] != "\\\n"  # the line at ``end`` continues the body's
            and _code_without_import(text, start, end, imports=not keep_imports)
        ):
            cuts.append((line, start, first.start(), end))
            pos = end
        else:
            pos = start  # look for bodies to cut inside this one
    return cuts


def _code_without_import(text: str, start: int, end: int, *, imports: bool = False) -> bool:
    """Read from code, ``text[start:end]`` names ``import`` only in strings and comments (a
    doctest's ``>>> from x import y``; ``imports``: anywhere), and ends in code: no string left
    open."""
    m = (_CODE if imports else _CODE_WITHOUT_IMPORT).match(text, start, end)
    return m is not None and m.end() == end


def _confirmed(tree: ast.Module, text: str, cuts: list[tuple[int, int, int, int]]) -> bool:
    """Each cut is the body of a ``def``/``class`` at its header's line, now just ``...``."""
    wanted: dict[int, int] = {}  # header line -> line of its ``...``
    number, at = 1, 0
    for line, _, first, _ in cuts:
        number += text.count("\n", at, line)
        at = line
        wanted[number] = number + text.count("\n", line, first)
    stack: list[ast.AST] = list(tree.body)
    while stack and wanted:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            dots = wanted.pop(node.lineno, None)
            if dots is not None:
                body = node.body
                if not (len(body) == 1 and isinstance(body[0], ast.Expr)
                        and isinstance(body[0].value, ast.Constant)
                        and body[0].value.value is Ellipsis and body[0].lineno == dots):
                    return False
                continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            part = getattr(node, name, None)
            if isinstance(part, list):
                stack.extend(p for p in part if isinstance(p, ast.AST))
    return not wanted
