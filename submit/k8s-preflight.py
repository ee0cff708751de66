#!/usr/bin/env python3
"""Kubernetes side of submit/spark-submit.sh's pre-flight: checks the pods Spark 3.1 will create against the
ResourceQuotas of the namespace, where kubectl can read them cheaply. Used by spark-submit.sh for k8s:// masters
(not --dry-run); not meant to be run by hand (harmless: it only runs kubectl config view / get resourcequota).

    k8s-preflight.py --master k8s://https://HOST:PORT --instances N --executor-cores C [--executor-memory M]
                     -- SPARK_ARGS...

Checked only when kubectl is on PATH and its context (spark.kubernetes.context, else the current one) names the
master's API server: otherwise kubectl would read another cluster's quotas. Exit 0 (notes on stderr), or 2 with
ONE line when a quota's hard limit is below what the driver and executor pods ask for in all: the API server
would reject the pods over the quota, and BigDL's minRegisteredResourcesRatio=1.0 would wait up to an hour
(maxRegisteredResourcesWaitingTime) for executors that are never created.

Pods as Spark 3.1 makes them (BasicDriverFeatureStep, BasicExecutorFeatureStep): memory request = limit =
memory + overhead (spark.{driver,executor}.memoryOverhead, default max(384 MiB, spark.kubernetes.memoryOverheadFactor
(0.1) x memory)), executors + off-heap when enabled; cpu request spark.kubernetes.{driver,executor}.request.cores,
else spark.driver.cores (1) / spark.executor.cores; cpu limit only with spark.kubernetes.{driver,executor}.limit.cores.
"""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys

_spec = importlib.util.spec_from_file_location("yarn_preflight", os.path.join(os.path.dirname(__file__),
                                                                               "yarn-preflight.py"))
yp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(yp)
note, refuse, mib, byte_string, UNITS = yp.note, yp.refuse, yp.mib, yp.byte_string, yp.UNITS
TIMEOUT = os.environ.get("SPARKVIT_K8S_TIMEOUT", "3")

