"""Settings of the flux-django example: SQLite in the deployment's shared folder, so the
database outlives releases; static files collected into the release."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

# hookbox gives every hook HOOKBOX_SHARED_DIR (DIR/.hookbox/shared), kept across releases.
SHARED_DIR = Path(os.environ.get("HOOKBOX_SHARED_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-example-key-for-local-runs-only")
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "catalog",
]

MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SHARED_DIR / "db.sqlite3",
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
