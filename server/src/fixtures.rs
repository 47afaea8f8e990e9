//! Documents the server's unit tests share.

use app::domain::ids::{EnvName, ModuleType, ProjectKey, RequestId};
use app::domain::request::Request;

/// A fresh `sqs-queue` request in `sandbox`/`dev` by alice, nothing run.
pub(crate) fn request() -> Request {
    Request {
        id: RequestId::generate(1_767_225_600_000, 7),
        version: 1,
        project: ProjectKey::parse("sandbox").unwrap(),
        environment: EnvName::parse("dev").unwrap(),
        module: ModuleType::parse("sqs-queue").unwrap(),
        kind: Default::default(),
        revision: 1,
        config: Default::default(),
        created_by: "alice".into(),
        authors: Vec::new(),
        created_at: "2026-01-01T00:00:00Z".into(),
        updated_at: "2026-01-01T00:00:00Z".into(),
        pr: None,
        runs: Default::default(),
        approval: None,
        cleanup_pr: None,
        confirmation: None,
        events: vec![],
        origin: None,
        drift: None,
    }
}
