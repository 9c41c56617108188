"""Imports only point down: tenants at the bottom, the registry core above it, the audiences and
the paid half above that, the project package on top. A lower layer never imports a higher one,
not even inside a function (docs/architecture.md draws the layers). The bridge (bridge/) lies
beneath them all as an island: it ships on the owner's box alone and imports nothing of Canvass."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first; a module may import its own layer and those listed before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("bridge", ("canvass_bridge",)),
    ("tenants", ("tenants",)),
    ("registry core", ("portal.registry",)),
    (
        "audiences",
        (
            "portal.residents",
            "portal.department",
            "portal.liveview",
            "portal.guardrails",
            "portal.access_notices",
            "portal.oversight",
            "portal.transparency",
            "portal.council_reports",
            "billing",
        ),
    ),
    ("platform", ("canvass", "console", "onboarding", "website", "relay")),
]
SOURCES = {
    "canvass_bridge": ROOT / "bridge" / "canvass_bridge",
    "tenants": ROOT / "tenants",
    "portal.registry": ROOT / "portal" / "registry",
    "portal.residents": ROOT / "portal" / "residents",
    "portal.department": ROOT / "portal" / "department",
    "portal.liveview": ROOT / "portal" / "liveview",
    "portal.guardrails": ROOT / "portal" / "guardrails",
    "portal.access_notices": ROOT / "portal" / "access_notices",
    "portal.oversight": ROOT / "portal" / "oversight",
    "portal.transparency": ROOT / "portal" / "transparency",
    "portal.council_reports": ROOT / "portal" / "council_reports",
    "billing": ROOT / "billing",
    "canvass": ROOT / "platform" / "canvass",
    "console": ROOT / "platform" / "console",
    "onboarding": ROOT / "platform" / "onboarding",
    "website": ROOT / "platform" / "website",
    "relay": ROOT / "platform" / "relay",
}


def layer_of(module: str) -> int | None:
    for index, (_name, packages) in enumerate(LAYERS):
        if any(module == package or module.startswith(package + ".") for package in packages):
            return index
    return None


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module the file imports, at any depth (functions included), with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # "from portal import department" names a package too.
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def python_files() -> list[tuple[str, Path]]:
    return [
        (package, path)
        for package, folder in SOURCES.items()
        for path in sorted(folder.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_every_package_of_the_code_belongs_to_a_layer() -> None:
    top_level = {
        path.name for path in (ROOT / "portal").iterdir() if (path / "__init__.py").exists()
    }
    assert {f"portal.{name}" for name in top_level} <= set(SOURCES)


@pytest.mark.parametrize(("package", "path"), python_files(), ids=lambda value: str(value))
def test_imports_only_point_down(package: str, path: Path) -> None:
    own = layer_of(package)
    assert own is not None
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module} ({LAYERS[target][0]})"
        for line, module in imported_modules(path)
        if (target := layer_of(module)) is not None and target > own
    ]
    assert not upward, "\n".join(upward)


def test_the_bridge_imports_nothing_but_the_standard_library_and_its_own_dependencies() -> None:
    """The bridge installs on a Raspberry Pi with its own pyproject.toml: no Django, nothing of
    Canvass, no library it does not declare."""
    declared = tomllib.loads((ROOT / "bridge" / "pyproject.toml").read_text())["project"]
    allowed = {"canvass_bridge", "aiohttp", "aiortc", *sys.stdlib_module_names}
    assert sorted(requirement.split(">")[0] for requirement in declared["dependencies"]) == [
        "aiohttp",
        "aiortc",
    ]
    foreign = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "bridge" / "canvass_bridge").rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".")[0] not in allowed
    ]
    assert not foreign, "\n".join(foreign)
