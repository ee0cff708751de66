#!/usr/bin/env python3
"""Reads a cluster profile (conf/cluster/*.yaml) and prints the submit/spark-submit.sh options it stands for,
one per line. Used by spark-submit.sh --cluster FILE; not meant to be run by hand (but harmless: it only prints).

The profile is a strict subset of YAML: one flat "key: value" per line, '#' comments, blank lines; no nesting,
no lists, no anchors, no multi-line values. Values may be quoted with '...' or "..." (no escapes). Every key must
be one of KEYS and allowed for the profile's master; every value must match its pattern. Anything else: exit 2
with a message naming the file, the line, the key and the value.

Relative paths (pod_template) are resolved against the repository root (the folder above submit/).
"""
import os
import re
import sys

WHOLE = r"[1-9][0-9]*"
MEMORY = r"[1-9][0-9]*[kmgt]"  # Spark's memory strings, restricted to a unit suffix: 512m, 2g
NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"  # Kubernetes object names (RFC 1123 label)

# key -> (pattern, masters it is allowed with, what it means)
KEYS = {
    "master": (r"local(\[([1-9][0-9]*|\*)\])?|spark://[A-Za-z0-9.-]+:[0-9]+|yarn|k8s://https?://[A-Za-z0-9.:-]+(/[A-Za-z0-9._/-]*)?",
               "any", "Spark master URL"),
    "deploy_mode": (r"client|cluster", "yarn k8s", "where the driver runs"),
    "executors": (WHOLE, "spark yarn k8s", "number of executors"),
    "executor_cores": (WHOLE, "spark yarn k8s", "cores per executor"),
    "executor_memory": (MEMORY, "any", "heap per executor"),
    "driver_memory": (MEMORY, "any", "heap of the driver"),
    "queue": (r"[A-Za-z0-9_.-]+", "yarn", "YARN queue"),
    "namespace": (NAME, "k8s", "Kubernetes namespace"),
    "service_account": (NAME, "k8s", "service account of the driver pod"),
    "image": (r"[A-Za-z0-9._/:@-]+", "k8s", "container image of driver and executors"),
    "image_pull_policy": (r"Always|IfNotPresent|Never", "k8s", "image pull policy"),
    "pod_template": (r"[A-Za-z0-9._/-]+\.ya?ml", "k8s", "driver and executor pod template file"),
}
REQUIRED = {"any": ["master"], "yarn": ["executors"], "k8s": ["executors", "image", "namespace", "service_account"],
            "spark": ["executors"], "local": []}


def fail(path, message):
    print(f"spark-submit.sh: cluster profile {path}: {message}", file=sys.stderr)
    sys.exit(2)


def kind(master):
    for prefix, name in (("local", "local"), ("spark://", "spark"), ("yarn", "yarn"), ("k8s://", "k8s")):
        if master.startswith(prefix):
            return name
    return "?"


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        fail(path, "no such file")
    except OSError as e:
        fail(path, f"cannot read it: {e.strerror}")
    values, where = {}, {}
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+):[ \t]+(\"[^\"]*\"|'[^']*'|[^\s#'\"]([^#]*[^\s#])?)([ \t]+#.*)?", line)
        if not m:
            fail(path, f"line {number}: '{raw}' is not 'key: value' (flat keys only, no nesting or lists)")
        key, value = m.group(1), m.group(2)
        if value[0] in "\"'":
            value = value[1:-1]
        if key not in KEYS:
            fail(path, f"line {number}: unknown key '{key}' (value '{value}'); known keys: {', '.join(KEYS)}")
        if key in values:
            fail(path, f"line {number}: key '{key}' given twice (first on line {where[key]})")
        pattern = KEYS[key][0]
        if not re.fullmatch(pattern, value):
            fail(path, f"line {number}: bad value '{value}' for key '{key}' ({KEYS[key][2]}; must match {pattern})")
        values[key], where[key] = value, number
    if "master" not in values:
        fail(path, "missing key 'master'")
    k = kind(values["master"])
    for key, value in values.items():
        allowed = KEYS[key][1]
        if allowed != "any" and k not in allowed.split():
            fail(path, f"line {where[key]}: key '{key}' (value '{value}') has no meaning for master '{values['master']}'")
    for key in REQUIRED[k]:
        if key not in values:
            fail(path, f"missing key '{key}' (required for master '{values['master']}')")
    if k == "k8s" and values.get("deploy_mode", "cluster") != "cluster":
        fail(path, f"line {where['deploy_mode']}: deploy_mode '{values['deploy_mode']}': only cluster is supported on Kubernetes")
    return values, where, k


def main():
    if len(sys.argv) != 3:
        print("usage: cluster-profile.py PROFILE.yaml REPO_ROOT", file=sys.stderr)
        sys.exit(2)
    path, root = sys.argv[1], sys.argv[2]
    values, where, k = read(path)
    out = ["--master", values["master"]]
    if k == "k8s":
        out += ["--deploy-mode", values.get("deploy_mode", "cluster")]
    elif "deploy_mode" in values:
        out += ["--deploy-mode", values["deploy_mode"]]
    for key, option in (("executors", "--executors"), ("executor_cores", "--executor-cores"),
                        ("executor_memory", "--executor-memory"), ("driver_memory", "--driver-memory"),
                        ("queue", "--queue")):
        if key in values:
            out += [option, values[key]]
    if k == "k8s":
        out += ["--conf", f"spark.kubernetes.namespace={values['namespace']}",
                "--conf", f"spark.kubernetes.authenticate.driver.serviceAccountName={values['service_account']}",
                "--conf", f"spark.kubernetes.container.image={values['image']}"]
        if "image_pull_policy" in values:
            out += ["--conf", f"spark.kubernetes.container.image.pullPolicy={values['image_pull_policy']}"]
        if "pod_template" in values:
            template = os.path.join(root, values["pod_template"])
            if not os.path.isfile(template):
                fail(path, f"line {where['pod_template']}: key 'pod_template' (value '{values['pod_template']}'): no such file {template}")
            template = os.path.realpath(template)
            out += ["--conf", f"spark.kubernetes.driver.podTemplateFile={template}",
                    "--conf", f"spark.kubernetes.executor.podTemplateFile={template}"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
