#!/usr/bin/env bash
# This script has no executable flag on purpose: Site Factory does not run it, and
# hookbox reports it as skipped (see `hookbox plan` / `hookbox validate`).
echo "this line never prints"
exit 1
