#!/bin/sh
# make demo: starts the PPMessage test server with a demo team and a scripted
# visitor, then Finch with a throw-away profile whose PPMessage agent account
# is already set up. Nothing of the user's own ~/.purple is read or written.
set -eu
BUILD=${BUILD:-build}
PORT=${DEMO_PORT:-18945}
DATA=${DEMO_DATA:-tests/data/demo-team.json}
EMAIL=${DEMO_EMAIL:-agent@ppmessage.local}
PASSWORD=${DEMO_PASSWORD:-agentpass}
URL="http://127.0.0.1:$PORT"

profile=$(mktemp -d "${TMPDIR:-/tmp}/ppmessage-demo.XXXXXX")
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$profile"
}
trap cleanup EXIT INT TERM

"$BUILD/ppmessage-test-server" --port "$PORT" --data "$DATA" --demo-visitor \
  >"$profile/server.log" 2>&1 &
server_pid=$!
# Wait until the server answers (at most 10 s), without sleeping blindly on success.
tries=0
until curl -s -o /dev/null "$URL/ppkefu/" 2>/dev/null || [ $tries -ge 50 ]; do
  tries=$((tries + 1)); sleep 0.2
done

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
