"""Packaging: the Dockerfile, .dockerignore, the pre-commit hook and the composite GitHub Action.

There is no Docker engine on the test machines, so the Dockerfile is read: its instructions are
parsed, and the builder stage's work is redone for real (its COPY sources, minus .dockerignore,
built into a wheel that must carry the demo). The wheel is also installed into a clean venv where
``ssot-bot demo`` must run. The action's shell steps are run for real under bash, with a
stand-in ``ssot-bot`` on PATH.
"""

from __future__ import annotations

import fnmatch
import http.server
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pathspec
import pytest
import yaml

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def _scripts() -> dict[str, str]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        scripts: dict[str, str] = tomllib.load(f)["project"]["scripts"]
    return scripts


# -- Dockerfile --------------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


def _instructions(text: str) -> list[Instruction]:
    """Dockerfile lines -> instructions: comments dropped, ``\\`` continuations joined."""
    out: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not buffer and (not stripped or stripped.startswith("#")):
            continue
        if buffer and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not buffer:
            start = number
        if stripped.endswith("\\"):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        keyword, _, args = " ".join(part for part in buffer if part).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        buffer = []
    assert not buffer, "Dockerfile ends inside a continued instruction"
    return out


def _stages() -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults, and the stages in order."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in _instructions((ROOT / "Dockerfile").read_text(encoding="utf-8")):
        if ins.keyword == "FROM":
            words = ins.args.split()
            words = [w for w in words if not w.startswith("--platform")]
            image = re.sub(
                r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), ""), words[0]
            )
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image, name))
        elif not stages:
            assert ins.keyword == "ARG", f"line {ins.line}: only ARG may precede the first FROM"
            key, _, default = ins.args.partition("=")
            args[key.strip()] = default.strip()
        else:
            stages[-1].instructions.append(ins)
    return args, stages


def _exec_form(ins: Instruction) -> list[str]:
    value = json.loads(ins.args)
    assert isinstance(value, list), f"line {ins.line}: {ins.keyword} must be in exec (JSON) form"
    return value


