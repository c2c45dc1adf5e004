// The list view: filters, search and sort in the URL, cursor paging, the overview side panel,
// create a ticket, bulk status / priority / assignee.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, call, type Schemas } from "../api/client";
import { navigate, useLocation } from "../router";
import { usePoll } from "../hooks";
import { assigneeLabel, Badge, ErrorNotice, useDirectory, Options, PeopleOptions } from "../ui";
import { PRIORITIES, STATUSES, apiQuery, formatQuery, parseQuery, toggleIn, toggleSort, type ListQuery, type Sort } from "../urlstate";
import { useKeys } from "./Shortcuts";
import { firstNonEmpty } from "../paging";
import { CreateTicket } from "./CreateTicket";
import { AssigneeSelect, assigneeInput } from "./AssigneeSelect";

type Ticket = Schemas["Ticket"];

/** One page of the list (past empty filtered pages; see paging.ts). */
export function fetchPage(q: ListQuery, cursor: string | null, limit = 50): Promise<{ items: Ticket[]; next: string | null }> {
  return firstNonEmpty((c) => call(api.GET("/tickets", { params: { query: apiQuery(q, c, limit) } })), cursor);
}

/** Shared by the list and the expert view's inbox: the tickets of the URL's query, live. */
export function useTicketList(q: ListQuery, search: string) {
  const [items, setItems] = useState<Ticket[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [changed, setChanged] = useState<Set<number>>(new Set());
  const currentSearch = useRef(search);
  currentSearch.current = search;
  const loaded = useRef(0);
  const shownFor = useRef<string | null>(null);
  const [loadedFor, setLoadedFor] = useState<string | null>(null);
  const refresh = async (reset = false) => {
    const fresh = reset || shownFor.current !== search;
    try {
      // A refresh reloads what is shown (up to 100 rows) so scroll and selection stay.
      const r = await fetchPage(q, null, fresh ? 50 : Math.min(100, Math.max(50, loaded.current)));
      if (search !== currentSearch.current) return; // a newer query took over
      setItems((old) => {
        if (old && !fresh) {
          const before = new Map(old.map((t) => [t.number, t.version]));
          setChanged(new Set(r.items.filter((t) => before.get(t.number) !== t.version).map((t) => t.number)));
        } else setChanged(new Set());
        return r.items;
      });
      shownFor.current = search;
      setLoadedFor(search);
      loaded.current = r.items.length;
      setNext(r.next);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  usePoll(() => refresh(items === null), 10_000, [search]);
  const more = async () => {
    if (!next) return;
    try {
      const r = await fetchPage(q, next);
      setItems((old) => [...(old ?? []), ...r.items]);
      loaded.current += r.items.length;
      setNext(r.next);
    } catch (e) {
      setError(e);
    }
  };
  // While another query loads, the old rows stay (no flicker) and the table says it is busy.
  return { items, next, error, changed, more, reload: () => refresh(true), busy: loadedFor !== search };
}

const COLUMNS: [Sort | null, string][] = [
  ["name", "Name"],
  ["customer", "Customer"],
  ["status", "Status"],
  ["assignee", "Assignee"],
  ["priority", "Priority"],
  [null, "Tags"],
  [null, "Description"],
];

type Counts = Schemas["TicketCounts"];

/** The quick filters' counts of what the caller may see, live (the desk keeps them from its stream). */
function useCounts(): Counts | null {
  const [counts, setCounts] = useState<Counts | null>(null);
  usePoll(async () => setCounts(await call(api.GET("/tickets/counts"))), 15_000, []);
  return counts;
}

function Count({ n }: { n: number | undefined }) {
  return n === undefined ? null : <span class="count">{n}</span>;
}

export function Filters({ q, go, compact = false }: { q: ListQuery; go: (q: ListQuery) => void; compact?: boolean }) {
  const counts = useCounts();
  const [text, setText] = useState(q.q ?? "");
  useEffect(() => setText(q.q ?? ""), [q.q]);
  return (
    <div class="filters">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          go({ ...q, q: text.trim() || null });
        }}
      >
        <label class="sr-only" for="search">
          Search tickets
        </label>
        <input id="search" type="search" placeholder="Search tickets  ( / )" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <button type="submit">Search</button>
      </form>
      <div class="quick" role="group" aria-label="Status">
        {STATUSES.map((s) => (
          <button key={s} type="button" aria-pressed={q.status.includes(s)} onClick={() => go({ ...q, status: toggleIn(q.status, s) })}>
            {s} <Count n={counts?.status[s]} />
          </button>
        ))}
      </div>
      <div class="quick" role="group" aria-label="Priority">
        {PRIORITIES.map((p) => (
          <button key={p} type="button" aria-pressed={q.priority.includes(p)} onClick={() => go({ ...q, priority: toggleIn(q.priority, p) })}>
            {p} <Count n={counts?.priority[p]} />
          </button>
        ))}
      </div>
      {!compact && <MoreFilters q={q} go={go} />}
    </div>
  );
}

function MoreFilters({ q, go }: { q: ListQuery; go: (q: ListQuery) => void }) {
  return (
    <div class="more-filters">
      <label>
        Assignee{" "}
        <select value={q.assignee ?? ""} onChange={(e) => go({ ...q, assignee: e.currentTarget.value || null })}>
          <option value="">anyone</option>
          <option value="me">me</option>
          <option value="unassigned">unassigned</option>
          <PeopleOptions />
        </select>
      </label>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const tag = String(f.get("tag") ?? "").trim().toLowerCase();
          const customer = String(f.get("customer") ?? "").trim();
          go({ ...q, tags: tag ? [...new Set([...q.tags, tag])] : q.tags, customer: customer || null });
        }}
      >
        <label>
          Tag <input name="tag" size={10} />
        </label>
        <label>
          Customer <input name="customer" type="email" size={18} defaultValue={q.customer ?? ""} />
        </label>
        <button type="submit">Filter</button>
      </form>
      {q.tags.map((t) => (
        <button key={t} type="button" class="chip" aria-label={`Remove tag filter ${t}`} onClick={() => go({ ...q, tags: q.tags.filter((x) => x !== t) })}>
          #{t} ×
        </button>
      ))}
    </div>
  );
}

