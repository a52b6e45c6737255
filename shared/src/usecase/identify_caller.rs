//! Who is calling: the identity provider's subject mapped to a user, the user created on
//! first sight (a known one costs one read).

use crate::adapter::postgres as db;
use crate::app::App;
use crate::domain::Caller;
use crate::error::ApiError;
use crate::repo::users;

/// The caller for a verified `subject`.
pub async fn identify_caller(app: &App, subject: String) -> Result<Caller, ApiError> {
    let user_id = db::with_client(&app.pool, |client| {
        let subject = subject.clone();
        async move { users::ensure(&client, &subject).await }
    })
    .await?;
    Ok(Caller { user_id, subject })
}
