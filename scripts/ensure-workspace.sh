#!/usr/bin/env bash
# Installs everything the workspace needs, and is fast when it is already there:
#   1. Debian's docker-registry (the sandbox's chart registry),
#   2. the npm packages, including Node 24 (the `node` devDependency),
#   3. @kubernetes/client-node bundled into one file, for the phases' start-up (scripts/bundle-kube-client.ts),
#   4. the pinned tools built from the Go module proxy (scripts/build-tools.sh, cached by version).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if ! command -v docker-registry >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-workspace: the sandbox needs Debian's docker-registry: sudo apt-get install docker-registry" >&2
    exit 1
  fi
  echo "ensure-workspace: installing docker-registry (Debian) ..." >&2
  apt-get update -qq >&2
  # The package's own service is not used (it listens on every interface with htpasswd).
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >&2
fi

# npm ci when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-workspace: npm ci ..." >&2
  npm ci --no-audit --no-fund >&2
fi

node_modules/.bin/node scripts/bundle-kube-client.ts

bash scripts/build-tools.sh
