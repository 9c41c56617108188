"""What the deployment files promise and the code must keep: every file the image copies
exists and reaches the build, every command a container runs is a real command of Canvass, the
beat runs once, only the migration job holds the owner's login, web is probed on its health
endpoints, and every container runs unprivileged on a read-only file system."""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import get_commands

from infra import check
from tests.infra.deployfiles import (
    ROOT,
    compose_commands,
    compose_file,
    containers,
    copy_sources,
    dockerfile_instructions,
    dockerfile_user,
    dockerignored,
    flags,
    kubernetes_commands,
    named,
    production,
)

# --- the image -------------------------------------------------------------------------------


def test_every_copy_source_exists_and_is_in_the_build_context():
    sources = copy_sources(dockerfile_instructions())

    assert sources, "the Dockerfile copies nothing from the build context"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not dockerignored(source), f"{source} is left out by .dockerignore"


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".data/pg/postgresql.conf",
        "tests/conftest.py",
        "portal/locale/es/LC_MESSAGES/django.mo",
        "platform/canvass/__pycache__/settings.cpython-312.pyc",
        "infra/compose.env",
        "infra/k8s/overlays/production/canvass.env",
    ],
)
def test_what_a_laptop_holds_stays_out_of_the_image(path):
    assert dockerignored(path)


def test_the_catalogue_and_the_entrypoint_reach_the_image():
    assert not dockerignored("portal/locale/es/LC_MESSAGES/django.po")
    assert not dockerignored("infra/docker-entrypoint.sh")


def test_the_image_installs_exactly_the_projects_dependencies():
    import tomllib

    (install,) = [
        i.arguments for i in dockerfile_instructions() if "requirements.txt" in i.arguments
    ]
    assert "['project']['dependencies']" in install
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "gunicorn>=23" in dependencies["dependencies"]
    assert "whitenoise>=6.7,<7" in dependencies["dependencies"]


