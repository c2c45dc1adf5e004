// The list's filters, search and sort, held in the URL (/app/tickets?status=open&sort=updated):
// reload, back and a shared link show the same list. Pure functions; unit-tested.
import type { Schemas } from "./api/client";

export type Status = Schemas["Status"];
export type Priority = Schemas["Priority"];
export const STATUSES: Status[] = ["open", "processing", "waiting", "closed"];
export const PRIORITIES: Priority[] = ["low", "medium", "high", "urgent"];
export const SORTS = ["created", "updated", "priority", "status", "name", "customer", "assignee"] as const;
export type Sort = (typeof SORTS)[number];
export type Order = "asc" | "desc";

export type ListQuery = {
  status: Status[];
  priority: Priority[];
  assignee: string | null; // me | unassigned | user:<id> | group:<id>
  tags: string[];
  customer: string | null;
  q: string | null;
  sort: Sort;
  order: Order;
};

export const DEFAULT_QUERY: ListQuery = {
  status: [],
  priority: [],
  assignee: null,
  tags: [],
  customer: null,
  q: null,
  sort: "updated",
  order: "desc",
};

const isStatus = (s: string): s is Status => (STATUSES as string[]).includes(s);
const isPriority = (s: string): s is Priority => (PRIORITIES as string[]).includes(s);
const isSort = (s: string): s is Sort => (SORTS as readonly string[]).includes(s);
const ASSIGNEE = /^(me|unassigned|user:[^\s]+|group:[^\s]+)$/;

function list(p: URLSearchParams, key: string): string[] {
  return p
    .getAll(key)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim().toLowerCase())
    .filter((v, i, all) => v !== "" && all.indexOf(v) === i);
}

/** Reads a list query from a location's search string; unknown or bad values fall back to defaults. */
export function parseQuery(search: string): ListQuery {
  const p = new URLSearchParams(search);
  const sort = p.get("sort") ?? "";
  const order = p.get("order");
  const assignee = p.get("assignee")?.trim() ?? "";
  const text = (k: string) => p.get(k)?.trim() || null;
  const s = isSort(sort) ? sort : DEFAULT_QUERY.sort;
  return {
    status: list(p, "status").filter(isStatus),
    priority: list(p, "priority").filter(isPriority),
    assignee: ASSIGNEE.test(assignee) ? assignee : null,
    tags: list(p, "tag"),
    customer: text("customer"),
    q: text("q"),
    sort: s,
    order: order === "asc" || order === "desc" ? order : defaultOrder(s),
  };
}

/** Newest and most urgent first; text columns A→Z. */
export function defaultOrder(sort: Sort): Order {
  return sort === "updated" || sort === "created" || sort === "priority" ? "desc" : "asc";
}

/** The search string for a query (with "?"), defaults left out, in a stable order. */
export function formatQuery(q: ListQuery): string {
  const p = new URLSearchParams();
  if (q.status.length) p.set("status", q.status.join(","));
  if (q.priority.length) p.set("priority", q.priority.join(","));
  if (q.assignee) p.set("assignee", q.assignee);
  for (const t of q.tags) p.append("tag", t);
  if (q.customer) p.set("customer", q.customer);
  if (q.q) p.set("q", q.q);
  if (q.sort !== DEFAULT_QUERY.sort || q.order !== defaultOrder(q.sort)) {
    p.set("sort", q.sort);
    if (q.order !== defaultOrder(q.sort)) p.set("order", q.order);
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** Clicking a column header: the same column flips its order, another column starts at its default. */
export function toggleSort(q: ListQuery, sort: Sort): ListQuery {
  if (q.sort === sort) return { ...q, order: q.order === "asc" ? "desc" : "asc" };
  return { ...q, sort, order: defaultOrder(sort) };
}

export function toggleIn<T>(values: T[], v: T): T[] {
  return values.includes(v) ? values.filter((x) => x !== v) : [...values, v];
}

/** The query parameters of GET /tickets for a list query and page. */
export function apiQuery(q: ListQuery, cursor: string | null, limit = 50) {
  return {
    ...(q.status.length ? { status: q.status } : {}),
    ...(q.priority.length ? { priority: q.priority } : {}),
    ...(q.assignee ? { assignee: q.assignee } : {}),
    ...(q.tags.length ? { tags: q.tags.join(",") } : {}),
    ...(q.customer ? { customer: q.customer } : {}),
    ...(q.q ? { q: q.q } : {}),
    sort: q.sort,
    order: q.order,
    limit,
    ...(cursor ? { cursor } : {}),
  };
}
