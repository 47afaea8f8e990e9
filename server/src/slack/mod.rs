//! Slack: the Web API port and its client, request signing, Block Kit messages, and the conversations and buttons of the Slack app.

pub mod api;
pub mod signing;
pub mod web;

pub use api::{BotIdentity, Message, Posted, SlackApi, SlackError, SlackUser};
pub use web::SlackWeb;
