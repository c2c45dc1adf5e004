//! Values that parse: newtypes and enums with `parse`/`TryFrom`, so a value that
//! exists is a valid one.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::FieldError;

/// Field length limits, one place, shared by validation and the OpenAPI document.
pub mod limits {
    pub const NAME: usize = 200;
    pub const DESCRIPTION: usize = 10_000;
    pub const NOTE: usize = 20_000;
    pub const TAG: usize = 50;
    pub const TAGS: usize = 20;
    pub const PERSON_NAME: usize = 200;
    pub const PHONE: usize = 40;
    pub const EMAIL: usize = 254;
    pub const ID: usize = 64;
    pub const GROUP_DESCRIPTION: usize = 1_000;
    pub const GROUPS_PER_USER: usize = 50;
    pub const QUERY: usize = 200;
}

/// Implements Serialize via Display and Deserialize via `parse`, so invalid
/// values are refused while deserializing with the type's own message.
macro_rules! string_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                <$ty>::parse(&raw).map_err(|e| serde::de::Error::custom(e.message))
            }
        }
        impl FromStr for $ty {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                <$ty>::parse(s)
            }
        }
    };
}

fn field(message: impl Into<String>) -> FieldError {
    // The field name is filled in by whoever knows it (`FieldError::under` or the edge).
    FieldError::new("value", message)
}

/// An email address: `local@domain`, trimmed, domain lowercased, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(field("must not be empty"));
        }
        if s.len() > limits::EMAIL {
            return Err(field(format!(
                "must be at most {} characters",
                limits::EMAIL
            )));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(field("must be an email address like name@example.com"));
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>(),;:\\\"[]".contains(c));
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if !local_ok || !domain_ok {
            return Err(field("must be an email address like name@example.com"));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-insensitive identity of the address (used for lookups and search).
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(EmailAddress);

/// A human ticket number: 1001, 1002, … Appears in subjects as `[#1001]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketNumber(u64);

impl TicketNumber {
    /// The first number a desk hands out.
    pub const FIRST: u64 = 1001;

    pub fn new(n: u64) -> Result<Self, FieldError> {
        if n == 0 || n > 999_999_999_999 {
            return Err(field("must be a ticket number between 1 and 999999999999"));
        }
        Ok(Self(n))
    }

    /// Parses `1001` or `#1001`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().trim_start_matches('#');
        if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field("must be a ticket number like 1001"));
        }
        let n: u64 = s
            .parse()
            .map_err(|_| field("must be a ticket number like 1001"))?;
        Self::new(n)
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Identifier of a directory entry (user or group): lowercase `[a-z0-9][a-z0-9._-]*`, ≤ 64.
fn parse_slug(raw: &str, what: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    let ok = !s.is_empty()
        && s.len() <= limits::ID
        && s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_' || b == b'-'
        });
    if ok {
        Ok(s.to_string())
    } else {
        Err(field(format!(
            "must be a {what} id: 1-{} characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
            limits::ID
        )))
    }
}

/// Declares a directory id newtype over a slug.
macro_rules! slug_id {
    ($(#[$m:meta])* $name:ident, $what:literal) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                parse_slug(raw, $what).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        string_serde!($name);
    };
}

slug_id!(
    /// A user's id; also the value of the token claim that identifies them.
    UserId,
    "user"
);
slug_id!(
    /// A group's id.
    GroupId,
    "group"
);

/// A tag: trimmed, lowercased, 1-50 characters, no control characters or commas.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(field("a tag must not be empty"));
        }
        if s.chars().count() > limits::TAG {
            return Err(field(format!(
                "a tag must be at most {} characters",
                limits::TAG
            )));
        }
        if s.chars().any(|c| c.is_control() || c == ',') {
            return Err(field("a tag must not contain commas or control characters"));
        }
        Ok(Self(s))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
string_serde!(Tag);

/// A ticket's tags: normalised, no duplicates, first-seen order kept, at most 20.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Tags(Vec<Tag>);

impl Tags {
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, FieldError> {
        let mut tags = Tags::default();
        for (i, r) in raw.iter().enumerate() {
            let tag =
                Tag::parse(r.as_ref()).map_err(|e| FieldError::new(format!("[{i}]"), e.message))?;
            tags.insert(tag);
        }
        tags.check_len()?;
        Ok(tags)
    }