def test_the_image_runs_as_the_unprivileged_user_the_manifests_name():
    uid, gid = dockerfile_user()
    assert uid >= 10000
    for document, pod, container in containers(production()):
        assert pod["securityContext"]["runAsNonRoot"] is True, document["metadata"]["name"]
        assert pod["securityContext"]["runAsUser"] == uid
        assert pod["securityContext"]["runAsGroup"] == gid
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_the_entrypoint_starts_each_process_with_an_empty_metrics_directory(tmp_path):
    entrypoint = ROOT / "infra" / "docker-entrypoint.sh"
    assert entrypoint.stat().st_mode & stat.S_IXUSR
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    (metrics / "counter_1234.db").write_bytes(b"left by a previous run")

    result = subprocess.run(
        [str(entrypoint), "sh", "-c", 'ls -A "$PROMETHEUS_MULTIPROC_DIR"; echo ran "$@"', "-", "x"],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout == "ran x\n"
    assert metrics.is_dir()


# --- the commands ----------------------------------------------------------------------------


def all_commands() -> dict[str, list[str]]:
    commands = {f"compose {name}": line for name, line in compose_commands().items()}
    commands |= {f"k8s {name}": line for name, line in kubernetes_commands().items()}
    (cmd,) = [i.arguments for i in dockerfile_instructions() if i.keyword == "CMD"]
    commands["image CMD"] = __import__("json").loads(cmd)
    return commands


def offers(help_text: str, flag: str) -> bool:
    """Whether a command's --help lists the option (the whole word, not a prefix of one)."""
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", help_text) is not None


def relay_help() -> str:
    return subprocess.run(
        [sys.executable, "-m", "relay", "--help"],
        cwd=ROOT / "platform",
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_every_command_a_container_runs_is_a_real_command_of_canvass():
    commands = all_commands()
    assert len(commands) >= 12
    management = get_commands()
    for where, line in commands.items():
        match line:
            case ["python", "manage.py", name, *_]:
                assert name in management, f"{where}: no management command {name}"
            case ["gunicorn", "-c", config, "canvass.wsgi"]:
                assert (ROOT / config).is_file(), where
                import canvass.wsgi

                assert callable(canvass.wsgi.application)
            case ["celery", "-A", "canvass", ("worker" | "beat"), "--workdir", workdir, *_]:
                assert (ROOT / workdir / "canvass" / "celery.py").is_file(), where
                from canvass.celery import app

                assert app.main == "canvass"
            case ["python", "-m", "relay", *arguments]:
                assert importlib.util.find_spec("relay.__main__"), where
                available = relay_help()
                for flag in flags(arguments):
                    assert offers(available, flag), f"{where}: the relay has no {flag}"
            case ["python", script]:
                assert (ROOT / script).is_file(), where
            case _:
                pytest.fail(f"{where}: teach this test what {line} is")


def test_celery_knows_every_option_the_worker_and_beat_are_given():
    for where, line in all_commands().items():
        if line[:1] != ["celery"]:
            continue
        help_text = subprocess.run(
            ["celery", "-A", "canvass", line[3], "--help"],
            cwd=ROOT / "platform",
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        ).stdout
        for flag in flags(line[4:]):
            if flag != "--workdir":  # celery's own option, before the subcommand's
                assert offers(help_text, flag), f"{where}: celery {line[3]} has no {flag}"


def test_gunicorn_listens_where_the_probes_and_the_services_look():
    config = (ROOT / "infra" / "gunicorn.conf.py").read_text()
    assert 'os.environ.get("BIND"' in config
    env = [i.arguments for i in dockerfile_instructions() if i.keyword == "ENV"]
    assert any("BIND=0.0.0.0:8000" in line for line in env)
    web = named(production(), "Deployment", "canvass-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


# --- Kubernetes ------------------------------------------------------------------------------


def test_beat_runs_as_exactly_one_replica_replaced_not_rolled():
    beat = named(production(), "Deployment", "canvass-beat")

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not any(
        d["kind"] == "HorizontalPodAutoscaler"
        and d["spec"]["scaleTargetRef"]["name"] == "canvass-beat"
        for d in production()
    )


def test_web_scales_with_its_autoscaler_and_keeps_a_pod_through_disruptions():
    documents = production()
    web = named(documents, "Deployment", "canvass-web")
    autoscaler = named(documents, "HorizontalPodAutoscaler", "canvass-web")
    budget = named(documents, "PodDisruptionBudget", "canvass-web")

    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "canvass-web",
    }
    assert autoscaler["spec"]["minReplicas"] >= 2
    # A replicas field would undo the autoscaler's choice at every apply.
    assert "replicas" not in web["spec"]
    labels = web["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_web_is_probed_on_the_health_endpoints():
    web = named(production(), "Deployment", "canvass-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]

    # Sent as if through the ingress: production redirects plain HTTP to https://, and the
    # kubelet counts a redirect as success, so without it a broken app would look alive.
    https = [{"name": "X-Forwarded-Proto", "value": "https"}]
    assert container["livenessProbe"]["httpGet"] == {
        "path": "/health/live",
        "port": "http",
        "httpHeaders": https,
    }
    assert container["readinessProbe"]["httpGet"] == {
        "path": "/health/ready",
        "port": "http",
        "httpHeaders": https,
    }
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["httpGet"]["httpHeaders"] == https


def test_every_container_states_its_resources():
    for document, _pod, container in containers(production()):
        resources = container["resources"]
        for bound in ("requests", "limits"):
            assert set(resources[bound]) == {"cpu", "memory"}, document["metadata"]["name"]


def test_only_the_migration_job_holds_the_owners_login():
    holders = []
    for document, _pod, container in containers(production()):
        sources = [ref.get("secretRef", {}).get("name") for ref in container.get("envFrom", [])]
        names = [variable["name"] for variable in container.get("env", [])]
        if "canvass-owner" in sources or "DATABASE_OWNER_URL" in names:
            holders.append(document["metadata"]["name"])

    assert holders == ["canvass-migrate"]
    job = named(production(), "Job", "canvass-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["python", "manage.py", "platform_setup"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_every_secret_and_config_map_a_container_reads_is_defined():
    documents = production()
    example = check.load_documents(check.K8S / "secret.example.yaml")
    secrets = {(d["metadata"]["namespace"], d["metadata"]["name"]) for d in example}
    maps = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in documents
        if d["kind"] == "ConfigMap"
    }
    for document, _pod, container in containers(documents):
        namespace = document["metadata"]["namespace"]
        for ref in container.get("envFrom", []):
            if "secretRef" in ref:
                assert (namespace, ref["secretRef"]["name"]) in secrets
            else:
                assert (namespace, ref["configMapRef"]["name"]) in maps
        for variable in container.get("env", []):
            reference = variable.get("valueFrom", {}).get("secretKeyRef")
            if reference:
                assert (namespace, reference["name"]) in secrets
                (secret,) = [d for d in example if d["metadata"]["name"] == reference["name"]]
                assert reference["key"] in secret["stringData"]


def test_every_service_and_ingress_reaches_a_pod_port():
    documents = production()
    for service in (d for d in documents if d["kind"] == "Service"):
        namespace = service["metadata"]["namespace"]
        pods = [
            (pod_spec, document)
            for document, pod_spec, _c in containers(documents)
            if document["metadata"]["namespace"] == namespace
            and service["spec"]["selector"].items()
            <= document["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(pods) == 1, service["metadata"]["name"]
        port_names = {p["name"] for c in pods[0][0]["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names
    services = {
        (d["metadata"]["namespace"], d["metadata"]["name"]): d
        for d in documents
        if d["kind"] == "Service"
    }
    for ingress in (d for d in documents if d["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                service = services[(ingress["metadata"]["namespace"], backend["name"])]
                assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_the_ingress_serves_the_wildcard_domain_with_tls_and_media_goes_to_the_relay():
    documents = production()
    base_domain = named(documents, "ConfigMap", "canvass-config")["data"]["CANVASS_BASE_DOMAIN"]
    ingress = named(documents, "Ingress", "canvass")
    media = named(documents, "Ingress", "canvass-media")

    (tls,) = ingress["spec"]["tls"]
    assert set(tls["hosts"]) == {base_domain, f"*.{base_domain}"}
    assert {rule["host"] for rule in ingress["spec"]["rules"]} == set(tls["hosts"])
    (rule,) = media["spec"]["rules"]
    assert rule["host"] == f"*.{base_domain}"
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["backend"]["service"]["name"]) == ("/media/", "canvass-relay")


def test_the_namespace_denies_all_traffic_that_no_policy_allows():
    documents = production()
    deny = named(documents, "NetworkPolicy", "default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    web_in = named(documents, "NetworkPolicy", "web-ingress")
    assert [p["port"] for rule in web_in["spec"]["ingress"] for p in rule["ports"]] == [8000]
    egress = named(documents, "NetworkPolicy", "canvass-egress")
    (rule,) = egress["spec"]["egress"]
    assert "169.254.169.254/32" in rule["to"][0]["ipBlock"]["except"]


def test_the_application_namespace_enforces_the_restricted_pod_security_level():
    namespace = named(production(), "Namespace", "canvass")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not any(
        pod.get("hostNetwork")
        for document, pod, _c in containers(production())
        if document["metadata"]["namespace"] == "canvass"
    )


# --- Compose ---------------------------------------------------------------------------------


def test_compose_runs_the_migrations_first_and_only_there_as_the_owner():
    services = compose_file()["services"]

    owners = [
        name for name, s in services.items() if "DATABASE_OWNER_URL" in s.get("environment", {})
    ]
    assert owners == ["migrate"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_compose_roles_are_the_ones_its_database_init_script_creates():
    services = compose_file()["services"]
    script = (ROOT / "infra" / "compose" / "postgres-init.sql").read_text()
    created = re.findall(r"CREATE ROLE (\w+) LOGIN", script)
    (owner_of_database,) = re.findall(r"CREATE DATABASE canvass OWNER (\w+);", script)

    app = re.match(r"postgres://(\w+):", services["web"]["environment"]["DATABASE_URL"])[1]
    migrate_env = services["migrate"]["environment"]
    owner = re.match(r"postgres://(\w+):", migrate_env["DATABASE_OWNER_URL"])[1]
    assert sorted(created) == sorted([app, owner])
    assert owner_of_database == owner != app
    mounts = services["postgres"]["volumes"]
    assert (
        "./compose/postgres-init.sql:/docker-entrypoint-initdb.d/10-canvass-roles.sql:ro" in mounts
    )


def test_compose_runs_one_beat_and_every_canvass_process_read_only():
    services = compose_file()["services"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    canvass = [s for s in services.values() if s.get("image", "").startswith("canvass")]
    assert len(canvass) == 6
    assert all(s["read_only"] is True and s["tmpfs"] == ["/tmp"] for s in canvass)


def test_compose_files_it_mounts_exist():
    services = compose_file()["services"]
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (check.INFRA / source).is_file(), source
    build = services["web"]["build"]
    assert (check.INFRA / build["context"] / build["dockerfile"]).resolve() == check.DOCKERFILE


def test_the_tls_proxy_sends_media_to_the_relay_and_the_rest_to_web():
    caddyfile = (ROOT / "infra" / "compose" / "Caddyfile").read_text()
    services = compose_file()["services"]

    assert "{$CANVASS_BASE_DOMAIN}, *.{$CANVASS_BASE_DOMAIN} {" in caddyfile
    assert "tls internal" in caddyfile
    assert re.search(r"handle /media/auth \{\s*respond 404", caddyfile)
    assert re.search(r"handle /media/\* \{\s*reverse_proxy relay:8890", caddyfile)
    assert re.search(r"handle \{\s*reverse_proxy web:8000", caddyfile)
    assert "--port" in services["relay"]["command"]
    assert services["relay"]["command"][services["relay"]["command"].index("--port") + 1] == "8890"
    assert services["relay"]["environment"]["MEDIA_RELAY_CANVASS_URL"] == "http://web:8000"


# --- the variables ---------------------------------------------------------------------------

# Read by a library rather than by Canvass's code: named here so that a misspelt variable
# elsewhere still fails the test below.
READ_ELSEWHERE: dict[str, str] = {}


def variables_read() -> set[str]:
    """Every name that the code or gunicorn's settings read from the environment (as a string
    literal) or that infra/env.example lists."""
    names = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / "infra" / "env.example").read_text(), re.M)
    )
    for folder in ("platform", "tenants", "portal", "billing", "infra"):
        for path in (ROOT / folder).rglob("*.py"):
            names |= set(re.findall(r"[\"']([A-Z][A-Z0-9_]+)[\"']", path.read_text()))
    return names


def test_every_variable_the_deployment_sets_is_one_canvass_reads():
    documents = production()
    given: dict[str, set[str]] = {}
    config = named(documents, "ConfigMap", "canvass-config")
    given["k8s ConfigMap"] = set(config["data"])
    for secret in check.load_documents(check.K8S / "secret.example.yaml"):
        given[f"k8s Secret {secret['metadata']['name']}"] = set(secret["stringData"])
    for document, _pod, container in containers(documents):
        given[f"k8s {document['metadata']['name']}"] = {v["name"] for v in container.get("env", [])}
    for name, service in compose_file()["services"].items():
        if service.get("image", "").startswith("canvass"):
            given[f"compose {name}"] = set(service["environment"])

    known = variables_read() | set(READ_ELSEWHERE)
    unknown = {where: sorted(names - known) for where, names in given.items() if names - known}
    assert unknown == {}
