import type { Schemas } from "../api/client";
import { PeopleOptions } from "../ui";

/** "user:alice" / "group:support" / "none" → the API's assignee input (null = unassign). */
export function assigneeInput(v: string): Schemas["AssigneeInput"] | null {
  const [type, id] = v.split(/:(.*)/s);
  return (type === "user" || type === "group") && id ? { type, id } : null;
}

export function assigneeValue(a: Schemas["Assignee"] | null): string {
  return a ? `${a.type}:${a.id}` : "none";
}

export function AssigneeSelect(props: { label: string; value: string; onChange: (v: string) => void; keepOption?: boolean; id?: string }) {
  return (
    <label>
      {props.label}{" "}
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.keepOption && <option value="">keep</option>}
        <option value="none">Unassigned</option>
        <PeopleOptions activeOnly />
      </select>
    </label>
  );
}
