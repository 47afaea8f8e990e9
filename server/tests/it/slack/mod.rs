//! Slack plumbing: the Web API client against the fake Slack, the start-time token check, request signing against Slack's SDK, the fake's signed deliveries, and notices surviving Slack failures and a kill -9.

mod api;
mod app;
mod config;
mod events;
mod intake;
mod outbox;
mod retries;
mod signing;
mod start;
