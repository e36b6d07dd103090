#!/usr/bin/env bash
# Installs the Debian packages the test suite starts real servers from: PostgreSQL (metadata
# adapter tests), Ceph's RADOS Gateway (the S3 adapter tests), Chromium (the browser tests),
# curl (the upload script's tests and the systemd unit's readiness probe), nginx (the tests of
# deploy/nginx/imghost.conf) and systemd's tools (systemd-analyze and systemd-sysusers check
# deploy/systemd; installing them starts no systemd).
# Needs root; skips what is there.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v radosgw >/dev/null || need+=(radosgw ceph-mon ceph-osd ceph-common)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -x /usr/bin/systemd-analyze ] || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test dependencies: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
