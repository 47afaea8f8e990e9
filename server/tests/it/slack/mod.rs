//! Slack plumbing: the Web API client against the fake Slack, the start-time token check, request signing against Slack's SDK, and the fake's signed deliveries.

mod api;
mod app;
mod config;
mod events;
mod intake;
mod outbox;
mod retries;
mod signing;
mod start;
