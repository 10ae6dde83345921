#!/bin/bash
# The build step: stamp the release with what it was built from.
set -euo pipefail
mkdir -p build
echo "built ${CONTAINER_VERSION:-local} at $(date -u '+%Y-%m-%dT%H:%M:%SZ')" > build/info.txt
cat build/info.txt
