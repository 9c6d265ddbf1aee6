"""The deployment's rules, checked over rendered Kubernetes objects (deploy/kubernetes).

Each check takes the rendered objects and returns what breaks the rule, one line each; an
empty list means the rule holds. Kept apart from the tests so a test can hand a deliberately
broken object to the same checks and see them catch it.
"""

from __future__ import annotations

import re

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# Containers that have no liveness/readiness probes, and why (docs/kubernetes.md, "Probes").
PROBE_EXCEPTIONS = {
    "rebook-migrate": "a batch Job: it runs to completion, nothing routes to it",
    "rebook-worker": "no Service, no listener the kubelet can reach; leases cover a hang",
    "rebook-dispatcher": "no Service, no listener the kubelet can reach; claims expire",
    "rebook-scheduler": "no Service, no listener the kubelet can reach; one pass at a time",
}
SECRET_NAME = re.compile(r"SECRET|TOKEN|KEY|PASSWORD|DATABASE_URL|REDIS_URL", re.IGNORECASE)
NO_PDB = {"rebook-scheduler": "one replica: a PDB would only block node drains"}


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict], kind: str, name: str) -> dict:
    (found,) = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    return found


def _pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def containers(objects: list[dict]):
    """(workload name, pod spec, container) for every container of every workload."""
    for workload in objects:
        if workload["kind"] in WORKLOADS:
            spec = _pod_spec(workload)
            for container in spec.get("initContainers", []) + spec["containers"]:
                yield workload["metadata"]["name"], spec, container


def missing_probes(objects: list[dict]) -> list[str]:
    return [f"{name}/{c['name']}: no {probe}"
            for name, _, c in containers(objects) if name not in PROBE_EXCEPTIONS
            for probe in ("livenessProbe", "readinessProbe") if probe not in c]


def missing_resources(objects: list[dict]) -> list[str]:
    return [f"{name}/{c['name']}: no {kind}.{resource}"
            for name, _, c in containers(objects)
            for kind in ("requests", "limits") for resource in ("cpu", "memory")
            if resource not in c.get("resources", {}).get(kind, {})]


def insecure(objects: list[dict]) -> list[str]:
    """Non-root (uid 10001), read-only root, no privilege escalation, no capabilities."""
    found = []
    for name, pod, c in containers(objects):
        pod_context, context = pod.get("securityContext", {}), c.get("securityContext", {})

        def setting(key, pod_context=pod_context, context=context):
            return context.get(key, pod_context.get(key))

        where = f"{name}/{c['name']}"
        if setting("runAsNonRoot") is not True or setting("runAsUser") != 10001:
            found.append(f"{where}: not run as the non-root user 10001")
        if (setting("seccompProfile") or {}).get("type") != "RuntimeDefault":
            found.append(f"{where}: no RuntimeDefault seccomp profile")
        if context.get("readOnlyRootFilesystem") is not True:
            found.append(f"{where}: root filesystem writable")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: privilege escalation allowed")
        if "ALL" not in context.get("capabilities", {}).get("drop", []):
            found.append(f"{where}: capabilities not all dropped")
        if context.get("privileged"):
            found.append(f"{where}: privileged")
    return found


def inline_secrets(objects: list[dict]) -> list[str]:
    """Secrets only by reference: no Secret objects, no secret-looking env value inline."""
    found = [f"Secret {o['metadata']['name']} in the repo" for o in of_kind(objects, "Secret")]
    found += [f"{name}/{c['name']}: {env['name']} has an inline value"
              for name, _, c in containers(objects) for env in c.get("env", [])
              if SECRET_NAME.search(env["name"]) and "value" in env]
    return found


