#!/bin/bash
# pre-deploy.sh
set -e

echo "=========================================="
echo "Running Django Migrations"
echo "=========================================="

# Run database migrations
python manage.py migrate --noinput

# Collect static files
python manage.py collectstatic --noinput

echo "Django setup completed"
