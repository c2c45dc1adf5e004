// The Service Queue: cases with status and assignee filters, refreshed every 3 s while visible.
// A waiting customer is shown first and announced in the page (and as a browser notification
// when the agent allowed them).
import { useRef, useState } from "preact/hooks";
import { api, call, type Schemas } from "../api/client";
import { formatTime } from "../activity";
import { usePoll } from "../hooks";
import { linkClick, navigate, useLocation } from "../router";
import { ErrorNotice, useDirectory, PeopleOptions } from "../ui";
import { toggleIn } from "../urlstate";
import { allPages } from "../paging";

type Case = Schemas["ServiceCase"];
const CASE_STATUSES: Case["status"][] = ["new", "pending", "in_progress", "closed", "expired"];
const LIVE: Case["status"][] = ["new", "pending", "in_progress"];

export const isWaiting = (c: Case) => c.customer_connected && !c.expert_connected && (c.status === "new" || c.status === "pending");

export function Queue() {
  const { search } = useLocation();
  const p = new URLSearchParams(search);
  const statuses = (p.get("status")?.split(",").filter((s): s is Case["status"] => (CASE_STATUSES as string[]).includes(s)) ?? LIVE);
  const assignee = p.get("assignee") ?? "";
  const dir = useDirectory();
  const [cases, setCases] = useState<Case[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const [connected, setConnected] = useState<Schemas["ConnectInfo"] | null>(null);
  const announced = useRef(new Set<string>());
  const [notify, setNotify] = useState(typeof Notification !== "undefined" ? Notification.permission : "denied");

  const go = (st: string[], as: string) => {
    const q = new URLSearchParams();
    if (st.join(",") !== LIVE.join(",")) q.set("status", st.join(","));
    if (as) q.set("assignee", as);
    const s = q.toString();
    navigate(`/app/queue${s ? `?${s}` : ""}`);
  };
  const refresh = async () => {
    try {
      const out = await allPages((cursor) =>
        call(api.GET("/service-cases", { params: { query: { ...(statuses.length ? { status: statuses } : {}), ...(assignee ? { assignee } : {}), limit: 100, ...(cursor ? { cursor } : {}) } } })),
      );
      for (const c of out.filter(isWaiting)) {
        if (announced.current.has(c.code)) continue;
        announced.current.add(c.code);
        if (notify === "granted") new Notification("Customer waiting", { body: `${c.customer_name || c.customer_email || "A customer"} is waiting in session ${c.code}` });
      }
      setCases(out);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  usePoll(refresh, 3_000, [search]);

  const act = async (what: () => Promise<string>) => {
    try {
      const message = await what();
      await refresh(); // the message shows once the list reflects it
      setMessage(message);
    } catch (e) {
      setError(e);
    }
  };
  const waiting = cases?.filter(isWaiting) ?? [];
  const sorted = cases ? [...waiting, ...cases.filter((c) => !isWaiting(c))] : [];
  return (
    <section class="queue" aria-label="Service Queue">
      <div class="toolbar">
        <h1>Service Queue</h1>
        {notify === "default" && (
          <button type="button" onClick={() => void Notification.requestPermission().then(setNotify)}>
            Notify me of waiting customers
          </button>
        )}
      </div>
      <div aria-live="assertive" role="status" class="waiting-banner-wrap">
        {waiting.length > 0 && (
          <p class="waiting-banner">
            {waiting.length === 1 ? "A customer is waiting" : `${waiting.length} customers are waiting`}: {waiting.map((c) => `${c.customer_name || c.customer_email || c.code} (${c.code})`).join(", ")}
          </p>
        )}
      </div>
      <div class="filters">
        <div class="quick" role="group" aria-label="Case status">
          {CASE_STATUSES.map((s) => (
            <button key={s} type="button" aria-pressed={statuses.includes(s)} onClick={() => go(toggleIn(statuses, s), assignee)}>
              {s.replace("_", " ")}
            </button>
          ))}
        </div>
        <label>
          Assignee{" "}
          <select value={assignee} onChange={(e) => go(statuses, e.currentTarget.value)}>
            <option value="">anyone</option>
            <option value="me">me</option>
            <option value="unassigned">unassigned</option>
            <PeopleOptions usersOnly />
          </select>
        </label>
        {checked.size > 0 && (
          <button
            type="button"
            class="danger"
            onClick={() =>
              window.confirm(`Delete ${checked.size} session(s)? This cannot be undone.`) &&
              void act(async () => {
                const r = await call(api.DELETE("/service-cases", { body: { codes: [...checked] } }));
                setChecked(new Set());
                return `Deleted ${r.deleted.length}.${r.not_deleted.length ? ` Not deleted: ${r.not_deleted.map((x) => `${x.code} (${x.reason})`).join(", ")}` : ""}`;
              })
            }
          >
            Delete selected ({checked.size})
          </button>
        )}
      </div>
      <ErrorNotice error={error} onRetry={refresh} />
      {message && (
        <p role="status" class="ok">
          {message}
        </p>
      )}
      {connected && (
        <p class="ok">
          Connected to {connected.code}: <a href={connected.connect_link} target="_blank" rel="noopener noreferrer">open the remote session</a>
        </p>
      )}
      {cases === null && !error && <p>Loading the queue…</p>}
      {cases && cases.length === 0 && <p class="empty">No sessions.</p>}
      {cases && cases.length > 0 && (
        <table class="cases">
          <thead>
            <tr>
              <th scope="col">
                <span class="sr-only">Select</span>
              </th>
              <th scope="col">Session</th>
              <th scope="col">Customer</th>
              <th scope="col">Status</th>
              <th scope="col">Assignee</th>
              <th scope="col">Ticket</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((c) => (
              <tr key={c.code} data-code={c.code} class={isWaiting(c) ? "waiting" : ""}>
                <td>
                  <input type="checkbox" aria-label={`Select session ${c.code}`} checked={checked.has(c.code)} onChange={() => setChecked((s) => new Set(toggleIn([...s], c.code)))} />
                </td>
                <td>{c.code}</td>
                <td>
                  {c.customer_name || c.customer_email || "—"}
                  {isWaiting(c) && <strong class="waiting-tag"> waiting since {formatTime(c.customer_waiting_since ?? c.updated_at)}</strong>}
                </td>
                <td class="case-status">{c.status.replace("_", " ")}</td>
                <td>{c.assignee ? dir.userName(c.assignee) : "Unassigned"}</td>
                <td>
                  {c.ticket ? (
                    <a href={`/app/tickets/${c.ticket}`} onClick={linkClick}>
                      #{c.ticket}
                    </a>
                  ) : (
                    "—"
                  )}
                </td>
                <td>{formatTime(c.created_at)}</td>
                <td class="actions">
                  {LIVE.includes(c.status) && (
                    <>
                      <button
                        type="button"
                        onClick={() =>
                          void act(async () => {
                            const r = await call(api.POST("/service-cases/{code}/connect", { params: { path: { code: c.code } } }));
                            setConnected(r.connect);
                            return `Connected to ${c.code}.`;
                          })
                        }
                      >
                        Connect
                      </button>
                      <button type="button" onClick={() => void act(async () => (await call(api.POST("/service-cases/{code}/close", { params: { path: { code: c.code } } })), `Closed ${c.code}.`))}>
                        Close
                      </button>
                    </>
                  )}
                  <button
                    type="button"
                    class="danger"
                    onClick={() => window.confirm(`Delete session ${c.code}?`) && void act(async () => (await call(api.DELETE("/service-cases/{code}", { params: { path: { code: c.code } } })), `Deleted ${c.code}.`))}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