SUFFIX = {"": 1, "m": 1e-3, "u": 1e-6, "n": 1e-9, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
          "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(text):
    """A Kubernetes resource.Quantity ("4Gi", "500m", "1.5", "1e9") -> float in base units (bytes, cores)."""
    m = re.fullmatch(r"\s*([+-]?[0-9]*\.?[0-9]+)([eE][+-]?[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?\s*", str(text))
    if not m:
        raise ValueError(f"quantity {text!r}")
    return float(m.group(1) + (m.group(2) or "")) * SUFFIX[m.group(3) or ""]


def kubectl(*args):
    result = subprocess.run(["kubectl", f"--request-timeout={TIMEOUT}s", *args], capture_output=True, text=True,
                            timeout=float(TIMEOUT) + 5)
    if result.returncode != 0:
        raise OSError((result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1])
    return result.stdout


def server_of(url):
    url = url.strip().rstrip("/")
    return url if re.match(r"https?://", url) else "https://" + url  # Spark: k8s://host:port means https


def main(argv):
    args = {"--master": "", "--instances": "1", "--executor-cores": "1", "--executor-memory": ""}
    while argv and argv[0] != "--":
        if argv[0] in args and len(argv) >= 2:
            args[argv[0]] = argv[1]
            argv = argv[2:]
        else:
            raise SystemExit(f"{yp.PROG}: k8s-preflight.py: bad argument {argv[0]}")
    props = yp.spark_properties(argv[1:])
    if not shutil.which("kubectl"):
        return 0  # nothing to read quotas with: as before
    master = server_of(args["--master"][len("k8s://"):])
    namespace = props.get("spark.kubernetes.namespace") or "default"
    # values as --flag=VALUE, one word each: a user's value can never be read as another kubectl option
    context = [f"--context={props['spark.kubernetes.context']}"] if props.get("spark.kubernetes.context") else []
    try:
        server = kubectl("config", "view", "--minify", *context, "-o", "jsonpath={.clusters[0].cluster.server}")
    except (OSError, subprocess.SubprocessError) as e:
        note(f"kubectl has no usable context ({e}); Kubernetes quotas not checked")
        return 0
    if server_of(server) != master:
        note(f"kubectl's context points at {server.strip() or 'no server'}, not {master}; "
             "Kubernetes quotas not checked")
        return 0
    try:
        listed = kubectl(*context, "get", "resourcequota", f"--namespace={namespace}", "-o", "json")
        quotas = json.loads(listed).get("items") or []
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        note(f"cannot read the ResourceQuotas of namespace {namespace} ({e}); Kubernetes quotas not checked")
        return 0
    if not quotas:
        return 0

    try:
        count = int(args["--instances"])
        factor = float(props.get("spark.kubernetes.memoryOverheadFactor") or 0.1)
        def pod(memory, overhead_key, request_key, cores, limit_key, extra=0):
            over = mib(props[overhead_key]) if props.get(overhead_key) else max(int(factor * memory), 384)
            total = memory + over + extra
            limit = props.get(limit_key)
            return {"memory": total * UNITS["m"], "cpu": quantity(props.get(request_key) or cores),
                    "cpu_limit": quantity(limit) if limit else None, "text": f"{total} MiB ({memory}m + {over}m"
                    f"{f' + {extra}m off-heap' if extra else ''})"}
        driver = pod(mib(props.get("spark.driver.memory") or os.environ.get("SPARK_DRIVER_MEMORY") or "1g"),
                     "spark.driver.memoryOverhead", "spark.kubernetes.driver.request.cores",
                     props.get("spark.driver.cores") or "1", "spark.kubernetes.driver.limit.cores")
        off_heap = 0
        if props.get("spark.memory.offHeap.enabled", "false").strip().lower() == "true":
            off_heap = byte_string(props.get("spark.memory.offHeap.size", "0"), "b") // UNITS["m"]
        executor = pod(mib(args["--executor-memory"] or props.get("spark.executor.memory")
                           or os.environ.get("SPARK_EXECUTOR_MEMORY") or "1g"),
                       "spark.executor.memoryOverhead", "spark.kubernetes.executor.request.cores",
                       args["--executor-cores"], "spark.kubernetes.executor.limit.cores", off_heap)
    except ValueError as e:
        note(f"cannot read a memory or core setting ({e}); Kubernetes quotas not checked")
        return 0
    pods = [driver] + [executor] * count
    need = {"pods": len(pods), "count/pods": len(pods),
            "requests.memory": sum(p["memory"] for p in pods), "memory": sum(p["memory"] for p in pods),
            "limits.memory": sum(p["memory"] for p in pods),
            "requests.cpu": sum(p["cpu"] for p in pods), "cpu": sum(p["cpu"] for p in pods)}
    if all(p["cpu_limit"] is not None for p in pods):
        need["limits.cpu"] = sum(p["cpu_limit"] for p in pods)
    driver_cpu = props.get("spark.kubernetes.driver.request.cores") or props.get("spark.driver.cores") or "1"
    asked = (f"the driver pod {driver['text']}, {driver_cpu} cpu"
             f" + {count} executor pod(s) of {executor['text']}, "
             f"{props.get('spark.kubernetes.executor.request.cores') or args['--executor-cores']} cpu each")

    def show(key, value):
        if "memory" in key:
            return f"{value / UNITS['m']:.0f} MiB"
        return f"{value:g}" if key.endswith("cpu") else f"{value:.0f}"

    wait = "BigDL would wait up to an hour (spark.scheduler.maxRegisteredResourcesWaitingTime) for the executors"
    notes = []
    for q in quotas:
        name = f"{namespace}/{(q.get('metadata') or {}).get('name', '?')}"
        status = q.get("status") or {}
        hard = status.get("hard") or (q.get("spec") or {}).get("hard") or {}
        used = status.get("used") or {}
        busy = []
        for key, value in sorted(hard.items()):
            if key == "limits.cpu" and key not in need:
                notes.append(f"ResourceQuota {name} limits limits.cpu but the pods set no cpu limit "
                             "(spark.kubernetes.{driver,executor}.limit.cores): the API server rejects them unless "
                             "a LimitRange gives one")
                continue
            if key not in need:
                continue
            try:
                limit, in_use = quantity(value), quantity(used.get(key, "0"))
            except ValueError:
                continue
            if need[key] > limit:
                raw = "" if show(key, limit) == value else f" ({value})"
                refuse(f"Kubernetes cannot create these pods: {asked} need {key} {show(key, need[key])} in all, but "
                       f"ResourceQuota {name} allows {show(key, limit)}{raw}; {wait}. Ask for fewer or smaller "
                       "executors (or a smaller driver), or raise the quota.")
            if need[key] > limit - in_use:
                busy.append(f"{key} {show(key, in_use)} of {show(key, limit)} used, {show(key, need[key])} needed")
        if busy:
            notes.append(f"ResourceQuota {name}: {'; '.join(busy)}: pods over the quota are rejected until other "
                         f"pods in {namespace} end")
    for message in notes:
        note(message)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # a surprise must not stop the submission
        note(f"the Kubernetes pre-flight failed ({type(e).__name__}: {e}); quotas not checked")
        sys.exit(0)
