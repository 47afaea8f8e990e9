//! The integrations page: the stored integrations without their secrets,
//! and the kinds' forms.

use super::{UiServices, refusal};
use app::api::IntegrationsPage;
use app::services::Refusal;

impl UiServices {
    /// The page for the caller (admins).
    pub(super) async fn integration_page(&self) -> Result<IntegrationsPage, Refusal> {
        let actor = self.caller().await?;
        self.integrations.page(&actor).await.map_err(refusal)
    }
}
