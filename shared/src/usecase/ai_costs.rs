//! What AI costs: every provider call — organising, generating, embedding — recorded with
//! its tokens and the dollars the price table gives, per job and per user.

use std::time::Duration;

use uuid::Uuid;

use crate::adapter::postgres::{self as db, DbError};
use crate::app::App;
use crate::domain::generation::ImageUsage;
use crate::repo::generations::{self, AiCall};

/// One call as it happened.
#[derive(Debug, Clone)]
pub struct CallRecord<'a> {
    pub user_id: Uuid,
    pub job_id: Option<Uuid>,
    /// `organise`, `generate` or `embed`.
    pub purpose: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    /// Why it gave nothing usable; `None` when it did.
    pub error: Option<String>,
    pub usage: ImageUsage,
    /// Pictures the answer carried (billed whether kept or not).
    pub images: u32,
}

/// Records the call (tried three times: it was paid for) and returns its price.
pub async fn record_call(app: &App, call: CallRecord<'_>) -> Result<f64, DbError> {
    let cost = app
        .config
        .generation
        .prices
        .cost(call.model, call.usage, call.images)
        .unwrap_or_else(|| {
            tracing::warn!(
                model = call.model,
                "no price for this model (AI_PRICES); the call is recorded at $0"
            );
            0.0
        });
    tracing::info!(
        purpose = call.purpose,
        provider = call.provider,
        model = call.model,
        ok = call.error.is_none(),
        input_tokens = call.usage.input_tokens,
        output_tokens = call.usage.output_tokens,
        cost_usd = cost,
        "AI call recorded"
    );
    let mut tries = 0;
    loop {
        tries += 1;
        let recorded = db::with_client(&app.pool, |client| {
            let call = call.clone();
            async move {
                generations::record_call(
                    &client,
                    &AiCall {
                        user_id: call.user_id,
                        job_id: call.job_id,
                        purpose: call.purpose,
                        provider: call.provider,
                        model: call.model,
                        ok: call.error.is_none(),
                        error: call.error.as_deref(),
                        input_tokens: call.usage.input_tokens,
                        output_tokens: call.usage.output_tokens,
                        images: i32::try_from(call.images).unwrap_or(i32::MAX),
                        cost_usd: cost,
                    },
                )
                .await
            }
        })
        .await;
        match recorded {
            Ok(()) => {
                // Crossing 80 % or 100 % of the budget is told now; a failure here is
                // told by the next call.
                if let Err(e) = crate::usecase::limits::after_call(app, call.user_id).await {
                    tracing::warn!(error = %e, "budget not checked after the call");
                }
                return Ok(cost);
            }
            Err(e) if tries < 3 => {
                tracing::warn!(error = %e, tries, "recording the call failed; trying again");
                tokio::time::sleep(Duration::from_millis(200 * tries)).await;
            }
            Err(e) => return Err(e),
        }
    }
}
