//! Rules: update and distribute the tickets that incoming email creates (SPEC §4).
//!
//! A [`Rule`] has conditions on the email and [`Actions`] for the ticket. Rules run
//! in `position` order (ties by id); the first enabled rule whose conditions match
//! applies, and the one default rule applies when none does, so every email gets an
//! outcome.
//!
//! Rules are checked when they are saved ([`NewRule::validate`], [`RuleUpdate::validate`]),
//! never at ingest: [`CompiledRules`] is built once from the stored rules and its
//! [`evaluate`](CompiledRules::evaluate) never fails. A stored rule that no longer
//! compiles (which validation prevents) is skipped and reported in
//! [`CompiledRules::issues`] instead of failing the email.
//!
//! Matching: case-insensitive unless a condition says `case_sensitive`. For fields with
//! several values (`recipients`, `to`, `cc`, a repeated `header`) a positive operator
//! matches when ANY value matches; `not_contains` matches only when NO value contains
//! the text (so it also matches when the field has no value at all, e.g. no `cc`).
//! `matches` searches for the regular expression anywhere in the value; anchor it with
//! `^…$` to test the whole value.

use std::cell::OnceCell;
use std::fmt;

use chrono::{DateTime, Utc};
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{DeskError, FieldError};
use crate::ticket::Assignee;
use crate::types::{bounded_text, EmailAddress, Priority, Status, Tag};

/// Limits for rules, one place, shared by validation and the OpenAPI document.
pub mod limits {
    /// Rule name length (characters).
    pub const NAME: usize = crate::types::limits::NAME;
    /// Rule description length (characters).
    pub const DESCRIPTION: usize = 1_000;
    /// Conditions per rule.
    pub const CONDITIONS: usize = 50;
    /// Length of a non-regex condition value (characters).
    pub const VALUE: usize = 1_000;
    /// Length of a regular expression (characters).
    pub const PATTERN: usize = 500;
    /// Length of a header name.
    pub const HEADER_NAME: usize = 100;
    /// Compiled size of one regular expression (bytes; `RegexBuilder::size_limit`; the
    /// crate's default is 10 MiB). Fits `\w{20}` (Unicode classes are large), refuses `\w{50}`.
    pub const REGEX_SIZE: usize = 1024 * 1024;
    /// Lazy-DFA cache of one regular expression (bytes; `RegexBuilder::dfa_size_limit`).
    pub const REGEX_DFA_SIZE: usize = 1024 * 1024;
    /// Tags one rule may add.
    pub const ADD_TAGS: usize = crate::types::limits::TAGS;
}

/// Gap between the positions [`reorder`] and [`next_position`] hand out, so a rule can
/// be slotted between two others by position alone.
pub const POSITION_STEP: u32 = 10;

/// The default rule's position: it always runs last, whatever its position says.
pub const DEFAULT_POSITION: u32 = u32::MAX;

/// Name of the default rule when it is first created.
pub const DEFAULT_RULE_NAME: &str = "Default rule";

/// Id reported when the stored rules contain no default rule (a broken invariant that
/// ingest survives: the email still gets a ticket, with no actions).
pub const BUILTIN_DEFAULT_ID: &str = "builtin-default";

// ---- the rule -------------------------------------------------------------------

/// Whether every condition must match, or any one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    #[default]
    All,
    Any,
}

impl MatchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::All => "all",
            MatchMode::Any => "any",
        }
    }
}

/// What part of the email a condition tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionField {
    /// The sender's address.
    Sender,
    /// The part of the sender's address after `@`.
    SenderDomain,
    /// Every `to` and `cc` address.
    Recipients,
    To,
    Cc,
    Subject,
    /// The plain-text body.
    Body,
    /// The values of the header named by the condition's `header_name`.
    Header,
}

impl ConditionField {
    pub const ALL: &'static [ConditionField] = &[
        ConditionField::Sender,
        ConditionField::SenderDomain,
        ConditionField::Recipients,
        ConditionField::To,
        ConditionField::Cc,
        ConditionField::Subject,
        ConditionField::Body,
        ConditionField::Header,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConditionField::Sender => "sender",
            ConditionField::SenderDomain => "sender_domain",
            ConditionField::Recipients => "recipients",
            ConditionField::To => "to",
            ConditionField::Cc => "cc",
            ConditionField::Subject => "subject",
            ConditionField::Body => "body",
            ConditionField::Header => "header",
        }
    }
}

/// How a condition compares the field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Equals,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
    /// The value is a regular expression found anywhere in the field.
    Matches,
}

impl Operator {
    pub const ALL: &'static [Operator] = &[
        Operator::Equals,
        Operator::Contains,
        Operator::NotContains,
        Operator::StartsWith,
        Operator::EndsWith,
        Operator::Matches,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Equals => "equals",
            Operator::Contains => "contains",
            Operator::NotContains => "not_contains",
            Operator::StartsWith => "starts_with",
            Operator::EndsWith => "ends_with",
            Operator::Matches => "matches",
        }
    }
}

/// One test of the email. Also the wire shape of a condition in `NewRule`/`RuleUpdate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: ConditionField,
    /// Required when `field` is `header`, refused otherwise. Compared case-insensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    pub operator: Operator,
    /// The text to compare with, or the regular expression for `matches`.
    pub value: String,
    #[serde(default)]
    pub case_sensitive: bool,
}

impl Condition {
    /// Checks and normalises the condition. Errors name the field relative to the
    /// condition (`value`, `header_name`); callers nest them under `conditions[i]`.
    /// Non-regex values are trimmed; regular expressions are kept verbatim and compiled.
    pub fn validate(self) -> Result<Condition, FieldError> {
        let header_name = match (self.field, self.header_name) {
            (ConditionField::Header, None) => {
                return Err(FieldError::new(
                    "header_name",
                    "is required when field is header",
                ));
            }
            (ConditionField::Header, Some(name)) => Some(header_name(&name)?),
            // An empty string from a form that always sends the key counts as absent.
            (_, Some(name)) if name.trim().is_empty() => None,
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "header_name",
                    "is only allowed when field is header",
                ));
            }
            (_, None) => None,
        };
        let value = if self.operator == Operator::Matches {
            if self.value.chars().count() > limits::PATTERN {
                return Err(FieldError::new(
                    "value",
                    format!(
                        "a regular expression must be at most {} characters",
                        limits::PATTERN
                    ),
                ));
            }
            build_regex(&self.value, self.case_sensitive)
                .map_err(|m| FieldError::new("value", m))?;
            self.value
        } else {
            bounded_text(&self.value, limits::VALUE, false)
                .map_err(|e| FieldError::new("value", e.message))?
        };
        Ok(Condition {
            field: self.field,
            header_name,
            operator: self.operator,
            value,
            case_sensitive: self.case_sensitive,
        })
    }

    /// One line for explanations: `subject contains "invoice"`,
    /// `header "X-Priority" equals "1" (case-sensitive)`.
    pub fn describe(&self) -> String {
        let field = match (self.field, &self.header_name) {
            (ConditionField::Header, Some(name)) => format!("header {name:?}"),
            (f, _) => f.as_str().to_string(),
        };
        let case = if self.case_sensitive {
            " (case-sensitive)"
        } else {
            ""
        };
        format!("{field} {} {:?}{case}", self.operator.as_str(), self.value)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A header field name: RFC 5322 printable ASCII without `:` or spaces, trimmed.
fn header_name(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new("header_name", "must not be empty"));
    }
    if s.len() > limits::HEADER_NAME {
        return Err(FieldError::new(
            "header_name",
            format!("must be at most {} characters", limits::HEADER_NAME),
        ));
    }
    if !s.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
        return Err(FieldError::new(
            "header_name",
            "must be a header name like X-Priority (printable ASCII, no ':' or spaces)",
        ));
    }
    Ok(s.to_string())
}

/// Compiles a rule's regular expression with the size caps; the error is a message for
/// the `value` field. Used by validation and by [`CompiledRules`], so both agree.
fn build_regex(pattern: &str, case_sensitive: bool) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .case_insensitive(!case_sensitive)
        .size_limit(limits::REGEX_SIZE)
        .dfa_size_limit(limits::REGEX_DFA_SIZE)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => {
                "the regular expression is too complex (it compiles too large); simplify it"
                    .to_string()
            }
            regex::Error::Syntax(text) => {
                // The crate's message is several lines with a caret; keep the `error:` line.
                let reason = text
                    .lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("error:"))
                    .map(str::trim)
                    .unwrap_or("syntax error");
                format!("is not a valid regular expression: {reason}")
            }
            other => format!("is not a valid regular expression: {other}"),
        })
}

/// What a matching rule does to the new ticket. Also the wire shape of `actions`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Actions {
    pub status: Option<Status>,
    pub priority: Option<Priority>,
    pub assignee: Option<Assignee>,
    pub add_tags: Vec<Tag>,
    /// Send a notification email to the assigned user, or to every member of the
    /// assigned group. The engine only reports it; sending happens elsewhere.
    pub notify: bool,
    /// Answer the customer with this text module (an acknowledgement) when the
    /// email opens a ticket; never to robots, lists or spam. Reported, sent elsewhere.
    pub acknowledge: Option<String>,
}

