#!/bin/bash
# The install step of `hookbox deploy`: a virtual environment with Django, made from
# Debian's /usr/bin/python3 (hooks run as an unprivileged user, who cannot read /root's
# pyenv) and kept OUTSIDE the releases, in the shared folder, so it is built once. The
# release gets a `.venv` link to it; the policy PATH starts with `.venv/bin`, so the seed's
# `python manage.py …` finds the venv's python.
set -euo pipefail
VENV="$HOOKBOX_SHARED_DIR/venv"
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV"
  /usr/bin/python3 -m venv "$VENV"
fi
ln -sfn "$VENV" .venv
# From here `python` is the venv's: the policy PATH starts with .venv/bin (and in the
# sandbox, `python` is the command the policy allows, not a path in the shared folder).
python -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "Django $(python -c 'import django; print(django.get_version())') in $VENV"
