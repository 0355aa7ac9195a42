#!/bin/sh
# Run once by the postgres image, when its volume is empty (docker-entrypoint-initdb.d): one
# database per service, as in a cluster (each service owns its database; none reads another's).
set -eu
for database in content scheduling notifications coaching; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -c "CREATE DATABASE $database OWNER $POSTGRES_USER"
done
