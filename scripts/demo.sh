#!/usr/bin/env bash
# npm run demo: from a fresh clone, install, build or reuse the tools, start the sandbox and
# bootstrap every cluster with Nx, then print a per-phase summary.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/ensure-workspace.sh
export PATH="$repo/node_modules/.bin:$repo/.tools/bin:$PATH"
exec node scripts/demo.ts "$@"
