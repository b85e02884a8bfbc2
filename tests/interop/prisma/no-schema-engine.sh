#!/bin/sh
# Stands in for Prisma's native schema engine, which `prisma generate` never runs but
# would otherwise download: this project migrates with dbmate, not Prisma.
echo "schema engine: not available in the CodeFlow interop project" >&2
exit 1
