#!/bin/bash
# Apply db/schema.sql (idempotent: CREATE TABLE IF NOT EXISTS) and record this release.
set -euo pipefail
DATA_DIR="${HOOKBOX_SHARED_DIR:-$HOME}"
mkdir -p "$DATA_DIR"
DB="$DATA_DIR/app.db"
echo "Applying db/schema.sql to $DB"
sqlite3 -bail "$DB" ".read db/schema.sql"
sqlite3 -bail "$DB" "INSERT INTO deployments (release) VALUES ('${CONTAINER_VERSION:-local}');"
echo "deployments so far: $(sqlite3 "$DB" 'SELECT count(*) FROM deployments;')"
