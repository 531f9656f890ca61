#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the end-to-end tests: etcd, kube-apiserver
# and (optionally) kube-controller-manager as plain processes, no Docker, no systemd.
#
#   scripts/controlplane.sh build          # once per checkout: etcd from Debian if missing, and
#                                          # go build into .tools/k8s/<version>/
#   scripts/controlplane.sh start <dir>    # certs, keys, etcd, apiserver, controller-manager;
#                                          # writes <dir>/kubeconfig and <dir>/env, logs <dir>/*.log
#   scripts/controlplane.sh stop <dir>     # stops what start started in <dir> (safe to run twice)
#
# kube-apiserver and kube-controller-manager are built from the k8s.io/kubernetes Go module
# at the release pinned in deploy/local/controlplane/go.mod (which also pins every k8s.io
# staging module to the matching version). etcd is Debian's etcd-server (/usr/bin/etcd) when
# present, else ETCD=/path/to/etcd.
#
# Environment:
#   GO                  go binary (default: go on PATH, else /usr/local/go/bin/go)
#   ETCD                etcd binary (default: etcd on PATH)
#   CONTROLLER_MANAGER  0 to start without kube-controller-manager (default 1)
#   STARTUP_TIMEOUT     seconds to wait for etcd and /readyz (default 90)
#
# Needs bash, openssl, curl, python3 (for free ports) and, for build, Go >= 1.23.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="${repo}/deploy/local/controlplane"
k8s_version="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3 }' "${module}/go.mod")"
[[ -n "${k8s_version}" ]] || { echo "no 'require k8s.io/kubernetes' line in ${module}/go.mod" >&2; exit 1; }
bin="${repo}/.tools/k8s/${k8s_version}"
binaries=(kube-apiserver kube-controller-manager)
startup_timeout="${STARTUP_TIMEOUT:-90}"

die() { echo "controlplane.sh: $*" >&2; exit 1; }

go_binary() {
  if [[ -n "${GO:-}" ]]; then echo "${GO}"
  elif command -v go >/dev/null; then command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go
  else die "no Go toolchain: install Go >= 1.23 or set GO=/path/to/go"
  fi
}

etcd_binary() {
  if [[ -n "${ETCD:-}" ]]; then echo "${ETCD}"
  elif command -v etcd >/dev/null; then command -v etcd
  else die "no etcd: apt-get install etcd-server (Debian), or set ETCD=/path/to/etcd"
  fi
}

built() {
  local b
  for b in "${binaries[@]}"; do [[ -x "${bin}/${b}" ]] || return 1; done
  [[ -f "${bin}/built.txt" ]]
}

cmd_build() {
  if ! command -v etcd >/dev/null && [[ -z "${ETCD:-}" ]]; then
    # Debian's etcd-server; the package starts nothing where systemd does not run.
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    echo "installing etcd (Debian package etcd-server) ..."
    ${sudo} apt-get update -qq
    DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y -qq etcd-server >/dev/null
  fi
  if built; then
    echo "kube-apiserver ${k8s_version}: already built in ${bin} (skipped; delete it to rebuild)"
    return 0
  fi
  local go started elapsed tmp ldflags pkg
  go="$(go_binary)"
  echo "building kube-apiserver and kube-controller-manager ${k8s_version} with $("${go}" version)"
  echo "into ${bin}; the first build on a machine downloads ~140 modules (~500 MB) and compiles for ~5 minutes on 2 cores; later ones, fresh clones too, reuse Go's caches and take seconds ..."
  started=$(date +%s)
  tmp="${bin}.tmp.$$"
  rm -rf "${tmp}"
  mkdir -p "${tmp}"
  # What hack/lib/version.sh would stamp, so that kubectl and clients see the real version.
  pkg=k8s.io/component-base/version
  local major minor
  major="${k8s_version#v}"; major="${major%%.*}"
  minor="${k8s_version#v*.}"; minor="${minor%%.*}"
  ldflags="-s -w -X ${pkg}.gitVersion=${k8s_version} -X ${pkg}.gitMajor=${major}"
  ldflags+=" -X ${pkg}.gitMinor=${minor} -X ${pkg}.gitTreeState=clean"
  ldflags+=" -X ${pkg}.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  ldflags+=" -X ${pkg}/verflag.programName=kubernetes"
  (
    cd "${module}"
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" "${go}" build -trimpath -ldflags "${ldflags}" -o "${tmp}/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  ) || { rm -rf "${tmp}"; die "go build failed (see above)"; }
  elapsed=$(( $(date +%s) - started ))
  echo "k8s.io/kubernetes ${k8s_version} built in ${elapsed}s by $("${go}" version)" >"${tmp}/built.txt"
  rm -rf "${bin}"
  mv "${tmp}" "${bin}"
  echo "built ${binaries[*]} ${k8s_version} in ${elapsed}s ($((elapsed / 60))m$((elapsed % 60))s) into ${bin}"
}

