#!/usr/bin/env bash
# Every test tier in one command: installs the tools (OpenBao, moto) into .tools/, then runs
# `mvn verify`: unit tests with Surefire (*Test) and the integration tests with Failsafe (*IT),
# which start OpenBao, moto and fabric8's mock Kubernetes API server on free loopback ports.
# Extra arguments go to Maven, e.g. scripts/test.sh -Dit.test=EnrolmentIT
#
# Needs Java 17+, Maven and python3 (with pip, for the tools).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

bash scripts/install-tools.sh
mvn -B verify "$@"
