"""The release as a user meets it: one version, a changelog and a license that agree with
pyproject, one set of project URLs everywhere, the tag in the Action's and pre-commit's
instructions, and docs/deploy.md's permissions and events equal to app.yaml's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import bot

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
VERSION = PYPROJECT["version"]
HOME = PYPROJECT["urls"]["Homepage"]
# where a project URL or a reference to the repository may appear
PLACES = ("README.md", "CHANGELOG.md", "docs/deploy.md", "docs/behaviour.md", "app.yaml",
          "action.yml", "Dockerfile", "pyproject.toml", ".pre-commit-hooks.yaml")
# other people's repositories the docs name on purpose
THEIRS = {"actions/checkout", "actions/setup-python", "github/codeql-action",
          "netra-systems/netra-apex", "apps/sharing-github-apps"}


def _text(name: str) -> str:
    return (ROOT / name).read_text(encoding="utf-8")


def test_one_version_everywhere() -> None:
    assert VERSION == "0.3.0"
    assert bot.__version__ == VERSION
    assert f'org.opencontainers.image.version="{VERSION}"' in _text("Dockerfile")
    changelog = _text("CHANGELOG.md")
    versions = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert versions == ["Unreleased", VERSION, "0.2.0", "0.1.0"]


def test_the_license_file_is_the_license_pyproject_names() -> None:
    assert PYPROJECT["license"] == "MIT"
    assert _text("LICENSE").startswith("MIT License\n")
    assert 'org.opencontainers.image.licenses="MIT"' in _text("Dockerfile")


def test_one_set_of_project_urls() -> None:
    owner_repo = HOME.removeprefix("https://github.com/")
    assert all(url.startswith(HOME) for url in PYPROJECT["urls"].values())
    named: set[str] = set()
    for place in PLACES:
        text = _text(place)
        for m in re.finditer(r"github\.com/([\w.-]+/[\w-]+)|uses: ([\w.-]+/[\w-]+)@", text):
            named.add(m.group(1) or m.group(2))
    assert named - THEIRS == {owner_repo}
    assert yaml.safe_load(_text("app.yaml"))["url"] == HOME
    dockerfile = _text("Dockerfile")
    assert f'org.opencontainers.image.source="{HOME}"' in dockerfile
    assert f'org.opencontainers.image.url="{HOME}"' in dockerfile
    assert HOME in _text("action.yml")


def test_the_action_and_the_hook_are_pinned_to_this_release() -> None:
    deploy = _text("docs/deploy.md")
    tag = f"v{VERSION}"
    assert re.findall(r"uses: ssot-bot/ssot-bot@(\S+)", deploy) == [tag]
    assert re.findall(r"rev: (\S+)", deploy) == [tag]
    readme = _text("README.md")
    install = readme[readme.index("## Install"):readme.index("## `ssot-bot check`")]
    for way in ("pipx install", "docker build", "git clone", f"@{tag}", f"rev: {tag}"):
        assert way in install, way


def _listed(text: str, key: str) -> list[str]:
    block = re.search(rf"<!-- app\.yaml: {key} -->\n(.*?)<!-- end -->", text, re.S)
    assert block is not None, f"docs/deploy.md has no {key} list"
    return re.findall(r"^- `([^`]+)`", block.group(1), re.M)


def test_deploy_docs_list_the_manifests_events_and_permissions() -> None:
    manifest = yaml.safe_load(_text("app.yaml"))
    deploy = _text("docs/deploy.md")
    assert _listed(deploy, "default_events") == manifest["default_events"]
    assert "push" in manifest["default_events"]
    permissions = [f"{k}: {v}" for k, v in manifest["default_permissions"].items()]
    assert _listed(deploy, "default_permissions") == permissions
