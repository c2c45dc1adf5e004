import { describe, expect, it } from "vitest";
import { DEFAULT_QUERY, apiQuery, formatQuery, parseQuery, toggleSort } from "./urlstate";

describe("list query in the URL", () => {
  it("round-trips filters, search and sort", () => {
    const q = { ...DEFAULT_QUERY, status: ["open", "waiting"] as const, priority: ["urgent"] as const, assignee: "group:support", tags: ["vip", "eu"], customer: "c@x.org", q: "printer", sort: "priority" as const, order: "asc" as const };
    const s = formatQuery({ ...q, status: [...q.status], priority: [...q.priority] });
    expect(s).toBe("?status=open%2Cwaiting&priority=urgent&assignee=group%3Asupport&tag=vip&tag=eu&customer=c%40x.org&q=printer&sort=priority&order=asc");
    expect(parseQuery(s)).toEqual({ ...q, status: ["open", "waiting"], priority: ["urgent"] });
  });
  it("leaves defaults out of the URL", () => {
    expect(formatQuery(DEFAULT_QUERY)).toBe("");
    expect(formatQuery({ ...DEFAULT_QUERY, sort: "name", order: "asc" })).toBe("?sort=name");
  });
  it("drops bad values instead of failing", () => {
    const q = parseQuery("?status=open,bogus,OPEN&priority=x&sort=nope&order=up&assignee=some%20one");
    expect(q.status).toEqual(["open"]);
    expect(q.priority).toEqual([]);
    expect(q.sort).toBe("updated");
    expect(q.order).toBe("desc");
    expect(q.assignee).toBeNull();
  });
  it("flips the order on the same column, starts another at its default", () => {
    const byName = toggleSort(DEFAULT_QUERY, "name");
    expect([byName.sort, byName.order]).toEqual(["name", "asc"]);
    expect(toggleSort(byName, "name").order).toBe("desc");
    expect(toggleSort(byName, "priority").order).toBe("desc");
  });
  it("builds the GET /tickets parameters with the cursor", () => {
    expect(apiQuery({ ...DEFAULT_QUERY, tags: ["a", "b"], q: "x" }, "CUR", 25)).toEqual({ tags: "a,b", q: "x", sort: "updated", order: "desc", limit: 25, cursor: "CUR" });
  });
});
