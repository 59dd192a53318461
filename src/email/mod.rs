//! Outgoing email. iamd has no mail relay: every email it would send is written as an
//! RFC 5322 message (`<data_dir>/outbox/<id>.eml`, see `outbox`) for an operator's mail
//! transfer agent to pick up, and recorded in the account's notification log.
//!
//! The log is readable by every admin of the account, so its `message` is the email's text
//! with the secrets (acceptance tokens, generated passwords) blanked out; only the `.eml`
//! holds them.

use crate::error::ApiResult;
use crate::ids::{AccountId, Id, NotificationId};
use crate::state::AppState;
use crate::store::notifications::NotificationRecord;
use crate::store::Written;

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
///
/// The file is written by the outbox's thread, never on the HTTP worker: creating a file can
/// block (inode allocation after mass deletions took tens of milliseconds), and on the
/// worker that stalled every request queued behind it (users-create p99 78.6 ms at c=16,
/// BENCHMARKS.md).
pub async fn compose(state: &AppState, account: &AccountId, email: &Email) -> Outgoing {
    let id = NotificationId::new();
    let now = crate::clock::now_millis();
    let domain = mail_domain(&state.config.public_host());
    let message = render(email, &id, account, &domain, now);
    let file = state
        .outbox
        .prepare(&id, account, message)
        .await
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

/// At start, before any email is written: the temporary files a stopped server left in the
/// outbox. A whole one whose log entry committed (saying sent, as every entry does while its
/// file is written) is finished: the request that caused it may have been answered, since an
/// answer waits for the file's data, not for its rename (see `outbox`). The others were
/// never sent: cut short by the crash, or left by a write that never committed. Their
/// entries, if any, are corrected and made durable, then the files go.
pub fn recover(
    store: &crate::store::Store,
    dir: &std::path::Path,
) -> crate::store::StoreResult<()> {
    let unfinished = outbox::unfinished(dir);
    if unfinished.is_empty() {
        return Ok(());
    }
    let mut dropped = Vec::new();
    for file in unfinished {
        let logged = match &file.ids {
            Some((id, account)) => store
                .notifications
                .get(account, id)?
                .is_some_and(|entry| entry.success),
            None => false,
        };
        if file.whole && logged {
            match file.finish(dir) {
                Ok(()) => {
                    log::info!("email {} finished at start", file.path.display());
                    continue;
                }
                Err(e) => log::error!("cannot finish {}: {e}", file.path.display()),
            }
        }
        if let Some((id, account)) = &file.ids {
            let _corrected = store.notifications.mark_failed(account, id, NOT_FINISHED)?;
        }
        dropped.push(file);
    }
    store.flush()?;
    for file in dropped {
        if let Some((id, _)) = &file.ids {
            log::warn!("email {} was never finished: logged as not sent", id.hex());
        }
        if let Err(e) = std::fs::remove_file(&file.path) {
            log::warn!("cannot remove {}: {e}", file.path.display());
        }
    }
    Ok(())
}

/// Writes `email` to the outbox and records it in `account`'s notification log; both are
/// durable when this returns. A failure to write the file does not fail the request that
/// caused the email: it is logged and recorded in the entry (`success: false`).
pub async fn send(state: &AppState, account: &AccountId, email: Email) -> ApiResult<()> {
    let outgoing = compose(state, account, &email).await;
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

/// The RFC 5322 message, built by `mail-builder`: CRLF line ends, encoded words for a
/// non-ASCII subject, the text body as written (7bit, or 8bit UTF-8) so links and secrets
/// read plainly in the file, unless a line is longer than RFC 5322 allows (998 bytes): then
/// the crate picks quoted-printable or base64. The recipient is one addr-spec
/// (`validate::is_email` admitted nothing else); the subject is made one line whatever it
/// holds.
pub fn render(email: &Email, id: &Id, account: &Id, domain: &str, now_millis: i64) -> Vec<u8> {
    use mail_builder::headers::{address::Address, date::Date, raw::Raw, text::Text};
    use mail_builder::mime::MimePart;
    let mut body: String = email.body.lines().flat_map(|l| [l, "\r\n"]).collect();
    if body.is_empty() {
        body.push_str("\r\n");
    }
    let as_written = body.split("\r\n").all(|line| line.len() <= 998);
    let encoding = if body.is_ascii() { "7bit" } else { "8bit" };
    let part = MimePart::new("text/plain", body);
    mail_builder::MessageBuilder::new()
        .from(Address::new_address(
            Some("iamd"),
            format!("noreply@{domain}"),
        ))
        .to(Address::new_address(None::<&str>, email.to.as_str()))
        .subject(Text::new(inline(&email.subject)))
        .date(Date::new(now_millis.div_euclid(1000)))
        .message_id(format!("{}@{domain}", id.hex()))
        .header("X-Iamd-Account", Raw::new(account.hex()))
        .body(if as_written {
            part.transfer_encoding(encoding)
        } else {
            part
        })
        .write_to_vec()
        .unwrap_or_default()
}

/// How an email names `account`: its display name, else its id, made safe for one line.
pub fn account_name(account: &crate::store::accounts::AccountRecord) -> String {
    inline(
        &account
            .display_name
            .clone()
            .unwrap_or_else(|| account.id.hex()),
    )
}

/// User input (an account's name, say) put into a subject or a body line: control, bidi and
/// line-separator characters become spaces, so a value stored before they were refused
/// still cannot start a line of its own.
pub fn inline(text: &str) -> String {
    text.chars()
        .map(|c| {
            if crate::service::validate::is_invisible(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
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

    fn rendered(email: &Email, domain: &str, now: i64) -> (Id, String) {
        let id = Id::new();
        let bytes = render(email, &id, &Id::new(), domain, now);
        (id, String::from_utf8(bytes).expect("UTF-8"))
    }

    #[test]
    fn renders_an_rfc5322_message() {
        let (id, text) = rendered(&sample(), "[127.0.0.1]", 1_518_514_520_123);
        let (head, body) = text
            .split_once("\r\n\r\n")
            .expect("blank line after headers");
        assert!(
            head.contains("From: \"iamd\" <noreply@[127.0.0.1]>"),
            "{head}"
        );
        assert!(head.contains("\r\nTo: <someone@example.com>\r\n"), "{head}");
        assert!(head.contains("Subject: Welcome"));
        assert!(
            head.contains("Date: Tue, 13 Feb 2018 09:35:20 +0000"),
            "{head}"
        );
        assert!(head.contains(&format!("Message-ID: <{}@[127.0.0.1]>", id.hex())));
        assert!(
            head.contains("Content-Type: text/plain; charset=\"utf-8\""),
            "{head}"
        );
        assert!(head.contains("Content-Transfer-Encoding: 7bit"), "{head}");
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
        let (_, text) = rendered(&e, "example.com", 0);
        assert!(!text.contains("\r\nBcc:"), "{text}");
        e.subject = "Grüße".into();
        e.body = "Grüße aus Köln\n".into();
        let (_, text) = rendered(&e, "example.com", 0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.is_ascii(), "{head}");
        assert!(head.contains("Subject: =?utf-8?"), "{head}");
        assert!(head.contains("Content-Transfer-Encoding: 8bit"), "{head}");
        assert_eq!(body, "Grüße aus Köln\r\n");
        // A line no MTA must accept as it is gets encoded instead.
        e.body = format!("{}\n", "x".repeat(1200));
        let (_, text) = rendered(&e, "example.com", 0);
        assert!(text.split("\r\n").all(|l| l.len() <= 998));
        assert_eq!(inline("Acme\r\nTo: x\u{202e}"), "Acme  To: x ");
    }

    #[test]
    fn sender_domain() {
        assert_eq!(mail_domain("127.0.0.1"), "[127.0.0.1]");
        assert_eq!(mail_domain("[::1]"), "[IPv6:::1]");
        assert_eq!(mail_domain("iam.example.com"), "iam.example.com");
    }
}
