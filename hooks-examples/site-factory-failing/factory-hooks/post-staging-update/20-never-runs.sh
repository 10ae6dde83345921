#!/usr/bin/env bash
# 10-hello-world.sh fails before this script (drush8 is not installed: exit 127), so Site
# Factory's rule applies: the remaining scripts are skipped and the task fails.
echo "this line never prints"
