#!/usr/bin/env bash
# Every test tier in one command. Installs what the tests run:
#   - OpenBao and moto into .tools/ (scripts/install-tools.sh),
#   - etcd from Debian's etcd-server package when it is missing (needs root or sudo), and
#     kube-apiserver and kube-controller-manager, built once per checkout from the
#     k8s.io/kubernetes Go module into .tools/k8s/ (scripts/controlplane.sh build; about 5
#     minutes on 2 cores the first time on a machine, seconds once Go's caches are warm),
# then runs `mvn verify`: unit tests with Surefire (*Test), integration tests with Failsafe
# (*IT: OpenBao, moto and fabric8's mock API server) and end-to-end tests (*E2E: the real
# control plane, kubectl, OpenBao's Kubernetes auth).
# Extra arguments go to Maven, e.g. scripts/test.sh -Dit.test=EnrolmentIT -DskipE2E
#
# Needs Java 17+, Maven, python3 with pip, Go, kubectl, openssl and curl.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

bash scripts/install-tools.sh
bash scripts/controlplane.sh build
mvn -B verify "$@"
