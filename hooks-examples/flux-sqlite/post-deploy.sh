#!/bin/bash
# post-deploy.sh — warm the app's cache: write the counts the home page shows into
# cache/counts.json of the new release. Runs after the health check and the switch; a
# failure is logged as a WARNING and the deployment still succeeds.
set -euo pipefail

echo "Warming up application caches..."
DB="${HOOKBOX_SHARED_DIR:-$HOME}/app.db"
CACHE="${WORK_DIR:-$PWD}/cache/counts.json"

counts=$(sqlite3 -json "$DB" "SELECT
  (SELECT count(*) FROM items) AS items,
  (SELECT count(*) FROM categories) AS categories,
  (SELECT max(version) FROM schema_migrations) AS schema_version;")
printf '%s\n' "$counts" > "$CACHE"

echo "Cache written to cache/counts.json: $counts"
echo "Cache warming completed"
