#!/usr/bin/env bash
# The benchmark (README, "Benchmark"): installs what it runs the same way scripts/test.sh does
# (OpenBao and moto into .tools/, kube-apiserver built once), then `mvn -Pbench verify`, which
# starts OpenBao, moto and a real Kubernetes control plane on loopback, runs the operator, prints
# the tables and writes target/bench/results.json. Not part of scripts/test.sh.
#
#   scripts/bench.sh                 # everything: about half an hour on 2 idle cores
#   scripts/bench.sh --quick         # small sizes, to see that it works (a few minutes)
#   scripts/bench.sh --help          # the options (sizes, concurrency, rate, parts, --jfr)
#   BENCH_JVM_ARGS=-XX:StartFlightRecording=filename=target/bench/bench.jfr scripts/bench.sh ...
#                                    # profile the benchmark's JVM, where the operator runs for
#                                    # parts 1-3 (summary: JfrSummary, see README "Benchmark")
#
# Needs Java 17+, Maven, python3 with pip, Go, kubectl, openssl and curl.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"

bash scripts/install-tools.sh --no-helm
bash scripts/controlplane.sh build
# jansi.noreset: Debian's Maven 3.8 prints stray colour resets even with -q.
MAVEN_OPTS="${MAVEN_OPTS:-} -Djansi.noreset=true" \
  mvn -B -q -Pbench verify -Dbench.args="$*" -Dbench.jvmArgs="${BENCH_JVM_ARGS:-}"
