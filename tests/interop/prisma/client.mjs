// The front end's setup: a Prisma 7 client generated from schema.prisma, on the pg driver
// adapter, wrapped by the real @auth/prisma-adapter. DATABASE_URL names the database.
import { PrismaAdapter } from "@auth/prisma-adapter";
import { PrismaPg } from "@prisma/adapter-pg";
import { createJiti } from "jiti";

// The prisma-client generator (Prisma 7's default) writes TypeScript; Node 20 cannot run
// it, a front end's bundler would compile it. jiti is what Prisma's own CLI loads
// prisma.config.ts with.
const { PrismaClient } = await createJiti(import.meta.url, {
  nativeModules: ["@prisma/client"],
}).import("./generated/client.ts");

export function connect(url = process.env.DATABASE_URL) {
  if (!url) throw new Error("DATABASE_URL is not set");
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) });
  return { prisma, adapter: PrismaAdapter(prisma) };
}
