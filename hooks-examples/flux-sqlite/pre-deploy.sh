#!/bin/bash
# pre-deploy.sh — apply the numbered SQL migrations in migrations/ to the app's SQLite
# database, once each. Runs after install, before build; a failure aborts the deploy and
# the previous release keeps serving.
set -euo pipefail

echo "=========================================="
echo "Running SQLite migrations"
echo "=========================================="

# The database lives in the deployment's shared folder, kept across releases (`hookbox run`
# in place has none: then the run's private HOME, gone after the run).
DATA_DIR="${HOOKBOX_SHARED_DIR:-$HOME}"
mkdir -p "$DATA_DIR"
DB="$DATA_DIR/app.db"
# The secret is in the log on purpose: hookbox redacts the password.
echo "Using DATABASE_URL=$DATABASE_URL"
echo "Database file: $DB"

# Idempotence: every applied migration is recorded, and recorded in the same transaction
# as its SQL, so a half-applied migration cannot be marked done.
sqlite3 -bail "$DB" "CREATE TABLE IF NOT EXISTS schema_migrations (
  version TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);"

applied=0
for file in migrations/*.sql; do
  version=${file##*/}
  version=${version%.sql}
  done_already=$(sqlite3 "$DB" "SELECT count(*) FROM schema_migrations WHERE version = '$version';")
  if [ "$done_already" != "0" ]; then
    echo "  = $version (already applied)"
    continue
  fi
  echo "  + $version"
  sqlite3 -bail "$DB" "BEGIN;" ".read $file" \
    "INSERT INTO schema_migrations (version) VALUES ('$version');" "COMMIT;"
  applied=$((applied + 1))
done

echo "Migrations completed successfully ($applied applied)"
