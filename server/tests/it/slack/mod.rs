//! Slack: the Web API client against the fake Slack, the start-time token check, request signing against Slack's SDK, the fake's signed deliveries, the receiver and its bad input, who acts from Slack, questions about platform state, approvals and rejections from its buttons, and notices surviving Slack failures and a kill -9.

mod api;
mod app;
mod approvals;
mod assistant;
mod bad_input;
mod config;
mod events;
mod intake;
mod outbox;
mod people;
mod questions;
mod receiver;
mod rejections;
mod retries;
mod signing;
mod start;
