#!/bin/bash
# Health check: the app answered 200 with the migrated items.
for _ in $(seq 1 100); do
  if [ -s run/ready ]; then
    cat run/ready
    grep -q '^200 .*hammer' run/ready && exit 0
    exit 1
  fi
  sleep 0.1
done
echo "the app never answered"
exit 1
