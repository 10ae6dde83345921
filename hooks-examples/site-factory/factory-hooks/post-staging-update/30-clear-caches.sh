#!/usr/bin/env bash
# Last step: drop the staged site's page cache, which still holds production pages.
set -euo pipefail
DATA_DIR="${HOOKBOX_SHARED_DIR:-$HOME}"
rm -rf "$DATA_DIR/page-cache-$3"
echo "page cache of $4 cleared"
