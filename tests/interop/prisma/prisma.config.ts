// Prisma 7 reads its settings from here. Only `prisma generate` runs in this project
// (the schema is db/migrations', not Prisma's), so no datasource URL is configured: the
// tests hand one to the driver adapter at run time.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "schema.prisma",
});
