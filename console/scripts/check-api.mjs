// Fails when src/api/schema.d.ts is not what openapi-typescript generates from
// ../infra/openapi.yaml today (the contract is the one source of truth).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dir = mkdtempSync(join(tmpdir(), "desk-api-"));
const fresh = join(dir, "schema.d.ts");
try {
  execFileSync(join(root, "node_modules/.bin/openapi-typescript"), ["../infra/openapi.yaml", "-o", fresh], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const committed = readFileSync(join(root, "src/api/schema.d.ts"), "utf8");
  if (committed !== readFileSync(fresh, "utf8")) {
    console.error("check:api: console/src/api/schema.d.ts is stale; run `npm run gen:api` in console/ and commit it");
    process.exit(1);
  }
  console.log("check:api: console/src/api/schema.d.ts matches infra/openapi.yaml");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
