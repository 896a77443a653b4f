"""`/ssot ...` commands in PR comments (docs/behaviour.md §6)."""

from __future__ import annotations

import pytest

from bot.commands import (
    HELP_MARKER,
    KNOWN_COMMANDS,
    MAX_COMMANDS,
    Command,
    from_a_bot,
    help_text,
    is_allowed_to_recheck,
    parse_commands,
    unknown_command_text,
)


def names(body: str | None) -> list[str]:
    return [c.name for c in parse_commands(body)]


# ------------------------------------------------------------------ what is a command


@pytest.mark.parametrize("body", [
    "/ssot recheck",
    "/ssot recheck\n",
    "   /ssot recheck",
    " /ssot recheck \t ",
    "/SSOT ReCheck",
    "/Ssot RECHECK",
    "/ssot  \t recheck",
    "/ssot\u00a0recheck",
    "/ssot recheck!",
    "/ssot recheck.",
])
def test_recheck_forms(body: str) -> None:
    assert parse_commands(body) == [Command("recheck", (), 1)]


def test_command_anywhere_in_the_comment() -> None:
    body = "Thanks for the review!\n\nI moved the import.\n/ssot recheck\n\nCheers"
    assert parse_commands(body) == [Command("recheck", (), 4)]


def test_args_are_kept() -> None:
    assert parse_commands("/ssot recheck now Please") == [
        Command("recheck", ("now", "Please"), 1)]


def test_bare_ssot_is_an_empty_command() -> None:
    assert parse_commands("/ssot") == [Command("", (), 1)]
    assert parse_commands("/ssot   ") == [Command("", (), 1)]


def test_unknown_command_is_returned_lowercased() -> None:
    assert parse_commands("/ssot Frobnicate x") == [Command("frobnicate", ("x",), 1)]


@pytest.mark.parametrize("body", [
    None, "", "\n\n", "/ssotrecheck", "x /ssot recheck", "please run /ssot recheck",
    "- /ssot recheck", "/ssot-recheck", "//ssot recheck", "ssot recheck", "/sso recheck",
    "/\u017f\u017fot recheck",  # long s folds to s case-insensitively; not our command
    "`/ssot recheck`", "``/ssot recheck``", "Run `/ssot recheck` to retry",
])
def test_not_commands(body: str | None) -> None:
    assert parse_commands(body) == []


# ------------------------------------------------------------------ line endings


def test_crlf_and_cr_line_endings() -> None:
    assert parse_commands("hi\r\n/ssot recheck\r\nbye") == [Command("recheck", (), 2)]
    assert parse_commands("hi\r/ssot help\r") == [Command("help", (), 2)]
    assert parse_commands("/ssot recheck\r\n/ssot help\r\n") == [
        Command("recheck", (), 1), Command("help", (), 2)]


def test_only_real_line_breaks_split_lines() -> None:
    # \u2028 is no line break in Markdown: the line is "x\u2028/ssot recheck"
    assert parse_commands("x\u2028/ssot recheck") == []


# ------------------------------------------------------------------ quotes


@pytest.mark.parametrize("body", [
    "> /ssot recheck",
    ">/ssot recheck",
    "  > /ssot recheck",
    "> > /ssot recheck",
    ">> /ssot recheck",
    "> quoted\n> /ssot recheck\n\nI agree.",
])
def test_quoted_replies_are_ignored(body: str) -> None:
    assert parse_commands(body) == []


def test_command_after_a_quote() -> None:
    body = "> @alice wrote: please /ssot recheck\n> /ssot recheck\n\n/ssot recheck"
    assert parse_commands(body) == [Command("recheck", (), 4)]


# ------------------------------------------------------------------ code


@pytest.mark.parametrize("body", [
    "```\n/ssot recheck\n```",
    "```text\n/ssot recheck\n```",
    "~~~\n/ssot recheck\n~~~",
    "  ```\n/ssot recheck\n  ```",
    "- item\n\n    ```\n    /ssot recheck\n    ```",
    "````\n```\n/ssot recheck\n````",      # a shorter fence does not close a longer one
    "~~~\n```\n/ssot recheck\n```\n~~~",  # the other fence char does not close it
    "```\n/ssot recheck",                  # an unclosed fence runs to the end
    "    /ssot recheck",                   # indented code at the start
    "\t/ssot recheck",                      # a tab is 4 columns: indented code too
    "Text\n\n    /ssot recheck",           # indented code after a blank line
    "Text\n\n\t/ssot recheck",
    "Text\n\n    code\n\n    /ssot recheck",  # blank lines inside indented code
    "<!-- /ssot recheck -->",
    "<!--\n/ssot recheck\n-->",
    "<!-- Use\n/ssot recheck\nto re-run -->",
])
def test_code_and_comments_are_ignored(body: str) -> None:
    assert parse_commands(body) == []