def unpinned_images(objects: list[dict]) -> list[str]:
    found = []
    for name, _, c in containers(objects):
        image = c["image"]
        tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else ""
        if "@sha256:" not in image and tag in ("", "latest"):
            found.append(f"{name}/{c['name']}: image {image} is not pinned")
    return found


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _component(workload: dict) -> str:
    return workload["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]


def ingress_sources(objects: list[dict], component: str) -> set[str]:
    """Who may open a connection to `component`'s pods: component names, or "outside"
    (another namespace, an address block, or any source at all)."""
    pods = {_component(w): w["spec"]["template"]["metadata"]["labels"]
            for w in objects if w["kind"] in WORKLOADS}
    sources: set[str] = set()
    for policy in of_kind(objects, "NetworkPolicy"):
        spec = policy["spec"]
        if "Ingress" not in spec.get("policyTypes", ["Ingress"]):
            continue
        if not _selects(spec["podSelector"], pods[component]):
            continue
        for rule in spec.get("ingress", []):
            if not rule.get("from"):
                sources.add("outside")
            for peer in rule.get("from", []):
                if "namespaceSelector" in peer or "ipBlock" in peer:
                    sources.add("outside")
                else:
                    sources |= {name for name, labels in pods.items()
                                if _selects(peer["podSelector"], labels)}
    return sources


def denies_ingress_by_default(objects: list[dict]) -> bool:
    return any(p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
               and "Ingress" in p["spec"].get("policyTypes", [])
               for p in of_kind(objects, "NetworkPolicy"))


def _autoscaled_minimum(objects: list[dict], deployment: str) -> int | None:
    for hpa in of_kind(objects, "HorizontalPodAutoscaler"):
        if hpa["spec"]["scaleTargetRef"]["name"] == deployment:
            return hpa["spec"].get("minReplicas", 1)
    for scaled in of_kind(objects, "ScaledObject"):
        if scaled["spec"]["scaleTargetRef"]["name"] == deployment:
            return scaled["spec"].get("minReplicaCount", 0)
    return None


def fewer_than_two(objects: list[dict]) -> list[str]:
    """Production: two of everything but the scheduler, fixed or as the autoscaler's minimum."""
    found = []
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        minimum = _autoscaled_minimum(objects, name)
        replicas = deployment["spec"].get("replicas", 1) if minimum is None else minimum
        if name not in NO_PDB and replicas < 2:
            found.append(f"{name}: {replicas} replica(s)")
        if minimum is not None and "replicas" in deployment["spec"]:
            found.append(f"{name}: fixed replicas fight its autoscaler on every apply")
    return found


def without_pdb(objects: list[dict]) -> list[str]:
    budgets = of_kind(objects, "PodDisruptionBudget")
    return [f"{d['metadata']['name']}: no PodDisruptionBudget"
            for d in of_kind(objects, "Deployment") if d["metadata"]["name"] not in NO_PDB
            and not any(_selects(b["spec"]["selector"], d["spec"]["template"]["metadata"]["labels"])
                        for b in budgets)]


def dangling_references(objects: list[dict]) -> list[str]:
    """ConfigMaps a container reads, and autoscaler targets, exist in the same render
    (rebook-secrets is the operator's, by design)."""
    config_maps = {o["metadata"]["name"] for o in of_kind(objects, "ConfigMap")}
    deployments = {o["metadata"]["name"] for o in of_kind(objects, "Deployment")}
    found = [f"{name}/{c['name']}: ConfigMap {ref['configMapRef']['name']} not rendered"
             for name, _, c in containers(objects) for ref in c.get("envFrom", [])
             if "configMapRef" in ref and ref["configMapRef"]["name"] not in config_maps]
    scalers = of_kind(objects, "HorizontalPodAutoscaler") + of_kind(objects, "ScaledObject")
    found += [f"{o['kind']} {o['metadata']['name']}: no Deployment {o['spec']['scaleTargetRef']}"
              for o in scalers if o["spec"]["scaleTargetRef"]["name"] not in deployments]
    return found


def every_rule(objects: list[dict]) -> list[str]:
    """The rules that hold for every overlay."""
    return (missing_probes(objects) + missing_resources(objects) + insecure(objects)
            + inline_secrets(objects) + unpinned_images(objects) + dangling_references(objects))
