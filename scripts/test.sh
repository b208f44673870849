#!/usr/bin/env bash
# npm test: install what is needed, typecheck, the import-layering check, unit tests, end-to-end tests against the
# sandbox, then the sandbox lifecycle test, which takes the sandbox down and checks nothing remains.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/ensure-workspace.sh
export PATH="$repo/node_modules/.bin:$repo/.tools/bin:$PATH"
export NX_DAEMON=false

# Whatever happens, leave no sandbox process behind.
trap 'node scripts/sandbox.ts down >/dev/null 2>&1 || true' EXIT

tsc -p tsconfig.json
# No import cycles; the engine (tasks/) never imports from scripts/ or test/.
depcruise tasks scripts test --config .dependency-cruiser.cjs
vitest run --project unit
vitest run --project e2e
vitest run --project lifecycle
