#!/usr/bin/env bash
# make k8s-check: submits sparkvit through submit/spark-submit.sh to a real Kubernetes API server on this machine and
# checks the driver pod it creates against the cluster profile. By hand only, never in `make test`.
#
#   tools/k8s-check/k8s-check.sh [PROFILE]        (default conf/cluster/kubernetes.yaml; make k8s-check)
#
# 1. builds kube-apiserver and kubectl once from the Go module proxy (go.mod and go.sum next to this script pin
#    k8s.io/kubernetes; about 560 MB of modules, kept, and a long compile, niced, whose 2.3 GB of compiled packages
#    are then deleted) into $SPARKVIT_CACHE/k8s/bin; later runs reuse them while go.mod, go.sum and the Go version
#    are unchanged;
# 2. starts etcd (Debian's etcd-server, installed with apt-get when missing and run as root) and kube-apiserver on
#    free loopback ports: TLS with a throw-away CA, static bearer tokens (--anonymous-auth=false), RBAC
#    authorization, a service-account signing key (so the TokenRequest API issues real service-account tokens);
# 3. as the cluster admin, the README's set-up: kubectl create namespace, kubectl apply -f submit/k8s/rbac.yaml;
#    and Pod Security Admission labels on the namespace: enforce "baseline", audit "restricted";
# 4. submits `pretrain --config conf/pretrain.yaml` with submit/spark-submit.sh --cluster PROFILE, the master
#    overridden to this API server and authenticated as the driver's service account (a TokenRequest token; so the
#    Role of rbac.yaml is shown to be enough to submit, and the audit log shows who created what), with
#    spark.kubernetes.submission.waitAppCompletion=false: there is no kubelet or scheduler, so the driver pod is
#    created and stays Pending, which is all this checks;
# 5. reads back the driver pod, its config maps and service and checks them against the profile and the pod template
#    (check.py: image, pull policy, service account, security context, volumes and mounts, memory and cores, the
#    executor settings Spark hands the driver, who created them: the audit log, what "restricted" would refuse),
#    and that RBAC is enforced (the service account can create pods in its namespace and nothing outside what the
#    Role grants). One PASS/FAIL line per check; exit 1 on any FAIL.
# Every process it starts is stopped on exit, failure or not. The run's folder (certificates, tokens, logs) is
# deleted on success and kept on failure (K8S_CHECK_KEEP=1 keeps it always).
# Environment: SPARKVIT_CACHE (default ~/.cache/sparkvit), K8S_CHECK_KEEP, GOMAXPROCS (for the build).
set -euo pipefail
PROG=k8s-check
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=submit/common.sh
source "$HERE/../../submit/common.sh"
ROOT="$SPARKVIT_ROOT"
PROFILE="${1:-conf/cluster/kubernetes.yaml}"
[[ -f "$PROFILE" ]] || PROFILE="$ROOT/$PROFILE"
[[ -f "$PROFILE" ]] || die "no profile $1"
CACHE="$SPARKVIT_CACHE/k8s"
BIN="$CACHE/bin"
T0=$SECONDS
phase() { printf '%s: [%3ds] %s\n' "$PROG" $((SECONDS - T0)) "$*" >&2; }

# ---- 1. kube-apiserver and kubectl, built once ----
build() {
  command -v go >/dev/null || die "needs Go 1.25 or newer to build kube-apiserver (https://go.dev/dl, or Debian's golang-go when recent enough)"
  export GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" GOFLAGS=-buildvcs=false GOTOOLCHAIN=local
  local version ldflags stamp tool
  version="$(grep -m1 -oE '^\s*(require )?k8s\.io/kubernetes v[0-9][^ ]*' "$HERE/go.mod" | awk '{print $NF}')"
  [[ -n "$version" ]] || die "no k8s.io/kubernetes version in $HERE/go.mod"
  # the version both report (the Kubernetes build scripts stamp it the same way; unstamped they say v0.0.0-master)
  ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version -X k8s.io/client-go/pkg/version.gitVersion=$version"
  stamp="$( (cat "$HERE/go.mod" "$HERE/go.sum"; echo "$ldflags") | sha256sum | cut -c1-16) $(go env GOVERSION)"
  if [[ -x "$BIN/kube-apiserver" && -x "$BIN/kubectl" && "$(cat "$BIN/stamp" 2>/dev/null)" == "$stamp" ]]; then
    phase "kube-apiserver and kubectl $version: cached in $BIN"
    return
  fi
  mkdir -p "$BIN"
  rm -f "$BIN/stamp" "$CACHE/build.log"
  for tool in kube-apiserver kubectl; do
    phase "building $tool $version (niced; the first build takes many minutes; log: $CACHE/build.log)"
    (cd "$HERE" && nice -n 19 go build -trimpath -ldflags "$ldflags" -o "$BIN/$tool.tmp" "k8s.io/kubernetes/cmd/$tool") \
      >>"$CACHE/build.log" 2>&1 || { tail -20 "$CACHE/build.log" >&2; die "go build of $tool failed; see $CACHE/build.log"; }
    mv -f "$BIN/$tool.tmp" "$BIN/$tool"
  done
  printf '%s\n' "$stamp" >"$BIN/stamp"
  # the compiled packages (2.3 GB) are not needed again; the modules (560 MB) are kept for an offline rebuild
  rm -rf "$GOCACHE"
  phase "built $BIN/kube-apiserver and $BIN/kubectl"
}
build
KUBECTL="$BIN/kubectl"

