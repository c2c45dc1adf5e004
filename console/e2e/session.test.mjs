// The session: the access token is renewed with the refresh token before it expires (test.sh
// serves the console stack with DEV_OIDC_TOKEN_TTL_SECONDS=70, so renewal is due 10 s after
// sign-in), the console keeps working on the new token, and sign-out ends the session at the issuer.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launch, newPage, signIn, listRows } from "./lib.mjs";

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test("the token is renewed before it expires and sign-out ends the session at the issuer", async () => {
  const { page, requests } = await newPage(browser);
  const renewed = page.waitForRequest((r) => r.url().endsWith("/dev-oidc/token") && (r.postData() ?? "").includes("grant_type=refresh_token"), { timeout: 60_000 });
  await signIn(page, "alice");
  await listRows(page);
  const before = page.url();
  const renewal = await renewed;
  const answer = await renewal.response();
  assert.equal(answer?.status(), 200, "the refresh grant succeeded");
  assert.equal(page.url(), before, "renewed in place, no redirect");
  // The next API calls carry the new token: a new query still loads.
  await page.getByRole("button", { name: /^open( [0-9]+)?$/ }).click();
  await listRows(page);
  assert.ok(requests.every((u) => !/access_token=|refresh_token=|id_token=/.test(u)), "no token in any URL");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/dev-oidc\/authorize/); // back at the issuer's sign-in page
  assert.ok(requests.some((u) => u.includes("/dev-oidc/logout")), "RP-initiated logout at the issuer");
});
