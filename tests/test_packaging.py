"""What a fresh clone promises: the two set-up commands, one import name, a Dockerfile that fits."""

from __future__ import annotations

import importlib.util
import re
import sysconfig
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]
TOP = {"csgw": "csgw", "csgw.gateway": "gateway", "csgw.plugins": "plugins", "csgw.cli": "cli",
       "csgw.config": "config", "csgw.health": "health"}


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```(?:sh|bash)?\n(.*?)```", readme, re.S).group(1)
    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()][:2] == ["make run", "make test"]


def test_every_package_folder_is_listed_and_installed_under_csgw():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(project["tool"]["setuptools"]["packages"])
    assert project["tool"]["setuptools"]["package-dir"] == TOP
    found = set()
    for name, folder in TOP.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            if "static" in relative.parts or "__pycache__" in relative.parts:
                continue
            found.add(".".join([name, *relative.parts]))
    assert found == listed
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for bare in ("gateway", "plugins", "cli", "config", "health"):
        assert not (site_packages / bare).exists(), bare
    for finder in site_packages.glob("__editable___csgw*finder.py"):
        mapping = re.search(r"MAPPING[^=]*=\s*(\{.*?\})", finder.read_text(), re.S).group(1)
        assert set(re.findall(r"'([\w.]+)':", mapping)) <= set(TOP), mapping


def test_entry_points_name_real_modules():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for name, target in project["project"]["entry-points"]["csgw"].items():
        module, _, attribute = target.partition(":")
        assert importlib.util.find_spec(module) is not None, name
        assert not attribute or hasattr(importlib.import_module(module), attribute), name
    assert project["project"]["scripts"]["csgw"] == "csgw.cli.main:main"


def test_dockerfile_copies_real_files_and_serves():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (.+?) \S+$", dockerfile, re.M):
        for item in source.split():
            assert (ROOT / item).exists(), item
    assert "csgw serve" in dockerfile and 'VOLUME ["/data"]' in dockerfile


def test_ci_runs_make_test():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
