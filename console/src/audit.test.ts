import { describe, expect, it } from "vitest";
import { changeText } from "./audit";

describe("changeText", () => {
  it("shows from → to, a creation's new value, a deletion's old one", () => {
    expect(changeText({ field: "role", from: "agent", to: "admin", redacted: false })).toBe("role: agent → admin");
    expect(changeText({ field: "name", from: null, to: "Ops", redacted: false })).toBe("name: Ops");
    expect(changeText({ field: "name", from: "Ops", to: null, redacted: false })).toBe("name: Ops → —");
    expect(changeText({ field: "groups", from: ["a"], to: [], redacted: false })).toBe('groups: ["a"] → []');
  });
  it("never shows a redacted value", () => {
    expect(changeText({ field: "password", from: null, to: null, redacted: true })).toBe("password changed");
  });
});