@pytest.mark.parametrize(("body", "line"), [
    ("```\ncode\n```\n/ssot recheck", 4),
    ("~~~python\nx\n~~~~\n/ssot recheck", 4),
    ("```\n```\n/ssot recheck", 3),
    ("Text\n\n    code\nback to text\n/ssot recheck", 5),
    ("<!-- hidden -->\n/ssot recheck", 2),
    ("<!--\nhidden\n-->\n/ssot recheck", 4),
    ("Text\n    /ssot recheck", 2),  # a paragraph continuation, not code: leading spaces ok
])
def test_command_after_code_or_comment(body: str, line: int) -> None:
    assert parse_commands(body) == [Command("recheck", (), line)]


def test_backticks_in_info_string_are_not_a_fence() -> None:
    # "``` x ` y" is no fence opener in CommonMark, so the next line is text
    assert parse_commands("``` x ` y\n/ssot recheck") == [Command("recheck", (), 2)]


# ------------------------------------------------------------------ several commands


def test_several_commands_in_order() -> None:
    body = "/ssot help\nsome text\n/ssot recheck\n/ssot bogus"
    assert parse_commands(body) == [
        Command("help", (), 1), Command("recheck", (), 3), Command("bogus", (), 4)]


def test_identical_commands_are_answered_once() -> None:
    body = "/ssot recheck\n/SSOT recheck\n/ssot help\n/ssot recheck\n/ssot recheck now"
    assert parse_commands(body) == [
        Command("recheck", (), 1), Command("help", (), 3), Command("recheck", ("now",), 5)]


def test_at_most_max_commands() -> None:
    body = "\n".join(f"/ssot cmd{i}" for i in range(100))
    found = parse_commands(body)
    assert len(found) == MAX_COMMANDS
    assert [c.name for c in found] == [f"cmd{i}" for i in range(MAX_COMMANDS)]


def test_huge_comment_is_fast_enough() -> None:
    body = ("text ``` `x` > y\n" * 50_000) + "/ssot recheck"
    assert names(body) == ["recheck"]


# ------------------------------------------------------------------ replies


def test_help_text_lists_commands_and_who_may_use_them() -> None:
    text = help_text()
    assert HELP_MARKER in text
    for name in KNOWN_COMMANDS:
        assert f"`/ssot {name}`" in text
    assert "author" in text and "write" in text and "admin" in text


def test_help_text_itself_triggers_no_command() -> None:
    assert parse_commands(help_text()) == []


def test_unknown_command_text() -> None:
    text = unknown_command_text(Command("xyz", ("a",), 1))
    assert text.startswith("Unknown command `/ssot xyz`.")
    assert text.endswith(help_text())
    assert unknown_command_text(Command("", (), 1)).startswith("Unknown command `/ssot`.")


def test_unknown_command_text_is_safe_markdown() -> None:
    text = unknown_command_text(Command("a`b", (), 1))
    assert text.startswith("Unknown command ``/ssot a`b``.")
    long = unknown_command_text(Command("@everyone" + "x" * 500, (), 1))
    assert len(long.split("\n", 1)[0]) < 100
    assert parse_commands(text) == []


# ------------------------------------------------------------------ who may recheck


@pytest.mark.parametrize(("commenter", "author", "permission", "allowed"), [
    ("alice", "alice", None, True),
    ("Alice", "alice", "read", True),
    ("alice", "ALICE", "none", True),
    ("bob", "alice", "admin", True),
    ("bob", "alice", "write", True),
    ("bob", "alice", "WRITE", True),
    ("bob", "alice", "maintain", True),
    ("bob", "alice", "triage", False),
    ("bob", "alice", "read", False),
    ("bob", "alice", "none", False),
    ("bob", "alice", None, False),
    ("bob", "alice", "", False),
    ("", "", None, False),
])
def test_is_allowed_to_recheck(commenter: str, author: str, permission: str | None,
                               allowed: bool) -> None:
    assert is_allowed_to_recheck(commenter=commenter, pr_author=author,
                                 permission=permission) is allowed


@pytest.mark.parametrize(("comment", "bot"), [
    ({"user": {"login": "dependabot[bot]", "type": "Bot"}}, True),
    ({"user": {"login": "renovate[bot]", "type": "User"}}, True),
    ({"user": {"login": "ci-helper", "type": "Bot"}}, True),
    ({"user": {"login": "octocat", "type": "User"},
      "performed_via_github_app": {"id": 42}}, True),  # written through this App
    ({"user": {"login": "octocat", "type": "User"},
      "performed_via_github_app": {"id": 7}}, False),  # another App, for a person
    ({"user": {"login": "octocat", "type": "User"}}, False),
    ({}, False),
])
def test_comments_of_bots_and_of_this_app_hold_no_commands(comment: dict[str, object],
                                                           bot: bool) -> None:
    assert from_a_bot(comment, "42") is bot


def test_a_comment_without_ssot_is_not_parsed_and_one_with_it_is_parsed_once() -> None:
    assert parse_commands("x" * 65_000) == []
    body = "hi\n/ssot help\n" + "text\n" * 2000
    first = parse_commands(body)
    assert first == [Command("help", (), 2)]
    first.append(Command("recheck", (), 9))  # the caller's list is its own
    assert parse_commands(body) == [Command("help", (), 2)]
