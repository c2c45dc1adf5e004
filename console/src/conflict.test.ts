import { describe, expect, it } from "vitest";
import { myChanges, overlaps, theirChanges } from "./conflict";
import type { Schemas } from "./api/client";

const base: Schemas["Ticket"] = {
  number: 1001, name: "Printer", description: "broken", status: "open", priority: "medium", assignee: null, tags: ["hw"],
  customer: { name: "C", email: "c@x.org", phone: "" }, source: "manual", created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-01T00:00:00Z", closed_at: null, version: 3, merged_into: null, merged: [], participants: [],
};

describe("version conflict", () => {
  it("lists what the other person changed", () => {
    const current = { ...base, status: "waiting" as const, tags: ["hw", "vip"], version: 4 };
    expect(theirChanges(base, current)).toEqual([
      { field: "status", from: "open", to: "waiting" },
      { field: "tags", from: ["hw"], to: ["hw", "vip"] },
    ]);
  });
  it("names the fields both changed", () => {
    const current = { ...base, status: "waiting" as const, version: 4 };
    expect(overlaps(base, current, { status: "closed" })).toEqual(["status"]);
    expect(overlaps(base, current, { priority: "high" })).toEqual([]);
    expect(myChanges({ priority: "high" })).toEqual([{ field: "priority", from: undefined, to: "high" }]);
  });
});
