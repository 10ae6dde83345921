#!/bin/bash
# Health check: the app said it is ready, and the database answers.
set -euo pipefail
for _ in $(seq 1 50); do
  [ -f run/ready ] && break
  sleep 0.1
done
test -f run/ready
sqlite3 "${HOOKBOX_SHARED_DIR:-$HOME}/app.db" "SELECT count(*) FROM items;" >/dev/null
echo "healthy: $(cat run/ready)"
