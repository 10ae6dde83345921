#!/bin/bash
# The app: Django's WSGI application answering one request through Django's test client
# (no socket: the examples run without a network), then staying up until the next deploy.
set -euo pipefail
mkdir -p run
.venv/bin/python - <<'PY' > run/ready
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
import django
django.setup()
from django.test import Client
r = Client().get("/", HTTP_HOST="localhost")
print(r.status_code, r.content.decode())
PY
exec sleep infinity
