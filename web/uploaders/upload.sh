# The upload itself, after the lines that name the server (upload_url) and the token (token),
# which src/uploaders/shell.ts writes above it for each server.
# The answer is imghost's compact JSON, where a " inside a string is always escaped: so
# "url":" matches only the url field itself, and its value (a URL) has no quote to stop at.
# The token goes to curl through a descriptor, so other users never see it in the process list.
set -eu

fail() { printf 'imghost: %s\n' "$*" >&2; exit 1; }

if [ "$token" = YOUR_UPLOAD_TOKEN ]; then
  fail 'this server takes uploads with a token only: set IMGHOST_TOKEN, or write it into this script'
fi
command -v curl >/dev/null 2>&1 || fail 'this script needs curl (apt install curl)'

if [ $# -gt 0 ] && [ "$1" != - ]; then
  { [ -f "$1" ] && [ -r "$1" ]; } || fail "cannot read $1"
  # Letters, digits, dots and dashes only: curl's -F gives ; , and " meanings of their own.
  name=$(printf '%s' "${1##*/}" | tr -c 'A-Za-z0-9._-' '_')
  exec <"$1"
else
  name=screenshot
fi

upload() {
  if [ -n "$token" ]; then
    curl "$@" -H @/dev/fd/3 3<<HEADER
Authorization: Bearer $token
HEADER
  else
    curl "$@"
  fi
}

answer=$(upload -sS -w '\n%{http_code}' -F "file=@-;filename=$name" "$upload_url") || fail "could not reach $upload_url"
status=$(printf '%s\n' "$answer" | tail -n 1)
json=$(printf '%s\n' "$answer" | sed '$d')
field() { printf '%s\n' "$json" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

if [ "$status" != 201 ]; then
  message=$(printf '%s\n' "$json" | sed -nE 's/.*"message":"(([^"\\]|\\.)*)".*/\1/p' | sed 's/\\"/"/g')
  fail "${message:-the server answered $status} (HTTP $status)"
fi
url=$(field url)
[ -n "$url" ] || fail "the server's answer has no link: $json"
printf '%s\n' "$url"
delete_url=$(field delete_url)
[ -z "$delete_url" ] || printf 'imghost: to delete it, open %s\n' "$delete_url" >&2

if [ -n "${WAYLAND_DISPLAY:-}" ] && command -v wl-copy >/dev/null 2>&1; then
  printf '%s' "$url" | wl-copy >/dev/null 2>&1 || true
elif [ -n "${DISPLAY:-}" ] && command -v xclip >/dev/null 2>&1; then
  printf '%s' "$url" | xclip -selection clipboard >/dev/null 2>&1 || true
fi
