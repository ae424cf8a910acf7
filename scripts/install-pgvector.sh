#!/usr/bin/env bash
# pgvector for the local PostgreSQL 15: builds Debian's own source package (not packaged for
# this release) and creates the extension in the given databases. Idempotent: does nothing when
# the extension is already available. The mirror is read from this machine's apt sources.
# Usage: scripts/install-pgvector.sh [database ...]   (default: test)
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PGHOST=${PGHOST:-127.0.0.1}
PGUSER=${PGUSER:-postgres}
dbs=("$@")
((${#dbs[@]})) || dbs=(test)

if [[ ! -f "$("$PG_CONFIG" --sharedir 2>/dev/null)/extension/vector.control" ]]; then
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  mkdir -p "$W/lists/partial"
  URI=$(awk '$1 == "URIs:" && $2 ~ /\/debian\/?$/ {print $2; exit}' \
    /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  if [[ -z "$URI" ]]; then
    URI=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  [[ -n "$URI" ]] || { echo "expected a Debian mirror in the apt sources, got none" >&2; exit 1; }
  # the source package of the next Debian release builds against this release's PostgreSQL 15
  SUITE=${PGVECTOR_SUITE:-trixie}
  echo "deb-src $URI $SUITE main" >"$W/src.list"
  O=(-o "Dir::Etc::SourceList=$W/src.list" -o Dir::Etc::SourceParts=/nonexistent
     -o "Dir::State::Lists=$W/lists")
  apt-get "${O[@]}" update -qq
  (cd "$W" && apt-get "${O[@]}" source --download-only -qq pgvector)
  tar -xzf "$W"/pgvector_*.orig.tar.gz -C "$W"
  dpkg -s postgresql-server-dev-15 >/dev/null 2>&1 ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-server-dev-15
  src=$(find "$W" -maxdepth 1 -type d -name 'pgvector-*' | head -n1)
  make -s -C "$src" PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
  make -s -C "$src" install PG_CONFIG="$PG_CONFIG"
fi

for db in "${dbs[@]}"; do
  if pg_isready -q -h "$PGHOST" 2>/dev/null; then
    psql -q -h "$PGHOST" -U "$PGUSER" -d "$db" -c 'CREATE EXTENSION IF NOT EXISTS vector'
  else
    echo "PostgreSQL at $PGHOST is not running: the extension is built, CREATE EXTENSION skipped" >&2
  fi
done