if ! command -v etcd >/dev/null; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    phase "installing etcd-server (apt-get)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null \
      || die "apt-get could not install etcd-server"
  else
    die "needs etcd on PATH (Debian: apt-get install etcd-server)"
  fi
fi
command -v openssl >/dev/null || die "needs openssl (certificates of the throw-away CA)"
command -v curl >/dev/null || die "needs curl"
SPARK_HOME="$("$ROOT/submit/spark-dist.sh")"
export SPARK_HOME

# ---- 2. etcd and kube-apiserver on loopback, stopped on exit ----
WORK="$(mktemp -d "${TMPDIR:-/tmp}/sparkvit-k8s-check.XXXXXX")"
chmod 700 "$WORK"
PIDS=()
OK=false
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if $OK && [[ -z "${K8S_CHECK_KEEP:-}" ]]; then rm -rf "$WORK"; else printf '%s: logs, certificates and tokens kept in %s\n' "$PROG" "$WORK" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ETCD_PORT="$(free_port)" ETCD_PEER_PORT="$(free_port)" API_PORT="$(free_port)"
SERVER="https://127.0.0.1:$API_PORT"

phase "certificates, tokens"
(
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=sparkvit-k8s-check-ca -keyout ca.key -out ca.crt
  openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout server.key -out server.csr \
    -addext "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -copy_extensions copy -out server.crt
  openssl genrsa -out sa.key 2048 && openssl rsa -in sa.key -pubout -out sa.pub
) >"$WORK/openssl.log" 2>&1 || die "openssl failed: $(tail -3 "$WORK/openssl.log")"
ADMIN_TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s,sparkvit-k8s-check-admin,uid-admin,"system:masters"\n' "$ADMIN_TOKEN" >"$WORK/tokens.csv"
printf '%s' "$ADMIN_TOKEN" >"$WORK/admin.token"
cat >"$WORK/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: check, cluster: {server: "$SERVER", certificate-authority: "$WORK/ca.crt"}}]
users: [{name: admin, user: {token: "$ADMIN_TOKEN"}}]
contexts: [{name: check, context: {cluster: check, user: admin}}]
current-context: check
EOF
export KUBECONFIG="$WORK/kubeconfig"
# who created what: the audit log names the user of every create (check.py reads it)
cat >"$WORK/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    users: [system:apiserver]
  - level: Metadata
    verbs: [create]
  - level: None
