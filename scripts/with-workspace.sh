#!/usr/bin/env bash
# Runs a command with the workspace installed and its Node 24 and built tools first on PATH,
# whatever Node started npm.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$repo/scripts/ensure-workspace.sh"
export PATH="$repo/node_modules/.bin:$repo/.tools/bin:$PATH"
exec "$@"
