// The console's performance budget (make bench-console):
//  1. JavaScript of the first view, gzipped: every script index.html loads (module + preloads).
//  2. Loads of /app/tickets to the first list rows painted, in Debian's Chromium, LOADS times:
//     "signed in" is from the sign-in callback's navigation (the browser is back from the issuer
//     with a code, as with a live session at the issuer) to the first rows painted: config,
//     discovery, token exchange, /me, directory and the first page included. "cold" adds the
//     round trip through the local issuer's sign-in page (an automated click).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { launch, newPage, DESK } from "../e2e/lib.mjs";

const dist = join(dirname(fileURLToPath(import.meta.url)), "../dist");
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+)"/g)].map((m) => m[1]);
let gz = 0;
for (const s of scripts) gz += gzipSync(readFileSync(join(dist, s)), { level: 9 }).length;
console.log(`first-view JavaScript: ${scripts.length} file(s), ${(gz / 1024).toFixed(1)} KB gzipped (budget 100 KB)`);

const loads = Number(process.argv[2] ?? 20);
const browser = await launch();
const warm = [];
const cold = [];
try {
  for (let i = 0; i <= loads; i++) {
    const { context, page } = await newPage(browser);
    const scriptsSeen = [];
    if (i === 0) page.on("requestfinished", (r) => r.resourceType() === "script" && scriptsSeen.push(r));
    await page.addInitScript(() => {
      new MutationObserver((_, obs) => {
        if (document.querySelector("table.tickets tbody tr")) {
          obs.disconnect();
          requestAnimationFrame(() => {
            window.__rowsPainted = { since: performance.now(), wall: Date.now(), path: location.pathname };
          });
        }
      }).observe(document, { childList: true, subtree: true });
    });
    const start = Date.now();
    await page.goto(`${DESK}/app/tickets`);
    await page.waitForURL(/\/dev-oidc\/authorize/);
    await page.locator('button[name="user"][value="alice"]').click();
    await page.waitForFunction(() => window.__rowsPainted, null, { timeout: 10_000 });
    const t = await page.evaluate(() => window.__rowsPainted);
    if (i === 0) {
      // The bundle loads on the first page and again after the callback (then from cache): count each file once.
      const sizes = new Map();
      for (const r of scriptsSeen) sizes.set(r.url(), Math.max(sizes.get(r.url()) ?? 0, (await r.sizes()).responseBodySize));
      const wire = [...sizes.values()].reduce((a, b) => a + b, 0);
      const enc = scriptsSeen.length ? (await (await scriptsSeen[0].response())?.headerValue("content-encoding")) ?? "identity" : "-";
      console.log(`first-view JavaScript as the desk sent it: ${sizes.size} file(s), ${(wire / 1024).toFixed(1)} KB on the wire (${enc})`);
    }
    if (i > 0) {
      // the first load warms the server's caches and Chromium; not counted
      warm.push(t.since);
      cold.push(t.wall - start);
    }
    await context.close();
  }
} finally {
  await browser.close();
}
const p = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
console.log(`signed in, callback → first rows painted: p50 ${p(warm, 0.5).toFixed(0)} ms, p90 ${p(warm, 0.9).toFixed(0)} ms over ${warm.length} loads (budget p50 500 ms)`);
console.log(`cold, open URL → issuer → first rows painted: p50 ${p(cold, 0.5).toFixed(0)} ms, p90 ${p(cold, 0.9).toFixed(0)} ms`);
if (gz > 100 * 1024 || p(warm, 0.5) > 500) process.exitCode = 1;