EOF
chmod 600 "$WORK"/*

phase "etcd on 127.0.0.1:$ETCD_PORT"
nice -n 10 etcd --name k8s-check --data-dir "$WORK/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "k8s-check=http://127.0.0.1:$ETCD_PEER_PORT" >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)
wait_for() { # what seconds command...: retries the command until it succeeds
  local what="$1" seconds="$2" start=$SECONDS
  shift 2
  until "$@" >/dev/null 2>&1; do
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || die "$what: a server exited; see $WORK/*.log"; done
    ((SECONDS - start < seconds)) || die "$what: not ready after ${seconds}s; see $WORK/*.log"
    sleep 1
  done
}
wait_for "etcd" 60 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

phase "kube-apiserver on $SERVER"
# --watch-cache=false: Debian's etcd 3.4.23 lacks RequestWatchProgress, and with its watch cache the API server
# answers the watch spark-submit opens on the new driver pod with HTTP 504 "Too large resource version"; Spark
# 3.1.3 then takes the closed watch for the end of the application (with waitAppCompletion=true it prints
# "finished" and exits 0 while the pod is Pending). Watches served by etcd directly do not do that.
nice -n 10 "$BIN/kube-apiserver" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --tls-cert-file="$WORK/server.crt" --tls-private-key-file="$WORK/server.key" --cert-dir="$WORK/apiserver-certs" \
  --anonymous-auth=false --token-auth-file="$WORK/tokens.csv" --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$WORK/sa.pub" \
  --service-account-signing-key-file="$WORK/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 --enable-priority-and-fairness=false --profiling=false --watch-cache=false \
  --audit-policy-file="$WORK/audit-policy.yaml" --audit-log-path="$WORK/audit.log" \
  >"$WORK/kube-apiserver.log" 2>&1 &
PIDS+=($!)
wait_for "kube-apiserver" 300 curl -fsS --cacert "$WORK/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "$SERVER/readyz"
phase "kube-apiserver ready: $("$KUBECTL" version -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])')"

# ---- 3. the README's set-up, as the cluster admin ----
NAMESPACE="$(python3 "$ROOT/submit/cluster-profile.py" "$PROFILE" "$ROOT" | sed -n 's/^spark\.kubernetes\.namespace=//p')"
SERVICE_ACCOUNT="$(python3 "$ROOT/submit/cluster-profile.py" "$PROFILE" "$ROOT" | sed -n 's/^spark\.kubernetes\.authenticate\.driver\.serviceAccountName=//p')"
[[ -n "$NAMESPACE" && -n "$SERVICE_ACCOUNT" ]] || die "$PROFILE: no namespace or service account (not a Kubernetes profile?)"
grep -qx "  namespace: $NAMESPACE" "$ROOT/submit/k8s/rbac.yaml" && grep -qx "  name: $SERVICE_ACCOUNT" "$ROOT/submit/k8s/rbac.yaml" \
  || die "$PROFILE: namespace $NAMESPACE and service account $SERVICE_ACCOUNT are not those of submit/k8s/rbac.yaml"
phase "kubectl create namespace $NAMESPACE; kubectl apply -f submit/k8s/rbac.yaml"
"$KUBECTL" create namespace "$NAMESPACE" >&2
"$KUBECTL" create namespace sparkvit-k8s-check-other >&2 # a second namespace, for the RBAC checks
"$KUBECTL" apply -f "$ROOT/submit/k8s/rbac.yaml" >&2
# Pod Security Admission refuses pods that break the "baseline" standard, and records in the audit log what they
# break of "restricted" (check.py)
"$KUBECTL" label namespace "$NAMESPACE" pod-security.kubernetes.io/enforce=baseline \
  pod-security.kubernetes.io/audit=restricted >&2
"$KUBECTL" -n "$NAMESPACE" create token "$SERVICE_ACCOUNT" --duration=1h >"$WORK/driver.token"
chmod 600 "$WORK/driver.token"
# the pod template as JSON, for check.py (kubectl parses the YAML as a real client would)
TEMPLATE="$(python3 "$ROOT/submit/cluster-profile.py" "$PROFILE" "$ROOT" | sed -n 's/^spark\.kubernetes\.driver\.podTemplateFile=//p')"
if [[ -n "$TEMPLATE" ]]; then
  "$KUBECTL" create --dry-run=client -o json -f "$TEMPLATE" >"$WORK/template.json"
else
  echo '{}' >"$WORK/template.json"
fi

# ---- 4. submit through the launcher ----
COMMAND=(pretrain --config conf/pretrain.yaml)
phase "submit/spark-submit.sh --cluster ${PROFILE#"$ROOT"/} --master k8s://$SERVER ... -- ${COMMAND[*]}"
SUBMIT_START=$SECONDS
# KUBECONFIG names no file: spark-submit's Kubernetes client authenticates with the token given and nothing else
rc=0
KUBECONFIG="$WORK/no-kubeconfig" timeout 600 "$ROOT/submit/spark-submit.sh" --cluster "$PROFILE" --master "k8s://$SERVER" \
  --conf "spark.kubernetes.authenticate.submission.caCertFile=$WORK/ca.crt" \
  --conf "spark.kubernetes.authenticate.submission.oauthTokenFile=$WORK/driver.token" \
  --conf spark.kubernetes.submission.waitAppCompletion=false \
  -- "${COMMAND[@]}" >"$WORK/spark-submit.log" 2>&1 || rc=$?
if ((rc != 0)); then
  grep -E 'Exception|forbidden|ERROR' "$WORK/spark-submit.log" | head -5 | cut -c1-600 >&2
  die "spark-submit.sh failed (exit $rc); see $WORK/spark-submit.log"
fi
phase "spark-submit returned after $((SECONDS - SUBMIT_START))s"

# ---- 5. read back and check ----
phase "checks"
if python3 "$HERE/check.py" --server "$SERVER" --ca "$WORK/ca.crt" --admin-token "$WORK/admin.token" \
  --driver-token "$WORK/driver.token" --profile "$PROFILE" --root "$ROOT" --template "$WORK/template.json" \
  --other-namespace sparkvit-k8s-check-other --audit-log "$WORK/audit.log" --submit-log "$WORK/spark-submit.log" -- "${COMMAND[@]}"; then
  OK=true
fi
# what was checked, for a look by hand (kept with the logs on failure, or with K8S_CHECK_KEEP=1)
"$KUBECTL" -n "$NAMESPACE" get pods,configmaps,services -o yaml >"$WORK/objects.yaml" 2>&1 || true
phase "done ($( $OK && echo PASS || echo FAIL ))"
$OK
