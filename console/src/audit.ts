// The audit trail's changes as text. Pure; unit-tested.
import type { Schemas } from "./api/client";

/** One change as a line: `field: from → to` (a creation shows only the new value); secrets only as changed. */
export function changeText(c: Schemas["AuditChange"]): string {
  if (c.redacted) return `${c.field} changed`;
  const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));
  if (c.from === null || c.from === undefined) return `${c.field}: ${show(c.to)}`;
  return `${c.field}: ${show(c.from)} → ${show(c.to)}`;
}
