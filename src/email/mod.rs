//! Outgoing email. iamd has no mail relay: every email it would send is written as an
//! RFC 5322 message (`<data_dir>/outbox/<id>.eml`, see `outbox`) for an operator's mail
//! transfer agent to pick up, and recorded in the account's notification log.
//!
//! The log is readable by every admin of the account, so its `message` is the email's text
//! with the secrets (acceptance tokens, generated passwords) blanked out; only the `.eml`
//! holds them.

use crate::error::ApiResult;
use crate::ids::Id;
use crate::state::AppState;
use crate::store::notifications::NotificationRecord;
use crate::store::Written;
use base64::Engine;

pub mod outbox;

/// What stands in for a secret in the notification log.
pub const HIDDEN: &str = "[hidden]";

pub struct Email {
    pub to: String,
    pub subject: String,
    /// Plain text; lines separated by `\n`.
    pub body: String,
    /// Parts of `body` that must appear only in the `.eml`.
    pub secrets: Vec<String>,
}

impl Email {
    /// The body as the notification log keeps it.
    pub fn redacted_body(&self) -> String {
        let mut text = self.body.clone();
        for secret in self.secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret.as_str(), HIDDEN);
        }
        text
    }
}

/// What cannot be delivered is still logged, with this error.
const NOT_QUEUED: &str = "The message could not be queued for delivery.";
/// The error of an email the server stopped before finishing (see `recover`).
const NOT_FINISHED: &str =
    "The message was not queued for delivery: the server stopped before it was written.";

/// An email ready to go: its log entry, marked sent if its file is on the way, and the file
/// under its temporary name (see `outbox`). The entry and the `.eml` file share the id.
pub struct Outgoing {
    pub entry: NotificationRecord,
    file: Option<outbox::Prepared>,
}

/// Renders `email` for `account` and writes it to the outbox under a temporary name, before
/// anything logs it: a server that stops before the file is final leaves it behind, and the
/// next start corrects the entry (see `recover`). Dropped unsent, the file goes.
pub fn compose(state: &AppState, account: &Id, email: &Email) -> Outgoing {
    let id = Id::new();
    let now = crate::clock::now_millis();
    let domain = mail_domain(&state.config.public_host());
    let message = render(email, &id, account, &domain, now);
    let file = state
        .outbox
        .prepare(&id, account, message.as_bytes())
        .map_err(|e| log::error!("cannot write email {} to the outbox: {e}", id.hex()))
        .ok();
    Outgoing {
        entry: NotificationRecord {
            id,
            account_id: *account,
            receiver: email.to.clone(),
            subject: email.subject.clone(),
            message: email.redacted_body(),
            success: file.is_some(),
            error_msg: file.is_none().then(|| NOT_QUEUED.to_string()),
            kind: "email".into(),
            created_at: now,
        },
        file,
    }
}

/// At start, before any email is written: emails a stopped server left unfinished in the
/// outbox were never sent. Their log entries (committed with the write that caused them,
/// optimistically saying sent) are corrected and made durable, then the files go.
pub fn recover(
    store: &crate::store::Store,
    dir: &std::path::Path,
) -> crate::store::StoreResult<()> {
    let unfinished = outbox::unfinished(dir);
    if unfinished.is_empty() {
        return Ok(());
    }
    for (ids, _) in &unfinished {
        if let Some((id, account)) = ids {
            let _corrected = store.notifications.mark_failed(account, id, NOT_FINISHED)?;
        }
    }
    store.flush()?;
    for (ids, path) in unfinished {
        if let Some((id, _)) = ids {
            log::warn!("email {} was never finished: logged as not sent", id.hex());
        }
        if let Err(e) = std::fs::remove_file(&path) {
            log::warn!("cannot remove {}: {e}", path.display());
        }
    }
    Ok(())
}

/// Writes `email` to the outbox and records it in `account`'s notification log; both are
/// durable when this returns. A failure to write the file does not fail the request that
/// caused the email: it is logged and recorded in the entry (`success: false`).
pub async fn send(state: &AppState, account: &Id, email: Email) -> ApiResult<()> {
    let outgoing = compose(state, account, &email);
    let logged = state.store.notifications.record(outgoing.entry.clone())?;
    deliver(state, logged, outgoing).await?;
    Ok(())
}

