//! Who may see and do what. Enforced here, in the domain, for every operation;
//! storage queries are narrowed by the same scope, and results are checked again.

use crate::directory::User;
use crate::error::{DeskError, DeskResult};
use crate::ticket::{Assignee, Ticket, UNASSIGNED_KEY};
use crate::types::{GroupId, Role, UserId};

/// The authenticated user behind a request, as the directory knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user: User,
}

/// The tickets a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Administrators: every ticket.
    All,
    /// Agents: tickets whose assignee key is one of these (`user:me`, `group:g`…, `none`).
    Assignees(Vec<String>),
}

impl Scope {
    pub fn allows_key(&self, key: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Assignees(keys) => keys.iter().any(|k| k == key),
        }
    }
}

impl Caller {
    pub fn new(user: User) -> DeskResult<Self> {
        if !user.active {
            return Err(DeskError::Forbidden("this user is deactivated".into()));
        }
        Ok(Self { user })
    }

    pub fn id(&self) -> &UserId {
        &self.user.id
    }

    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }

    pub fn in_group(&self, g: &GroupId) -> bool {
        self.user.groups.contains(g)
    }

    pub fn scope(&self) -> Scope {
        if self.is_admin() {
            return Scope::All;
        }
        let mut keys = vec![
            Assignee::User(self.user.id.clone()).key(),
            UNASSIGNED_KEY.to_string(),
        ];
        keys.extend(
            self.user
                .groups
                .iter()
                .map(|g| Assignee::Group(g.clone()).key()),
        );
        Scope::Assignees(keys)
    }

    /// Agents see tickets assigned to them, to one of their groups, or to no one.
    pub fn can_see(&self, ticket: &Ticket) -> bool {
        match &ticket.assignee {
            _ if self.is_admin() => true,
            None => true,
            Some(Assignee::User(u)) => *u == self.user.id,
            Some(Assignee::Group(g)) => self.in_group(g),
        }
    }

    /// Hidden tickets are reported as missing, so their existence does not leak.
    pub fn check_can_see(&self, ticket: &Ticket) -> DeskResult<()> {
        if self.can_see(ticket) {
            Ok(())
        } else {
            Err(DeskError::NotFound { what: "ticket" })
        }
    }

    pub fn require_admin(&self) -> DeskResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(DeskError::Forbidden(
                "only administrators may do this".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::{Customer, Ticket};
    use crate::types::*;
    use chrono::Utc;

    fn user(id: &str, role: Role, groups: &[&str]) -> Caller {
        Caller::new(User {
            id: UserId::parse(id).unwrap(),
            name: id.into(),
            email: EmailAddress::parse(&format!("{id}@desk.example")).unwrap(),
            role,
            groups: groups.iter().map(|g| GroupId::parse(g).unwrap()).collect(),
            active: true,
            signature: String::new(),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        })
        .unwrap()
    }

    fn ticket(assignee: Option<Assignee>) -> Ticket {
        Ticket {
            number: TicketNumber::new(1001).unwrap(),
            name: "n".into(),
            description: String::new(),
            status: Status::Open,
            priority: Priority::Medium,
            assignee,
            tags: Tags::default(),
            customer: Customer {
                name: String::new(),
                email: EmailAddress::parse("c@example.com").unwrap(),
                phone: String::new(),
            },
            source: Source::Manual,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            closed_at: None,
            version: 1,
            merged_into: None,
            merged: Vec::new(),
            participants: Vec::new(),
        }
    }

    #[test]
    fn agent_sees_own_group_and_unassigned_only() {
        let alice = user("alice", Role::Agent, &["support"]);
        let u = |s: &str| Some(Assignee::User(UserId::parse(s).unwrap()));
        let g = |s: &str| Some(Assignee::Group(GroupId::parse(s).unwrap()));
        assert!(alice.can_see(&ticket(None)));
        assert!(alice.can_see(&ticket(u("alice"))));
        assert!(alice.can_see(&ticket(g("support"))));
        assert!(!alice.can_see(&ticket(u("bob"))));
        assert!(!alice.can_see(&ticket(g("billing"))));
        assert!(matches!(
            alice.check_can_see(&ticket(u("bob"))),
            Err(DeskError::NotFound { .. })
        ));
        assert!(alice.require_admin().is_err());
    }

    #[test]
    fn scope_matches_can_see() {
        let alice = user("alice", Role::Agent, &["support", "vip"]);
        let scope = alice.scope();
        for a in [
            None,
            Some(Assignee::User(UserId::parse("alice").unwrap())),
            Some(Assignee::User(UserId::parse("bob").unwrap())),
            Some(Assignee::Group(GroupId::parse("vip").unwrap())),
            Some(Assignee::Group(GroupId::parse("billing").unwrap())),
        ] {
            let t = ticket(a.clone());
            assert_eq!(
                scope.allows_key(&Assignee::key_of(&a)),
                alice.can_see(&t),
                "{a:?}"
            );
        }
    }

    #[test]
    fn admin_sees_everything_and_inactive_users_are_refused() {
        let admin = user("root", Role::Admin, &[]);
        assert_eq!(admin.scope(), Scope::All);
        assert!(admin.can_see(&ticket(Some(Assignee::User(UserId::parse("bob").unwrap())))));
        let mut u = admin.user.clone();
        u.active = false;
        assert!(Caller::new(u).is_err());
    }
}
