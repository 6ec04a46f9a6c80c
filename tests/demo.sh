#!/bin/sh
# make demo: starts the PPMessage test server with a demo team and a scripted
# visitor, then Finch with a throw-away profile whose PPMessage agent account
# is already set up. Nothing of the user's own ~/.purple is read or written.
#
# The server takes a free port unless DEMO_PORT names one; when that port is
# taken the demo stops and says so, instead of signing Finch in to whatever
# answers there. Everything it started goes when Finch quits, on Ctrl-C, and
# when its terminal is closed (SIGHUP).
set -eu
BUILD=${BUILD:-build}
PORT=${DEMO_PORT:-0}
DATA=${DEMO_DATA:-tests/data/demo-team.json}
EMAIL=${DEMO_EMAIL:-agent@ppmessage.local}
PASSWORD=${DEMO_PASSWORD:-agentpass}

profile=$(mktemp -d "${TMPDIR:-/tmp}/ppmessage-demo.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$profile"
}
trap cleanup EXIT
# A signal ends the script through exit, so that the EXIT trap cleans up.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The server prints its URL once it listens, and the demo visitor's greeting
# once the team is ready.
"$BUILD/ppmessage-test-server" --port "$PORT" --data "$DATA" --demo-visitor \
  >"$profile/server.url" 2>"$profile/server.log" &
server_pid=$!
tries=0
until grep -q "greeted the team" "$profile/server.log" 2>/dev/null; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    server_pid=""
    echo "make demo: the PPMessage test server did not start:" >&2
    sed 's/^/  /' "$profile/server.log" >&2
    if grep -q "cannot listen" "$profile/server.log"; then
      echo "Port $PORT is taken (another server, or an earlier demo still running?)." >&2
      echo "Leave DEMO_PORT unset for a free port, or choose another one." >&2
    fi
    exit 1
  fi
  if [ $tries -ge 100 ]; then
    echo "make demo: the PPMessage test server did not get ready within 10 s" \
      "(log: $profile/server.log)." >&2
    exit 1
  fi
  tries=$((tries + 1)); sleep 0.1
done
URL=$(head -n 1 "$profile/server.url")

mkdir -p "$profile/plugins"
cp "$BUILD/libppmessage.so" "$profile/plugins/"
cat >"$profile/accounts.xml" <<XML
<?xml version='1.0' encoding='UTF-8' ?>
<account version='1.0'>
  <account>
    <protocol>prpl-ppmessage</protocol>
    <name>$EMAIL</name>
    <password>$PASSWORD</password>
    <settings>
      <setting name='server' type='string'>$URL</setting>
      <setting name='role' type='string'>agent</setting>
    </settings>
    <settings ui='gnt-purple'>
      <setting name='auto-login' type='bool'>1</setting>
    </settings>
  </account>
</account>
XML
echo "PPMessage demo: test server at $URL (log: $profile/server.log)."
echo "Finch starts signed in as $EMAIL; a visitor greets you. Quit Finch with Alt-Q."
finch -c "$profile"
