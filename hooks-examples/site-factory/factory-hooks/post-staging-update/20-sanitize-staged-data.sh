#!/usr/bin/env bash
# After production data was copied to staging: point the site at its staging domain and
# scrub customer e-mail addresses, in the site's SQLite database (one per database role,
# in the shared folder).
set -euo pipefail
DB_ROLE="$3"
DOMAIN="$4"
# `hookbox deploy` gives HOOKBOX_SHARED_DIR; `hookbox run` in place has none: then the
# run's private HOME (gone after the run).
DATA_DIR="${HOOKBOX_SHARED_DIR:-$HOME}"
mkdir -p "$DATA_DIR"
DB="$DATA_DIR/$DB_ROLE.db"

sqlite3 -bail "$DB" "
  CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
  INSERT OR IGNORE INTO customers (id, email) VALUES (1, 'ada@example.org'), (2, 'alan@example.org');
  INSERT INTO settings (name, value) VALUES ('base_url', 'https://$DOMAIN')
    ON CONFLICT (name) DO UPDATE SET value = excluded.value;
  UPDATE customers SET email = 'customer' || id || '@staging.invalid';
"
echo "staged data sanitized: base_url=$(sqlite3 "$DB" "SELECT value FROM settings WHERE name = 'base_url';"), $(sqlite3 "$DB" 'SELECT count(*) FROM customers;') customers scrubbed"
