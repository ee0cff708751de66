#!/usr/bin/env python3
"""The checks of tools/k8s-check/k8s-check.sh, after submit/spark-submit.sh has submitted to a real API server.

Reads the driver pod, config maps and service back from the API server (as the cluster admin) and compares them
with what the cluster profile and the pod template ask for; then probes RBAC with the driver's service-account
token. Prints one PASS/FAIL line per check and a summary; exits 1 when any check failed. Standard library only.

The expected values follow Spark 3.1.3's Kubernetes feature steps: the pod's memory request and limit are the
driver heap plus spark.driver.memoryOverhead (default max(10% of the heap, 384 MiB)), its cpu request
spark.driver.cores (default 1); spark.properties travels in a config map mounted at /opt/spark/conf; the executor
pod template in another, mounted at /opt/spark/pod-template, which spark.kubernetes.executor.podTemplateFile then
names.
"""
import argparse
import importlib.util
import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.request

CONTAINER = "spark-kubernetes-container"  # Spark's default driver container name (the pod template names it)
MAIN_CLASS = "dev.sparkvit.cli.Main"
APP_JAR = "local:///opt/sparkvit/sparkvit.jar"
EXECUTOR_TEMPLATE = "/opt/spark/pod-template/pod-spec-template.yml"
CONF_DIR = "/opt/spark/conf"
OVERHEAD_FACTOR, OVERHEAD_MIN_MIB = 0.1, 384

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    return ok


def equal(name, expected, actual):
    return check(name, expected == actual, f"{actual!r}" if expected == actual else f"expected {expected!r}, got {actual!r}")


def mib(memory):
    """Spark memory string (512m, 2g; a bare number is MiB) -> MiB."""
    m = re.fullmatch(r"([0-9]+)([kmgt]?)b?", memory.lower())
    factor = {"k": 1 / 1024, "": 1, "m": 1, "g": 1024, "t": 1024 * 1024}[m.group(2)]
    return int(int(m.group(1)) * factor)


