#!/usr/bin/env bash
# Installs the Debian packages `npm run bench` measures imghost against: nginx (the static-file
# ceiling for serving), wrk (a load generator in C, fast enough not to be the bottleneck),
# python3-pil (a Pillow thread-pool pipeline like the original application's), python3-tornado
# (the original application's whole upload path) and libjpeg-turbo-progs (`djpeg`, the JPEG
# decoder's floor for a thumbnail). The benchmark runs without them, printing
# "reference": "unavailable".
# Needs root; skips what is there.
set -euo pipefail
need=()
[ -x /usr/sbin/nginx ] || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v djpeg >/dev/null || need+=(libjpeg-turbo-progs)
# Debian's python3, not whatever python3 comes first on PATH: python3-pil and -tornado install for it.
/usr/bin/python3 -c "import PIL, tornado" >/dev/null 2>&1 || need+=(python3 python3-pil python3-tornado)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing benchmark dependencies: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
