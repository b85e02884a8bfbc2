#!/bin/sh
# Stands in for Prisma's native schema engine, which `prisma generate` never runs but
# would otherwise download: this project migrates with dbmate, not Prisma. Beware: with
# this stub, `prisma migrate diff` prints nothing and exits 0, as if there were no
# difference; tests/interop/test_prisma_adapter.py checks the schema itself instead.
echo "schema engine: not available in the CodeFlow interop project" >&2
exit 1
