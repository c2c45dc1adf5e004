import { describe, expect, it } from "vitest";
import { renderActivity, type Activity, type Names } from "./activity";
import { EMAIL_CSP, emailSrcdoc } from "./emailFrame";

const names: Names = { user: (id) => ({ alice: "Alice Agent" })[id] ?? id, group: (id) => ({ support: "Support" })[id] ?? id };
const base = { id: "00000000000000000001-0123456789ab", ticket: 1001, at: "2026-12-01T10:00:00Z" };
const alice = { type: "user", id: "alice" } as const;

describe("activity rendering", () => {
  it("renders every kind the API returns for a person", () => {
    const all: Activity[] = [
      { ...base, actor: alice, kind: "ticket_created", source: "manual" },
      { ...base, actor: alice, kind: "fields_changed", changes: [{ field: "status", from: "open", to: "closed" }] },
      { ...base, actor: alice, kind: "note_added", note_id: base.id, excerpt: "called back" },
      { ...base, actor: alice, kind: "session_created", code: "s123-456-789", join_link: "https://join/s123", assignee: "alice" },
      { ...base, actor: { type: "customer" }, kind: "session_changed", code: "s123-456-789", from: "new", to: "pending" },
      { ...base, actor: alice, kind: "session_deleted", code: "s123-456-789" },
      { ...base, actor: { type: "system" }, kind: "email_sent", mail_id: "m", to: ["c@x.org"], subject: "Your session", message_id: "<m@x>", purpose: "session_link" },
      { ...base, actor: { type: "customer" }, kind: "email_received", message_id: "<r@x>", from: "c@x.org", subject: "Help", excerpt: "it broke", automation: null },
      { ...base, actor: { type: "system" }, kind: "rule_applied", rule_id: "r1", rule_name: "VIP", summary: "priority → urgent" },
      { ...base, actor: alice, kind: "reply_written", message_id: "<o@x>", to: ["c@x.org"], cc: ["d@x.org"], subject: "Re: Help", excerpt: "fixed" },
      { ...base, actor: { type: "system" }, kind: "delivery_failed", recipients: ["c@x.org"], original_message_id: "<o@x>", report_message_id: "<b@x>" },
      { ...base, actor: alice, kind: "merged_into", target: 1002 },
      { ...base, actor: alice, kind: "merged_from", source: 1003, tickets: [1003, 1000] },
      { ...base, actor: alice, kind: "forwarded", message_id: "m9", to: ["sup@v.example"], cc: [], subject: "Fwd: [#1001] Help", excerpt: "can you", forwarded: "m1" },
      { ...base, actor: { type: "system" }, kind: "email_received", message_id: "m10", from: "sup@v.example", subject: "Re", excerpt: "ships", automation: null, third_party: true },
    ];
    const out = all.map((e) => renderActivity(e, names));
    expect(out.map((r) => r.kind)).toEqual(all.map((e) => e.kind));
    for (const r of out) expect(r.title.length).toBeGreaterThan(5);
    expect(out[0]!.title).toBe("Alice Agent created the ticket (by hand)");
    expect(out[1]!.lines).toEqual(["status: open → closed"]);
    expect(out[3]!.link).toBe("https://join/s123");
    expect(out[4]!.title).toBe("Session s123-456-789: new → waiting for a partner");
    expect(out[7]!.messageId).toBe("<r@x>");
    expect(out[9]!.title).toBe("Alice Agent replied to c@x.org (cc d@x.org)");
    expect(out[10]!.title).toContain("c@x.org");
    expect(out[11]!.title).toBe("Alice Agent merged this ticket into #1002");
    expect(out[12]!.title).toBe("Alice Agent merged #1003 into this ticket");
    expect(out[12]!.lines).toEqual(["with #1000"]);
    expect(out[13]!.title).toBe("Alice Agent forwarded to sup@v.example");
    expect(out[13]!.messageId).toBe("m9");
    expect(out[14]!.title).toBe("Email from sup@v.example (third party): Re");
  });
  it("shows assignee changes with names, groups and (none)", () => {
    const r = renderActivity(
      { ...base, actor: alice, kind: "fields_changed", changes: [{ field: "assignee", from: null, to: { type: "group", id: "support" } }, { field: "tags", from: [], to: ["vip"] }] },
      names,
    );
    expect(r.lines).toEqual(["assignee: (none) → group Support", "tags: (none) → vip"]);
  });
});

describe("email frame", () => {
  it("puts a CSP that allows no remote fetch before the mail's HTML", () => {
    const doc = emailSrcdoc('<img src="https://evil.example/p.gif"><script>alert(1)</script>');
    expect(EMAIL_CSP).toContain("default-src 'none'");
    expect(EMAIL_CSP).toContain("img-src data: cid:");
    expect(doc.indexOf("Content-Security-Policy")).toBeLessThan(doc.indexOf("evil.example"));
  });
});

describe("inline images", () => {
  it("replaces known cid: references with data: URLs and leaves the rest", async () => {
    const { inlineCids } = await import("./emailFrame");
    const urls = new Map([["logo@x.org", "data:image/png;base64,AAAA"]]);
    expect(inlineCids(`<img src="cid:logo@x.org"><img src='cid:LOGO@x.org'><img src="cid:other@x">`, urls)).toBe(
      `<img src="data:image/png;base64,AAAA"><img src='data:image/png;base64,AAAA'><img src="cid:other@x">`,
    );
  });
});
