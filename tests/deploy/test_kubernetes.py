"""deploy/kubernetes: each overlay renders, every object is valid offline for a pinned
Kubernetes version (KEDA's ScaledObject against the vendored schema), and the deployment's
rules hold (tests/deploy/kubernetes_policies.py). The rules are also shown to catch a
deliberately broken object, so a check that passes means something."""

from __future__ import annotations

import copy
import json
import shutil
import socket
import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy import kubernetes_policies as policy

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("dev", "production")
# The oldest Kubernetes the manifests promise to run on (docs/kubernetes.md).
KUBERNETES_VERSION = "1.32.0"
SCALED_OBJECT_SCHEMA = KUBERNETES / "schemas" / "scaledobject.json"


@cache
def _rendered(overlay: str) -> tuple[dict, ...]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is needed to render deploy/kubernetes (kubectl kustomize); "
                    "install it (the CI machine has it)")
    result = subprocess.run([kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return tuple(o for o in yaml.safe_load_all(result.stdout) if o)


def render(overlay: str) -> list[dict]:
    """A fresh copy of the overlay's objects (a test may break its copy)."""
    return copy.deepcopy(list(_rendered(overlay)))


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test: validation must be offline."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network used during validation: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _scaled_object_errors(scaled: dict) -> list[str]:
    schema = json.loads(SCALED_OBJECT_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(scaled)]
    spec = scaled.get("spec", {})
    # The CRD's one CEL rule (x-kubernetes-validations), which JSON Schema cannot say.
    if spec.get("minReplicaCount", 0) > spec.get("maxReplicaCount", 100):
        errors.append("minReplicaCount must be less than or equal to maxReplicaCount")
    return errors


def _kubernetes_errors(obj: dict) -> list[str]:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{obj['kind']} {obj['metadata']['name']}: {error.message}"]
    return []


# -- rendering and schemas ------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_for_the_pinned_kubernetes(overlay, no_network):
    objects = render(overlay)
    kinds = {o["kind"] for o in objects}
    assert {"Deployment", "Service", "ConfigMap", "Job", "NetworkPolicy"} <= kinds
    errors = [e for o in objects if o["kind"] != "ScaledObject" for e in _kubernetes_errors(o)]
    assert errors == []


def test_scaled_objects_match_kedas_schema():
    scaled = policy.of_kind(render("production"), "ScaledObject")
    assert {s["metadata"]["name"] for s in scaled} == {"rebook-worker", "rebook-rasa"}
    assert [e for s in scaled for e in _scaled_object_errors(s)] == []


def test_the_validators_reject_broken_objects(no_network):
    objects = render("production")
    deployment = policy.named(objects, "Deployment", "rebook-api")
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = []
    assert _kubernetes_errors(deployment)
    typo = policy.named(objects, "Service", "rebook-api")
    typo["spec"]["prots"] = typo["spec"].pop("ports")  # strict: an unknown field is refused
    assert _kubernetes_errors(typo)
    scaled = policy.named(objects, "ScaledObject", "rebook-worker")
    scaled["spec"]["minReplicaCount"] = 30  # above the maximum (20)
    scaled["spec"]["triggers"][0]["metdata"] = scaled["spec"]["triggers"][0].pop("metadata")
    errors = _scaled_object_errors(scaled)
    assert any("metdata" in e for e in errors) and any("minReplicaCount" in e for e in errors)


def test_only_the_scaled_objects_need_the_vendored_schema():
    # Everything else is a built-in kind kubernetes-validate knows; a CRD kind it does not
    # know would otherwise pass unvalidated.
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        kubernetes_validate.validate(policy.of_kind(render("production"), "ScaledObject")[0],
                                     KUBERNETES_VERSION, strict=True)
    kinds = {o["kind"] for overlay in OVERLAYS for o in render(overlay)}
    assert kinds - {"ScaledObject"} <= {"ConfigMap", "Deployment", "Service", "Job",
                                        "NetworkPolicy", "PodDisruptionBudget",
                                        "HorizontalPodAutoscaler"}


# -- the rules --------------------------------------------------------------------------------

@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rule_holds(overlay):
    assert policy.every_rule(render(overlay)) == []


def test_production_has_two_of_everything_and_a_budget_for_each():
    objects = render("production")
    assert policy.fewer_than_two(objects) == []
    assert policy.without_pdb(objects) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_exactly_one_scheduler_never_two_during_a_rollout(overlay):
    scheduler = policy.named(render(overlay), "Deployment", "rebook-scheduler")
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert not any(s["spec"]["scaleTargetRef"]["name"] == "rebook-scheduler"
                   for s in policy.of_kind(render(overlay), "ScaledObject"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_readiness_depends_on_its_database_only(overlay):
    api = policy.named(render(overlay), "Deployment", "rebook-api")
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz/database"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_api_is_reachable_from_outside(overlay):
    objects = render(overlay)
    assert policy.denies_ingress_by_default(objects)
    assert "outside" in policy.ingress_sources(objects, "api")
    assert policy.ingress_sources(objects, "rasa") == {"worker", "api"}
    assert policy.ingress_sources(objects, "actions") == {"rasa", "api"}
    for background in ("worker", "dispatcher", "scheduler", "migrate"):
        assert policy.ingress_sources(objects, background) == set()


def test_the_production_images_are_named_once_and_pinned():
    images = {c["image"] for _, _, c in policy.containers(render("production"))}
    assert images == {"registry.example.nhs.uk/rebook/app:0.1.0",
                      "registry.example.nhs.uk/rebook/rasa:0.1.0"}


def test_worker_and_rasa_scale_on_the_inbound_backlog():
    from api.system.metrics import INBOUND_PENDING

    gauge = INBOUND_PENDING._name  # the gauge the api exports on every scrape
    for scaled in policy.of_kind(render("production"), "ScaledObject"):
        (trigger,) = scaled["spec"]["triggers"]
        assert trigger["type"] == "prometheus"
        assert trigger["metadata"]["query"].startswith(f"max({gauge}{{")
        assert float(trigger["metadata"]["threshold"]) > 0


# -- the rules catch what they claim to -----------------------------------------------------

def _api_container(objects: list[dict]) -> dict:
    return policy.named(objects, "Deployment", "rebook-api")["spec"]["template"]["spec"][
        "containers"][0]


def _no_limits(objects):
    del _api_container(objects)["resources"]["limits"]


def _no_readiness(objects):
    del _api_container(objects)["readinessProbe"]


def _root(objects):
    _api_container(objects)["securityContext"]["runAsUser"] = 0
    policy.named(objects, "Deployment", "rebook-api")["spec"]["template"]["spec"][
        "securityContext"]["runAsNonRoot"] = False


def _writable_root(objects):
    _api_container(objects)["securityContext"]["readOnlyRootFilesystem"] = False


def _capabilities_kept(objects):
    _api_container(objects)["securityContext"]["capabilities"] = {"add": ["NET_ADMIN"]}


def _inline_token(objects):
    _api_container(objects).setdefault("env", []).append(
        {"name": "TWILIO_AUTH_TOKEN", "value": "not-a-real-token"})


def _secret_object(objects):
    objects.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "rebook-secrets"},
                    "stringData": {"SECRET_KEY": "x"}})


def _latest_image(objects):
    _api_container(objects)["image"] = "registry.example.nhs.uk/rebook/app:latest"


def _missing_config_map(objects):
    objects[:] = [o for o in objects
                  if not o["metadata"]["name"].startswith("rebook-settings")]


@pytest.mark.parametrize("breakage", [_no_limits, _no_readiness, _root, _writable_root,
                                      _capabilities_kept, _inline_token, _secret_object,
                                      _latest_image, _missing_config_map])
def test_the_rules_catch_a_broken_object(breakage):
    objects = render("production")
    assert policy.every_rule(objects) == []
    breakage(objects)
    assert policy.every_rule(objects) != []


def test_the_network_rule_catches_rasa_opened_to_another_namespace():
    objects = render("production")
    rasa = policy.named(objects, "NetworkPolicy", "rebook-rasa-ingress")
    rasa["spec"]["ingress"][0]["from"].append({"namespaceSelector": {}})
    assert "outside" in policy.ingress_sources(objects, "rasa")


def test_the_production_rules_catch_a_missing_budget_and_a_lone_replica():
    objects = render("production")
    objects[:] = [o for o in objects if not (o["kind"] == "PodDisruptionBudget"
                                             and o["metadata"]["name"] == "rebook-rasa")]
    assert policy.without_pdb(objects) == ["rebook-rasa: no PodDisruptionBudget"]
    policy.named(objects, "ScaledObject", "rebook-worker")["spec"]["minReplicaCount"] = 1
    assert policy.fewer_than_two(objects) == ["rebook-worker: 1 replica(s)"]