impl Actions {
    /// Checks the actions: the assignee must exist (`exists` answers without I/O; the
    /// caller looks it up first), `notify` needs an assignee, tags are deduplicated and
    /// capped. Errors name the field relative to `actions`.
    pub fn validate(self, exists: &dyn Fn(&Assignee) -> bool) -> Result<Actions, FieldError> {
        if let Some(a) = &self.assignee {
            if !exists(a) {
                let message = match a {
                    Assignee::User(u) => format!("no such user: {u}"),
                    Assignee::Group(g) => format!("no such group: {g}"),
                };
                return Err(FieldError::new("assignee", message));
            }
        }
        if self.notify && self.assignee.is_none() {
            return Err(FieldError::new(
                "notify",
                "needs an assignee (a user or a group) to notify",
            ));
        }
        let mut add_tags: Vec<Tag> = Vec::with_capacity(self.add_tags.len());
        for t in self.add_tags {
            if !add_tags.contains(&t) {
                add_tags.push(t);
            }
        }
        if add_tags.len() > limits::ADD_TAGS {
            return Err(FieldError::new(
                "add_tags",
                format!("at most {} tags", limits::ADD_TAGS),
            ));
        }
        Ok(Actions { add_tags, ..self })
    }

    /// Who to notify, if the actions ask for a notification.
    pub fn notify_target(&self) -> Option<&Assignee> {
        if self.notify {
            self.assignee.as_ref()
        } else {
            None
        }
    }

    /// True when the actions change nothing.
    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.priority.is_none()
            && self.assignee.is_none()
            && self.add_tags.is_empty()
            && !self.notify
            && self.acknowledge.is_none()
    }
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    /// Lower runs first; ties are broken by `id`. Ignored for the default rule.
    pub position: u32,
    pub match_mode: MatchMode,
    pub conditions: Vec<Condition>,
    pub actions: Actions,
    /// The one rule that applies when no other matches: always enabled, no conditions.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Incremented by every edit; the optimistic-concurrency token.
    pub version: u64,
}

impl Rule {
    /// The default rule a new desk is seeded with: no actions, so tickets keep their
    /// defaults (open, medium, unassigned).
    pub fn default_rule(id: impl Into<String>, now: DateTime<Utc>) -> Rule {
        Rule {
            id: id.into(),
            name: DEFAULT_RULE_NAME.to_string(),
            description: "Applies when no other rule matches.".to_string(),
            enabled: true,
            position: DEFAULT_POSITION,
            match_mode: MatchMode::All,
            conditions: Vec::new(),
            actions: Actions::default(),
            is_default: true,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Refuses to delete the default rule (`Conflict { code: "default_rule" }`).
    pub fn ensure_deletable(&self) -> Result<(), DeskError> {
        if self.is_default {
            return Err(DeskError::Conflict {
                code: "default_rule",
                message: "the default rule cannot be deleted; edit its actions instead".to_string(),
            });
        }
        Ok(())
    }

    /// The rule enabled or disabled (version bumped if that changes it). The default
    /// rule cannot be disabled (error on `enabled`).
    pub fn set_enabled(&self, enabled: bool, now: DateTime<Utc>) -> Result<Rule, FieldError> {
        if self.is_default && !enabled {
            return Err(default_cannot_be_disabled());
        }
        let mut next = self.clone();
        if next.enabled != enabled {
            next.enabled = enabled;
            next.version = self.version + 1;
            next.updated_at = now;
        }
        Ok(next)
    }

    /// True for the rule that applies when none matches.
    pub fn is_default(&self) -> bool {
        self.is_default
    }
}

fn default_cannot_be_disabled() -> FieldError {
    FieldError::new("enabled", "the default rule cannot be disabled")
}

fn rule_name(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::NAME, false).map_err(|e| FieldError::new("name", e.message))
}

fn rule_description(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::DESCRIPTION, true)
        .map_err(|e| FieldError::new("description", e.message))
}

fn validate_conditions(conditions: Vec<Condition>) -> Result<Vec<Condition>, FieldError> {
    if conditions.len() > limits::CONDITIONS {
        return Err(FieldError::new(
            "conditions",
            format!("at most {} conditions", limits::CONDITIONS),
        ));
    }
    conditions
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            c.validate()
                .map_err(|e| e.under(&format!("conditions[{i}]")))
        })
        .collect()
}

/// The parts `NewRule` and `RuleUpdate` share, validated.
struct Checked {
    name: String,
    description: String,
    conditions: Vec<Condition>,
    actions: Actions,
}

fn check(
    name: &str,
    description: Option<&str>,
    conditions: Vec<Condition>,
    actions: Actions,
    exists: &dyn Fn(&Assignee) -> bool,
) -> Result<Checked, FieldError> {
    Ok(Checked {
        name: rule_name(name)?,
        description: rule_description(description.unwrap_or(""))?,
        conditions: validate_conditions(conditions)?,
        actions: actions.validate(exists).map_err(|e| e.under("actions"))?,
    })
}

fn yes() -> bool {
    true
}

/// `POST /rules` body. Creates an ordinary rule (the default rule is seeded, never created).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Absent: after every other rule ([`next_position`]).
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(default)]
    pub match_mode: MatchMode,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub actions: Actions,
}

impl NewRule {
    /// The assignee to look up before calling [`validate`](Self::validate).
    pub fn assignee(&self) -> Option<&Assignee> {
        self.actions.assignee.as_ref()
    }

    /// Builds the rule as it will be stored. `next_position` is used when the input has
    /// no position; `exists` says whether an assignee exists (no I/O in here).
    pub fn validate(
        self,
        id: impl Into<String>,
        next_position: u32,
        now: DateTime<Utc>,
        exists: &dyn Fn(&Assignee) -> bool,
    ) -> Result<Rule, FieldError> {
        let c = check(
            &self.name,
            self.description.as_deref(),
            self.conditions,
            self.actions,
            exists,
        )?;
        Ok(Rule {
            id: id.into(),
            name: c.name,
            description: c.description,
            enabled: self.enabled,
            position: self.position.unwrap_or(next_position),
            match_mode: self.match_mode,
            conditions: c.conditions,
            actions: c.actions,
            is_default: false,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

/// `PUT /rules/{id}` body: the whole editable rule, plus the version it was read at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleUpdate {
    /// The version the client read; storage compares it atomically (not checked here).
    pub version: u64,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Absent: unchanged.
    #[serde(default)]
    pub position: Option<u32>,
    #[serde(default)]
    pub match_mode: MatchMode,
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default)]
    pub actions: Actions,
}

impl RuleUpdate {
    /// The assignee to look up before calling [`validate`](Self::validate).
    pub fn assignee(&self) -> Option<&Assignee> {
        self.actions.assignee.as_ref()
    }

    /// The edited rule: id, `is_default` and `created_at` kept, version bumped. For the
    /// default rule, refuses disabling (`enabled`), conditions (`conditions`) and moving
    /// it (`position`); its name, description and actions are editable.
    pub fn validate(
        self,
        current: &Rule,
        now: DateTime<Utc>,
        exists: &dyn Fn(&Assignee) -> bool,
    ) -> Result<Rule, FieldError> {
        if current.is_default {
            if !self.enabled {
                return Err(default_cannot_be_disabled());
            }
            if !self.conditions.is_empty() {
                return Err(FieldError::new(
                    "conditions",
                    "the default rule cannot have conditions; it applies when no other rule matches",
                ));
            }
            if self.position.is_some_and(|p| p != current.position) {
                return Err(FieldError::new(
                    "position",
                    "the default rule always runs last; its position cannot be changed",
                ));
            }
        }
        let c = check(
            &self.name,
            self.description.as_deref(),
            self.conditions,
            self.actions,
            exists,
        )?;
        Ok(Rule {
            id: current.id.clone(),
            name: c.name,
            description: c.description,
            enabled: self.enabled,
            position: self.position.unwrap_or(current.position),
            match_mode: if current.is_default {
                MatchMode::All
            } else {
                self.match_mode
            },
            conditions: c.conditions,
            actions: c.actions,
            is_default: current.is_default,
            created_at: current.created_at,
            updated_at: now,
            version: current.version + 1,
        })
    }
}

/// The position for a rule added after every other (non-default) rule.
pub fn next_position(rules: &[Rule]) -> u32 {
    rules
        .iter()
        .filter(|r| !r.is_default)
        .map(|r| r.position)
        .max()
        .map_or(POSITION_STEP, |p| p.saturating_add(POSITION_STEP))
}

/// Renumbers the rules in the order given (`POST /rules/order`): `order` must list every
/// non-default rule exactly once. Returns only the rules whose position changed, with
/// their version bumped. Errors name `order` or `order[i]`.
pub fn reorder(
    rules: &[Rule],
    order: &[String],
    now: DateTime<Utc>,
) -> Result<Vec<Rule>, FieldError> {
    let mut changed = Vec::new();
    let mut seen: Vec<&str> = Vec::with_capacity(order.len());
    for (i, id) in order.iter().enumerate() {
        let field = || format!("order[{i}]");
        let Some(rule) = rules.iter().find(|r| &r.id == id) else {
            return Err(FieldError::new(field(), format!("no such rule: {id}")));
        };
        if rule.is_default {
            return Err(FieldError::new(
                field(),
                "the default rule always runs last and is not ordered",
            ));
        }
        if seen.contains(&id.as_str()) {
            return Err(FieldError::new(
                field(),
                format!("rule {id} is listed twice"),
            ));
        }
        seen.push(id);
        let position = u32::try_from(i + 1)
            .ok()
            .and_then(|n| n.checked_mul(POSITION_STEP))
            .ok_or_else(|| FieldError::new("order", "too many rules"))?;
        if rule.position != position {
            let mut next = rule.clone();
            next.position = position;
            next.version = rule.version + 1;
            next.updated_at = now;
            changed.push(next);
        }
    }
    if let Some(missing) = rules
        .iter()
        .find(|r| !r.is_default && !seen.contains(&r.id.as_str()))
    {
        return Err(FieldError::new(
            "order",
            format!(
                "must list every rule except the default exactly once; missing: {}",
                missing.id
            ),
        ));
    }
    Ok(changed)
}

// ---- the email the rules see ------------------------------------------------------

/// The parts of an incoming email that rules test. Also the sample in
/// `POST /rules/dry-run`. Header names compare case-insensitively; header values are
/// trimmed before matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub sender: EmailAddress,
    #[serde(default)]
    pub to: Vec<EmailAddress>,
    #[serde(default)]
    pub cc: Vec<EmailAddress>,
    #[serde(default)]
    pub subject: String,
    /// The plain-text body.
    #[serde(default)]
    pub body: String,
    /// `(name, value)` in message order; a name may repeat.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

impl RuleInput {
    /// The email borrowed, as [`CompiledRules::evaluate_ref`] reads it.
    pub fn view(&self) -> RuleInputRef<'_> {
        RuleInputRef {
            sender: &self.sender,
            to: &self.to,
            cc: &self.cc,
            subject: &self.subject,
            body: &self.body,
            headers: &self.headers,
        }
    }
}

