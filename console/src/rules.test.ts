import { describe, expect, it } from "vitest";
import { reorder, ruleUpdate } from "./rules";
import type { Schemas } from "./api/client";

const rule = (id: string, position: number, is_default = false): Schemas["Rule"] => ({
  id, name: id, description: "", enabled: true, position, match_mode: "all", is_default, version: 1,
  conditions: [{ field: "subject", operator: "contains", value: "x", case_sensitive: false }],
  actions: { status: null, priority: "high", assignee: null, add_tags: [], notify: false, acknowledge: null },
  created_at: "2026-12-01T00:00:00Z", updated_at: "2026-12-01T00:00:00Z",
});

describe("rule order", () => {
  it("moves a rule first and renumbers only what changes", () => {
    const rules = [rule("a", 10), rule("b", 20), rule("c", 30), rule("default", 4294967295, true)];
    expect(reorder(rules, "c", 0).map(([r, p]) => [r.id, p])).toEqual([["c", 10], ["a", 20], ["b", 30]]);
    expect(reorder(rules, "a", 1).map(([r, p]) => [r.id, p])).toEqual([["b", 10], ["a", 20]]);
  });
  it("breaks ties of equal positions", () => {
    const rules = [rule("a", 0), rule("b", 0)];
    expect(reorder(rules, "b", 0).map(([r, p]) => [r.id, p])).toEqual([["b", 10], ["a", 20]]);
  });
  it("never moves the default rule", () => {
    expect(reorder([rule("d", 4294967295, true)], "d", 0)).toEqual([]);
  });
  it("PUTs a rule back unchanged", () => {
    const u = ruleUpdate(rule("a", 10));
    expect(u).toMatchObject({ version: 1, name: "a", description: null, match_mode: "all", actions: { priority: "high", notify: false } });
    expect(u.conditions?.[0]).toEqual({ field: "subject", operator: "contains", value: "x", case_sensitive: false });
  });
});
