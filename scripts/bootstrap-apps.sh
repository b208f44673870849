#!/usr/bin/env bash
# Bootstraps the apps cluster: every phase in order through Nx (see README "The phases").
# Extra arguments go to Nx, e.g. --verbose.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bash scripts/with-workspace.sh nx run apps:bootstrap "$@"