/// [`RuleInput`] borrowed from wherever the parts already live (ingest's parsed mail),
/// so evaluating the rules copies no body or header.
#[derive(Debug, Clone, Copy)]
pub struct RuleInputRef<'a> {
    pub sender: &'a EmailAddress,
    pub to: &'a [EmailAddress],
    pub cc: &'a [EmailAddress],
    pub subject: &'a str,
    pub body: &'a str,
    pub headers: &'a [(String, String)],
}

// ---- outcome ------------------------------------------------------------------------

/// Which rule applied to an email and why; goes into the activity log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub rule_id: String,
    pub rule_name: String,
    /// The rule's version when it applied (the rule may be edited later).
    pub rule_version: u64,
    /// True when no other rule matched and the default rule applied.
    pub is_default: bool,
    /// Indexes into the rule's conditions that matched (all of them in `all` mode; every
    /// matching one in `any` mode; empty for a rule without conditions).
    pub matched_conditions: Vec<usize>,
    pub actions: Actions,
}

impl Evaluation {
    /// One line for logs: `rule "VIP" (r1) matched conditions [0, 2]`.
    pub fn summary(&self) -> String {
        if self.is_default {
            format!(
                "no rule matched; default rule {:?} ({}) applied",
                self.rule_name, self.rule_id
            )
        } else if self.matched_conditions.is_empty() {
            format!(
                "rule {:?} ({}) has no conditions and matched",
                self.rule_name, self.rule_id
            )
        } else {
            format!(
                "rule {:?} ({}) matched conditions {:?}",
                self.rule_name, self.rule_id, self.matched_conditions
            )
        }
    }
}

/// One condition's result, for the dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionCheck {
    pub index: usize,
    pub matched: bool,
    /// As [`Condition::describe`].
    pub description: String,
}

/// Why an earlier rule did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum MissReason {
    /// Disabled rules never run.
    Disabled,
    /// The stored rule does not compile (validation prevents this); it is skipped.
    Invalid { message: String },
    /// Its conditions did not match; every condition's result is listed.
    NoMatch {
        match_mode: MatchMode,
        conditions: Vec<ConditionCheck>,
    },
}

/// A rule before the one that applied, and why it did not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMiss {
    pub rule_id: String,
    pub rule_name: String,
    pub position: u32,
    #[serde(flatten)]
    pub reason: MissReason,
}

/// `POST /rules/dry-run` answer: what would apply, every condition of that rule, and
/// every earlier rule (disabled ones included) with why it did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    pub evaluation: Evaluation,
    /// Each condition of the applied rule with its result.
    pub conditions: Vec<ConditionCheck>,
    /// The rules before it, in evaluation order.
    pub not_matched: Vec<RuleMiss>,
}

/// A problem with the stored rules found while compiling them. Ingest carries on; the
/// service should log these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompileIssue {
    pub rule_id: String,
    pub message: String,
}

// ---- compiled rules -----------------------------------------------------------------

/// What a compiled condition reads from the email.
#[derive(Debug)]
enum Target {
    Sender,
    SenderDomain,
    Recipients,
    To,
    Cc,
    Subject,
    Body,
    /// Index of the lowercased header name in [`CompiledRules`]' `header_names`
    /// (conditions on one header share the lookup of its values).
    Header(usize),
}

/// The comparison, with its needle already folded when case-insensitive.
#[derive(Debug)]
enum Test {
    Equals(String),
    Contains(String),
    StartsWith(String),
    EndsWith(String),
    Regex(Regex),
}

impl Test {
    fn test(&self, hay: &str) -> bool {
        match self {
            Test::Equals(n) => hay == n,
            Test::Contains(n) => hay.contains(n.as_str()),
            Test::StartsWith(n) => hay.starts_with(n.as_str()),
            Test::EndsWith(n) => hay.ends_with(n.as_str()),
            Test::Regex(r) => r.is_match(hay),
        }
    }
}

#[derive(Debug)]
struct CompiledCondition {
    target: Target,
    /// Compare against the lowercased field (case-insensitive, non-regex).
    fold: bool,
    /// `not_contains`: true when no value passes `test`.
    negate: bool,
    test: Test,
}

impl CompiledCondition {
    /// `header_names` collects the distinct header names the conditions test.
    fn compile(c: &Condition, header_names: &mut Vec<String>) -> Result<Self, String> {
        let target = match c.field {
            ConditionField::Sender => Target::Sender,
            ConditionField::SenderDomain => Target::SenderDomain,
            ConditionField::Recipients => Target::Recipients,
            ConditionField::To => Target::To,
            ConditionField::Cc => Target::Cc,
            ConditionField::Subject => Target::Subject,
            ConditionField::Body => Target::Body,
            ConditionField::Header => match &c.header_name {
                Some(name) => {
                    let name = name.trim().to_ascii_lowercase();
                    let index = match header_names.iter().position(|n| *n == name) {
                        Some(i) => i,
                        None => {
                            header_names.push(name);
                            header_names.len() - 1
                        }
                    };
                    Target::Header(index)
                }
                None => return Err("a header condition without header_name".to_string()),
            },
        };
        let fold = !c.case_sensitive && c.operator != Operator::Matches;
        let needle = || {
            if fold {
                c.value.to_lowercase()
            } else {
                c.value.clone()
            }
        };
        let test = match c.operator {
            Operator::Equals => Test::Equals(needle()),
            Operator::Contains | Operator::NotContains => Test::Contains(needle()),
            Operator::StartsWith => Test::StartsWith(needle()),
            Operator::EndsWith => Test::EndsWith(needle()),
            Operator::Matches => {
                if c.value.chars().count() > limits::PATTERN {
                    return Err(format!(
                        "a regular expression must be at most {} characters",
                        limits::PATTERN
                    ));
                }
                Test::Regex(build_regex(&c.value, c.case_sensitive)?)
            }
        };
        Ok(CompiledCondition {
            target,
            fold,
            negate: c.operator == Operator::NotContains,
            test,
        })
    }

    fn matches(&self, email: &Prepared<'_>) -> bool {
        email.any(&self.target, self.fold, |v| self.test.test(v)) != self.negate
    }
}

#[derive(Debug)]
enum State {
    Disabled,
    Invalid(String),
    Ready(Vec<CompiledCondition>),
}

#[derive(Debug)]
struct CompiledRule {
    rule: Rule,
    state: State,
}

/// Tests the compiled conditions; `Some(matched indexes)` when the rule applies.
fn try_match(
    mode: MatchMode,
    conditions: &[CompiledCondition],
    email: &Prepared<'_>,
) -> Option<Vec<usize>> {
    if conditions.is_empty() {
        return Some(Vec::new());
    }
    match mode {
        MatchMode::All => conditions
            .iter()
            .all(|c| c.matches(email))
            .then(|| (0..conditions.len()).collect()),
        MatchMode::Any => {
            let first = conditions.iter().position(|c| c.matches(email))?;
            let mut matched = vec![first];
            matched.extend(
                conditions
                    .iter()
                    .enumerate()
                    .skip(first + 1)
                    .filter(|(_, c)| c.matches(email))
                    .map(|(i, _)| i),
            );
            Some(matched)
        }
    }
}

/// The default rule's part of an outcome.
#[derive(Debug)]
struct Fallback {
    id: String,
    name: String,
    version: u64,
    actions: Actions,
}

/// The rules, sorted and compiled once (regexes built, needles lowercased), ready to
/// evaluate many emails. Building never fails: see [`issues`](Self::issues).
#[derive(Debug)]
pub struct CompiledRules {
    ordered: Vec<CompiledRule>,
    /// Lowercased names of the headers the conditions test.
    header_names: Vec<String>,
    fallback: Fallback,
    issues: Vec<CompileIssue>,
}

