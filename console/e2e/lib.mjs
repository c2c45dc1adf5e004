// Shared by the browser tests: Debian's Chromium through playwright-core (no browser download),
// the desk-served console, sign-in at the desk's OIDC issuer, axe-core, screenshots.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
/** The desk that serves the API and the console (infra/scripts/console-test.sh sets it). */
export const DESK = process.env.DESK_URL ?? "http://127.0.0.1:3100";
export const MOTO = process.env.DESK_TEST_MOTO ?? "http://127.0.0.1:5105";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
// Without the networking flags Chromium keeps dialling out (and is refused here).
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** A fresh context + page that records every request and every page error. */
export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const requests = [];
  const errors = [];
  page.on("request", (r) => requests.push(r.url()));
  page.on("pageerror", (e) => errors.push(e));
  return { context, page, requests, errors };
}

/** Opens `path` and signs in as `user` at the desk's development issuer (the same OIDC flow as the cloud). */
export async function signIn(page, user, path = "/app/tickets") {
  await page.goto(DESK + path);
  await page.waitForURL(/\/dev-oidc\/authorize/);
  await page.locator(`button[name="user"][value="${user}"]`).click();
  await page.waitForURL((u) => u.pathname.startsWith("/app/") && !u.pathname.startsWith("/app/auth/"));
  await page.locator("header.top .who").waitFor();
}

/** A bearer token for setting up data through the API (test.sh exports DEV_JWT_SECRET). */
export function token(user) {
  return execFileSync(join(ROOT, "target/debug/desk-local"), ["token", user], { encoding: "utf8" }).trim().split("\n").pop();
}

export async function apiCall(user, method, path, body, headers = {}) {
  const r = await fetch(DESK + path, {
    method,
    headers: { authorization: `Bearer ${token(user)}`, "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

/** Delivers an .eml to the served stack exactly as SES would (`desk-local mail`). */
export function deliverMail(file) {
  execFileSync(join(ROOT, "target/debug/desk-local"), ["mail", file], { stdio: ["ignore", "ignore", "inherit"] });
}

export async function waitFor(what, check, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** axe-core on the current view: no serious or critical violation. */
export async function assertAccessible(page, view) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`),
    [],
    `axe on ${view}`,
  );
}

export async function screenshot(page, name) {
  const dir = join(ROOT, "docs/screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

/** Requests that left the machine (anything not on 127.0.0.1, data:, blob: or about:). */
export function external(requests) {
  return requests.filter((u) => !/^(https?:\/\/127\.0\.0\.1(:\d+)?\/|data:|blob:|about:)/.test(u));
}

/** The ticket list after its current query has loaded. */
export async function listRows(page) {
  await page.locator('table.tickets[aria-busy="false"]').waitFor();
  return page.locator("table.tickets tbody tr").evaluateAll((rows) => rows.map((r) => r.dataset.number));
}
