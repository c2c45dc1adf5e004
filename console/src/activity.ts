// Every activity kind the API returns, rendered for a person. Pure; unit-tested.
import type { Schemas } from "./api/client";

export type Activity = Schemas["ActivityEntry"];
type Actor = Schemas["Actor"];

/** Display names for user and group ids (the directory); an unknown id shows as itself. */
export type Names = { user(id: string): string; group(id: string): string };

export type Rendered = {
  kind: Activity["kind"];
  /** one line: who did what */
  title: string;
  /** further lines: from → to, excerpts, recipients */
  lines: string[];
  /** a link to show (and copy): the session's join link */
  link?: string;
  /** the mail this entry is about, to show with its body */
  messageId?: string;
};

export function actorName(a: Actor, names: Names): string {
  if (a.type === "user") return names.user(a.id);
  return a.type === "customer" ? "The customer" : "The desk";
}

const CASE_STATUS: Record<string, string> = {
  new: "new",
  pending: "waiting for a partner",
  in_progress: "in progress",
  closed: "closed",
  expired: "expired",
};

/** A field value from a change (JSON) as a person reads it. */
export function formatValue(field: string, v: unknown, names: Names): string {
  if (v === null || v === undefined || v === "") return "(none)";
  if (field === "assignee" && typeof v === "object" && v && "type" in v && "id" in v) {
    const a = v as { type: string; id: string };
    return a.type === "group" ? `group ${names.group(a.id)}` : names.user(a.id);
  }
  if (Array.isArray(v)) return v.length ? v.map(String).join(", ") : "(none)";
  if (typeof v === "object") {
    const c = v as Record<string, unknown>;
    if (field === "customer") {
      return [c.name, c.email, c.phone].filter((x) => typeof x === "string" && x).join(" · ") || "(none)";
    }
    return JSON.stringify(v);
  }
  return String(v);
}

export function renderActivity(e: Activity, names: Names): Rendered {
  const who = actorName(e.actor, names);
  switch (e.kind) {
    case "ticket_created":
      return { kind: e.kind, title: `${who} created the ticket (${e.source === "manual" ? "by hand" : `from ${e.source}`})`, lines: [] };
    case "fields_changed":
      return {
        kind: e.kind,
        title: `${who} changed ${e.changes.map((c) => c.field).join(", ")}`,
        lines: e.changes.map((c) => `${c.field}: ${formatValue(c.field, c.from, names)} → ${formatValue(c.field, c.to, names)}`),
      };
    case "note_added":
      return { kind: e.kind, title: `${who} added a note`, lines: [e.excerpt] };
    case "session_created":
      return {
        kind: e.kind,
        title: `${who} created session ${e.code}${e.assignee ? ` for ${names.user(e.assignee)}` : ""}`,
        lines: [],
        link: e.join_link,
      };
    case "session_changed":
      return { kind: e.kind, title: `Session ${e.code}: ${CASE_STATUS[e.from] ?? e.from} → ${CASE_STATUS[e.to] ?? e.to}`, lines: [`by ${who.toLowerCase() === "the desk" ? "the desk" : who}`] };
    case "session_deleted":
      return { kind: e.kind, title: `${who} deleted session ${e.code}`, lines: [] };
    case "email_sent":
      return { kind: e.kind, title: `Email sent to ${e.to.join(", ")}: ${e.subject}`, lines: [`${e.purpose.replace(/_/g, " ")}`] };
    case "email_received":
      return {
        kind: e.kind,
        title: `Email from ${e.from}${e.third_party ? " (third party)" : ""}: ${e.subject}`,
        lines: [e.excerpt, ...(e.automation ? [`automated (${e.automation})`] : [])],
        messageId: e.message_id,
      };
    case "rule_applied":
      return { kind: e.kind, title: `Rule “${e.rule_name}” applied`, lines: [e.summary] };
    case "reply_written":
      return {
        kind: e.kind,
        title: `${who} replied to ${e.to.join(", ")}${e.cc.length ? ` (cc ${e.cc.join(", ")})` : ""}`,
        lines: [e.excerpt],
        messageId: e.message_id,
      };
    case "forwarded":
      return {
        kind: e.kind,
        title: `${who} forwarded to ${e.to.join(", ")}${e.cc.length ? ` (cc ${e.cc.join(", ")})` : ""}`,
        lines: [e.excerpt],
        messageId: e.message_id,
      };
    case "delivery_failed":
      return { kind: e.kind, title: `Delivery failed to ${e.recipients.join(", ") || "a recipient"}`, lines: ["the mail bounced; check the address"] };
    case "merged_into":
      return { kind: e.kind, title: `${who} merged this ticket into #${e.target}`, lines: ["its conversation continues there"] };
    case "merged_from":
      return {
        kind: e.kind,
        title: `${who} merged #${e.source} into this ticket`,
        lines: [e.tickets.length > 1 ? `with ${e.tickets.filter((n) => n !== e.source).map((n) => `#${n}`).join(", ")}` : "its messages, notes and activity are shown here"],
      };
  }
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