impl CompiledRules {
    /// Sorts by `(position, id)`, sets the default rule aside (it runs last) and compiles
    /// every enabled rule. Broken stored rules are skipped and reported, not fatal.
    pub fn new(rules: &[Rule]) -> CompiledRules {
        let mut sorted: Vec<&Rule> = rules.iter().collect();
        sorted.sort_by(|a, b| a.position.cmp(&b.position).then_with(|| a.id.cmp(&b.id)));
        let mut issues = Vec::new();
        let mut issue = |rule: &Rule, message: &str| {
            issues.push(CompileIssue {
                rule_id: rule.id.clone(),
                message: message.to_string(),
            });
        };
        let mut fallback: Option<Fallback> = None;
        let mut ordered = Vec::with_capacity(sorted.len());
        let mut header_names = Vec::new();
        for rule in sorted {
            if rule.is_default {
                if fallback.is_some() {
                    issue(rule, "a second default rule; it is ignored");
                    continue;
                }
                if !rule.enabled {
                    issue(
                        rule,
                        "the default rule is stored disabled; it applies anyway",
                    );
                }
                if !rule.conditions.is_empty() {
                    issue(rule, "the default rule has conditions; they are ignored");
                }
                fallback = Some(Fallback {
                    id: rule.id.clone(),
                    name: rule.name.clone(),
                    version: rule.version,
                    actions: rule.actions.clone(),
                });
                continue;
            }
            let state = if !rule.enabled {
                State::Disabled
            } else {
                let compiled: Result<Vec<_>, String> = rule
                    .conditions
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        CompiledCondition::compile(c, &mut header_names)
                            .map_err(|m| format!("conditions[{i}].value: {m}"))
                    })
                    .collect();
                match compiled {
                    Ok(conditions) => State::Ready(conditions),
                    Err(message) => {
                        issue(rule, &format!("skipped: {message}"));
                        State::Invalid(message)
                    }
                }
            };
            ordered.push(CompiledRule {
                rule: rule.clone(),
                state,
            });
        }
        let fallback = fallback.unwrap_or_else(|| {
            issues.push(CompileIssue {
                rule_id: BUILTIN_DEFAULT_ID.to_string(),
                message: "there is no default rule; emails that match no rule get no actions"
                    .to_string(),
            });
            Fallback {
                id: BUILTIN_DEFAULT_ID.to_string(),
                name: DEFAULT_RULE_NAME.to_string(),
                version: 0,
                actions: Actions::default(),
            }
        });
        CompiledRules {
            ordered,
            header_names,
            fallback,
            issues,
        }
    }

    /// Problems found in the stored rules (skipped rules, a missing or extra default).
    pub fn issues(&self) -> &[CompileIssue] {
        &self.issues
    }

    /// Number of rules, the default included.
    pub fn len(&self) -> usize {
        self.ordered.len() + 1
    }

    /// Always false: there is at least the default rule.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The rule that applies to this email: the first enabled matching rule, else the
    /// default. Never fails.
    pub fn evaluate(&self, email: &RuleInput) -> Evaluation {
        self.evaluate_ref(email.view())
    }

    /// [`evaluate`](Self::evaluate) on a borrowed email.
    pub fn evaluate_ref(&self, email: RuleInputRef<'_>) -> Evaluation {
        let prepared = Prepared::new(email, &self.header_names);
        for compiled in &self.ordered {
            if let State::Ready(conditions) = &compiled.state {
                if let Some(matched) = try_match(compiled.rule.match_mode, conditions, &prepared) {
                    return applied(&compiled.rule, matched);
                }
            }
        }
        self.default_evaluation()
    }

    /// Like [`evaluate`](Self::evaluate), explaining the result: every condition of the
    /// rule that applied and, for each earlier rule, why it did not.
    pub fn dry_run(&self, email: &RuleInput) -> DryRun {
        let prepared = Prepared::new(email.view(), &self.header_names);
        let mut not_matched = Vec::new();
        for compiled in &self.ordered {
            let rule = &compiled.rule;
            let miss = |reason| RuleMiss {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                position: rule.position,
                reason,
            };
            match &compiled.state {
                State::Disabled => not_matched.push(miss(MissReason::Disabled)),
                State::Invalid(message) => not_matched.push(miss(MissReason::Invalid {
                    message: message.clone(),
                })),
                State::Ready(conditions) => {
                    let checks: Vec<ConditionCheck> = conditions
                        .iter()
                        .zip(&rule.conditions)
                        .enumerate()
                        .map(|(index, (c, source))| ConditionCheck {
                            index,
                            matched: c.matches(&prepared),
                            description: source.describe(),
                        })
                        .collect();
                    let hit = checks.is_empty()
                        || match rule.match_mode {
                            MatchMode::All => checks.iter().all(|c| c.matched),
                            MatchMode::Any => checks.iter().any(|c| c.matched),
                        };
                    if hit {
                        let matched = checks
                            .iter()
                            .filter(|c| c.matched)
                            .map(|c| c.index)
                            .collect();
                        return DryRun {
                            evaluation: applied(rule, matched),
                            conditions: checks,
                            not_matched,
                        };
                    }
                    not_matched.push(miss(MissReason::NoMatch {
                        match_mode: rule.match_mode,
                        conditions: checks,
                    }));
                }
            }
        }
        DryRun {
            evaluation: self.default_evaluation(),
            conditions: Vec::new(),
            not_matched,
        }
    }

    fn default_evaluation(&self) -> Evaluation {
        Evaluation {
            rule_id: self.fallback.id.clone(),
            rule_name: self.fallback.name.clone(),
            rule_version: self.fallback.version,
            is_default: true,
            matched_conditions: Vec::new(),
            actions: self.fallback.actions.clone(),
        }
    }
}

fn applied(rule: &Rule, matched_conditions: Vec<usize>) -> Evaluation {
    Evaluation {
        rule_id: rule.id.clone(),
        rule_name: rule.name.clone(),
        rule_version: rule.version,
        is_default: false,
        matched_conditions,
        actions: rule.actions.clone(),
    }
}

/// Compiles `rules` and evaluates one email. For many emails build [`CompiledRules`] once.
pub fn evaluate(rules: &[Rule], email: &RuleInput) -> Evaluation {
    CompiledRules::new(rules).evaluate(email)
}

// ---- the email, prepared once per evaluation ------------------------------------------

fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// One header as the rules compare it: name and value trimmed once per email.
struct HeaderField<'a> {
    name: &'a str,
    value: &'a str,
    /// The lowercased value, made when a case-insensitive condition first reads it.
    folded: OnceCell<String>,
}

/// The email with its derived forms made once per email however many rules read
/// them: lowercased copies on first use, the sender's domain, the headers trimmed.
/// Hundreds of conditions read the same few fields, so per-condition work is kept to
/// the comparison itself.
struct Prepared<'a> {
    email: RuleInputRef<'a>,
    sender: OnceCell<String>,
    /// The domain of the lowercased sender.
    sender_domain: OnceCell<String>,
    subject: OnceCell<String>,
    body: OnceCell<String>,
    to: OnceCell<Vec<String>>,
    cc: OnceCell<Vec<String>>,
    headers: OnceCell<Vec<HeaderField<'a>>>,
    /// The compiled rules' header names ...
    header_names: &'a [String],
    /// ... and for each, the indexes of the headers with that name, found on first use.
    header_slots: Vec<OnceCell<Vec<usize>>>,
}

impl<'a> Prepared<'a> {
    fn new(email: RuleInputRef<'a>, header_names: &'a [String]) -> Self {
        Prepared {
            email,
            sender: OnceCell::new(),
            sender_domain: OnceCell::new(),
            subject: OnceCell::new(),
            body: OnceCell::new(),
            to: OnceCell::new(),
            cc: OnceCell::new(),
            headers: OnceCell::new(),
            header_names,
            header_slots: header_names.iter().map(|_| OnceCell::new()).collect(),
        }
    }

