//! The wire types: what crosses between the server and the browser.
//!
//! Server functions answer with these, `/api/v1/events` sends them, and
//! the server provides some as context to the pages it renders. Like
//! `domain`, this module builds for `wasm32` and does no I/O; the pure
//! functions that belong to the shapes (the dashboard's filter predicate,
//! grouping a plan, folding a timeline) live beside them, so the server
//! and the browser run the very same code.

pub mod admin;
pub mod ask;
pub mod assistant;
pub mod detail;
pub mod draft;
pub mod drift;
pub mod events;
pub mod integrations;
pub mod jobs;
pub mod listing;
pub mod policies;
pub mod projects;
pub mod timeline;

pub use admin::{FreshToken, Me, SignInNotice, TokenRow, UserRow};
pub use ask::{AskAnswer, AskItem, AskRequest};
pub use assistant::{AssistantAsk, AssistantDraft, Described, Offer, Source};
pub use detail::{
    ActionItem, BlockView, CheckItem, ConfigItem, Detail, LinkItem, PlanChange, PlanGroup, PlanView,
};
pub use draft::{Draft, ModuleCard, NewOptions, ProjectChoice};
pub use drift::{AdoptRow, DriftRow, DriftView, rows};
pub use events::{Change, Event};
pub use integrations::{IntegrationView, IntegrationsPage, KindField, KindForm};
pub use jobs::{JobFilters, JobLog, JobRow};
pub use listing::{Choice, Filters, Listing, Matcher, Row, RowFields, short_time, url_encode};
pub use policies::{PolicyPage, PolicyRow, TriedAlert};
pub use projects::{MemberRow, ProjectRow, ProjectView, ProjectsPage};
pub use timeline::{TimelineEntry, collapse};
