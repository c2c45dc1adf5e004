//! The IMAP poller (SPEC §3, the alternative source). Each run polls every
//! enabled mailbox:
//!
//! 1. log in (implicit TLS, or plain TCP where the deployment allows it), SELECT
//!    the folder, note its UIDVALIDITY;
//! 2. `UID SEARCH UNDELETED UNKEYWORD $DeskProcessed`: the messages not yet
//!    processed, oldest first, at most `max_per_poll`;
//! 3. per message: `UID FETCH BODY.PEEK[]` (never sets `\Seen`), keep the raw
//!    in S3 (`imap/<mailbox>/<uidvalidity>/<uid>`), ingest it as delivery
//!    `imap:<mailbox>:<uidvalidity>:<uid>`, and only once ingest returned
//!    (the ticket write committed, or it had committed before) set the
//!    `$DeskProcessed` keyword on the message;
//! 4. record the poll's time, error and count on the mailbox.
//!
//! Why a keyword rather than "last UID seen": a message whose ingest fails stays
//! unmarked and is retried on the next poll while later ones go through, and the
//! mark lives with the message (moving the folder or restoring it from a backup
//! needs no bookkeeping). Crashing between the commit and the mark is harmless:
//! the delivery id (UIDVALIDITY + UID) is recorded with a conditional write, so a
//! re-fetch is a `Duplicate` that is then marked. Two pollers racing are safe for
//! the same reason.

use std::sync::Arc;
use std::time::Duration;

use async_imap::types::Flag;
use desk_domain::mailbox::{Mailbox, PollStatus};
use desk_domain::message::RawMailStore;
use desk_domain::{Desk, DeskError, Source};
use desk_ingest::{Delivery, Ingest, Outcome};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The keyword that marks a message the desk has recorded.
pub const PROCESSED: &str = "$DeskProcessed";

/// Mailboxes polled at the same time.
const CONCURRENCY: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("TLS client: {0}")]
    Tls(String),
}

/// The poller's settings (read from `INBOUND_BUCKET`, `IMAP_MAX_PER_POLL`,
/// `IMAP_TIMEOUT_SECONDS`, `IMAP_ALLOW_PLAINTEXT` by `functions/poller`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollerConfig {
    /// Where raw messages are kept (the inbound mail bucket).
    pub bucket: String,
    /// Messages taken from one mailbox per poll; the rest wait for the next one.
    pub max_per_poll: usize,
    /// One mailbox's whole poll (connect, login, fetch, ingest) must fit in this.
    pub timeout: Duration,
    /// Whether mailboxes with `tls: false` may be polled (local stacks and tests
    /// only; the cloud template leaves it off, so passwords never cross a network
    /// in clear).
    pub allow_plaintext: bool,
}

/// Why a mailbox could not be polled (recorded on the mailbox; never holds the password).
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("no password is stored for this mailbox; set one with PUT /mailboxes/{{id}}")]
    NoPassword,
    #[error("plain-text IMAP is disabled in this deployment; enable tls")]
    PlaintextRefused,
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("login refused: {0}")]
    Login(String),
    #[error("cannot open folder {folder:?}: {message}")]
    Select { folder: String, message: String },
    #[error("the server does not allow the {PROCESSED} keyword on this folder")]
    KeywordsNotAllowed,
    #[error("the server reported no UIDVALIDITY")]
    NoUidValidity,
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("timed out after {0} s")]
    Timeout(u64),
    #[error("{0}")]
    Storage(String),
}

impl From<async_imap::error::Error> for PollError {
    fn from(e: async_imap::error::Error) -> Self {
        PollError::Imap(e.to_string())
    }
}

impl From<DeskError> for PollError {
    fn from(e: DeskError) -> Self {
        PollError::Storage(e.to_string())
    }
}

/// One mailbox's poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MailboxReport {
    pub mailbox: String,
    /// Unprocessed messages fetched.
    pub fetched: usize,
    /// New tickets and replies recorded.
    pub ingested: usize,
    /// Recorded before (a re-fetch after a crash or a racing poller), now marked.
    pub duplicates: usize,
    /// Left unmarked, retried by the next poll.
    pub failed: usize,
    pub error: Option<String>,
}