def _env(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in stage.all("ENV"):
        for word in shlex.split(ins.args):
            key, sep, value = word.partition("=")
            assert sep, f"line {ins.line}: use ENV KEY=value"
            env[key] = value
    return env


def _healthcheck_command(stage: Stage) -> list[str]:
    (check,) = stage.all("HEALTHCHECK")
    options, sep, command = check.args.partition("CMD")
    assert sep, "HEALTHCHECK needs a CMD"
    assert "--interval" in options and "--timeout" in options
    return _exec_form(Instruction("CMD", command.strip(), check.line))


def test_dockerfile_is_multi_stage_on_slim_python() -> None:
    args, stages = _stages()
    assert len(stages) >= 2
    for stage in stages:
        assert re.fullmatch(r"python:3\.1[1-9]-slim", stage.image), stage.image
    assert args.get("PYTHON_VERSION") in {"3.11", "3.12", "3.13"}


def test_runtime_stage_installs_the_wheels_only() -> None:
    _, stages = _stages()
    runtime = stages[-1]
    runs = " && ".join(i.args for i in runtime.all("RUN"))
    assert "pip install --no-index" in runs
    assert "ssot-bot" in runs
    builder = stages[0].name
    assert (builder and f"from={builder}" in runs) or any(
        f"--from={builder}" in i.args for i in runtime.all("COPY")
    )
    # The source tree never reaches the runtime image.
    for ins in runtime.all("COPY") + runtime.all("ADD"):
        assert "--from=" in ins.args, f"line {ins.line}: runtime copies from the build context"


def test_runtime_runs_as_non_root_before_the_entrypoint() -> None:
    _, stages = _stages()
    runtime = stages[-1]
    users = runtime.all("USER")
    assert users, "the runtime stage must switch to a non-root user"
    user = users[-1].args.split(":")[0]
    assert user not in {"root", "0"}
    assert user == "10001" or re.search(rf"useradd\b.*--uid 10001\b.*\b{user}\b", " ".join(
        i.args for i in runtime.all("RUN")
    ))
    (entrypoint,) = runtime.all("ENTRYPOINT")
    assert users[-1].line < entrypoint.line
    assert "--uid 10001" in " ".join(i.args for i in runtime.all("RUN"))


def test_entrypoint_is_ssot_bot_serve() -> None:
    _, stages = _stages()
    runtime = stages[-1]
    (entrypoint,) = runtime.all("ENTRYPOINT")
    (cmd,) = runtime.all("CMD")
    assert _exec_form(entrypoint) == ["ssot-bot"]
    assert _exec_form(cmd) == ["serve"]
    assert "ssot-bot" in _scripts()


def test_environment_port_and_expose() -> None:
    _, stages = _stages()
    runtime = stages[-1]
    env = _env(runtime)
    assert env["PORT"] == "3000"
    assert env["HOST"] == "0.0.0.0"  # noqa: S104 - the container listens on all interfaces
    assert [i.args for i in runtime.all("EXPOSE")] == ["3000"]


def test_healthcheck_probes_healthz_with_the_standard_library() -> None:
    _, stages = _stages()
    command = _healthcheck_command(stages[-1])
    text = " ".join(command)
    assert command[0] == "python"
    assert "urllib.request" in text
    assert "127.0.0.1" in text and "/healthz" in text
    assert "PORT" in text
    assert "curl" not in text and "wget" not in text


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        code = self.status if self.path == "/healthz" else 404
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    handler = type("Handler", (_Health,), {"status": 200})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_command_runs(health_server: tuple[int, type[_Health]]) -> None:
    """The probe itself: exit 0 on a 200 from /healthz at $PORT, non-zero on a 503."""
    port, handler = health_server
    _, stages = _stages()
    command = [sys.executable, *_healthcheck_command(stages[-1])[1:]]
    env = {**os.environ, "PORT": str(port)}
    assert subprocess.run(command, env=env, capture_output=True, timeout=30).returncode == 0
    handler.status = 503
    assert subprocess.run(command, env=env, capture_output=True, timeout=30).returncode != 0


def test_no_secrets_in_the_image() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    _, stages = _stages()
    for stage in stages:
        for ins in stage.all("ENV") + stage.all("ARG"):
            assert not re.search(r"SECRET|PRIVATE_KEY|APP_ID|TOKEN", ins.args), ins.args
        for ins in stage.all("COPY") + stage.all("ADD"):
            assert ".env" not in ins.args.split() and ".pem" not in ins.args
    assert "BEGIN" not in text


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_excludes_what_the_image_does_not_need() -> None:
    patterns = _dockerignore()
    for needed in (".git", ".venv", "tests", "benchmarks", ".env", ".pytest_cache",
                   ".mypy_cache", ".ruff_cache"):
        assert needed in patterns, needed
    assert any("__pycache__" in p for p in patterns)


def test_dockerignore_keeps_what_the_build_copies() -> None:
    patterns = [p for p in _dockerignore() if not p.startswith("!")]
    _, stages = _stages()
    for ins in stages[0].all("COPY"):
        words = [w for w in ins.args.split() if not w.startswith("--")]
        for source in words[:-1]:
            source = source.rstrip("/")
            for pattern in patterns:
                assert not fnmatch.fnmatch(source, pattern.rstrip("/")), (source, pattern)
            assert (ROOT / source).exists(), source


# -- the wheel: built as the Dockerfile builds it, installed into a clean venv ---------------------


def _build_context(tmp_path: Path) -> Path:
    """The builder stage's build context: what its COPY instructions take, minus .dockerignore."""
    ignored = pathspec.PathSpec.from_lines(
        "gitignore", [p for p in _dockerignore() if not p.startswith("!")]
    )
    context = tmp_path / "context"
    context.mkdir()
    _, stages = _stages()
    for ins in stages[0].all("COPY"):
        words = [w for w in ins.args.split() if not w.startswith("--")]
        for source in words[:-1]:
            source = source.rstrip("/")
            path = ROOT / source
            files = [path] if not path.is_dir() else sorted(
                p for p in path.rglob("*") if p.is_file() or p.is_symlink())
            for file in files:
                rel = file.relative_to(ROOT).as_posix()
                if ignored.match_file(rel):
                    continue
                target = context / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                if file.is_symlink():  # COPY keeps a symlink a symlink: its target must be copied
                    target.symlink_to(os.readlink(file))
                else:
                    shutil.copyfile(file, target)
    return context


def _pip_wheel(source: Path, out: Path) -> Path:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out),
         str(source)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = out.glob("ssot_bot-*.whl")
    return wheel


