// One batch of adapter calls from Python (tests/interop/test_prisma_adapter.py): stdin is
// a JSON list of [method, ...arguments] with instants as {"$date": ISO 8601}; stdout is
// the JSON list of what each call returned (Dates as ISO 8601 in UTC, milliseconds).
// DATABASE_URL names the database.
import { text } from "node:stream/consumers";

import { connect } from "./client.mjs";

const revive = (_key, value) =>
  value !== null && typeof value === "object" && "$date" in value ? new Date(value.$date) : value;
const calls = JSON.parse(await text(process.stdin), revive);

const { prisma, adapter } = connect();
try {
  const results = [];
  for (const [method, ...args] of calls) results.push(await adapter[method](...args));
  process.stdout.write(JSON.stringify(results));
} finally {
  await prisma.$disconnect();
}
