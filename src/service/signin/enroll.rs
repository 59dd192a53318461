//! Account enrollment finished by email: `POST /v3/accounts?action=enroll` creates the
//! tenant's admin ENROLLING, without a usable password, and emails it a `token=` link (as
//! the API document says: "Email to finish enrollment ... is sent to the admin_email").
//! The token is an invitation of that admin into the new account, so the invitation
//! acceptance route (`POST /auth/invitations/{token}/accept`) finishes the enrollment: it
//! sets the admin's password and makes it ACTIVE (see `invitations::accept`).

use crate::clock::{now_millis, rfc3339};
use crate::error::ApiResult;
use crate::ids::InvitationId;
use crate::service::audit;
use crate::service::invitations::DEFAULT_VALID_FOR_DAYS;
use crate::state::AppState;
use crate::store::accounts::AccountRecord;
use crate::store::invitations::InvitationRecord;
use crate::store::users::UserRecord;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Records the enrollment invitation of `admin` (the ENROLLING admin of the new `account`)
/// and emails its token to the admin; the email's log entry and the audit entry (in the new
/// tenant's log, by `caller`) commit with the invitation.
pub async fn send(
    state: &AppState,
    account: &AccountRecord,
    admin: &UserRecord,
    by: (&crate::auth::Caller, &crate::service::audit::RequestInfo),
) -> ApiResult<InvitationRecord> {
    let token = crate::auth::apikey::random_secret(43);
    let now = now_millis();
    let record = InvitationRecord {
        id: InvitationId::new(),
        account_id: account.id,
        email: admin.email.clone(),
        user_id: admin.id,
        // The admin exists without the invitation: revoking it must not remove the admin.
        created_user: false,
        // Already in the Administrators group.
        groups: Vec::new(),
        login_profiles: Vec::new(),
        token_digest: crate::auth::apikey::digest(&token),
        created_at: now,
        updated_at: now,
        expires_at: now + DEFAULT_VALID_FOR_DAYS * DAY_MS,
        etag: 1,
    };
    let name = crate::email::account_name(account);
    // The console's invitation page finishes an enrollment as it accepts an invitation.
    let link = crate::console::link(&state.config.public_url(), "invitation", &token);
    let body = format!(
        "Hello,\n\nThe account \"{name}\" was created with you as its administrator.\n\n\
         To finish the enrollment, choose your password at this link:\n{link}\n\n\
         The link expires at {}.\n",
        rfc3339(record.expires_at)
    );
    let email = crate::email::Email {
        to: record.email.clone(),
        subject: format!("Finish the enrollment of {name}"),
        body,
        secrets: vec![token],
    };
    let outgoing = crate::email::compose(state, &account.id, &email).await;
    let fields = audit::diff(None, Some(&record));
    let target = ("user-invitation", &*record.id);
    let entry = audit::entry_by(by.0, by.1, account.id, "create", target, fields);
    let written = state.store.transact(|tx| {
        crate::store::invitations::create_in(tx, &record, Some(&outgoing.entry))?;
        crate::store::audit::record_in(tx, &entry)?;
        Ok(record.clone())
    })?;
    crate::email::deliver(state, written, outgoing).await
}
