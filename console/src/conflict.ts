// A version conflict, for a person: what the other person changed between the ticket this agent
// edited and the current one, and what this agent wanted. Pure; unit-tested.
import type { Schemas } from "./api/client";

type Ticket = Schemas["Ticket"];
export type Patch = Omit<Schemas["TicketPatch"], "version">;
export type FieldDiff = { field: string; from: unknown; to: unknown };

const FIELDS = ["name", "description", "status", "priority", "assignee", "tags", "customer"] as const;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function theirChanges(base: Ticket, current: Ticket): FieldDiff[] {
  return FIELDS.filter((f) => !same(base[f], current[f])).map((f) => ({ field: f, from: base[f], to: current[f] }));
}

/** The fields of my patch and the values I wanted. */
export function myChanges(patch: Patch): FieldDiff[] {
  return Object.entries(patch)
    .filter(([, v]) => v !== undefined)
    .map(([field, to]) => ({ field, from: undefined, to }));
}

/** Fields both of us changed: re-applying mine overwrites theirs there, so the agent is told. */
export function overlaps(base: Ticket, current: Ticket, patch: Patch): string[] {
  const theirs = new Set(theirChanges(base, current).map((d) => d.field));
  return Object.keys(patch).filter((f) => theirs.has(f) || (f === "add_tags" || f === "remove_tags" ? theirs.has("tags") : false));
}