/// Anything async-imap can run over: TCP or TLS over TCP.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Transport for T {}

type Session = async_imap::Session<Box<dyn Transport>>;

pub struct Poller {
    desk: Desk,
    ingest: Ingest,
    raw: Arc<dyn RawMailStore>,
    config: PollerConfig,
    tls: tokio_rustls::TlsConnector,
}

fn tls_connector() -> Result<tokio_rustls::TlsConnector, ConfigError> {
    use tokio_rustls::rustls;
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // An explicit provider: the process may link more than one.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ConfigError::Tls(e.to_string()))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

impl Poller {
    pub fn new(
        desk: Desk,
        ingest: Ingest,
        raw: Arc<dyn RawMailStore>,
        config: PollerConfig,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            desk,
            ingest,
            raw,
            config,
            tls: tls_connector()?,
        })
    }

    /// Polls every enabled mailbox once. Fails only when the mailbox list cannot be read.
    pub async fn poll_all(&self) -> Result<Vec<MailboxReport>, DeskError> {
        let mailboxes = self.desk.enabled_mailboxes().await?;
        let reports: Vec<MailboxReport> = futures::stream::iter(mailboxes)
            .map(|m| async move { self.poll_and_record(&m).await })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        Ok(reports)
    }

    /// Polls one mailbox and records the outcome on it.
    pub async fn poll_and_record(&self, mailbox: &Mailbox) -> MailboxReport {
        let secs = self.config.timeout.as_secs();
        let mut report = MailboxReport {
            mailbox: mailbox.id.clone(),
            ..MailboxReport::default()
        };
        let outcome = tokio::time::timeout(self.config.timeout, self.poll(mailbox, &mut report))
            .await
            .unwrap_or(Err(PollError::Timeout(secs)));
        if let Err(e) = outcome {
            report.error = Some(e.to_string());
        } else if report.failed > 0 {
            report.error = Some(format!(
                "{} of {} message(s) could not be ingested and will be retried",
                report.failed, report.fetched
            ));
        }
        match &report.error {
            None => {
                tracing::info!(mailbox = %mailbox.id, fetched = report.fetched, ingested = report.ingested, duplicates = report.duplicates, "mailbox polled")
            }
            Some(e) => {
                tracing::warn!(mailbox = %mailbox.id, host = %mailbox.host, error = %e, fetched = report.fetched, failed = report.failed, "mailbox poll failed")
            }
        }
        let status = PollStatus::new(
            self.desk.clock.now(),
            report.error.clone(),
            u32::try_from(report.ingested).unwrap_or(u32::MAX),
        );
        if let Err(e) = self.desk.mailboxes.record_poll(&mailbox.id, &status).await {
            tracing::warn!(mailbox = %mailbox.id, error = %e, "could not record the poll status");
        }
        report
    }

    async fn connect(&self, mailbox: &Mailbox) -> Result<Box<dyn Transport>, PollError> {
        if !mailbox.tls && !self.config.allow_plaintext {
            return Err(PollError::PlaintextRefused);
        }
        let target = format!("{}:{}", mailbox.host, mailbox.port);
        let tcp = TcpStream::connect((mailbox.host.as_str(), mailbox.port))
            .await
            .map_err(|e| PollError::Connect(format!("{target}: {e}")))?;
        if !mailbox.tls {
            return Ok(Box::new(tcp));
        }
        let name = tokio_rustls::rustls::pki_types::ServerName::try_from(mailbox.host.clone())
            .map_err(|e| PollError::Tls(format!("{}: {e}", mailbox.host)))?;
        let stream = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| PollError::Tls(e.to_string()))?;
        Ok(Box::new(stream))
    }

    async fn login(&self, mailbox: &Mailbox) -> Result<Session, PollError> {
        let password = self
            .desk
            .mailbox_password(mailbox)
            .await?
            .ok_or(PollError::NoPassword)?;
        let mut client = async_imap::Client::new(self.connect(mailbox).await?);
        client
            .read_response()
            .await
            .map_err(|e| PollError::Imap(format!("greeting: {e}")))?
            .ok_or_else(|| PollError::Imap("the server closed the connection".into()))?;
        client
            .login(&mailbox.user, password.expose())
            .await
            .map_err(|(e, _)| PollError::Login(e.to_string()))
    }

    async fn poll(&self, mailbox: &Mailbox, report: &mut MailboxReport) -> Result<(), PollError> {
        let mut session = self.login(mailbox).await?;
        let selected = session
            .select(&mailbox.folder)
            .await
            .map_err(|e| PollError::Select {
                folder: mailbox.folder.clone(),
                message: e.to_string(),
            })?;
        let validity = selected.uid_validity.ok_or(PollError::NoUidValidity)?;
        let keyword_ok = selected.permanent_flags.iter().any(|f| match f {
            Flag::MayCreate => true,
            Flag::Custom(k) => k.eq_ignore_ascii_case(PROCESSED),
            _ => false,
        });
        if !keyword_ok {
            return Err(PollError::KeywordsNotAllowed);
        }
        let mut uids: Vec<u32> = session
            .uid_search(format!("UNDELETED UNKEYWORD {PROCESSED}"))
            .await?
            .into_iter()
            .collect();
        uids.sort_unstable();
        uids.truncate(self.config.max_per_poll);
        for uid in uids {
            let raw = fetch(&mut session, uid).await?;
            let Some(raw) = raw else {
                // Expunged meanwhile: nothing to do.
                continue;
            };
            report.fetched += 1;
            match self.deliver(mailbox, validity, uid, &raw).await {
                Ok(outcome) => {
                    // Only now is the message marked: its ticket write has committed.
                    session
                        .uid_store(uid.to_string(), format!("+FLAGS.SILENT ({PROCESSED})"))
                        .await?
                        .try_collect::<Vec<_>>()
                        .await?;
                    match outcome {
                        Outcome::Duplicate => report.duplicates += 1,
                        _ => report.ingested += 1,
                    }
                }
                Err(e) => {
                    report.failed += 1;
                    tracing::warn!(mailbox = %mailbox.id, uid, error = %e, "message not ingested; left unmarked for the next poll");
                }
            }
        }
        // The work is done and recorded; a failed goodbye changes nothing.
        if let Err(e) = session.logout().await {
            tracing::debug!(mailbox = %mailbox.id, error = %e, "logout failed");
        }
        Ok(())
    }

    /// Keeps the raw message, then ingests it: exactly once on the delivery id.
    async fn deliver(
        &self,
        mailbox: &Mailbox,
        validity: u32,
        uid: u32,
        raw: &[u8],
    ) -> Result<Outcome, DeskError> {
        let key = raw_key(&mailbox.id, validity, uid);
        let location = format!("s3://{}/{key}", self.config.bucket);
        self.raw
            .put(&location, raw.to_vec(), "message/rfc822")
            .await?;
        let delivery = Delivery {
            id: delivery_id(&mailbox.id, validity, uid),
            raw_key: location,
            envelope: vec![],
            source: Source::Imap,
        };
        let outcome = self.ingest.ingest(&delivery, raw).await?;
        tracing::info!(mailbox = %mailbox.id, delivery = %delivery.id, outcome = ?outcome, "ingested");
        Ok(outcome)
    }
}

async fn fetch(session: &mut Session, uid: u32) -> Result<Option<Vec<u8>>, PollError> {
    let fetches: Vec<_> = session
        .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
        .await?
        .try_collect()
        .await?;
    Ok(fetches
        .iter()
        .find(|f| f.uid == Some(uid))
        .and_then(|f| f.body())
        .map(<[u8]>::to_vec))
}

/// The delivery's identity: a UID names one message only within its UIDVALIDITY.
pub fn delivery_id(mailbox: &str, validity: u32, uid: u32) -> String {
    format!("imap:{mailbox}:{validity}:{uid}")
}

/// Where the raw message is kept in the inbound bucket.
pub fn raw_key(mailbox: &str, validity: u32, uid: u32) -> String {
    format!("imap/{mailbox}/{validity}/{uid}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_include_uidvalidity() {
        assert_eq!(delivery_id("mbx", 7, 42), "imap:mbx:7:42");
        assert_eq!(raw_key("mbx", 7, 42), "imap/mbx/7/42");
        assert_ne!(delivery_id("mbx", 7, 42), delivery_id("mbx", 8, 42));
    }
}