    fn text<'s>(&'s self, raw: &'s str, cell: &'s OnceCell<String>, fold: bool) -> &'s str {
        if fold {
            cell.get_or_init(|| raw.to_lowercase())
        } else {
            raw
        }
    }

    fn list<F: FnMut(&str) -> bool>(
        addresses: &[EmailAddress],
        cell: &OnceCell<Vec<String>>,
        fold: bool,
        f: &mut F,
    ) -> bool {
        if fold {
            cell.get_or_init(|| {
                addresses
                    .iter()
                    .map(|a| a.as_str().to_lowercase())
                    .collect()
            })
            .iter()
            .any(|a| f(a))
        } else {
            addresses.iter().any(|a| f(a.as_str()))
        }
    }

    fn headers(&self) -> &[HeaderField<'a>] {
        let email = self.email;
        self.headers.get_or_init(|| {
            email
                .headers
                .iter()
                .map(|(n, v)| HeaderField {
                    name: n.trim(),
                    value: v.trim(),
                    folded: OnceCell::new(),
                })
                .collect()
        })
    }

    /// True when `f` holds for any value of the target (false when it has none).
    fn any<F: FnMut(&str) -> bool>(&self, target: &Target, fold: bool, mut f: F) -> bool {
        let e = self.email;
        match target {
            Target::Sender => f(self.text(e.sender.as_str(), &self.sender, fold)),
            Target::SenderDomain if fold => f(self.sender_domain.get_or_init(|| {
                domain_of(self.text(e.sender.as_str(), &self.sender, true)).to_string()
            })),
            Target::SenderDomain => f(domain_of(e.sender.as_str())),
            Target::To => Self::list(e.to, &self.to, fold, &mut f),
            Target::Cc => Self::list(e.cc, &self.cc, fold, &mut f),
            Target::Recipients => {
                Self::list(e.to, &self.to, fold, &mut f) || Self::list(e.cc, &self.cc, fold, &mut f)
            }
            Target::Subject => f(self.text(e.subject, &self.subject, fold)),
            Target::Body => f(self.text(e.body, &self.body, fold)),
            Target::Header(slot) => {
                let headers = self.headers();
                let (Some(name), Some(cell)) =
                    (self.header_names.get(*slot), self.header_slots.get(*slot))
                else {
                    return false;
                };
                let found = cell.get_or_init(|| {
                    headers
                        .iter()
                        .enumerate()
                        .filter(|(_, h)| h.name.eq_ignore_ascii_case(name))
                        .map(|(i, _)| i)
                        .collect()
                });
                found.iter().filter_map(|&i| headers.get(i)).any(|h| {
                    f(if fold {
                        h.folded.get_or_init(|| h.value.to_lowercase())
                    } else {
                        h.value
                    })
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{GroupId, UserId};
    use serde_json::{json, Value};

    fn addr(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn email() -> RuleInput {
        RuleInput {
            sender: addr("Carol.Smith@Example.com"),
            to: vec![
                addr("support@desk.example.org"),
                addr("Sales@Desk.example.org"),
            ],
            cc: vec![addr("boss@example.com")],
            subject: "Invoice 42 is WRONG".to_string(),
            body: "Hello,\nthe Invoice total is off.\nRegards".to_string(),
            headers: vec![
                ("X-Priority".to_string(), " 1 (Highest)".to_string()),
                ("Received".to_string(), "from a".to_string()),
                ("Received".to_string(), "from B".to_string()),
            ],
        }
    }

    fn cond(field: ConditionField, operator: Operator, value: &str) -> Condition {
        Condition {
            field,
            header_name: None,
            operator,
            value: value.to_string(),
            case_sensitive: false,
        }
    }

    fn header(name: &str, operator: Operator, value: &str) -> Condition {
        Condition {
            header_name: Some(name.to_string()),
            ..cond(ConditionField::Header, operator, value)
        }
    }

    fn rule(id: &str, position: u32, mode: MatchMode, conditions: Vec<Condition>) -> Rule {
        let now = Utc::now();
        Rule {
            id: id.to_string(),
            name: format!("rule {id}"),
            description: String::new(),
            enabled: true,
            position,
            match_mode: mode,
            conditions,
            actions: Actions {
                add_tags: vec![Tag::parse(id).unwrap()],
                ..Actions::default()
            },
            is_default: false,
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    fn default_rule() -> Rule {
        Rule::default_rule("default", Utc::now())
    }

    /// Does this single condition match the sample email?
    fn hit(c: Condition) -> bool {
        let rules = [rule("r", 1, MatchMode::All, vec![c]), default_rule()];
        !evaluate(&rules, &email()).is_default
    }

    fn cs(mut c: Condition) -> Condition {
        c.case_sensitive = true;
        c
    }

    fn exists(a: &Assignee) -> bool {
        matches!(a, Assignee::User(u) if u.as_str() == "alice")
            || matches!(a, Assignee::Group(g) if g.as_str() == "support")
    }

    // ---- operators × case sensitivity --------------------------------------------

    #[test]
    fn every_operator_with_and_without_case_sensitivity() {
        use ConditionField::Subject;
        use Operator::*;
        // (operator, value, insensitive result, sensitive result) on "Invoice 42 is WRONG".
        let table = [
            (Equals, "invoice 42 is wrong", true, false),
            (Equals, "Invoice 42 is WRONG", true, true),
            (Equals, "Invoice 42", false, false),
            (Contains, "wrong", true, false),
            (Contains, "WRONG", true, true),
            (Contains, "right", false, false),
            (NotContains, "wrong", false, true),
            (NotContains, "WRONG", false, false),
            (NotContains, "right", true, true),
            (StartsWith, "INVOICE", true, false),
            (StartsWith, "Invoice", true, true),
            (StartsWith, "42", false, false),
            (EndsWith, "Wrong", true, false),
            (EndsWith, "WRONG", true, true),
            (EndsWith, "Invoice", false, false),
            (Matches, r"^invoice \d+", true, false),
            (Matches, r"^Invoice \d+", true, true),
            (Matches, r"\d{3}", false, false),
        ];
        for (op, value, insensitive, sensitive) in table {
            assert_eq!(
                hit(cond(Subject, op, value)),
                insensitive,
                "{op:?} {value:?} case-insensitive"
            );
            assert_eq!(
                hit(cs(cond(Subject, op, value))),
                sensitive,
                "{op:?} {value:?} case-sensitive"
            );
        }
    }

    #[test]
    fn each_field_reads_its_part_of_the_email() {
        use ConditionField::*;
        use Operator::*;
        assert!(hit(cond(Sender, Equals, "carol.smith@example.com")));
        assert!(!hit(cs(cond(Sender, Equals, "carol.smith@example.com"))));
        assert!(hit(cond(SenderDomain, Equals, "EXAMPLE.com")));
        assert!(!hit(cond(SenderDomain, Equals, "smith@example.com")));
        assert!(hit(cond(To, Equals, "sales@desk.example.org")));
        assert!(!hit(cond(To, Equals, "boss@example.com")));
        assert!(hit(cond(Cc, Equals, "boss@example.com")));
        assert!(!hit(cond(Cc, Contains, "desk.example.org")));
        assert!(hit(cond(Recipients, Equals, "boss@example.com")));
        assert!(hit(cond(Recipients, StartsWith, "support@")));
        assert!(hit(cond(Body, Contains, "invoice total")));
        assert!(hit(cond(Body, Matches, r"(?m)^regards$")));
        assert!(!hit(cond(Body, Contains, "refund")));
        assert!(hit(header("X-Priority", Equals, "1 (highest)")));
        assert!(hit(header("X-Priority", StartsWith, "1")));
        assert!(!hit(header("X-Mailer", Contains, "outlook")));
    }

    #[test]
    fn not_contains_on_multi_valued_fields_needs_every_value_clean() {
        use ConditionField::*;
        use Operator::NotContains;
        // One `to` address contains "sales": not_contains fails although the other doesn't.
        assert!(!hit(cond(To, NotContains, "sales")));
        assert!(!hit(cond(Recipients, NotContains, "boss")));
        assert!(hit(cond(Recipients, NotContains, "billing")));
        // One Received header says "from b": no match even though the first does not.
        assert!(!hit(header("received", NotContains, "from b")));
        assert!(hit(cs(header("received", NotContains, "from b"))));
        // A field with no values contains nothing.
        let mut e = email();
        e.cc.clear();
        let rules = [
            rule("r", 1, MatchMode::All, vec![cond(Cc, NotContains, "x")]),
            default_rule(),
        ];
        assert_eq!(evaluate(&rules, &e).rule_id, "r");
        let rules = [
            rule(
                "r",
                1,
                MatchMode::All,
                vec![cond(Cc, Operator::Contains, "")],
            ),
            default_rule(),
        ];
        assert!(
            evaluate(&rules, &e).is_default,
            "a positive operator never matches an empty list"
        );
    }

    #[test]
    fn positive_operators_on_multi_valued_fields_match_any_value() {
        use Operator::*;
        assert!(hit(header("Received", Equals, "from b")));
        assert!(hit(header("Received", Equals, "from a")));
        assert!(!hit(cs(header("Received", Equals, "from b"))));
        assert!(hit(cond(ConditionField::To, EndsWith, "@desk.example.org")));
    }

    #[test]
    fn header_names_compare_case_insensitively() {
        for name in ["x-priority", "X-PRIORITY", " X-Priority "] {
            assert!(hit(header(name, Operator::Contains, "highest")), "{name}");
        }
        let mut e = email();
        e.headers = vec![("x-PRIORITY".to_string(), "5".to_string())];
        let rules = [
            rule(
                "r",
                1,
                MatchMode::All,
                vec![header("X-Priority", Operator::Equals, "5")],
            ),
            default_rule(),
        ];
        assert_eq!(evaluate(&rules, &e).rule_id, "r");
        // Case sensitivity applies to the value, never to the name.
        let rules = [
            rule(
                "r",
                1,
                MatchMode::All,
                vec![cs(header("X-Priority", Operator::Equals, "5"))],
            ),
            default_rule(),
        ];
        assert_eq!(evaluate(&rules, &e).rule_id, "r");
    }

    #[test]
    fn unicode_is_folded_for_case_insensitive_matching() {
        let mut e = email();
        e.subject = "ÄRGER mit der Rechnung".to_string();
        let rules = [
            rule(
                "r",
                1,
                MatchMode::All,
                vec![cond(ConditionField::Subject, Operator::StartsWith, "ärger")],
            ),
            default_rule(),
        ];
        assert_eq!(evaluate(&rules, &e).rule_id, "r");
        let rules = [
            rule(
                "r",
                1,
                MatchMode::All,
                vec![cond(ConditionField::Subject, Operator::Matches, "^ärger")],
            ),
            default_rule(),
        ];
        assert_eq!(evaluate(&rules, &e).rule_id, "r");
    }

    // ---- any / all / order / disabled / default ------------------------------------

    #[test]
    fn all_needs_every_condition_and_any_needs_one() {
        use ConditionField::*;
        use Operator::*;
        let yes = cond(Subject, Contains, "invoice");
        let no = cond(Subject, Contains, "refund");
        let also = cond(Body, Contains, "regards");
        let e = email();
        let eval =
            |mode, cs: Vec<Condition>| evaluate(&[rule("r", 1, mode, cs), default_rule()], &e);

        let all = eval(MatchMode::All, vec![yes.clone(), also.clone()]);
        assert_eq!(
            (all.rule_id.as_str(), all.matched_conditions),
            ("r", vec![0, 1])
        );
        assert!(eval(MatchMode::All, vec![yes.clone(), no.clone()]).is_default);

        let any = eval(
            MatchMode::Any,
            vec![no.clone(), yes.clone(), no.clone(), also],
        );
        assert_eq!(
            (any.rule_id.as_str(), any.matched_conditions),
            ("r", vec![1, 3])
        );
        assert!(eval(MatchMode::Any, vec![no.clone(), no]).is_default);
    }

    #[test]
    fn a_rule_without_conditions_matches_everything_in_either_mode() {
        for mode in [MatchMode::All, MatchMode::Any] {
            let e = evaluate(&[rule("r", 1, mode, vec![]), default_rule()], &email());
            assert_eq!(e.rule_id, "r");
            assert!(e.matched_conditions.is_empty());
        }
    }

    #[test]
    fn rules_run_by_position_then_id_and_the_first_match_wins() {
        let always = || vec![cond(ConditionField::Subject, Operator::Contains, "invoice")];
        let rules = vec![
            default_rule(),
            rule("c", 20, MatchMode::All, always()),
            rule("b", 10, MatchMode::All, always()),
            rule("a", 20, MatchMode::All, always()),
        ];
        let e = evaluate(&rules, &email());
        assert_eq!(e.rule_id, "b");
        assert_eq!(e.actions.add_tags, vec![Tag::parse("b").unwrap()]);
        let rules: Vec<Rule> = rules.into_iter().filter(|r| r.id != "b").collect();
        assert_eq!(evaluate(&rules, &email()).rule_id, "a", "ties broken by id");
    }

    #[test]
    fn disabled_rules_never_run() {
        let mut first = rule("first", 1, MatchMode::All, vec![]);
        first.enabled = false;
        let second = rule("second", 2, MatchMode::All, vec![]);
        assert_eq!(
            evaluate(&[first.clone(), second, default_rule()], &email()).rule_id,
            "second"
        );
        assert!(evaluate(&[first, default_rule()], &email()).is_default);
    }

    #[test]
    fn the_default_rule_applies_when_nothing_matches_even_if_positioned_first() {
        let mut d = default_rule();
        d.position = 0;
        d.actions.priority = Some(Priority::Low);
        let never = rule(
            "r",
            5,
            MatchMode::All,
            vec![cond(ConditionField::Subject, Operator::Contains, "zzz")],
        );
        let e = evaluate(&[d.clone(), never], &email());
        assert!(e.is_default);
        assert_eq!(e.rule_id, "default");
        assert_eq!(e.actions.priority, Some(Priority::Low));
        assert!(e.summary().contains("default rule"));
        // A matching rule after it still wins: the default only ever runs last.
        let any = rule("r", 5, MatchMode::All, vec![]);
        assert_eq!(evaluate(&[d, any], &email()).rule_id, "r");
    }

    #[test]
    fn broken_rule_sets_still_give_an_outcome_and_report_issues() {
        // No default rule at all.
        let compiled = CompiledRules::new(&[]);
        let e = compiled.evaluate(&email());
        assert!(e.is_default);
        assert_eq!(e.rule_id, BUILTIN_DEFAULT_ID);
        assert!(e.actions.is_empty());
        assert_eq!(compiled.issues().len(), 1);

        // A stored regex that does not compile is skipped, not fatal.
        let bad = rule(
            "bad",
            1,
            MatchMode::Any,
            vec![
                cond(ConditionField::Subject, Operator::Contains, "invoice"),
                cond(ConditionField::Subject, Operator::Matches, "("),
            ],
        );
        let mut second_default = Rule::default_rule("zz-default", Utc::now());
        second_default.actions.priority = Some(Priority::Urgent);
        let compiled = CompiledRules::new(&[bad, default_rule(), second_default]);
        let e = compiled.evaluate(&email());
        assert_eq!(e.rule_id, "default");
        assert_eq!(e.actions.priority, None);
        let ids: Vec<_> = compiled
            .issues()
            .iter()
            .map(|i| i.rule_id.as_str())
            .collect();
        assert_eq!(ids, ["bad", "zz-default"]);
        assert!(compiled.issues()[0].message.contains("conditions[1].value"));
    }

    #[test]
    fn dry_run_explains_the_hit_and_every_earlier_miss() {
        use ConditionField::*;
        use Operator::*;
        let mut off = rule("off", 1, MatchMode::All, vec![]);
        off.enabled = false;
        let miss = rule(
            "miss",
            2,
            MatchMode::All,
            vec![
                cond(Subject, Contains, "invoice"),
                cond(SenderDomain, Equals, "vip.example.com"),
            ],
        );
        let hit = rule(
            "hit",
            3,
            MatchMode::Any,
            vec![
                cond(Body, Contains, "refund"),
                header("X-Priority", StartsWith, "1"),
            ],
        );
        let later = rule("later", 4, MatchMode::All, vec![]);
        let compiled = CompiledRules::new(&[later, hit, miss, off, default_rule()]);
        let run = compiled.dry_run(&email());
        assert_eq!(run.evaluation, compiled.evaluate(&email()));
        assert_eq!(run.evaluation.rule_id, "hit");
        assert_eq!(run.evaluation.matched_conditions, vec![1]);
        assert_eq!(
            run.conditions.iter().map(|c| c.matched).collect::<Vec<_>>(),
            [false, true]
        );
        assert_eq!(
            run.conditions[1].description,
            r#"header "X-Priority" starts_with "1""#
        );
        assert_eq!(run.not_matched.len(), 2);
        assert_eq!(run.not_matched[0].reason, MissReason::Disabled);
        match &run.not_matched[1].reason {
            MissReason::NoMatch {
                match_mode,
                conditions,
            } => {
                assert_eq!(*match_mode, MatchMode::All);
                assert!(conditions[0].matched);
                assert!(!conditions[1].matched);
                assert_eq!(
                    conditions[1].description,
                    r#"sender_domain equals "vip.example.com""#
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let wire = serde_json::to_value(&run).unwrap();
        assert_eq!(wire["not_matched"][0]["reason"], json!("disabled"));
        assert_eq!(wire["not_matched"][1]["reason"], json!("no_match"));
        assert_eq!(wire["not_matched"][1]["rule_id"], json!("miss"));

        let nothing = CompiledRules::new(&[default_rule()]).dry_run(&email());
        assert!(nothing.evaluation.is_default);
        assert!(nothing.not_matched.is_empty());
    }

    #[test]
    fn the_evaluation_reports_the_actions_and_notification_target() {
        let mut r = rule("r", 1, MatchMode::All, vec![]);
        r.actions = Actions {
            status: Some(Status::Waiting),
            priority: Some(Priority::High),
            assignee: Some(Assignee::Group(GroupId::parse("support").unwrap())),
            add_tags: vec![Tag::parse("billing").unwrap()],
            notify: true,
            acknowledge: Some("mabcdefabcdef".into()),
        };
        let e = evaluate(&[r.clone(), default_rule()], &email());
        assert_eq!(e.actions, r.actions);
        assert_eq!(e.actions.notify_target(), r.actions.assignee.as_ref());
        assert_eq!(e.rule_version, 1);
        let back: Evaluation = serde_json::from_value(serde_json::to_value(&e).unwrap()).unwrap();
        assert_eq!(back, e);
    }

    // ---- validation ------------------------------------------------------------------

    fn new_rule(v: Value) -> Result<Rule, FieldError> {
        let input: NewRule = serde_json::from_value(v).unwrap();
        input.validate("r1", 10, Utc::now(), &exists)
    }

    fn field_of(v: Value) -> String {
        new_rule(v).unwrap_err().field
    }

    #[test]
    fn a_valid_new_rule_is_normalised() {
        let r = new_rule(json!({
            "name": "  VIP customers ",
            "match_mode": "any",
            "conditions": [
                {"field": "sender_domain", "operator": "equals", "value": " vip.example.com "},
                {"field": "header", "header_name": " X-Priority ", "operator": "matches", "value": "^1 ", "case_sensitive": true},
                {"field": "subject", "header_name": "", "operator": "contains", "value": "urgent"}
            ],
            "actions": {"priority": "urgent", "assignee": {"type": "user", "id": "alice"},
                        "add_tags": ["VIP", "vip"], "notify": true}
        }))
        .unwrap();
        assert_eq!(r.name, "VIP customers");
        assert_eq!(r.position, 10);
        assert!(r.enabled);
        assert!(!r.is_default);
        assert_eq!(r.version, 1);
        assert_eq!(r.match_mode, MatchMode::Any);
        assert_eq!(r.conditions[0].value, "vip.example.com");
        assert_eq!(r.conditions[1].header_name.as_deref(), Some("X-Priority"));
        assert_eq!(r.conditions[1].value, "^1 ", "regexes are kept verbatim");
        assert_eq!(r.conditions[2].header_name, None);
        assert_eq!(r.actions.add_tags, vec![Tag::parse("vip").unwrap()]);
        // Stored form round-trips.
        let back: Rule = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn a_bad_regex_is_named_by_its_index() {
        let err = new_rule(json!({
            "name": "x",
            "conditions": [
                {"field": "subject", "operator": "contains", "value": "a"},
                {"field": "subject", "operator": "matches", "value": "(unclosed"}
            ]
        }))
        .unwrap_err();
        assert_eq!(err.field, "conditions[1].value");
        assert!(
            err.message.contains("not a valid regular expression"),
            "{}",
            err.message
        );
        assert!(!err.message.contains('\n'));
    }

    #[test]
    fn regexes_are_capped_in_length_and_compiled_size() {
        let long = "a".repeat(limits::PATTERN + 1);
        let err = new_rule(json!({"name": "x", "conditions": [
            {"field": "body", "operator": "matches", "value": long}
        ]}))
        .unwrap_err();
        assert_eq!(err.field, "conditions[0].value");
        let huge = r"\w{100}\w{100}\w{100}";
        let err = new_rule(json!({"name": "x", "conditions": [
            {"field": "body", "operator": "matches", "value": huge}
        ]}))
        .unwrap_err();
        assert_eq!(err.field, "conditions[0].value");
        assert!(err.message.contains("too complex"), "{}", err.message);
        // Everyday patterns fit comfortably.
        for p in [
            r"\[#?\d+\]",
            r"(?i)^(re|aw|fwd?):\s*",
            r"\b[\w.+-]+@[\w-]+\.[\w.]+\b",
            r"invoice|rechnung|facture|factura",
            r"^\s*$",
            r"\w{20}",
        ] {
            for case_sensitive in [false, true] {
                assert!(build_regex(p, case_sensitive).is_ok(), "{p}");
            }
        }
        // An empty pattern is allowed: it matches everything.
        assert!(new_rule(json!({"name": "x", "conditions": [
            {"field": "body", "operator": "matches", "value": ""}
        ]}))
        .is_ok());
    }

    #[test]
    fn header_name_is_required_for_header_and_refused_elsewhere() {
        assert_eq!(
            field_of(json!({"name": "x", "conditions": [
                {"field": "subject", "operator": "contains", "value": "a"},
                {"field": "subject", "operator": "contains", "value": "b"},
                {"field": "header", "operator": "equals", "value": "1"}
            ]})),
            "conditions[2].header_name"
        );
        assert_eq!(
            field_of(json!({"name": "x", "conditions": [
                {"field": "subject", "header_name": "X-Priority", "operator": "contains", "value": "a"}
            ]})),
            "conditions[0].header_name"
        );
        assert_eq!(
            field_of(json!({"name": "x", "conditions": [
                {"field": "header", "header_name": "X Priority:", "operator": "contains", "value": "a"}
            ]})),
            "conditions[0].header_name"
        );
    }

    #[test]
    fn empty_values_are_refused_for_non_regex_operators() {
        for op in [
            "equals",
            "contains",
            "not_contains",
            "starts_with",
            "ends_with",
        ] {
            let err = new_rule(json!({"name": "x", "conditions": [
                {"field": "subject", "operator": op, "value": "  "}
            ]}))
            .unwrap_err();
            assert_eq!(err.field, "conditions[0].value", "{op}");
        }
        let too_long = "a".repeat(limits::VALUE + 1);
        assert_eq!(
            field_of(json!({"name": "x", "conditions": [
                {"field": "subject", "operator": "contains", "value": too_long}
            ]})),
            "conditions[0].value"
        );
    }

    #[test]
    fn unknown_assignees_and_notify_without_assignee_are_refused() {
        let err = new_rule(
            json!({"name": "x", "actions": {"assignee": {"type": "user", "id": "mallory"}}}),
        )
        .unwrap_err();
        assert_eq!(err.field, "actions.assignee");
        assert!(err.message.contains("mallory"));
        assert_eq!(
            field_of(
                json!({"name": "x", "actions": {"assignee": {"type": "group", "id": "nobody"}}})
            ),
            "actions.assignee"
        );
        assert!(new_rule(
            json!({"name": "x", "actions": {"assignee": {"type": "group", "id": "support"}}})
        )
        .is_ok());
        assert_eq!(
            field_of(json!({"name": "x", "actions": {"notify": true}})),
            "actions.notify"
        );
        let many: Vec<String> = (0..=limits::ADD_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(
            field_of(json!({"name": "x", "actions": {"add_tags": many}})),
            "actions.add_tags"
        );
    }

    #[test]
    fn name_and_condition_count_are_bounded() {
        assert_eq!(field_of(json!({"name": " "})), "name");
        assert_eq!(
            field_of(json!({"name": "n".repeat(limits::NAME + 1)})),
            "name"
        );
        assert!(new_rule(json!({"name": "n".repeat(limits::NAME)})).is_ok());
        assert_eq!(
            field_of(json!({"name": "x", "description": "d".repeat(limits::DESCRIPTION + 1)})),
            "description"
        );
        let c = json!({"field": "subject", "operator": "contains", "value": "a"});
        let fifty = vec![c.clone(); limits::CONDITIONS];
        assert!(new_rule(json!({"name": "x", "conditions": fifty})).is_ok());
        let too_many = vec![c; limits::CONDITIONS + 1];
        assert_eq!(
            field_of(json!({"name": "x", "conditions": too_many})),
            "conditions"
        );
    }

    #[test]
    fn unknown_fields_and_values_are_refused_while_deserializing() {
        for bad in [
            json!({"name": "x", "is_default": true}),
            json!({"name": "x", "match_mode": "some"}),
            json!({"name": "x", "conditions": [{"field": "subject", "operator": "like", "value": "a"}]}),
            json!({"name": "x", "conditions": [{"field": "from", "operator": "equals", "value": "a"}]}),
            json!({"name": "x", "conditions": [{"field": "subject", "operator": "equals", "value": "a", "negate": true}]}),
            json!({"name": "x", "actions": {"status": "open", "close": true}}),
            json!({"name": "x", "actions": {"priority": "critical"}}),
        ] {
            assert!(
                serde_json::from_value::<NewRule>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    // ---- updates and the default rule -------------------------------------------------

    fn update(v: Value) -> RuleUpdate {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn an_update_keeps_identity_and_bumps_the_version() {
        let current = new_rule(json!({"name": "x", "position": 30})).unwrap();
        let later = current.created_at + chrono::Duration::seconds(5);
        let next = update(json!({
            "version": 1, "name": "y", "enabled": false,
            "conditions": [{"field": "to", "operator": "ends_with", "value": "@sales.example.com"}]
        }))
        .validate(&current, later, &exists)
        .unwrap();
        assert_eq!(next.id, current.id);
        assert_eq!(next.created_at, current.created_at);
        assert_eq!(next.updated_at, later);
        assert_eq!(next.version, 2);
        assert_eq!(next.position, 30, "absent position is kept");
        assert!(!next.enabled);
        assert_eq!(next.name, "y");
        let err = update(json!({"version": 1, "name": "y", "actions": {"assignee": {"type": "user", "id": "bob"}}}))
            .validate(&current, later, &exists)
            .unwrap_err();
        assert_eq!(err.field, "actions.assignee");
        assert_eq!(update(json!({"version": 1, "name": "y"})).assignee(), None);
    }

    #[test]
    fn the_default_rule_cannot_be_deleted_disabled_moved_or_given_conditions() {
        let d = default_rule();
        assert!(matches!(
            d.ensure_deletable(),
            Err(DeskError::Conflict {
                code: "default_rule",
                ..
            })
        ));
        assert!(rule("r", 1, MatchMode::All, vec![])
            .ensure_deletable()
            .is_ok());
        assert_eq!(
            d.set_enabled(false, Utc::now()).unwrap_err().field,
            "enabled"
        );
        assert_eq!(d.set_enabled(true, Utc::now()).unwrap().version, d.version);

        let err = |v: Value| {
            update(v)
                .validate(&d, Utc::now(), &exists)
                .unwrap_err()
                .field
        };
        assert_eq!(
            err(json!({"version": 1, "name": "D", "enabled": false})),
            "enabled"
        );
        assert_eq!(
            err(json!({"version": 1, "name": "D",
                       "conditions": [{"field": "subject", "operator": "contains", "value": "a"}]})),
            "conditions"
        );
        assert_eq!(
            err(json!({"version": 1, "name": "D", "position": 1})),
            "position"
        );

        // Its name and actions are editable.
        let next = update(json!({"version": 1, "name": "Fallback", "position": DEFAULT_POSITION,
                                 "actions": {"assignee": {"type": "group", "id": "support"}, "notify": true}}))
            .validate(&d, Utc::now(), &exists)
            .unwrap();
        assert!(next.is_default && next.enabled);
        assert_eq!(next.name, "Fallback");
        assert_eq!(next.position, DEFAULT_POSITION);
        assert_eq!(
            next.actions.notify_target(),
            Some(&Assignee::Group(GroupId::parse("support").unwrap()))
        );
    }

    #[test]
    fn set_enabled_toggles_ordinary_rules() {
        let r = rule("r", 1, MatchMode::All, vec![]);
        let off = r.set_enabled(false, Utc::now()).unwrap();
        assert!(!off.enabled);
        assert_eq!(off.version, 2);
    }

    #[test]
    fn positions_append_and_reorder() {
        let now = Utc::now();
        assert_eq!(next_position(&[default_rule()]), POSITION_STEP);
        let rules = vec![
            default_rule(),
            rule("a", 10, MatchMode::All, vec![]),
            rule("b", 20, MatchMode::All, vec![]),
            rule("c", 35, MatchMode::All, vec![]),
        ];
        assert_eq!(next_position(&rules), 45);

        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let changed = reorder(&rules, &ids(&["c", "a", "b"]), now).unwrap();
        let got: Vec<_> = changed
            .iter()
            .map(|r| (r.id.as_str(), r.position, r.version))
            .collect();
        assert_eq!(got, [("c", 10, 2), ("a", 20, 2), ("b", 30, 2)]);
        assert!(
            reorder(&rules, &ids(&["a", "b", "c"]), now).unwrap().len() == 1,
            "only c moves"
        );

        assert_eq!(
            reorder(&rules, &ids(&["a", "b"]), now).unwrap_err().field,
            "order"
        );
        assert_eq!(
            reorder(&rules, &ids(&["a", "a", "b", "c"]), now)
                .unwrap_err()
                .field,
            "order[1]"
        );
        assert_eq!(
            reorder(&rules, &ids(&["a", "b", "c", "default"]), now)
                .unwrap_err()
                .field,
            "order[3]"
        );
        assert_eq!(
            reorder(&rules, &ids(&["x"]), now).unwrap_err().field,
            "order[0]"
        );
    }

    #[test]
    fn compiled_rules_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<CompiledRules>();
    }

    #[test]
    fn users_and_groups_are_distinct_assignees() {
        let u = Assignee::User(UserId::parse("support").unwrap());
        assert!(!exists(&u));
    }

    // ---- properties -------------------------------------------------------------------

    mod props {
        use super::*;
        use proptest::prelude::*;

        /// A slow, obviously-right reading of one condition.
        fn naive_condition(e: &RuleInput, c: &Condition) -> bool {
            let values: Vec<String> = match c.field {
                ConditionField::Sender => vec![e.sender.as_str().to_string()],
                ConditionField::SenderDomain => vec![domain_of(e.sender.as_str()).to_string()],
                ConditionField::To => e.to.iter().map(|a| a.as_str().to_string()).collect(),
                ConditionField::Cc => e.cc.iter().map(|a| a.as_str().to_string()).collect(),
                ConditionField::Recipients => {
                    e.to.iter()
                        .chain(&e.cc)
                        .map(|a| a.as_str().to_string())
                        .collect()
                }
                ConditionField::Subject => vec![e.subject.clone()],
                ConditionField::Body => vec![e.body.clone()],
                ConditionField::Header => {
                    let name = c
                        .header_name
                        .clone()
                        .unwrap_or_default()
                        .trim()
                        .to_lowercase();
                    e.headers
                        .iter()
                        .filter(|(n, _)| n.trim().to_lowercase() == name)
                        .map(|(_, v)| v.trim().to_string())
                        .collect()
                }
            };
            let fold = |s: &str| {
                if c.case_sensitive {
                    s.to_string()
                } else {
                    s.to_lowercase()
                }
            };
            let needle = fold(&c.value);
            match c.operator {
                Operator::Matches => {
                    let r = build_regex(&c.value, c.case_sensitive).unwrap();
                    values.iter().any(|v| r.is_match(v))
                }
                Operator::Equals => values.iter().any(|v| fold(v) == needle),
                Operator::Contains => values.iter().any(|v| fold(v).contains(&needle)),
                Operator::NotContains => !values.iter().any(|v| fold(v).contains(&needle)),
                Operator::StartsWith => values.iter().any(|v| fold(v).starts_with(&needle)),
                Operator::EndsWith => values.iter().any(|v| fold(v).ends_with(&needle)),
            }
        }

        fn naive(rules: &[Rule], e: &RuleInput) -> String {
            let mut sorted: Vec<&Rule> = rules
                .iter()
                .filter(|r| !r.is_default && r.enabled)
                .collect();
            sorted.sort_by(|a, b| (a.position, &a.id).cmp(&(b.position, &b.id)));
            for r in sorted {
                let compiles = r.conditions.iter().all(|c| {
                    c.operator != Operator::Matches
                        || build_regex(&c.value, c.case_sensitive).is_ok()
                });
                if !compiles {
                    continue;
                }
                let hit = r.conditions.is_empty()
                    || match r.match_mode {
                        MatchMode::All => r.conditions.iter().all(|c| naive_condition(e, c)),
                        MatchMode::Any => r.conditions.iter().any(|c| naive_condition(e, c)),
                    };
                if hit {
                    return r.id.clone();
                }
            }
            "default".to_string()
        }

        fn text() -> impl Strategy<Value = String> {
            prop_oneof!["[aAbBäÄ@. ]{0,8}", any::<String>(),]
        }

        fn address() -> impl Strategy<Value = EmailAddress> {
            prop::sample::select(vec![
                "a@b.example",
                "A.b@Example.com",
                "ä@bä.example",
                "x@a.b.c",
                "b@a.example",
            ])
            .prop_map(|s| EmailAddress::parse(s).unwrap())
        }

        fn header_name() -> impl Strategy<Value = String> {
            prop::sample::select(vec!["X-A", "x-a", " X-B", "Received"]).prop_map(str::to_string)
        }

        fn condition() -> impl Strategy<Value = Condition> {
            let field = prop::sample::select(ConditionField::ALL.to_vec());
            let op = prop::sample::select(Operator::ALL.to_vec());
            let regex =
                prop::sample::select(vec!["a+", "^b", "(?i)Ä", "[", "a{2}", "", "(?-i)A$", "\\d"]);
            (field, op, text(), regex, header_name(), any::<bool>()).prop_map(
                |(field, operator, value, pattern, name, case_sensitive)| Condition {
                    field,
                    header_name: (field == ConditionField::Header).then_some(name),
                    operator,
                    value: if operator == Operator::Matches {
                        pattern.to_string()
                    } else {
                        value
                    },
                    case_sensitive,
                },
            )
        }

        fn rules() -> impl Strategy<Value = Vec<Rule>> {
            let one = (
                0u32..4,
                any::<bool>(),
                any::<bool>(),
                prop::collection::vec(condition(), 0..4),
            );
            (prop::collection::vec(one, 0..8), 0u32..5).prop_map(|(specs, default_position)| {
                let mut rules: Vec<Rule> = specs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (position, enabled, any, conditions))| {
                        let mode = if any { MatchMode::Any } else { MatchMode::All };
                        let mut r = rule(&format!("r{i}"), position, mode, conditions);
                        r.enabled = enabled;
                        r
                    })
                    .collect();
                let mut d = Rule::default_rule("default", Utc::now());
                d.position = default_position;
                rules.insert(rules.len() / 2, d);
                rules
            })
        }

        fn input() -> impl Strategy<Value = RuleInput> {
            (
                address(),
                prop::collection::vec(address(), 0..3),
                prop::collection::vec(address(), 0..3),
                text(),
                text(),
                prop::collection::vec((header_name(), text()), 0..4),
            )
                .prop_map(|(sender, to, cc, subject, body, headers)| RuleInput {
                    sender,
                    to,
                    cc,
                    subject,
                    body,
                    headers,
                })
        }

        proptest! {
            #[test]
            fn evaluation_never_panics_and_picks_the_first_matching_enabled_rule(
                rules in rules(),
                emails in prop::collection::vec(input(), 1..4),
            ) {
                let compiled = CompiledRules::new(&rules);
                for e in &emails {
                    let got = compiled.evaluate(e);
                    prop_assert_eq!(&got.rule_id, &naive(&rules, e));
                    let rule = rules.iter().find(|r| r.id == got.rule_id);
                    prop_assert!(rule.is_some());
                    if let Some(rule) = rule {
                        prop_assert_eq!(got.is_default, rule.is_default);
                        prop_assert!(rule.enabled);
                        prop_assert_eq!(&got.actions, &rule.actions);
                        prop_assert!(got.matched_conditions.iter().all(|&i| i < rule.conditions.len()));
                        if !rule.is_default && !rule.conditions.is_empty() {
                            prop_assert!(!got.matched_conditions.is_empty());
                            if rule.match_mode == MatchMode::All {
                                prop_assert_eq!(got.matched_conditions.len(), rule.conditions.len());
                            }
                        }
                    }
                    let run = compiled.dry_run(e);
                    prop_assert_eq!(&run.evaluation, &got);
                }
            }

            #[test]
            fn validated_conditions_always_compile(c in condition()) {
                if let Ok(valid) = c.validate() {
                    prop_assert!(CompiledCondition::compile(&valid, &mut Vec::new()).is_ok());
                }
            }
        }
    }
}
