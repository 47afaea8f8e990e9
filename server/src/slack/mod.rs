//! Slack: the Web API port and its client, request signing, Block Kit messages, and the conversations and buttons of the Slack app.

pub mod answers;
pub mod api;
pub mod blocks;
pub mod bot;
pub mod buttons;
mod converse;
pub mod drafts;
pub mod notifier;
pub mod signing;
pub mod web;
pub mod wire;

pub use api::{BotIdentity, Message, Posted, SlackApi, SlackError, SlackUser};
pub use bot::SlackBot;
pub use notifier::SlackNotifier;
pub use web::SlackWeb;
