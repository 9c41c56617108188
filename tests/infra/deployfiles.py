"""Readers of the deployment files for the tests: the Dockerfile's instructions, the
.dockerignore rules, the commands every Compose service and Kubernetes container runs."""

from __future__ import annotations

import fnmatch
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra import check

ROOT = check.INFRA.parent


@dataclass(frozen=True)
class Instruction:
    stage: str
    keyword: str
    arguments: str


def dockerfile_instructions(path: Path = check.DOCKERFILE) -> list[Instruction]:
    """Instructions with their continuation lines joined, comments dropped, and the stage they
    belong to (the name after FROM ... AS)."""
    logical: list[str] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    instructions = []
    stage = ""
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        if keyword.upper() == "FROM":
            stage = arguments.split()[-1] if " AS " in arguments.upper() else arguments
        instructions.append(Instruction(stage, keyword.upper(), arguments.strip()))
    return instructions


def copy_sources(instructions: list[Instruction]) -> list[str]:
    """What the COPY instructions take from the build context (not from another stage)."""
    sources = []
    for instruction in instructions:
        if instruction.keyword != "COPY" or "--from=" in instruction.arguments:
            continue
        words = [word for word in shlex.split(instruction.arguments) if not word.startswith("--")]
        sources.extend(words[:-1])
    return sources


def dockerignored(relative: str, ignore_file: Path = ROOT / ".dockerignore") -> bool:
    """Whether Docker leaves the path out of the build context: a rule applies to the path and
    to what a matching directory holds, the last matching rule wins, "!" re-includes, and
    "**/" matches at any depth."""
    rules = [
        line.strip()
        for line in ignore_file.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    parts = relative.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for rule in rules:
        pattern = rule.removeprefix("!").rstrip("/")
        if any(_matches(prefix, pattern) for prefix in prefixes):
            ignored = not rule.startswith("!")
    return ignored


def _matches(path: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(path, pattern):
        return True
    if pattern.startswith("**/"):
        segments = path.split("/")
        return any(
            fnmatch.fnmatchcase("/".join(segments[i:]), pattern[3:]) for i in range(len(segments))
        )
    return False


def compose_file() -> dict[str, Any]:
    text = check.interpolate(
        check.COMPOSE_FILE.read_text(),
        {
            name: value or f"example-{name.lower()}"
            for name, value in check.env_file_values(check.COMPOSE_ENV_EXAMPLE).items()
        },
    )
    return yaml.safe_load(text)


def compose_commands() -> dict[str, list[str]]:
    return {
        name: service["command"]
        for name, service in compose_file()["services"].items()
        if "command" in service and service.get("image", "").startswith("canvass")
    }


def rendered(*parts: str) -> list[dict[str, Any]]:
    return check.render(check.K8S.joinpath(*parts))


def production() -> list[dict[str, Any]]:
    return rendered("overlays", "production") + rendered("overlays", "production", "release")


def containers(documents: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict, dict]]:
    """(resource, pod spec, container) for every container of every workload."""
    found = []
    for document in documents:
        spec = (document.get("spec") or {}).get("template", {}).get("spec")
        if spec:
            for container in spec.get("containers", []):
                found.append((document, spec, container))
    return found


def kubernetes_commands() -> dict[str, list[str]]:
    """Each container's command line without the image's entrypoint script."""
    commands = {}
    for document, _spec, container in containers(production()):
        line = [*container.get("command", []), *container.get("args", [])]
        if line[:1] == ["/app/infra/docker-entrypoint.sh"]:
            line = line[1:]
        commands[f"{document['kind']}/{document['metadata']['name']}"] = line
    return commands


def named(documents: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (found,) = [d for d in documents if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def dockerfile_user() -> tuple[int, int]:
    (user,) = [i.arguments for i in dockerfile_instructions() if i.keyword == "USER"]
    uid, _, gid = user.partition(":")
    return int(uid), int(gid or uid)


def flags(line: list[str]) -> list[str]:
    return [word for word in line if re.fullmatch(r"--[a-z][a-z-]*", word)]
