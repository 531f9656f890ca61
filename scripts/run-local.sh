#!/usr/bin/env bash
# Local stack in one command: installs the tools (OpenBao, moto) into .tools/, builds the
# control plane once (scripts/controlplane.sh build) and the project, then runs
# io.vaultmfa.operator.dev.LocalStack, which starts OpenBao, moto and a real Kubernetes
# control plane (etcd, kube-apiserver, kube-controller-manager) on loopback, runs the
# operator, applies config/samples/awsmfabinding.yaml with kubectl, waits until it is Ready
# and prints a live code.
#
#   scripts/run-local.sh          # keeps running until Ctrl-C, prints the addresses
#   scripts/run-local.sh --once   # stops after the check; exit 0 when Ready with a code
#
# Needs Java 17+, Maven, python3 with pip, Go, kubectl, openssl and curl.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

bash scripts/install-tools.sh --no-helm
bash scripts/controlplane.sh build

echo "building (mvn -q test-compile) ..."
classpath_file="target/local-stack.classpath"
# The dependency plugin is named with its version so that the pom need not declare it.
# jansi.noreset: Debian's Maven 3.8 prints stray colour resets even with -q.
MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true" \
  mvn -B -q -DskipTests test-compile \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="${classpath_file}"

exec java -Dbasedir="${repo}" \
  -cp "target/test-classes:target/classes:$(cat "${classpath_file}")" \
  io.vaultmfa.operator.dev.LocalStack "$@"
