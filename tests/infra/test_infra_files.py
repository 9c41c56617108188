"""The deployment files pass the static checks CI runs (`make infra-check`: hadolint,
kubernetes-validate, the Compose specification's schema), and each check fails on a broken
file, so a green run means something."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from infra import check


def test_the_dockerfile_passes_hadolint():
    assert check.dockerfile_problems() == []


def test_every_kustomization_renders_to_valid_manifests():
    assert check.kubernetes_problems() == []


def test_the_compose_file_follows_the_compose_specification():
    assert check.compose_problems() == []


def test_the_checker_script_exits_zero_on_the_repository(capsys):
    assert check.main() == 0
    assert capsys.readouterr().out.count(": ok") == 3


# --- each check can fail ----------------------------------------------------------------------


def test_hadolint_refuses_a_dockerfile_that_breaks_its_rules(tmp_path):
    broken = tmp_path / "Dockerfile"
    broken.write_text(
        check.DOCKERFILE.read_text()
        # An untagged base image and apt-get without pinned versions or a cleaned list.
        + "\nFROM debian\nRUN apt-get update && apt-get install -y curl\n"
    )

    problems = check.dockerfile_problems(broken)

    assert any("DL3006" in problem for problem in problems)  # always tag the image
    assert any("DL3008" in problem for problem in problems)  # pin versions in apt-get


def copy_k8s(tmp_path: Path) -> Path:
    copied = tmp_path / "k8s"
    shutil.copytree(check.K8S, copied)
    return copied


def test_kubernetes_validate_refuses_a_misspelt_field(tmp_path):
    k8s = copy_k8s(tmp_path)
    deployment = k8s / "base" / "web-deployment.yaml"
    deployment.write_text(deployment.read_text().replace("readinessProbe:", "readynessProbe:"))

    problems = check.kubernetes_problems([k8s / "base"], [])

    assert len(problems) == 1
    assert "canvass-web" in problems[0]
    assert "readynessProbe" in problems[0]


def test_kubernetes_validate_refuses_a_wrong_type_in_an_overlay_patch(tmp_path):
    k8s = copy_k8s(tmp_path)
    patch = k8s / "overlays" / "production" / "web-hpa.yaml"
    patch.write_text(patch.read_text().replace("minReplicas: 3", "minReplicas: three"))

    problems = check.kubernetes_problems([k8s / "overlays" / "production"], [])

    assert any("minReplicas" in problem and "integer" in problem for problem in problems)


def test_a_patch_that_matches_nothing_is_an_error(tmp_path):
    k8s = copy_k8s(tmp_path)
    patch = k8s / "overlays" / "production" / "worker-deployment.yaml"
    patch.write_text(patch.read_text().replace("name: canvass-worker", "name: canvass-workers"))

    problems = check.kubernetes_problems([k8s / "overlays" / "production"], [])

    assert any("matches 0 resources" in problem for problem in problems)


def test_a_kustomize_feature_the_checker_cannot_render_is_refused(tmp_path):
    k8s = copy_k8s(tmp_path)
    kustomization = k8s / "base" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "commonLabels:\n  team: ops\n")

    problems = check.kubernetes_problems([k8s / "base"], [])

    assert problems == [f"{kustomization}: fields this checker cannot render: commonLabels"]


def test_a_missing_resource_file_is_an_error(tmp_path):
    k8s = copy_k8s(tmp_path)
    (k8s / "base" / "web-pdb.yaml").unlink()

    problems = check.kubernetes_problems([k8s / "base"], [])

    assert problems == [
        f"{k8s / 'base' / 'kustomization.yaml'}: resource web-pdb.yaml does not exist"
    ]


def test_the_compose_schema_refuses_an_unknown_service_key(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        check.COMPOSE_FILE.read_text().replace("  read_only: true\n", "  readonly: true\n")
    )

    problems = check.compose_problems(compose)

    assert problems
    assert all("readonly" in problem for problem in problems)


def test_the_compose_schema_refuses_a_wrong_depends_on_condition(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        check.COMPOSE_FILE.read_text().replace(
            "condition: service_completed_successfully", "condition: service_finished", 1
        )
    )

    problems = check.compose_problems(compose)

    assert any("service_finished" in problem for problem in problems)


def test_a_required_variable_missing_from_the_example_env_file_is_an_error(tmp_path):
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        check.COMPOSE_FILE.read_text().replace(
            "${METRICS_TOKEN:?set METRICS_TOKEN in infra/compose.env}",
            "${PROMETHEUS_TOKEN:?set it}",
        )
    )

    problems = check.compose_problems(compose)

    assert problems == [
        "compose.yaml: ${PROMETHEUS_TOKEN} has no default and compose.env.example does not list it"
    ]


def test_interpolation_follows_compose_rules():
    text = "a: ${A:-x}\nb: ${B-y}\nc: ${C:?needed}\nd: $${NOT_A_VARIABLE}\ne: ${E:+set}\n"

    result = yaml.safe_load(check.interpolate(text, {"A": "", "B": "", "C": "c", "E": "1"}))

    assert result == {"a": "x", "b": None, "c": "c", "d": "${NOT_A_VARIABLE}", "e": "set"}
    assert check.required_variables(text) == {"C"}


@pytest.mark.parametrize(
    ("base", "patch", "merged"),
    [
        ({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}, {"a": 1, "b": {"c": 2, "d": 3}}),
        ({"a": 1, "b": 2}, {"b": None}, {"a": 1}),
        (
            {"containers": [{"name": "web", "image": "x"}, {"name": "side", "image": "y"}]},
            {"containers": [{"name": "web", "image": "z"}]},
            {"containers": [{"name": "web", "image": "z"}, {"name": "side", "image": "y"}]},
        ),
        ({"args": ["a", "b"]}, {"args": ["c"]}, {"args": ["c"]}),
    ],
)
def test_strategic_merge(base, patch, merged):
    assert check.strategic_merge(base, patch) == merged