def _wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


DEMO_DATA = (
    "bot/data/ssot.yml",
    "bot/data/app.yaml",
    "bot/data/demo/tracking-issue-1103.md",
    "bot/data/demo/netra-apex/netra_backend/app/agents/supervisor/agent_instance_factory.py",
    "ssot_emulator/data/openapi-subset.json",
    "ssot_emulator/server.py",
    "ssot_emulator/routes/pulls.py",
)


@pytest.mark.slow
def test_the_builder_stage_makes_a_wheel_that_carries_the_demo(tmp_path: Path) -> None:
    """Build the wheel from exactly what the Dockerfile copies: the image can run the demo."""
    _, stages = _stages()
    runs = " && ".join(i.args for i in stages[0].all("RUN"))
    assert re.search(r"pip wheel --no-deps\b[^&]* \.(\s|$)", runs), runs
    wheel = _pip_wheel(_build_context(tmp_path), tmp_path / "wheels")
    names = _wheel_names(wheel)
    missing = [name for name in DEMO_DATA if name not in names]
    assert not missing, f"the image's wheel lacks {missing}"
    with zipfile.ZipFile(wheel) as zf:
        packaged = zf.read("bot/data/ssot.yml").decode("utf-8")
    assert packaged == (ROOT / "config" / "ssot.yml").read_text(encoding="utf-8")
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.slow
def test_a_wheel_in_a_clean_venv_runs_the_demo(tmp_path: Path) -> None:
    """``pip install`` of the built wheel (not -e) into a venv without this checkout's packages,
    then ``ssot-bot demo`` from an unrelated directory."""
    # Built from a copy, so that setuptools' build/ and egg-info never land in the checkout.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
        ".hypothesis", "tests", "benchmarks"))
    wheel = _pip_wheel(source, tmp_path / "wheels")
    assert set(DEMO_DATA) <= _wheel_names(wheel)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(wheel)],
        capture_output=True, text=True, timeout=900, check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    probe = subprocess.run(
        [str(python), "-c",
         "import bot, bot.cli, sys; "
         "assert not any(m.startswith('ssot_emulator') for m in sys.modules), 'emulator'; "
         "assert 'site-packages' in bot.__file__, bot.__file__"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert probe.returncode == 0, probe.stderr
    demo = subprocess.run(
        [str(venv / "bin" / "ssot-bot"), "demo", "--no-color"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert demo.returncode == 0, demo.stderr + demo.stdout
    assert "failure - 3 new SSOT violations" in demo.stdout
    assert "+- [x] **Step 1**: Discover and Plan Test" in demo.stdout


# -- pre-commit hook ---------------------------------------------------------------------------


def test_pre_commit_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list)
    (hook,) = [h for h in hooks if h["id"] == "ssot-bot"]
    assert hook["name"] == "ssot-bot (SSOT rules)"
    assert hook["entry"].split()[:2] == ["ssot-bot", "check"]
    assert hook["entry"].split()[0] in _scripts()
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["require_serial"] is True
    assert hook.get("pass_filenames", True) is True
    # pre-commit appends the staged files to the entry: `check` takes them as PATH arguments.
    argv = [*hook["entry"].split()[1:], "a.py", "pkg/b.py"]
    assert build_parser().parse_args(argv).paths == ["a.py", "pkg/b.py"]


# -- GitHub Action -----------------------------------------------------------------------------


def _action() -> dict[str, object]:
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(action, dict)
    return action


def _steps() -> list[dict[str, object]]:
    runs = _action()["runs"]
    assert isinstance(runs, dict)
    steps = runs["steps"]
    assert isinstance(steps, list)
    return steps


def _step(step_id: str) -> dict[str, object]:
    (step,) = [s for s in _steps() if s.get("id") == step_id]
    return step


def test_action_metadata() -> None:
    action = _action()
    assert action["name"] == "ssot-bot check"
    assert "fetch-depth: 0" in str(action["description"])
    runs = action["runs"]
    assert isinstance(runs, dict) and runs["using"] == "composite"
    inputs = action["inputs"]
    assert isinstance(inputs, dict)
    assert set(inputs) == {"config", "paths", "diff-base", "sarif", "python-version",
                           "fail-on-violations", "fix"}
    assert inputs["fix"]["default"] == "false"
    assert inputs["paths"]["default"] == "."
    assert inputs["diff-base"]["default"] == "${{ github.event.pull_request.base.sha }}"
    assert inputs["sarif"]["default"] == "false"
    assert inputs["python-version"]["default"] == "3.12"
    assert inputs["fail-on-violations"]["default"] == "true"
    assert not inputs["config"].get("required", False)
    for name, spec in inputs.items():
        assert spec.get("description"), name


def test_action_steps_use_bash_and_never_interpolate_into_scripts() -> None:
    inputs = _action()["inputs"]
    assert isinstance(inputs, dict)
    for step in _steps():
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step.get("shell") == "bash", step.get("name")
            assert "${{" not in str(step["run"]), f"{step.get('name')}: expression in run:"
        mappings = [dict(step.get("env") or {}), dict(step.get("with") or {})]
        for value in [v for m in mappings for v in m.values()]:
            for name in re.findall(r"inputs\.([\w-]+)", str(value)):
                assert name in inputs, name
        for name in re.findall(r"inputs\.([\w-]+)", str(step.get("if", ""))):
            assert name in inputs, name


def test_action_setup_install_and_sarif_upload() -> None:
    steps = _steps()
    setup = steps[0]
    assert str(setup["uses"]).startswith("actions/setup-python@v5")
    assert setup["with"] == {"python-version": "${{ inputs.python-version }}"}
    install = [s for s in steps if "pip install" in str(s.get("run", ""))]
    assert install and '"$GITHUB_ACTION_PATH"' in str(install[0]["run"])
    check = _step("check")
    assert "--format github" in str(check["run"]) and "--diff-base" in str(check["run"])
    upload = [s for s in steps if str(s.get("uses", "")).startswith(
        "github/codeql-action/upload-sarif@v3")]
    assert len(upload) == 1
    assert "inputs.sarif == 'true'" in str(upload[0]["if"])
    assert "--format sarif" in str(_step("sarif")["run"])
    assert '> "$sarif"' in str(_step("sarif")["run"])
    assert "RUNNER_TEMP" in str(_step("sarif")["run"])


# The shell steps, run under bash with a stand-in ssot-bot that records its arguments.

bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@dataclass
class Ran:
    returncode: int
    outputs: dict[str, str]
    calls: list[list[str]]
    stdout: str


def _run_step(
    step: dict[str, object], tmp_path: Path, env: dict[str, str], fake_rc: int = 0
) -> Ran:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "calls.jsonl"
    fake = bin_dir / "ssot-bot"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "with open(os.environ['FAKE_LOG'], 'a') as f:\n"
        "    f.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        "print('fake output')\n"
        "sys.exit(int(os.environ['FAKE_RC']))\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    output.write_text("", encoding="utf-8")
    step_env = {str(k): str(v) for k, v in dict(step.get("env") or {}).items()}
    assert all("${{" in v for v in step_env.values())  # resolved by the runner; set by the test
    full_env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "GITHUB_OUTPUT": str(output),
        "FAKE_LOG": str(log),
        "FAKE_RC": str(fake_rc),
        **{k: "" for k in step_env},
        **env,
    }
    # As the runner does for `shell: bash`: bash --noprofile --norc -eo pipefail {0}
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", str(step["run"])],
        cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=60,
    )
    outputs = dict(
        line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if line
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return Ran(proc.returncode, outputs, calls, proc.stdout)


@bash
def test_check_step_passes_inputs_as_data(tmp_path: Path) -> None:
    hostile = "src $(touch pwned) `touch pwned2`\n lib/*.py\n;touch pwned3"
    ran = _run_step(_step("check"), tmp_path, {
        "SSOT_INPUT_PATHS": hostile,
        "SSOT_INPUT_CONFIG": "cfg $(touch pwned4).yml",
        "SSOT_INPUT_DIFF_BASE": "",
    }, fake_rc=1)
    assert ran.returncode == 0  # the verdict comes from the last step
    assert ran.outputs["exit-code"] == "1"
    assert ran.calls == [[
        "check", "--format", "github", "--no-progress", "--config", "cfg $(touch pwned4).yml",
        "--", "src", "$(touch", "pwned)", "`touch", "pwned2`", "lib/*.py", ";touch", "pwned3",
    ]]
    assert not list(tmp_path.glob("pwned*"))
    assert "fake output" in ran.stdout  # workflow commands reach the log


@bash
@pytest.mark.parametrize(("fake_rc", "step_rc"), [(0, 0), (1, 0), (2, 2)])
def test_fix_step_writes_the_fixes_and_passes_inputs_as_data(
    tmp_path: Path, fake_rc: int, step_rc: int
) -> None:
    fix = _step("fix")
    assert fix["if"] == "inputs.fix == 'true'"
    ran = _run_step(fix, tmp_path, {
        "SSOT_INPUT_PATHS": "src $(touch pwned)\nlib",
        "SSOT_INPUT_CONFIG": "cfg.yml",
    }, fake_rc=fake_rc)
    assert ran.returncode == step_rc  # only a usage/configuration error stops the job here
    assert ran.outputs["fix-exit-code"] == str(fake_rc)
    assert ran.calls == [["fix", "--write", "--config", "cfg.yml", "--", "src", "$(touch",
                          "pwned)", "lib"]]
    assert not list(tmp_path.glob("pwned*"))
    steps = [s.get("id") for s in _steps()]
    assert steps.index("fix") < steps.index("check")  # the check judges the fixed files


@bash
def test_check_step_default_paths_and_diff_base(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q", "."], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "base"], cwd=tmp_path, check=True)
    ran = _run_step(_step("check"), tmp_path, {
        "SSOT_INPUT_PATHS": ".", "SSOT_INPUT_DIFF_BASE": "HEAD",
    })
    assert ran.outputs["exit-code"] == "0"
    assert ran.calls == [["check", "--format", "github", "--no-progress",
                          "--diff-base", "HEAD", "--", "."]]


@bash
def test_check_step_explains_a_missing_merge_base(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    subprocess.run(["git", "init", "-q", "."], cwd=tmp_path, check=True)
    ran = _run_step(_step("check"), tmp_path, {
        "SSOT_INPUT_PATHS": ".", "SSOT_INPUT_DIFF_BASE": "0123456789abcdef",
    })
    assert ran.outputs["exit-code"] == "2"
    assert ran.calls == []
    assert "::error" in ran.stdout and "fetch-depth: 0" in ran.stdout


@bash
@pytest.mark.parametrize("fake_rc, expect_file", [(0, True), (1, True), (2, False)])
def test_sarif_step(tmp_path: Path, fake_rc: int, expect_file: bool) -> None:
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    (tmp_path / "ssot.sarif").symlink_to(tmp_path / "planted")  # a PR's trap in the workspace
    ran = _run_step(_step("sarif"), tmp_path, {"SSOT_INPUT_PATHS": ".",
                                               "RUNNER_TEMP": str(runner_temp)}, fake_rc=fake_rc)
    assert ran.returncode == 0
    assert ran.calls == [["check", "--format", "sarif", "--no-progress", "--", "."]]
    (written,) = runner_temp.glob("*.sarif")
    assert written.read_text() == "fake output\n"
    assert not (tmp_path / "planted").exists()
    assert (ran.outputs.get("sarif-file") == str(written)) is expect_file


@bash
@pytest.mark.parametrize(
    "exit_code, fail_on_violations, expected",
    [("0", "true", 0), ("1", "true", 1), ("1", "false", 0), ("2", "false", 2),
     ("2", "true", 2), ("", "true", 2)],
)
def test_verdict_step(
    tmp_path: Path, exit_code: str, fail_on_violations: str, expected: int
) -> None:
    (verdict,) = [s for s in _steps() if s.get("name") == "Verdict"]
    ran = _run_step(verdict, tmp_path, {
        "SSOT_EXIT_CODE": exit_code, "SSOT_INPUT_FAIL": fail_on_violations,
    })
    assert ran.returncode == expected