# Free loopback TCP ports, as many as asked, all different.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Starts a process in its own session with output to a log, and records its pid.
launch() {
  local dir="$1" name="$2"
  shift 2
  setsid "$@" </dev/null >"${dir}/${name}.log" 2>&1 &
  echo $! >"${dir}/${name}.pid"
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# Polls a command until it succeeds; fails when the named process died or time runs out.
await() {
  local dir="$1" name="$2" what="$3"
  shift 3
  local deadline=$(( $(date +%s) + startup_timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! alive "${dir}/${name}.pid"; then
      tail -n 30 "${dir}/${name}.log" >&2 || true
      die "${name} exited before ${what}; see ${dir}/${name}.log"
    fi
    if (( $(date +%s) > deadline )); then
      tail -n 30 "${dir}/${name}.log" >&2 || true
      die "${name}: no ${what} after ${startup_timeout}s; see ${dir}/${name}.log"
    fi
    sleep 0.2
  done
}

# <name> <subject> <extensions or empty>: a key and a certificate signed by the CA.
issue_cert() {
  local pki="$1" name="$2" subject="$3" ext="$4"
  openssl req -new -newkey rsa:2048 -nodes -keyout "${pki}/${name}.key" \
    -subj "${subject}" -out "${pki}/${name}.csr" 2>/dev/null
  printf '%s\n' "${ext}" >"${pki}/${name}.ext"
  openssl x509 -req -in "${pki}/${name}.csr" -CA "${pki}/ca.crt" -CAkey "${pki}/ca.key" \
    -CAcreateserial -days 30 -sha256 -extfile "${pki}/${name}.ext" -out "${pki}/${name}.crt" \
    2>/dev/null
  rm -f "${pki}/${name}.csr" "${pki}/${name}.ext"
}

generate_pki() {
  local pki="$1"
  mkdir -p "${pki}"
  chmod 700 "${pki}"
  openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "${pki}/ca.key" -sha256 -days 30 \
    -subj "/CN=vaultmfa-e2e-ca" -out "${pki}/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  issue_cert "${pki}" apiserver "/CN=kube-apiserver" "$(printf '%s\n' \
    "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local")"
  local client="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  # The admin: system:masters is bound to cluster-admin by the bootstrap RBAC policy.
  issue_cert "${pki}" admin "/O=system:masters/CN=vaultmfa-e2e-admin" "${client}"
  # The controller-manager's own identity; its controllers then use their ServiceAccounts.
  issue_cert "${pki}" controller-manager "/CN=system:kube-controller-manager" "${client}"
  # ServiceAccount token signing key pair.
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${pki}/sa.key" 2>/dev/null
  openssl pkey -in "${pki}/sa.key" -pubout -out "${pki}/sa.pub" 2>/dev/null
}

# <file> <server> <user> <cert> <key> <ca>: a kubeconfig with embedded credentials.
write_kubeconfig() {
  local file="$1" server="$2" user="$3" cert="$4" key="$5" ca="$6"
  cat >"${file}" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: vaultmfa-e2e
  cluster:
    server: ${server}
    certificate-authority-data: $(base64 -w0 "${ca}")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 "${cert}")
    client-key-data: $(base64 -w0 "${key}")
contexts:
- name: vaultmfa-e2e
  context:
    cluster: vaultmfa-e2e
    user: ${user}
    namespace: default
current-context: vaultmfa-e2e
EOF
  chmod 600 "${file}"
}

cmd_start() {
  local dir="${1:-}"
  [[ -n "${dir}" ]] || die "usage: $0 start <dir>"
  built || die "kube-apiserver ${k8s_version} is not built in ${bin}: run scripts/controlplane.sh build first"
  local etcd
  etcd="$(etcd_binary)"
  mkdir -p "${dir}"
  dir="$(cd "${dir}" && pwd)"
  if alive "${dir}/etcd.pid" || alive "${dir}/kube-apiserver.pid"; then
    die "a control plane is already running in ${dir}: run $0 stop ${dir} first"
  fi
  local pki="${dir}/pki"
  rm -rf "${pki}" "${dir}/etcd-data"
  generate_pki "${pki}"

  local etcd_client etcd_peer apiserver_port kcm_port
  read -r etcd_client etcd_peer apiserver_port kcm_port <<<"$(free_ports 4)"
  local server="https://127.0.0.1:${apiserver_port}"

  # etcd: one member, plain HTTP on loopback only.
  launch "${dir}" etcd "${etcd}" \
    --name=e2e \
    --data-dir="${dir}/etcd-data" \
    --listen-client-urls="http://127.0.0.1:${etcd_client}" \
    --advertise-client-urls="http://127.0.0.1:${etcd_client}" \
    --listen-peer-urls="http://127.0.0.1:${etcd_peer}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${etcd_peer}" \
    --initial-cluster="e2e=http://127.0.0.1:${etcd_peer}" \
    --initial-cluster-state=new \
    --listen-metrics-urls="" \
    --logger=zap --log-outputs=stderr
  await "${dir}" etcd "health" curl -fsS "http://127.0.0.1:${etcd_client}/health"

  # endpoint-reconciler-type=none: the kubernetes Service may not point at a loopback address,
  # and nothing runs in pods here to use it.
  launch "${dir}" kube-apiserver "${bin}/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:${etcd_client}" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="${apiserver_port}" \
    --cert-dir="${dir}/apiserver-certs" \
    --tls-cert-file="${pki}/apiserver.crt" \
    --tls-private-key-file="${pki}/apiserver.key" \
    --client-ca-file="${pki}/ca.crt" \
    --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${pki}/sa.pub" \
    --service-account-signing-key-file="${pki}/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --endpoint-reconciler-type=none \
    --allow-privileged=false \
    --profiling=false \
    --v=1
  await "${dir}" kube-apiserver "/readyz" \
    curl -fsS --cacert "${pki}/ca.crt" --cert "${pki}/admin.crt" --key "${pki}/admin.key" \
    "${server}/readyz"

  write_kubeconfig "${dir}/kubeconfig" "${server}" vaultmfa-e2e-admin \
    "${pki}/admin.crt" "${pki}/admin.key" "${pki}/ca.crt"

  if [[ "${CONTROLLER_MANAGER:-1}" != 0 ]]; then
    write_kubeconfig "${dir}/controller-manager.kubeconfig" "${server}" \
      system:kube-controller-manager "${pki}/controller-manager.crt" \
      "${pki}/controller-manager.key" "${pki}/ca.crt"
    # garbagecollector: owned Secrets go with their owner; namespace: deleted namespaces go
    # away; serviceaccount: every namespace gets its default ServiceAccount.
    launch "${dir}" kube-controller-manager "${bin}/kube-controller-manager" \
      --kubeconfig="${dir}/controller-manager.kubeconfig" \
      --authentication-kubeconfig="${dir}/controller-manager.kubeconfig" \
      --authorization-kubeconfig="${dir}/controller-manager.kubeconfig" \
      --bind-address=127.0.0.1 \
      --secure-port="${kcm_port}" \
      --cert-dir="${dir}/controller-manager-certs" \
      --controllers=garbagecollector,namespace,serviceaccount \
      --use-service-account-credentials=true \
      --root-ca-file="${pki}/ca.crt" \
      --leader-elect=false \
      --profiling=false \
      --v=1
    await "${dir}" kube-controller-manager "/healthz" \
      curl -fsS --cacert "${dir}/controller-manager-certs/kube-controller-manager.crt" \
      --resolve "localhost:${kcm_port}:127.0.0.1" "https://localhost:${kcm_port}/healthz"
  fi

  cat >"${dir}/env" <<EOF
KUBECONFIG=${dir}/kubeconfig
KUBE_APISERVER=${server}
ETCD_ENDPOINT=http://127.0.0.1:${etcd_client}
KUBERNETES_VERSION=${k8s_version}
EOF
  echo "control plane ${k8s_version} ready at ${server}"
  echo "  export KUBECONFIG=${dir}/kubeconfig"
  echo "  logs: ${dir}/*.log; stop: $0 stop ${dir}"
}

# Stops the process recorded in <dir>/<name>.pid: TERM, then KILL after 15s.
stop_one() {
  local dir="$1" name="$2" pidfile
  pidfile="${dir}/${name}.pid"
  [[ -f "${pidfile}" ]] || return 0
  local pid
  pid="$(cat "${pidfile}")"
  # Only a process that still runs the binary we started (pids are reused).
  if kill -0 "${pid}" 2>/dev/null && [[ "$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" == *"${name}"* ]]; then
    kill -TERM "${pid}" 2>/dev/null || true
    local i
    for ((i = 0; i < 150; i++)); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      echo "${name} (pid ${pid}) did not stop after 15s: killing it" >&2
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    echo "stopped ${name} (pid ${pid})"
  fi
  rm -f "${pidfile}"
}

cmd_stop() {
  local dir="${1:-}"
  [[ -n "${dir}" ]] || die "usage: $0 stop <dir>"
  [[ -d "${dir}" ]] || return 0
  stop_one "${dir}" kube-controller-manager
  stop_one "${dir}" kube-apiserver
  stop_one "${dir}" etcd
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  *) echo "usage: $0 build | start <dir> | stop <dir>" >&2; exit 2 ;;
esac
