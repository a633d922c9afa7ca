#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks need, only when missing.
# Fast no-op when everything is present; never leaves nginx/haproxy system
# services running (tests start their own instances on random ports).
set -euo pipefail

# binary:package — the binary proves the package is installed.
readonly REQUIRED=(
  nginx:nginx-light
  haproxy:haproxy
  wrk:wrk
  curl:curl
  h2load:nghttp2-client
  openssl:openssl
  ip:iproute2
  ps:procps
  etcd:etcd-server
  chromium:chromium
)
readonly SERVICES=(nginx haproxy etcd)

has_binary() {
  # /usr/sbin is often not on a non-root user's PATH.
  command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" || -x "/sbin/$1" ]]
}

missing=()
for entry in "${REQUIRED[@]}"; do
  has_binary "${entry%%:*}" || missing+=("${entry#*:}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-system-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
fi

echo "install-system-deps: installing ${missing[*]}" >&2

# policy-rc.d exit 101 tells invoke-rc.d/deb-systemd-invoke not to start services
# during installation, so port 80 stays free. Remove it only if we created it.
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  created_policy=true
fi
cleanup() {
  if $created_policy; then "${sudo[@]}" rm -f "$policy"; fi
}
trap cleanup EXIT

log=$(mktemp)
apt() {
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >>"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "install-system-deps: apt-get $1 failed" >&2
    exit 1
  fi
}
apt update -qq
apt install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}"
rm -f "$log"

# Belt and braces on systemd hosts, where a unit may be enabled regardless.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
  for service in "${SERVICES[@]}"; do
    "${sudo[@]}" systemctl disable --now "$service" >/dev/null 2>&1 || true
  done
fi