    fn check_len(&self) -> Result<(), FieldError> {
        if self.0.len() > limits::TAGS {
            return Err(field(format!("at most {} tags", limits::TAGS)));
        }
        Ok(())
    }

    pub fn insert(&mut self, tag: Tag) {
        if !self.0.contains(&tag) {
            self.0.push(tag);
        }
    }

    pub fn remove(&mut self, tag: &Tag) {
        self.0.retain(|t| t != tag);
    }

    /// Adds then removes, refusing a result over the limit.
    pub fn edited(&self, add: &[Tag], remove: &[Tag]) -> Result<Tags, FieldError> {
        let mut next = self.clone();
        for t in add {
            next.insert(t.clone());
        }
        for t in remove {
            next.remove(t);
        }
        next.check_len()?;
        Ok(next)
    }

    pub fn contains(&self, tag: &Tag) -> bool {
        self.0.contains(tag)
    }
    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Vec::<String>::deserialize(d)?;
        Tags::parse(&raw)
            .map_err(|e| serde::de::Error::custom(format!("{}: {}", e.field, e.message)))
    }
}

/// Declares a string enum with its wire names, parse and rank.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(raw: &str) -> Result<Self, FieldError> {
                let s = raw.trim().to_ascii_lowercase();
                match s.as_str() {
                    $($wire => Ok($name::$variant),)+
                    _ => Err(field(format!(
                        "must be one of: {}",
                        [$($wire),+].join(", ")
                    ))),
                }
            }

            /// Position in declaration order; used for sorting.
            pub fn rank(self) -> usize {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        string_serde!($name);
    };
}

wire_enum!(
    /// Ticket status; `open` is the default for new tickets.
    Status { Open = "open", Processing = "processing", Waiting = "waiting", Closed = "closed" }
);
wire_enum!(
    /// Ticket priority, lowest first.
    Priority { Low = "low", Medium = "medium", High = "high", Urgent = "urgent" }
);
wire_enum!(
    /// Where a ticket came from.
    Source { Email = "email", Imap = "imap", Manual = "manual" }
);
wire_enum!(
    /// A directory user's role.
    Role { Admin = "admin", Agent = "agent" }
);

impl Default for Status {
    fn default() -> Self {
        Status::Open
    }
}
impl Default for Priority {
    fn default() -> Self {
        Priority::Medium
    }
}

/// Checks a free-text field: trimmed length within `max` characters, no NUL.
pub fn bounded_text(raw: &str, max: usize, allow_empty: bool) -> Result<String, FieldError> {
    let s = raw.trim();
    if !allow_empty && s.is_empty() {
        return Err(field("must not be empty"));
    }
    if s.chars().count() > max {
        return Err(field(format!("must be at most {max} characters")));
    }
    if s.contains('\0') {
        return Err(field("must not contain NUL characters"));
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_normalises_domain_and_refuses_garbage() {
        assert_eq!(
            EmailAddress::parse(" Jo@Example.COM ").unwrap().as_str(),
            "Jo@example.com"
        );
        for bad in [
            "",
            "no-at",
            "a@b",
            "a@.com",
            "a b@x.com",
            "a@x..com",
            "@x.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn ticket_number_parses_with_or_without_hash() {
        assert_eq!(TicketNumber::parse("#1001").unwrap().get(), 1001);
        assert_eq!(TicketNumber::parse("42").unwrap().get(), 42);
        for bad in ["", "0", "-1", "1e3", "abc", "9999999999999"] {
            assert!(TicketNumber::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn tags_are_trimmed_lowercased_and_deduplicated() {
        let tags = Tags::parse(&[" VIP ", "vip", "Billing", "billing "]).unwrap();
        let names: Vec<_> = tags.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["vip", "billing"]);
        assert!(Tags::parse(&[""]).is_err());
        assert!(Tags::parse(&["a,b"]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
    }

    #[test]
    fn enums_parse_case_insensitively_and_name_the_choices() {
        assert_eq!(Status::parse("Waiting").unwrap(), Status::Waiting);
        let err = Priority::parse("critical").unwrap_err();
        assert!(err.message.contains("low, medium, high, urgent"));
        assert!(Priority::Urgent.rank() > Priority::Low.rank());
    }

    #[test]
    fn ids_are_slugs() {
        assert!(UserId::parse("alice").is_ok());
        assert!(UserId::parse("a.b-c_1").is_ok());
        for bad in ["", "Alice", "-x", "a b", "é", &"x".repeat(65)] {
            assert!(UserId::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