/// `send`'s second half, for a `write` that committed `outgoing.entry` (with whatever caused
/// the email) and is not durable yet: the file is made final while the write is flushed.
/// Returns the write's value once both are done; corrects the entry if the file failed.
pub async fn deliver<T>(state: &AppState, write: Written<T>, outgoing: Outgoing) -> ApiResult<T> {
    let Outgoing { entry, file } = outgoing;
    let Some(file) = file else {
        return Ok(write.durable().await?);
    };
    let (flushed, written) = futures_util::join!(write.durable(), state.outbox.commit(file));
    let value = flushed?;
    if let Err(e) = written {
        log::error!("cannot write email {} to the outbox: {e}", entry.id.hex());
        state
            .store
            .notifications
            .mark_failed(&entry.account_id, &entry.id, NOT_QUEUED)?
            .durable()
            .await?;
    }
    Ok(value)
}

/// The domain of the sender address: the public host, as a domain literal when it is an IP.
fn mail_domain(host: &str) -> String {
    if host.is_empty() {
        "localhost".into()
    } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
        format!("[{host}]")
    } else if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        format!("[IPv6:{v6}]")
    } else {
        host.to_string()
    }
}

/// The RFC 5322 message: CRLF line ends, UTF-8 text body sent as 8bit, encoded words for a
/// non-ASCII subject.
pub fn render(email: &Email, id: &Id, account: &Id, domain: &str, now_millis: i64) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(now_millis.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let mut out = String::new();
    let mut header = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(&one_line(value));
        out.push_str("\r\n");
    };
    header("From", &format!("iamd <noreply@{domain}>"));
    header("To", &format!("<{}>", email.to));
    header("Subject", &encode_header(&email.subject));
    header("Date", &date);
    header("Message-ID", &format!("<{}@{domain}>", id.hex()));
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "8bit");
    header("X-Iamd-Account", &account.hex());
    out.push_str("\r\n");
    for line in email.body.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

/// Header values never carry line breaks (no header injection through user input).
fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// RFC 2047 `B` encoding when the text is not plain printable ASCII.
fn encode_header(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        return text.to_string();
    }
    // Encoded words are at most 75 characters: split the UTF-8 on character boundaries.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            format!(
                "=?UTF-8?B?{}?=",
                base64::engine::general_purpose::STANDARD.encode(w)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Email {
        Email {
            to: "someone@example.com".into(),
            subject: "Welcome".into(),
            body: "Hello\nYour password: s3cr3t-Pw\nBye".into(),
            secrets: vec!["s3cr3t-Pw".into()],
        }
    }

    #[test]
    fn renders_an_rfc5322_message() {
        let (id, account) = (Id::new(), Id::new());
        let text = render(&sample(), &id, &account, "[127.0.0.1]", 1_518_514_520_123);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .expect("blank line after headers");
        assert!(head.contains("From: iamd <noreply@[127.0.0.1]>"));
        assert!(head.contains("To: <someone@example.com>"));
        assert!(head.contains("Subject: Welcome"));
        assert!(head.contains("Date: Tue, 13 Feb 2018 09:35:20 +0000"));
        assert!(head.contains(&format!("Message-ID: <{}@[127.0.0.1]>", id.hex())));
        assert!(head.split("\r\n").all(|l| l.contains(": ")));
        assert_eq!(body, "Hello\r\nYour password: s3cr3t-Pw\r\nBye\r\n");
        assert!(!text.replace("\r\n", "").contains('\n'), "bare LF");
    }

    #[test]
    fn the_log_never_sees_secrets() {
        let e = sample();
        let logged = e.redacted_body();
        assert!(!logged.contains("s3cr3t-Pw"));
        assert!(logged.contains(HIDDEN));
    }

    #[test]
    fn headers_cannot_be_injected_and_non_ascii_is_encoded() {
        let mut e = sample();
        e.subject = "Hi\r\nBcc: evil@example.com".into();
        let text = render(&e, &Id::new(), &Id::new(), "example.com", 0);
        assert!(!text.contains("\r\nBcc:"));
        assert_eq!(encode_header("Grüße"), "=?UTF-8?B?R3LDvMOfZQ==?=");
        let long = "é".repeat(100);
        assert!(encode_header(&long).split(' ').all(|w| w.len() <= 75));
    }

    #[test]
    fn sender_domain() {
        assert_eq!(mail_domain("127.0.0.1"), "[127.0.0.1]");
        assert_eq!(mail_domain("[::1]"), "[IPv6:::1]");
        assert_eq!(mail_domain("iam.example.com"), "iam.example.com");
    }
}
