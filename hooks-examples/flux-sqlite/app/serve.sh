#!/bin/bash
# The "app": reads the catalog once, writes run/ready (with its pid) and stays up until the
# next deploy stops it. No socket: the examples must run without a network.
set -euo pipefail
mkdir -p run
items=$(sqlite3 "${HOOKBOX_SHARED_DIR:-$HOME}/app.db" "SELECT count(*) FROM items;")
echo "serving $items items (pid $$)" > run/ready
exec sleep infinity
