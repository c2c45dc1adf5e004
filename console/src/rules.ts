// Rule ordering and the PUT body of an unchanged rule. Pure; unit-tested.
import type { Schemas } from "./api/client";

type Rule = Schemas["Rule"];
export type ConditionDraft = {
  field: Schemas["ConditionField"];
  header_name: string;
  operator: Schemas["ConditionOperator"];
  value: string;
  case_sensitive: boolean;
};

/** The body that PUTs `rule` back as it is (the API needs the full rule and its version). */
export function ruleUpdate(r: Rule): Schemas["RuleUpdate"] {
  return {
    version: r.version,
    name: r.name,
    description: r.description || null,
    enabled: r.enabled,
    match_mode: r.match_mode,
    conditions: r.conditions.map((c) => ({
      field: c.field,
      operator: c.operator,
      value: c.value,
      case_sensitive: c.case_sensitive,
      ...(c.header_name ? { header_name: c.header_name } : {}),
    })),
    actions: {
      status: r.actions.status,
      priority: r.actions.priority,
      assignee: r.actions.assignee,
      add_tags: r.actions.add_tags,
      notify: r.actions.notify,
      acknowledge: r.actions.acknowledge ?? null,
    },
  };
}

/**
 * Moves rule `id` to index `to` among the ordinary (non-default) rules and returns the rules whose
 * position must change, with their new positions (10, 20, 30, … so ties disappear).
 */
export function reorder(rules: Rule[], id: string, to: number): [Rule, number][] {
  const ordinary = rules.filter((r) => !r.is_default).sort((a, b) => a.position - b.position || a.id.localeCompare(b.id));
  const from = ordinary.findIndex((r) => r.id === id);
  if (from < 0) return [];
  const [moved] = ordinary.splice(from, 1);
  ordinary.splice(Math.max(0, Math.min(to, ordinary.length)), 0, moved!);
  return ordinary.map((r, i) => [r, (i + 1) * 10] as [Rule, number]).filter(([r, p]) => r.position !== p);
}