export function TicketList() {
  const { search } = useLocation();
  const q = parseQuery(search);
  const go = (nq: ListQuery) => navigate(`/app/tickets${formatQuery(nq)}`);
  const dir = useDirectory();
  const { items, next, error, changed, more, reload, busy } = useTicketList(q, search);
  const [selected, setSelected] = useState<number | null>(null);
  const [checked, setChecked] = useState<Set<number>>(new Set());
  const [creating, setCreating] = useState(false);
  const open = (n: number) => navigate(`/app/tickets/${n}${formatQuery(q)}`);
  const idx = items?.findIndex((t) => t.number === selected) ?? -1;
  useKeys({
    j: () => items?.length && setSelected(items[Math.min(items.length - 1, idx + 1)]!.number),
    k: () => items?.length && setSelected(items[Math.max(0, idx - 1)]!.number),
    o: () => selected && open(selected),
    Escape: () => setSelected(null),
  });
  useEffect(() => {
    document.querySelector(`tr[data-number="${selected}"]`)?.scrollIntoView({ block: "nearest" });
  }, [selected]);
  const current = items?.find((t) => t.number === selected) ?? null;
  return (
    <div class={`list-view ${current ? "with-panel" : ""}`}>
      <section class="list-main" aria-label="Tickets">
        <div class="toolbar">
          <h1>Tickets</h1>
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New ticket
          </button>
        </div>
        <Filters q={q} go={go} />
        {checked.size > 0 && items && <BulkBar tickets={items.filter((t) => checked.has(t.number))} done={() => (setChecked(new Set()), void reload())} />}
        <ErrorNotice error={error} onRetry={reload} />
        {items === null ? (
          !error && <p>Loading tickets…</p>
        ) : (
          <table class="tickets" aria-busy={busy}>
            <thead>
              <tr>
                <th scope="col">
                  <input
                    type="checkbox"
                    aria-label="Select all shown tickets"
                    checked={items.length > 0 && checked.size === items.length}
                    onChange={(e) => setChecked(e.currentTarget.checked ? new Set(items.map((t) => t.number)) : new Set())}
                  />
                </th>
                <th scope="col">#</th>
                {COLUMNS.map(([sort, label]) => (
                  <th key={label} scope="col" aria-sort={sort && q.sort === sort ? (q.order === "asc" ? "ascending" : "descending") : undefined}>
                    {sort ? (
                      <button type="button" class="sort" onClick={() => go(toggleSort(q, sort))}>
                        {label}
                        {q.sort === sort ? (q.order === "asc" ? " ▲" : " ▼") : ""}
                      </button>
                    ) : (
                      label
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr
                  key={t.number}
                  data-number={t.number}
                  class={`${t.number === selected ? "selected" : ""} ${changed.has(t.number) ? "changed" : ""}`}
                  aria-selected={t.number === selected}
                  onClick={() => setSelected(t.number)}
                  onDblClick={() => open(t.number)}
                >
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ticket ${t.number}`}
                      checked={checked.has(t.number)}
                      onClick={(e) => e.stopPropagation()}
                      onChange={() => setChecked((c) => new Set(toggleIn([...c], t.number)))}
                    />
                  </td>
                  <td>{t.number}</td>
                  <td>
                    <button type="button" class="link row-name" onClick={() => setSelected(t.number)}>
                      {t.name}
                    </button>
                  </td>
                  <td>{t.customer.name || t.customer.email}</td>
                  <td>
                    <Badge kind="status" value={t.status} />
                  </td>
                  <td>{assigneeLabel(t.assignee, dir)}</td>
                  <td>
                    <Badge kind="priority" value={t.priority} />
                  </td>
                  <td>{t.tags.join(", ")}</td>
                  <td class="desc">{t.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {items && !busy && items.length === 0 && !next && <p class="empty">No tickets match.</p>}
        {next && (
          <button type="button" class="more" onClick={() => void more()}>
            Load more tickets
          </button>
        )}
      </section>
      {current && <Overview ticket={current} onOpen={() => open(current.number)} onClose={() => setSelected(null)} />}
      {creating && <CreateTicket onClose={() => setCreating(false)} onCreated={(n) => navigate(`/app/tickets/${n}`)} />}
    </div>
  );
}

function Overview({ ticket: t, onOpen, onClose }: { ticket: Ticket; onOpen: () => void; onClose: () => void }) {
  const dir = useDirectory();
  return (
    <aside class="side-panel" aria-label="Ticket overview">
      <div class="toolbar">
        <h2>
          #{t.number} {t.name}
        </h2>
        <button type="button" class="link" aria-label="Close overview" onClick={onClose}>
          ×
        </button>
      </div>
      <dl>
        <dt>Status</dt>
        <dd>
          <Badge kind="status" value={t.status} />
        </dd>
        <dt>Priority</dt>
        <dd>
          <Badge kind="priority" value={t.priority} />
        </dd>
        <dt>Assignee</dt>
        <dd>{assigneeLabel(t.assignee, dir)}</dd>
        <dt>Customer</dt>
        <dd>
          {t.customer.name} {t.customer.email} {t.customer.phone}
        </dd>
        <dt>Tags</dt>
        <dd>{t.tags.join(", ") || "—"}</dd>
        <dt>Source</dt>
        <dd>{t.source}</dd>
        <dt>Updated</dt>
        <dd>{new Date(t.updated_at).toLocaleString()}</dd>
      </dl>
      <p class="desc-full">{t.description}</p>
      <button type="button" class="primary" onClick={onOpen}>
        Go to ticket
      </button>
    </aside>
  );
}

function BulkBar({ tickets, done }: { tickets: Ticket[]; done: () => void }) {
  const [status, setStatus] = useState("");
  const [priority, setPriority] = useState("");
  const [assignee, setAssignee] = useState("");
  const [report, setReport] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const apply = async () => {
    setBusy(true);
    const failed: string[] = [];
    for (const t of tickets) {
      try {
        await call(
          api.PATCH("/tickets/{id}", {
            params: { path: { id: t.number } },
            body: {
              version: t.version,
              ...(status ? { status: status as Ticket["status"] } : {}),
              ...(priority ? { priority: priority as Ticket["priority"] } : {}),
              ...(assignee ? { assignee: assigneeInput(assignee) } : {}),
            },
          }),
        );
      } catch (e) {
        failed.push(`#${t.number}: ${e instanceof ApiError && e.kind === "conflict" ? "changed by someone else meanwhile; reload and retry" : e instanceof Error ? e.message : e}`);
      }
    }
    setBusy(false);
    setReport(failed.length ? `Not changed: ${failed.join("; ")}` : null);
    done();
  };
  return (
    <div class="bulk" role="region" aria-label="Change selected tickets">
      <span>{tickets.length} selected:</span>
      <label>
        Status{" "}
        <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
          <Options values={STATUSES} empty="keep" />
        </select>
      </label>
      <label>
        Priority{" "}
        <select value={priority} onChange={(e) => setPriority(e.currentTarget.value)}>
          <Options values={PRIORITIES} empty="keep" />
        </select>
      </label>
      <AssigneeSelect label="Assignee" value={assignee} onChange={setAssignee} keepOption />
      <button type="button" class="primary" disabled={busy || (!status && !priority && !assignee)} onClick={() => void apply()}>
        Apply
      </button>
      {report && <span role="alert">{report}</span>}
    </div>
  );
}
