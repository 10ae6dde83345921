#!/usr/bin/env bash
# The seed's example, minus its drush8 call (see ../../site-factory-failing for that one):
# Site Factory passes sitegroup, environment, database role and domain as $1..$4.
SITEGROUP="$1"
ENVIRONMENT="$2"
DB_ROLE="$3"
DOMAIN="$4"

echo "sitegroup: $SITEGROUP"
echo "env: $ENVIRONMENT"
echo "db role: $DB_ROLE"
echo "domain: $DOMAIN"
