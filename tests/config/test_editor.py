"""What an editor shows for ``.github/ssot.yml`` (issue 20 item 6), asked of the YAML language
server itself (the one VS Code's YAML extension and Neovim run) over its stdio protocol, on the
files ``ssot-bot init`` writes: the schema line resolves, a valid file has no problem, hovers
explain keys, and a key of another rule kind says which keys the kind takes. Runs when node and
the ``yaml-language-server`` npm package are installed (``.ci/run`` installs it into
``.ci/yaml-language-server``; ``SSOT_YAML_LS_DIR`` names another install)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
LS_DIR = Path(os.environ.get("SSOT_YAML_LS_DIR") or ROOT / ".ci" / "yaml-language-server")
SERVER = LS_DIR / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not SERVER.is_file(),
    reason="node with the yaml-language-server npm package is not installed")


class Server:
    """One language server process, spoken to as an editor does (JSON-RPC over stdio)."""

    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen(["node", str(SERVER), "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.ids = 0
        answer = self.request("initialize", {
            "processId": os.getpid(), "rootUri": folder.as_uri(),
            "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]}}},
            "workspaceFolders": [{"uri": folder.as_uri(), "name": "repo"}]})
        assert "capabilities" in answer
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": {"yaml": {
            "validate": True, "hover": True, "schemaStore": {"enable": False}}}})

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while line := self.proc.stdout.readline().strip():
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(self.proc.stdout.read(length))
        if "method" in message and "id" in message:  # the server asks for settings
            items = message.get("params", {}).get("items", [None])
            self.send({"id": message["id"], "result": [{"validate": True}] * len(items)})
        return message

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.ids += 1
        self.send({"id": self.ids, "method": method, "params": params})
        while (message := self.receive()).get("id") != self.ids or "method" in message:
            pass
        return message.get("result")

    def diagnostics(self, path: Path, text: str) -> list[tuple[int, str]]:
        """Open ``text`` as ``path``: the (1-based line, message) of each problem shown."""
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": path.as_uri(), "languageId": "yaml", "version": 1, "text": text}})
        while True:
            message = self.receive()
            if message.get("method") == "textDocument/publishDiagnostics" \
                    and message["params"]["uri"] == path.as_uri():
                return [(d["range"]["start"]["line"] + 1, d["message"])
                        for d in message["params"]["diagnostics"]]

    def hover(self, path: Path, line: int, column: int) -> str:
        result = self.request("textDocument/hover", {
            "textDocument": {"uri": path.as_uri()},
            "position": {"line": line - 1, "character": column}})
        return str((result or {}).get("contents", {}).get("value", ""))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def initialised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    assert main(["init", "--root", str(tmp_path)]) == 0
    capsys.readouterr()
    path = tmp_path / ".github" / "ssot.yml"
    return path, path.read_text()


@pytest.fixture
def server(tmp_path: Path) -> Any:
    running = Server(tmp_path.resolve())
    yield running
    running.close()


def line_of(text: str, needle: str, after: int = 0) -> int:
    lines = text.splitlines()
    return next(n for n in range(after, len(lines)) if needle in lines[n]) + 1


def test_the_written_file_resolves_its_schema_and_shows_no_problem(
        initialised: tuple[Path, str], server: Server) -> None:
    path, text = initialised
    assert text.startswith("# yaml-language-server: $schema=ssot.schema.json\n")
    assert server.diagnostics(path, text) == []
    # hovers come from the schema beside it: it resolved
    assert "inline comments per review" in server.hover(
        path, line_of(text, "max_review_comments:"), 2)
    kind = line_of(text, "kind: banned-call")
    assert "every call of a listed symbol" in server.hover(path, kind, 6)
    allow = line_of(text, "allow:", kind)
    assert "globs of files where the calls are fine" in server.hover(path, allow, 6)


def test_a_key_of_another_kind_names_the_keys_the_kind_takes(
        initialised: tuple[Path, str], server: Server) -> None:
    path, text = initialised
    kind = line_of(text, "kind: banned-import")
    lines = text.splitlines(keepends=True)
    lines.insert(kind, '    allow: ["vendor/**"]\n')  # banned-call's key, in a banned-import rule
    bad = "".join(lines).replace("review: comment", "review: sometimes")
    shown = server.diagnostics(path, bad)
    assert (kind + 1, "this key does not apply to kind banned-import (it takes symbols, use)"
            ) in shown
    assert (line_of(bad, "review: sometimes"),
            'Value is not accepted. Valid values: "comment", "request-changes", "off".') in shown
    assert not any("Matches a schema that is not allowed" in m for _, m in shown)
