#!/bin/bash
# Health check: wait up to 5 s for the web process to say it is ready.
for _ in $(seq 1 50); do
  [ -f run/ready ] && { echo "healthy: $(cat run/ready)"; exit 0; }
  sleep 0.1
done
echo "web process never became ready"
exit 1
