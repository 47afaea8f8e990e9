//! The flow's one way to change a request: a compare-and-swap update that notifies the status change it makes.

use super::Flow;
use crate::store::repo::{RepoError, Versioned};
use app::domain::ids::RequestId;
use app::domain::request::Request;
use app::domain::status::derive_status;

impl Flow {
    /// [`RequestRepo::update`](crate::store::repo::RequestRepo::update),
    /// then the notices of the status change between the document `f` was
    /// given last and the one written. A write that leaves the status as
    /// it was (a step driver running again) notifies nobody.
    pub(super) async fn write<E>(
        &self,
        id: &RequestId,
        mut f: impl FnMut(&Request) -> Result<Request, E>,
    ) -> Result<Result<Versioned, E>, RepoError> {
        let mut before = None;
        let result = self
            .repo
            .update(
                id,
                || self.now(),
                |doc| {
                    before = Some(derive_status(doc));
                    f(doc)
                },
            )
            .await;
        if let (Ok(Ok(stored)), Some(before)) = (&result, before) {
            self.notices.changed(Some(before), &stored.doc).await;
        }
        result
    }
}
