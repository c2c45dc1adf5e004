//! Rules administration (administrators only): list, create, edit with optimistic
//! concurrency, delete, and the dry run. Invalid rules are refused here, when
//! saved, never at ingest.

use std::collections::HashMap;

use crate::access::Caller;
use crate::audit::{diff, AuditAction};
use crate::error::{DeskError, DeskResult};
use crate::rules::{
    next_position, Actions, CompiledRules, DryRun, NewRule, Rule, RuleInput, RuleUpdate,
};
use crate::service::Desk;
use crate::ticket::Assignee;

/// Id of the default rule every desk has.
pub const DEFAULT_RULE_ID: &str = "default";

impl Desk {
    /// Whether `assignee` exists (looked up before the synchronous validation).
    async fn assignee_exists(
        &self,
        assignee: Option<&Assignee>,
    ) -> DeskResult<HashMap<Assignee, bool>> {
        let mut known = HashMap::new();
        if let Some(a) = assignee {
            let exists = match a {
                Assignee::User(u) => self.directory.get_user(u).await?.is_some_and(|u| u.active),
                Assignee::Group(g) => self.directory.get_group(g).await?.is_some(),
            };
            known.insert(a.clone(), exists);
        }
        Ok(known)
    }

    /// An acknowledgement must name an existing text module (checked when the rule
    /// is saved, so ingest never meets a missing one it could have refused).
    async fn acknowledgement_exists(&self, caller: &Caller, actions: &Actions) -> DeskResult<()> {
        match &actions.acknowledge {
            Some(id) => {
                self.text_module(caller, id).await.map(|_| ()).map_err(|e| {
                    e.named_in("actions.acknowledge", format!("no text module {id:?}"))
                })
            }
            None => Ok(()),
        }
    }

    /// Every rule, ordered as they run; the default rule is created on first use.
    pub async fn rules(&self, caller: &Caller) -> DeskResult<Vec<Rule>> {
        caller.require_admin()?;
        self.all_rules().await
    }

    /// The rules as ingest sees them (no permission check: the system reads them).
    pub async fn all_rules(&self) -> DeskResult<Vec<Rule>> {
        let mut rules = self.rules.list_rules().await?;
        if !rules.iter().any(|r| r.is_default) {
            let default = Rule::default_rule(DEFAULT_RULE_ID, self.clock.now());
            match self.rules.create_rule(&default).await {
                Ok(()) | Err(DeskError::AlreadyExists { .. }) => {}
                Err(e) => return Err(e),
            }
            if let Some(stored) = self.rules.get_rule(DEFAULT_RULE_ID).await? {
                rules.push(stored);
            }
        }
        // As they run: by position, the default rule always last.
        rules.sort_by(|a, b| {
            (a.is_default, a.position, &a.id).cmp(&(b.is_default, b.position, &b.id))
        });
        Ok(rules)
    }

    pub async fn rule(&self, caller: &Caller, id: &str) -> DeskResult<Rule> {
        caller.require_admin()?;
        // Ids are `default` or `r` + 12 letters/digits; anything else cannot exist.
        let well_formed = id == DEFAULT_RULE_ID
            || (id.len() == 13
                && id.starts_with('r')
                && id[1..]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !well_formed {
            return Err(DeskError::NotFound { what: "rule" });
        }
        if id == DEFAULT_RULE_ID {
            self.all_rules().await?;
        }
        self.rules
            .get_rule(id)
            .await?
            .ok_or(DeskError::NotFound { what: "rule" })
    }

    pub async fn create_rule(&self, caller: &Caller, input: NewRule) -> DeskResult<Rule> {
        caller.require_admin()?;
        self.acknowledgement_exists(caller, &input.actions).await?;
        let known = self.assignee_exists(input.assignee()).await?;
        let existing = self.all_rules().await?;
        let id = format!("r{}", self.random.id(12));
        let rule = input.validate(id, next_position(&existing), self.clock.now(), &|a| {
            known.get(a).copied().unwrap_or(false)
        })?;
        self.rules.create_rule(&rule).await?;
        self.audit(
            caller,
            AuditAction::RuleCreated,
            &rule.id,
            diff(None, Some(&rule)),
        )
        .await?;
        Ok(rule)
    }

    pub async fn update_rule(
        &self,
        caller: &Caller,
        id: &str,
        input: RuleUpdate,
    ) -> DeskResult<Rule> {
        let current = self.rule(caller, id).await?;
        if input.version != current.version {
            return Err(DeskError::VersionConflict {
                current: current.version,
            });
        }
        self.acknowledgement_exists(caller, &input.actions).await?;
        let known = self.assignee_exists(input.assignee()).await?;
        let next = input.validate(&current, self.clock.now(), &|a| {
            known.get(a).copied().unwrap_or(false)
        })?;
        self.rules.replace_rule(&next, current.version).await?;
        self.audit(
            caller,
            AuditAction::RuleUpdated,
            id,
            diff(Some(&current), Some(&next)),
        )
        .await?;
        Ok(next)
    }

    pub async fn delete_rule(&self, caller: &Caller, id: &str) -> DeskResult<()> {
        let current = self.rule(caller, id).await?;
        current.ensure_deletable()?;
        if self.rules.delete_rule(id).await? {
            self.audit(
                caller,
                AuditAction::RuleDeleted,
                id,
                diff(Some(&current), None),
            )
            .await
        } else {
            Err(DeskError::NotFound { what: "rule" })
        }
    }

    /// Which rule `email` would hit, what it would do, and why earlier rules did not match.
    pub async fn dry_run(&self, caller: &Caller, email: &RuleInput) -> DeskResult<DryRun> {
        caller.require_admin()?;
        let rules = self.all_rules().await?;
        Ok(CompiledRules::new(&rules).dry_run(email))
    }
}
