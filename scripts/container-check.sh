#!/usr/bin/env bash
# Builds deploy/container/Containerfile with Debian's podman and runs the image as a user would:
# ready on /readyz, an upload and its files, the health check, the unprivileged user, a clean
# stop on SIGTERM, the data kept in its volume across a restart. Run as root, after `npm ci` (it
# makes its test image with the project's sharp).
#
# The Containerfile's base (node:22-bookworm-slim) comes from a container registry. Where none
# is reachable (IMGHOST_NODE_IMAGE unset), a base is made from Debian's packages instead:
# debootstrap, then Debian's nodejs and npm. This VM's kernel has mixed cgroups and no
# CAP_SYS_RESOURCE, so the build runs in chroot isolation and the container under runc with the
# cgroupfs manager and limits no higher than the current ones; elsewhere podman's defaults do.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# podman, the runtime this VM can run containers with, the networking that publishes a port,
# what makes a base image from Debian's packages, and the client that checks the answers.
packages=(podman runc containernetworking-plugins iptables debootstrap curl)
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

podman() { command podman --cgroup-manager=cgroupfs "$@"; }
TAG=localhost/imghost-check
NAME=imghost-check
VOLUME=imghost-check-data
PORT=$(node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")

base=${IMGHOST_NODE_IMAGE:-localhost/imghost-node-base:trixie}
if [ -z "${IMGHOST_NODE_IMAGE:-}" ] && ! podman image exists "$base"; then
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
  echo "container-check: making a Debian base with Node (debootstrap)"
  debootstrap --variant=minbase trixie "$rootfs" http://deb.debian.org/debian >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; exit 1; }
  chroot "$rootfs" apt-get install -y -qq --no-install-recommends nodejs npm ca-certificates >"$rootfs.log" 2>&1 \
    || { tail -20 "$rootfs.log" >&2; exit 1; }
  chroot "$rootfs" apt-get clean
  # The host's own certificate authorities come along, so that the build reaches the npm
  # registry through whatever this host trusts (on CI machines, a TLS-inspecting egress proxy).
  shopt -s nullglob
  local_cas=(/usr/local/share/ca-certificates/*.crt)
  if [ ${#local_cas[@]} -gt 0 ]; then
    cp "${local_cas[@]}" "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  fi
  tar -C "$rootfs" -c . | podman import --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$base" >/dev/null
fi

echo "container-check: building"
began=$SECONDS
podman build --isolation=chroot --format docker --build-arg "NODE_IMAGE=$base" \
  -f deploy/container/Containerfile -t "$TAG" . >"${TMPDIR:-/tmp}/container-build.log" 2>&1 \
  || { tail -30 "${TMPDIR:-/tmp}/container-build.log" >&2; exit 1; }
echo "container-check: built in $((SECONDS - began)) s, $(podman image inspect "$TAG" --format '{{.Size}}') bytes"

# The image stays (a second run builds from its cache); its build stage's image goes.
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
  podman image prune -f >/dev/null 2>&1 || true
}
cleanup
trap 'cleanup; rm -rf "${rootfs:-/nonexistent}" "${rootfs:-/nonexistent}.log"' EXIT
fail() { echo "container-check: $*" >&2; podman logs "$NAME" 2>&1 | tail -20 >&2; exit 1; }

# No systemd runs here to time the health check: the check below runs it by hand.
podman run -d --runtime=runc --name "$NAME" -p "127.0.0.1:$PORT:8000" -v "$VOLUME:/data" --health-interval=disable \
  --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=4096:4096 "$TAG" >/dev/null
url=http://127.0.0.1:$PORT
ready() { for _ in $(seq 1 60); do curl -fsS --max-time 2 "$url/readyz" >/dev/null 2>&1 && return 0; sleep 0.5; done; return 1; }
ready || fail "never ready"
[ "$(podman exec "$NAME" id -u)" = 10001 ] || fail "not running as uid 10001"

image=$(mktemp)
node -e "require('sharp')({create:{width:640,height:480,channels:3,background:'#336699'}}).jpeg().toFile('$image')"
answer=$(curl -fsS -F "file=@$image;type=image/jpeg" "$url/api/images") || fail "upload refused"
rm -f "$image"
id=$(node -e "console.log(JSON.parse(process.argv[1]).id)" "$answer")
[ "$(curl -fsS -o /dev/null -w '%{http_code} %{content_type}' "$url/imgs/$id/orig")" = "200 image/jpeg" ] || fail "original not served"
[ "$(curl -fsS -o /dev/null -w '%{http_code}' "$url/imgs/$id/thumb")" = 200 ] || fail "thumbnail not served"
[ "$(curl -fsS -o /dev/null -w '%{http_code}' "$url/")" = 200 ] || fail "page not served"
podman healthcheck run "$NAME" >/dev/null 2>&1 || fail "health check failed"

podman stop -t 20 "$NAME" >/dev/null
[ "$(podman inspect "$NAME" --format '{{.State.ExitCode}}')" = 0 ] || fail "did not exit 0 on SIGTERM"
grep -q '"msg":"stopped"' <<<"$(podman logs "$NAME" 2>&1)" || fail "no graceful stop in the log"
podman start "$NAME" >/dev/null
ready || fail "never ready after a restart"
[ "$(curl -fsS -o /dev/null -w '%{http_code}' "$url/imgs/$id/orig")" = 200 ] || fail "the upload was lost across a restart"
grep -q '1 images checked, 0 damaged' <<<"$(podman exec "$NAME" node bin/imghost.js verify 2>&1)" || fail "verify did not find the one image whole"
echo "container-check: ok (ready, upload, files, page, health check, uid 10001, SIGTERM exit 0, data kept across a restart, verify clean)"
