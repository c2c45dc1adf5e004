//! Text modules (canned answers): standard texts administrators write and agents
//! answer with, by id in a reply or inserted into the composer. Their text is
//! Markdown with placeholders (`{{customer.name}}`, `{{ticket.number}}`,
//! `{{agent.name}}`…), filled for the ticket and the agent at the time of use;
//! an unknown placeholder is refused when the module is saved, never at use.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::Caller;
use crate::audit::{diff, AuditAction};
use crate::directory::User;
use crate::error::{DeskError, DeskResult, FieldError};
use crate::service::Desk;
use crate::ticket::Ticket;
use crate::types::{bounded_text, limits, TicketNumber};

/// Longest module text, in characters.
pub const MODULE_TEXT: usize = 20_000;
/// Most modules a desk holds (one small partition, read whole).
pub const MODULES_PER_DESK: usize = 500;

/// What a placeholder may name.
pub const PLACEHOLDERS: &[&str] = &[
    "customer.name",
    "customer.first_name",
    "customer.email",
    "ticket.number",
    "ticket.name",
    "agent.name",
    "agent.first_name",
    "agent.email",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextModule {
    /// `m` + 12 letters and digits.
    pub id: String,
    pub name: String,
    /// Markdown with placeholders.
    pub text: String,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The desk's signature, below every reply after the agent's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct DeskSignature {
    /// Markdown with placeholders; empty: none.
    pub text: String,
    /// 0 until first set.
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// `PUT /settings/signature` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureUpdate {
    /// The version read (0 if never set).
    pub version: u64,
    pub text: String,
}

/// `PUT /me/signature` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnSignature {
    pub text: String,
}

/// Longest signature, in characters.
pub const SIGNATURE_TEXT: usize = 2_000;

/// `POST /text-modules` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTextModule {
    pub name: String,
    pub text: String,
}

/// `PUT /text-modules/{textModuleId}` body: the whole module and the version it was read at.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextModuleUpdate {
    pub version: u64,
    pub name: String,
    pub text: String,
}

/// A module filled for one ticket: what `GET /tickets/{id}/text-modules/{textModuleId}` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilledModule {
    pub id: String,
    pub name: String,
    pub text: String,
}

fn module_name(raw: &str) -> Result<String, FieldError> {
    bounded_text(raw, limits::NAME, false).map_err(|e| FieldError::new("name", e.message))
}