def java_properties(text):
    """The key=value pairs of a java.util.Properties file (as Properties.store writes it)."""
    def unescape(s):
        return re.sub(r"\\u([0-9a-fA-F]{4})|\\(.)", lambda g: chr(int(g.group(1), 16)) if g.group(1)
                      else {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(g.group(2), g.group(2)), s)
    out, logical = {}, ""
    for line in text.splitlines():
        line = line.lstrip()
        if not logical and (not line or line[0] in "#!"):
            continue
        if (len(line) - len(line.rstrip("\\"))) % 2 == 1:  # an odd number of trailing backslashes: continued
            logical += line[:-1]
            continue
        logical += line
        m = re.match(r"((?:\\.|[^=:\s\\])*)\s*[=:\s]?\s*(.*)", logical)
        out[unescape(m.group(1))] = unescape(m.group(2))
        logical = ""
    return out


class Api:
    def __init__(self, server, ca, token):
        self.server, self.token = server, token
        self.context = ssl.create_default_context(cafile=ca)

    def call(self, method, path, body=None):
        """-> (HTTP status, parsed JSON body or None)"""
        request = urllib.request.Request(self.server + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None)
        request.add_header("Accept", "application/json")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as e:
            try:
                return e.code, json.load(e)
            except ValueError:
                return e.code, None

    def get(self, path):
        status, body = self.call("GET", path)
        if status != 200:
            raise SystemExit(f"k8s-check: GET {path}: HTTP {status}: {body}")
        return body


def load_profile(root, path):
    spec = importlib.util.spec_from_file_location("cluster_profile", os.path.join(root, "submit", "cluster-profile.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    values, _, kind = module.read(path)
    if kind != "k8s":
        raise SystemExit(f"k8s-check: {path} is not a Kubernetes profile")
    return values


def by_name(items):
    return {item["name"]: item for item in items or []}


def main():
    parser = argparse.ArgumentParser()
    for option in ("--server", "--ca", "--admin-token", "--driver-token", "--profile", "--root", "--template",
                   "--other-namespace", "--audit-log", "--submit-log"):
        parser.add_argument(option, required=True)
    parser.add_argument("command", nargs="+", help="the sparkvit command that was submitted")
    args = parser.parse_args()
    read = lambda path: open(path, encoding="utf-8").read()
    admin_token, driver_token = read(args.admin_token).strip(), read(args.driver_token).strip()
    admin = Api(args.server, args.ca, admin_token)
    profile = load_profile(args.root, args.profile)
    template = json.loads(read(args.template))
    ns, sa = profile["namespace"], profile["service_account"]

    # ---- the driver pod ----
    pods = admin.get(f"/api/v1/namespaces/{ns}/pods?labelSelector=spark-role%3Ddriver")["items"]
    if not check("one driver pod in namespace " + ns, len(pods) == 1, f"{len(pods)} found"):
        return summary()
    pod = pods[0]
    meta, spec = pod["metadata"], pod["spec"]
    print(f"     driver pod {meta['name']} (phase {pod.get('status', {}).get('phase')}: no kubelet here)")
    log = read(args.submit_log)
    check("spark-submit reported the deployment, without errors",
          f"submission ID {ns}:{meta['name']} into Kubernetes" in log and not re.search(r"^\S+ \S+ ERROR ", log, re.M),
          "; ".join(re.findall(r"^\S+ \S+ ERROR (.{0,100})", log, re.M)) or "Deployed ... into Kubernetes")
    equal("service account (profile service_account)", sa, spec.get("serviceAccountName"))
    containers = by_name(spec.get("containers"))
    equal("containers (the template's container is Spark's: one container)", [CONTAINER], sorted(containers))
    container = containers.get(CONTAINER, {})
    equal("image (profile image)", profile["image"], container.get("image"))
    if "image_pull_policy" in profile:
        equal("image pull policy (profile image_pull_policy)", profile["image_pull_policy"], container.get("imagePullPolicy"))

    # what the pod template adds: labels, pod security context, volumes, mounts, environment
    tspec = template.get("spec", {})
    for key, value in template.get("metadata", {}).get("labels", {}).items():
        equal(f"label {key} (pod template)", value, meta.get("labels", {}).get(key))
    for key, value in tspec.get("securityContext", {}).items():
        equal(f"securityContext.{key} (pod template)", value, spec.get("securityContext", {}).get(key))
    volumes = by_name(spec.get("volumes"))
    for name, volume in by_name(tspec.get("volumes")).items():
        equal(f"volume {name} (pod template)", volume, volumes.get(name))
    tcontainer = by_name(tspec.get("containers")).get(CONTAINER, {})
    for key, value in tcontainer.get("securityContext", {}).items():
        equal(f"container securityContext.{key} (pod template)", value, container.get("securityContext", {}).get(key))
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    for mount in tcontainer.get("volumeMounts", []):
        equal(f"volume mount {mount['mountPath']} (pod template)", mount, mounts.get(mount["mountPath"]))
    env = {e["name"]: e for e in container.get("env", [])}
    for var in tcontainer.get("env", []):
        equal(f"env {var['name']} (pod template)", var, env.get(var["name"]))

    # resources: Spark's driver heap plus overhead, as request and limit
    heap = mib(profile.get("driver_memory", "1g"))
    memory = f"{heap + max(int(OVERHEAD_FACTOR * heap), OVERHEAD_MIN_MIB)}Mi"
    resources = container.get("resources", {})
    equal(f"memory request (driver_memory {profile.get('driver_memory', '1g (Spark default)')} + overhead)",
          memory, resources.get("requests", {}).get("memory"))
    equal("memory limit (same as the request)", memory, resources.get("limits", {}).get("memory"))
    equal("cpu request (spark.driver.cores, default 1)", "1", resources.get("requests", {}).get("cpu"))

    # the command the entry point (submit/k8s/entrypoint.sh) receives
    cargs = container.get("args", [])
    check("container args: driver --properties-file ... --class " + MAIN_CLASS,
          cargs[:1] == ["driver"] and cargs[cargs.index("--class") + 1:][:1] == [MAIN_CLASS] if "--class" in cargs else False,
          " ".join(cargs))
    tail = [APP_JAR] + args.command
    equal("container args end with the application jar and the sparkvit command", tail, cargs[-len(tail):])

    # Spark's own volumes: spark.properties and the executor pod template, from config maps
    config_maps = by_name(cm["metadata"] | {"data": cm.get("data", {})} for cm in
                          admin.get(f"/api/v1/namespaces/{ns}/configmaps")["items"])
    mounted = {}
    for path in (CONF_DIR, os.path.dirname(EXECUTOR_TEMPLATE)):
        mount = mounts.get(path)
        volume = volumes.get(mount["name"], {}) if mount else {}
        cm_name = volume.get("configMap", {}).get("name")
        check(f"config map mounted at {path}", cm_name in config_maps, f"volume {mount and mount['name']} -> config map {cm_name}")
        mounted[path] = config_maps.get(cm_name, {"data": {}})
    properties = java_properties(mounted[CONF_DIR]["data"].get("spark.properties", ""))
    check("spark.properties in the driver's config map", bool(properties), f"{len(properties)} settings")

    executors, cores = profile["executors"], profile.get("executor_cores", "1")
    expected = {
        "spark.executor.instances": executors,
        "spark.executor.cores": cores,
        "spark.cores.max": str(int(executors) * int(cores)),
        "spark.executor.memory": profile.get("executor_memory"),
        "spark.driver.memory": profile.get("driver_memory"),
        "spark.kubernetes.namespace": ns,
        "spark.kubernetes.authenticate.driver.serviceAccountName": sa,
        "spark.kubernetes.container.image": profile["image"],
        "spark.kubernetes.container.image.pullPolicy": profile.get("image_pull_policy"),
        "spark.dynamicAllocation.enabled": "false",
        "spark.scheduler.minRegisteredResourcesRatio": "1.0",
        "spark.kubernetes.executor.podTemplateFile": EXECUTOR_TEMPLATE if "pod_template" in profile else None,
    }
    for key, value in expected.items():
        if value is not None:
            equal(f"{key} (spark.properties)", value, properties.get(key))
    opens = ""
    with open(os.path.join(args.root, "submit", "jvm.properties"), encoding="utf-8") as f:
        opens = next(line.split("=", 1)[1].strip() for line in f if line.startswith("jvm.opens="))
    for key in ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions"):
        check(f"{key} carries submit/jvm.properties' --add-opens", opens in properties.get(key, ""),
              properties.get(key, "(unset)")[:60] + "...")
    jars = properties.get("spark.jars", "").split(",")
    check("spark.jars: all local:///opt/sparkvit/ (in the image, nothing uploaded)",
          bool(jars) and all(j.startswith("local:///opt/sparkvit/") for j in jars), f"{len(jars)} jars")
    if "pod_template" in profile:
        with open(os.path.join(args.root, profile["pod_template"]), encoding="utf-8") as f:
            text = f.read()
        template_cm = mounted[os.path.dirname(EXECUTOR_TEMPLATE)]["data"]
        check("executor pod template config map holds submit's pod template, unchanged",
              text in template_cm.values(), f"keys {sorted(template_cm)}")
    executor_heap = mib(profile.get("executor_memory", "1g"))
    print(f"     (executor pods, created by the driver once it runs, would ask for "
          f"{executor_heap + max(int(OVERHEAD_FACTOR * executor_heap), OVERHEAD_MIN_MIB)}Mi and {cores} cpu each)")

    # credentials: the submission token must not travel into the cluster's objects
    leaked = [cm for cm, body in config_maps.items() if any(t in json.dumps(body) for t in (driver_token, admin_token))]
    check("no submission token in any config map", not leaked, ", ".join(leaked) or "none")
    check("no submission token in the driver pod", driver_token not in json.dumps(pod) and admin_token not in json.dumps(pod))

    # the headless service executors reach the driver through, and ownership (deleted with the driver pod)
    services = admin.get(f"/api/v1/namespaces/{ns}/services")["items"]
    driver_services = [s for s in services if s["spec"].get("selector")
                       and all(meta.get("labels", {}).get(k) == v for k, v in s["spec"]["selector"].items())]
    if check("a service selects the driver pod", len(driver_services) == 1, ", ".join(s["metadata"]["name"] for s in driver_services)):
        service = driver_services[0]
        equal("driver service is headless", "None", service["spec"].get("clusterIP"))
        ports = sorted(p["port"] for p in service["spec"].get("ports", []))
        equal("driver service ports (driver RPC 7078, block manager 7079, UI 4040)", [4040, 7078, 7079], ports)
    owned = [s["metadata"]["name"] for s in driver_services] + [cm["name"] for cm in mounted.values() if "name" in cm]
    owners = {o["metadata"]["name"]: [r.get("uid") for r in o["metadata"].get("ownerReferences", [])]
              for o in services + admin.get(f"/api/v1/namespaces/{ns}/configmaps")["items"]}
    for name in owned:
        equal(f"{name} is owned by the driver pod", [meta["uid"]], owners.get(name))

    # who submitted: every object spark-submit created, created by the token it was given (the audit log)
    created = {}
    with open(args.audit_log, encoding="utf-8") as f:
        for line in f:
            event = json.loads(line)
            ref = event.get("objectRef", {})
            if (event.get("verb") == "create" and event.get("stage") == "ResponseComplete"
                    and ref.get("namespace") == ns and "dryRun" not in event.get("requestURI", "")):
                created[(ref.get("resource"), ref.get("name"))] = event
    submitter = f"system:serviceaccount:{ns}:{sa}"
    for resource, name in [("pods", meta["name"])] + [("services", s["metadata"]["name"]) for s in driver_services] \
            + [("configmaps", cm["name"]) for cm in mounted.values() if "name" in cm]:
        event = created.get((resource, name), {})
        check(f"audit log: {resource}/{name} created by {submitter}",
              event.get("user", {}).get("username") == submitter and event.get("responseStatus", {}).get("code") == 201,
              f"{event.get('user', {}).get('username')} ({event.get('userAgent', '?').split(' ')[0]}), "
              f"HTTP {event.get('responseStatus', {}).get('code')}" if event else "no create in the audit log")

    # Pod Security Admission judged the driver pod: the namespace enforces "baseline" (a violation would have
    # refused the submission) and audits "restricted" (k8s-check.sh labels it). Spark 3.1.3 cannot set
    # seccompProfile (its fabric8 4.12 model drops the field from the pod template), so that one is expected.
    annotations = created.get(("pods", meta["name"]), {}).get("annotations", {})
    equal('Pod Security "baseline" enforced on the namespace', "baseline:latest",
          annotations.get("pod-security.kubernetes.io/enforce-policy"))
    violations = annotations.get("pod-security.kubernetes.io/audit-violations", "")
    names = re.findall(r"(?:: |\), )([^()]+?) \(", violations)
    check('Pod Security "restricted": no violation but seccompProfile (Spark 3.1.3 drops it from the template)',
          names in ([], ["seccompProfile"]), violations or "no violations")

    # ---- RBAC, enforced: the driver's service account (submit/k8s/rbac.yaml) against the API server ----
    driver = Api(args.server, args.ca, driver_token)
    probe = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "rbac-probe"},
             "spec": {"serviceAccountName": sa, "containers": [{"name": "c", "image": profile["image"]}]}}
    status, body = driver.call("POST", f"/api/v1/namespaces/{ns}/pods?dryRun=All", probe)
    equal(f"RBAC: {sa} may create pods in {ns} (server-side dry run)", 201, status)
    status, body = driver.call("POST", f"/api/v1/namespaces/{args.other_namespace}/pods?dryRun=All", probe)
    equal(f"RBAC: {sa} may not create pods in {args.other_namespace}", 403, status)
    status, body = driver.call("GET", f"/api/v1/namespaces/{ns}/secrets")
    equal(f"RBAC: {sa} may not read secrets in {ns}", 403, status)
    status, body = driver.call("GET", f"/api/v1/namespaces/{ns}/pods/{meta['name']}")
    equal(f"RBAC: {sa} may read its driver pod", 200, status)
    status, body = driver.call("DELETE", f"/api/v1/namespaces/{ns}/services/none-such?dryRun=All")
    equal(f"RBAC: {sa} may delete services in {ns} (404: allowed, nothing to delete)", 404, status)
    status, body = Api(args.server, args.ca, None).call("GET", f"/api/v1/namespaces/{ns}/pods")
    equal("anonymous requests are refused", 401, status)
    return summary()


def summary():
    failed = results.count(False)
    print(f"k8s-check: {len(results)} checks, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
