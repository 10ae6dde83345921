#!/bin/bash
# The `web` process: says it is ready and stays up until the next deploy stops it.
set -euo pipefail
mkdir -p run
echo "web up (pid $$)" > run/ready
exec sleep infinity
