#!/usr/bin/env bash
# Last step: drop the staged site's page cache, which still holds production pages.
set -euo pipefail
rm -rf "$HOOKBOX_SHARED_DIR/page-cache-$3"
echo "page cache of $4 cleared"
