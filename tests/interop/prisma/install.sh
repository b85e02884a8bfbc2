#!/usr/bin/env bash
# Makes this project runnable: its pinned modules (`npm ci`, only when node_modules is
# missing or was installed from another package-lock.json) and the generated Prisma
# client, offline. Used by tests/interop/test_prisma_adapter.py and `make interop-deps`.
# Exit 3: no usable Node.js/npm here; exit 4: `npm ci` failed (e.g. no npm registry).
set -uo pipefail
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "node and npm are not on PATH"
    exit 3
fi
# Prisma 7's engines field: ^20.19 || ^22.12 || >=24.
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number);
              const ok = major === 20 ? minor >= 19 : major === 22 ? minor >= 12 : major >= 24;
              process.exit(ok ? 0 : 1)'; then
    echo "Node.js $(node --version) is too old for Prisma 7 (needs ^20.19, ^22.12 or >= 24)"
    exit 3
fi

lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.package-lock.sha256 2>/dev/null)" != "$lock" ]; then
    # No install script is needed (the client is generated below); @prisma/engines' own
    # would try to download a native schema engine.
    npm ci --ignore-scripts --no-audit --no-fund || exit 4
    echo "$lock" > node_modules/.package-lock.sha256
fi

# Offline: the stub stands in for the native schema engine `generate` never runs (else
# Prisma downloads it), and CHECKPOINT_DISABLE stops Prisma's version check call.
export PRISMA_SCHEMA_ENGINE_BINARY="$PWD/no-schema-engine.sh" CHECKPOINT_DISABLE=1
node_modules/.bin/prisma generate
