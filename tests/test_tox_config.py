"""``tox.ini``: one environment per torch release, each writing its own run folder with the
derandomized profile (the same inputs reach both), plus the render and diff environments;
and the README shows the commands that use them."""

from __future__ import annotations

import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tox() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(ROOT / "tox.ini", encoding="utf-8")
    return cp


def test_one_environment_per_release() -> None:
    cp = tox()
    assert [e.strip() for e in cp["tox"]["envlist"].split(",")] == ["torch2.13", "torch2.14"]
    assert cp["testenv:torch2.13"]["deps"].strip() == "torch==2.13.0"
    assert cp["testenv:torch2.14"]["deps"].strip() == "torch==2.14.1"
    commands = cp["testenv"]["commands"]
    assert "pytest suites/" in commands
    assert "--hypothesis-profile=ci" in commands  # derandomized: the same draws on both
    assert "--results-dir {toxinidir}/results/{envname}" in commands
    assert "CI = true" in cp["testenv"]["setenv"]


def test_render_and_diff_environments_read_the_release_runs() -> None:
    cp = tox()
    render = cp["testenv:render"]["commands"]
    assert "reports render {toxinidir}/results/torch2.13" in render
    assert "reports render {toxinidir}/results/torch2.14" in render
    diff = cp["testenv:diff"]["commands"]
    assert "reports diff {toxinidir}/results/torch2.13 {toxinidir}/results/torch2.14" in diff
    assert "--markdown" in diff and "-o " in diff


def test_readme_shows_the_release_diff_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "tox -e torch2.13,torch2.14" in readme
    assert "tox -e diff" in readme