/// Checks a module's (or a signature's) text: bounded, every placeholder known.
pub fn module_text(
    raw: &str,
    field: &str,
    max: usize,
    allow_empty: bool,
) -> Result<String, FieldError> {
    let text =
        bounded_text(raw, max, allow_empty).map_err(|e| FieldError::new(field, e.message))?;
    for name in placeholders(&text) {
        if !PLACEHOLDERS.contains(&name) {
            return Err(FieldError::new(
                field,
                format!(
                    "unknown placeholder {{{{{name}}}}}; known: {}",
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{{{p}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(text)
}

/// The names inside `{{ … }}` in `text`, in order.
fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push(after[..end].trim());
        rest = &after[end + 2..];
    }
    out
}

/// The values placeholders are filled with.
#[derive(Debug, Clone)]
pub struct Values {
    pub customer_name: String,
    pub customer_email: String,
    pub ticket_number: TicketNumber,
    pub ticket_name: String,
    pub agent_name: String,
    pub agent_email: String,
}

impl Values {
    pub fn new(ticket: &Ticket, agent: &User) -> Self {
        Self {
            customer_name: ticket.customer.name.clone(),
            customer_email: ticket.customer.email.to_string(),
            ticket_number: ticket.number,
            ticket_name: ticket.name.clone(),
            agent_name: agent.name.clone(),
            agent_email: agent.email.to_string(),
        }
    }

    /// For mail the desk sends by itself (acknowledgements): the agent is the desk.
    pub fn for_desk(ticket: &Ticket, desk: &crate::types::EmailAddress) -> Self {
        Self {
            customer_name: ticket.customer.name.clone(),
            customer_email: ticket.customer.email.to_string(),
            ticket_number: ticket.number,
            ticket_name: ticket.name.clone(),
            agent_name: desk.to_string(),
            agent_email: desk.to_string(),
        }
    }

    fn value(&self, name: &str) -> Option<String> {
        fn first(name: &str) -> String {
            name.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        }
        // A customer known only by address is greeted by it.
        let customer = if self.customer_name.trim().is_empty() {
            self.customer_email.clone()
        } else {
            self.customer_name.clone()
        };
        Some(match name {
            "customer.name" => customer,
            "customer.first_name" => first(&customer),
            "customer.email" => self.customer_email.clone(),
            "ticket.number" => self.ticket_number.to_string(),
            "ticket.name" => self.ticket_name.clone(),
            "agent.name" => self.agent_name.clone(),
            "agent.first_name" => first(&self.agent_name),
            "agent.email" => self.agent_email.clone(),
            _ => return None,
        })
    }
}

/// `text` with every known placeholder replaced; anything else left as written.
pub fn fill(text: &str, values: &Values) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        match values.value(after[..end].trim()) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Module ids are `m` + 12 lowercase letters or digits; anything else cannot exist.
fn well_formed(id: &str) -> bool {
    id.len() == 13
        && id.starts_with('m')
        && id[1..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl Desk {
    /// Every module, by name. Agents and administrators. 1 Query.
    pub async fn text_modules(&self, caller: &Caller) -> DeskResult<Vec<TextModule>> {
        let _ = caller;
        let mut all = self.text_modules.list_text_modules().await?;
        all.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        Ok(all)
    }

    /// One module. 1 GetItem.
    pub async fn text_module(&self, caller: &Caller, id: &str) -> DeskResult<TextModule> {
        let _ = caller;
        if !well_formed(id) {
            return Err(DeskError::NotFound {
                what: "text_module",
            });
        }
        self.text_modules
            .get_text_module(id)
            .await?
            .ok_or(DeskError::NotFound {
                what: "text_module",
            })
    }

    /// Administrators only.
    pub async fn create_text_module(
        &self,
        caller: &Caller,
        input: NewTextModule,
    ) -> DeskResult<TextModule> {
        caller.require_admin()?;
        let name = module_name(&input.name)?;
        let text = module_text(&input.text, "text", MODULE_TEXT, false)?;
        if self.text_modules.list_text_modules().await?.len() >= MODULES_PER_DESK {
            return Err(DeskError::Conflict {
                code: "too_many_text_modules",
                message: format!("a desk holds at most {MODULES_PER_DESK} text modules"),
            });
        }
        let now = self.clock.now();
        let module = TextModule {
            id: format!("m{}", self.random.id(12)),
            name,
            text,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        self.text_modules.create_text_module(&module).await?;
        self.audit(
            caller,
            AuditAction::TextModuleCreated,
            &module.id,
            diff(None, Some(&module)),
        )
        .await?;
        Ok(module)
    }

    /// Administrators only; `VersionConflict` if someone saved it since `input.version`.
    pub async fn update_text_module(
        &self,
        caller: &Caller,
        id: &str,
        input: TextModuleUpdate,
    ) -> DeskResult<TextModule> {
        caller.require_admin()?;
        let current = self.text_module(caller, id).await?;
        if input.version != current.version {
            return Err(DeskError::VersionConflict {
                current: current.version,
            });
        }
        let next = TextModule {
            name: module_name(&input.name)?,
            text: module_text(&input.text, "text", MODULE_TEXT, false)?,
            version: current.version + 1,
            updated_at: self.clock.now(),
            ..current.clone()
        };
        self.text_modules
            .replace_text_module(&next, current.version)
            .await?;
        self.audit(
            caller,
            AuditAction::TextModuleUpdated,
            id,
            diff(Some(&current), Some(&next)),
        )
        .await?;
        Ok(next)
    }

    /// Administrators only.
    pub async fn delete_text_module(&self, caller: &Caller, id: &str) -> DeskResult<()> {
        caller.require_admin()?;
        let current = if well_formed(id) {
            self.text_modules.get_text_module(id).await?
        } else {
            None
        };
        if current.is_some() && self.text_modules.delete_text_module(id).await? {
            self.audit(
                caller,
                AuditAction::TextModuleDeleted,
                id,
                diff(current.as_ref(), None),
            )
            .await
        } else {
            Err(DeskError::NotFound {
                what: "text_module",
            })
        }
    }

    /// The desk's signature. Everyone reads it. 1 GetItem.
    pub async fn desk_signature(&self, caller: &Caller) -> DeskResult<DeskSignature> {
        let _ = caller;
        self.text_modules.desk_signature().await
    }

    /// Administrators only; `VersionConflict` if someone saved it since `input.version`.
    pub async fn set_desk_signature(
        &self,
        caller: &Caller,
        input: SignatureUpdate,
    ) -> DeskResult<DeskSignature> {
        caller.require_admin()?;
        let next = DeskSignature {
            text: module_text(&input.text, "text", SIGNATURE_TEXT, true)?,
            version: input.version + 1,
            updated_at: Some(self.clock.now()),
        };
        let current = self.text_modules.desk_signature().await?;
        self.text_modules
            .set_desk_signature(&next, input.version)
            .await?;
        self.audit(
            caller,
            AuditAction::SignatureUpdated,
            "desk",
            diff(Some(&current), Some(&next)),
        )
        .await?;
        Ok(next)
    }

    /// The caller's own signature, below their replies. 1 GetItem + 1 PutItem.
    pub async fn set_own_signature(
        &self,
        caller: &Caller,
        input: OwnSignature,
    ) -> DeskResult<User> {
        let text = module_text(&input.text, "text", SIGNATURE_TEXT, true)?;
        let mut user = self
            .directory
            .get_user(caller.id())
            .await?
            .ok_or(DeskError::NotFound { what: "user" })?;
        user.signature = text;
        user.updated_at = self.clock.now();
        self.directory.replace_user(&user).await?;
        Ok(user)
    }

    /// A module filled for a ticket the caller may see, as the caller would send it.
    pub async fn filled_text_module(
        &self,
        caller: &Caller,
        number: TicketNumber,
        id: &str,
    ) -> DeskResult<FilledModule> {
        let (ticket, module) =
            futures::try_join!(self.ticket(caller, number), self.text_module(caller, id))?;
        Ok(FilledModule {
            text: fill(&module.text, &Values::new(&ticket, &caller.user)),
            id: module.id,
            name: module.name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            customer_name: "Ann Lee".into(),
            customer_email: "ann@example.org".into(),
            ticket_number: TicketNumber::new(1042).unwrap(),
            ticket_name: "Printer jams".into(),
            agent_name: "Alice Agent".into(),
            agent_email: "alice@desk.example".into(),
        }
    }

    #[test]
    fn placeholders_are_filled_with_the_ticket_and_the_agent() {
        let text = "Hello {{customer.first_name}},\nabout [#{{ ticket.number }}] {{ticket.name}}: \
                    …\n{{agent.name}} ({{agent.first_name}}, {{agent.email}}) for {{customer.name}} <{{customer.email}}>";
        assert_eq!(
            fill(text, &values()),
            "Hello Ann,\nabout [#1042] Printer jams: …\nAlice Agent (Alice, alice@desk.example) \
             for Ann Lee <ann@example.org>"
        );
    }

    #[test]
    fn a_customer_without_a_name_is_greeted_by_address() {
        let v = Values {
            customer_name: " ".into(),
            ..values()
        };
        assert_eq!(
            fill("Hi {{customer.first_name}}!", &v),
            "Hi ann@example.org!"
        );
    }

    #[test]
    fn unknown_or_unclosed_placeholders_stay_as_written() {
        assert_eq!(
            fill("{{nope}} and {{ticket.number", &values()),
            "{{nope}} and {{ticket.number"
        );
    }

    #[test]
    fn saving_refuses_unknown_placeholders_and_names_them() {
        let e = module_text("Hi {{customer.nmae}}", "text", MODULE_TEXT, false).unwrap_err();
        assert_eq!(e.field, "text");
        assert!(e.message.contains("{{customer.nmae}}"), "{}", e.message);
        assert!(module_text("Hi {{customer.name}}", "text", MODULE_TEXT, false).is_ok());
    }

    #[test]
    fn module_ids_have_one_shape() {
        assert!(well_formed("mabc123def456"));
        assert!(!well_formed("rabc123def456"));
        assert!(!well_formed("m../../etc"));
    }
}
