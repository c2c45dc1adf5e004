// Small shared pieces: the error notice, status/priority badges, the directory context.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import { ApiError, type Schemas } from "./api/client";

export type Directory = {
  me: Schemas["Me"];
  users: Schemas["User"][];
  groups: Schemas["Group"][];
  userName(id: string): string;
  groupName(id: string): string;
  isAdmin: boolean;
};

export const DirectoryContext = createContext<Directory | null>(null);
export function useDirectory(): Directory {
  const d = useContext(DirectoryContext);
  if (!d) throw new Error("no directory");
  return d;
}

export function assigneeLabel(a: Schemas["Assignee"] | null, dir: Directory): string {
  if (!a) return "Unassigned";
  return a.type === "group" ? `${dir.groupName(a.id)} (group)` : dir.userName(a.id);
}

/** An error for a person: 403/404 say what, 5xx/network offer a retry; never a blank page. */
export function ErrorNotice({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  const message = e ? e.message : error instanceof Error ? error.message : String(error);
  return (
    <div class={`notice ${e?.retryable ? "notice-retry" : "notice-error"}`} role="alert">
      <span>{message}</span>
      {e?.retryable && onRetry && (
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Badge({ kind, value }: { kind: "status" | "priority"; value: string }) {
  return <span class={`badge ${kind}-${value}`}>{value}</span>;
}

/** <option>s for a fixed list (statuses, priorities), after an optional empty choice. */
export function Options({ values, empty }: { values: readonly string[]; empty?: string }) {
  return (
    <>
      {empty !== undefined && <option value="">{empty}</option>}
      {values.map((v) => (
        <option key={v}>{v}</option>
      ))}
    </>
  );
}

/** <option>s for assignees: every user as `user:<id>`, and (unless `usersOnly`) every group as `group:<id>`. */
export function PeopleOptions({ usersOnly = false, activeOnly = false }: { usersOnly?: boolean; activeOnly?: boolean }) {
  const dir = useDirectory();
  return (
    <>
      {dir.users
        .filter((u) => !activeOnly || u.active)
        .map((u) => (
          <option key={u.id} value={`user:${u.id}`}>
            {u.name}
          </option>
        ))}
      {!usersOnly &&
        dir.groups.map((g) => (
          <option key={g.id} value={`group:${g.id}`}>
            group {g.name}
          </option>
        ))}
    </>
  );
}
