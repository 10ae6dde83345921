#!/bin/bash
# Apply db/schema.sql (idempotent: CREATE TABLE IF NOT EXISTS) and record this release.
set -euo pipefail
DB="$HOOKBOX_SHARED_DIR/app.db"
echo "Applying db/schema.sql to $DB"
sqlite3 -bail "$DB" ".read db/schema.sql"
sqlite3 -bail "$DB" "INSERT INTO deployments (release) VALUES ('${CONTAINER_VERSION:-local}');"
echo "deployments so far: $(sqlite3 "$DB" 'SELECT count(*) FROM deployments;')"
