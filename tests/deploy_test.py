#!/usr/bin/env python3
"""Checks that the deployment files agree with each other and pass the real tools.

docker-compose accepts the compose file; promtool accepts the Prometheus configs; the Grafana
dashboard and provisioning parse; every Kubernetes manifest parses, and its images, ports, probes,
volumes and role flags are consistent with the compose file (the two must run the same processes).
Usage: deploy_test.py SOURCE_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def role_flags(args):
    """The --set and role flags of a command, without the config file path and values that differ
    only by how each orchestrator names things."""
    return sorted(a for a in args if a.startswith("--") and not a.startswith("--config="))


def main(source):
    deploy = os.path.join(source, "deploy")
    compose_path = os.path.join(deploy, "docker-compose.yml")
    env = dict(os.environ, TANDEM_AUTH_TOKEN="test-token")

    # docker-compose itself accepts the file (and rejects it without the auth token).
    if shutil.which("docker-compose"):
        ok = subprocess.run(["docker-compose", "-f", compose_path, "config", "-q"], env=env,
                            capture_output=True, text=True)
        check(ok.returncode == 0, f"docker-compose config failed: {ok.stderr}")
        no_token = dict(os.environ)
        no_token.pop("TANDEM_AUTH_TOKEN", None)
        refused = subprocess.run(["docker-compose", "-f", compose_path, "config", "-q"],
                                 env=no_token, capture_output=True, text=True)
        check(refused.returncode != 0 and "TANDEM_AUTH_TOKEN" in refused.stderr,
              "docker-compose config should refuse to run without TANDEM_AUTH_TOKEN")
        resolved = subprocess.run(["docker-compose", "-f", compose_path, "config"], env=env,
                                  capture_output=True, text=True, check=True).stdout
        compose = yaml.safe_load(resolved)
    else:
        failures.append("docker-compose is not installed (deploy/install-deps.sh installs it)")
        return

    # promtool accepts both Prometheus configs.
    for config in ["prometheus/prometheus.yml", "prometheus/tandem-run.yml"]:
        result = subprocess.run(["promtool", "check", "config", config], cwd=deploy,
                                capture_output=True, text=True)
        check(result.returncode == 0, f"promtool check config {config}: {result.stdout}"
              f"{result.stderr}")

    services = compose["services"]
    # Actors scale: no fixed names or host ports; every Tandem role serves metrics on 9100.
    actor = services["actor"]
    check("container_name" not in actor, "actor must not have a container_name (it scales)")
    check(not actor.get("ports"), "actor must not publish host ports (it scales)")
    roles = {"replay": "replay", "learner": "learner", "actor": "actor", "evaluator": "evaluator"}
    for name in roles:
        service = services[name]
        check("9100" in [str(p) for p in service.get("expose", [])],
              f"compose {name} must expose metrics port 9100")
        check(any(a.endswith("_address=0.0.0.0:9100") for a in service["command"]),
              f"compose {name} must serve metrics on 0.0.0.0:9100")
        check("TANDEM_AUTH_TOKEN" in service.get("environment", {}),
              f"compose {name} must get the auth token")
    gpu = services["learner-gpu"]
    check(gpu["command"] == services["learner"]["command"],
          "the GPU and CPU learners must run the same command")
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    check(any("gpu" in d.get("capabilities", []) for d in devices),
          "learner-gpu must reserve a GPU")
    check("learner" in gpu["networks"]["default"]["aliases"],
          "learner-gpu must answer to the name 'learner'")
    check(any(v.split(":")[:2] == ["wal", "/wal"] for v in services["replay"]["volumes"]),
          "compose replay must keep its WAL in a volume at /wal")

    # Prometheus discovers exactly these services on the metrics port.
    with open(os.path.join(deploy, "prometheus/prometheus.yml")) as f:
        prometheus = yaml.safe_load(f)
    discovered = {}
    for job in prometheus["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                discovered[name] = sd["port"]
    check(discovered == {name: 9100 for name in roles},
          f"prometheus DNS discovery {discovered} must cover {sorted(roles)} on 9100")

    # Grafana: provisioning points at the dashboard folder; the dashboard parses and queries.
    with open(os.path.join(deploy, "grafana/provisioning/datasources/prometheus.yml")) as f:
        datasource = yaml.safe_load(f)["datasources"][0]
    with open(os.path.join(deploy, "grafana/provisioning/dashboards/tandem.yml")) as f:
        provider = yaml.safe_load(f)["providers"][0]
    grafana_mounts = services["grafana"]["volumes"]
    check(any((m.get("target") if isinstance(m, dict) else m.split(":")[1]) ==
              provider["options"]["path"] for m in grafana_mounts),
          "the dashboard provider path must be mounted into grafana")
    with open(os.path.join(deploy, "grafana/dashboards/tandem.json")) as f:
        dashboard = json.load(f)
    for panel in dashboard["panels"]:
        check(panel["datasource"]["uid"] == datasource["uid"],
              f"panel {panel['title']} must use the provisioned datasource")
        check(panel["targets"] and all(t["expr"] for t in panel["targets"]),
              f"panel {panel['title']} has no query")

    # Kubernetes: parse everything; compare each role with compose.
    k8s_dir = os.path.join(deploy, "k8s")
    workloads, k8s_services, claims = {}, {}, set()
    for file in sorted(os.listdir(k8s_dir)):
        if not file.endswith(".yaml"):
            continue
        with open(os.path.join(k8s_dir, file)) as f:
            for doc in yaml.safe_load_all(f):
                kind = doc["kind"]
                if kind in ("Deployment", "StatefulSet"):
                    workloads[doc["metadata"]["name"]] = doc
                elif kind == "Service":
                    k8s_services[doc["metadata"]["name"]] = doc
                elif kind == "PersistentVolumeClaim":
                    claims.add(doc["metadata"]["name"])
    expected = {"tandem-replay": ("replay", "StatefulSet"), "tandem-learner": ("learner", "Deployment"),
                "tandem-actor": ("actor", "Deployment"),
                "tandem-evaluator": ("evaluator", "Deployment")}
    check(set(workloads) == set(expected), f"k8s workloads {sorted(workloads)}")
    for name, (role, kind) in expected.items():
        if name not in workloads:
            continue
        w = workloads[name]
        check(w["kind"] == kind, f"{name} must be a {kind}")
        pod = w["spec"]["template"]
        check(w["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items(),
              f"{name}: selector must match the pod labels")
        annotations = pod["metadata"].get("annotations", {})
        check(annotations.get("prometheus.io/scrape") == "true" and
              annotations.get("prometheus.io/port") == "9100" and
              annotations.get("prometheus.io/path") == "/metrics",
              f"{name}: prometheus scrape annotations")
        container = pod["spec"]["containers"][0]
        check(re.fullmatch(r"tandem:(cpu|cuda)", container["image"]) is not None,
              f"{name}: image {container['image']}")
        ports = {p["containerPort"] for p in container["ports"]}
        compose_service = services[role]
        check(ports == {int(p) for p in compose_service["expose"]},
              f"{name}: ports {sorted(ports)} differ from compose {compose_service['expose']}")
        for probe in ("readinessProbe", "livenessProbe"):
            get = container.get(probe, {}).get("httpGet", {})
            check(get.get("path") == "/metrics" and get.get("port") == 9100,
                  f"{name}: {probe} must GET /metrics on 9100")
        # Same flags as compose (the config file name aside).
        compose_flags = [re.sub(r"/configs/[^ ]+", "", a) for a in compose_service["command"]]
        check(role_flags(container["args"]) == role_flags(compose_flags),
              f"{name}: args differ from compose {role}:\n  k8s     {role_flags(container['args'])}"
              f"\n  compose {role_flags(compose_flags)}")
        check(container["args"][0] == compose_service["command"][0],
              f"{name}: runs '{container['args'][0]}', compose runs "
              f"'{compose_service['command'][0]}'")
        check(any(e["name"] == "TANDEM_AUTH_TOKEN" for e in container.get("env", [])),
              f"{name}: auth token env")
        volumes = {v["name"]: v for v in pod["spec"].get("volumes", [])}
        templates = {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
        for mount in container.get("volumeMounts", []):
            check(mount["name"] in volumes or mount["name"] in templates,
                  f"{name}: mount {mount['name']} has no volume")
        for volume in volumes.values():
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            check(claim is None or claim in claims, f"{name}: claim {claim} is not defined")
    replay = workloads.get("tandem-replay")
    if replay:
        mounts = {m["name"]: m["mountPath"] for m in
                  replay["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
        check(mounts.get("wal") == "/wal", "replay StatefulSet must mount its WAL claim at /wal")
        check("--set=replay.wal_dir=/wal" in replay["spec"]["template"]["spec"]["containers"][0]["args"],
              "replay must write its WAL to /wal")
    learner = workloads.get("tandem-learner")
    if learner:
        limits = learner["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        check(limits.get("nvidia.com/gpu") == 1, "learner must have an nvidia.com/gpu limit")
    # Services the roles dial: replay:50051 and learner:50052.
    for service, port in (("replay", 50051), ("learner", 50052)):
        ports = [p["port"] for p in k8s_services.get(service, {}).get("spec", {}).get("ports", [])]
        check(port in ports, f"k8s Service {service} must serve {port}")


if __name__ == "__main__":
    main(sys.argv[1])
    for failure in failures:
        print("FAIL", failure)
    print(f"deploy_test: {len(failures)} failures")
    sys.exit(1 if failures else 0)
