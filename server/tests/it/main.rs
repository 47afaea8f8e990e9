//! The server's integration tests: one binary, one module per concern.

mod access;
mod apply;
mod bounds;
mod cli;
mod config;
mod crash;
mod dashboard;
mod detail;
mod flow;
mod flow_github;
mod git;
mod guardrails;
mod http;
mod matrix;
mod modules;
mod oauth;
mod oauth_identities;
mod plan_check;
mod probes;
mod requests_api;
mod s3_serve;
mod sessions;
mod signin_limits;
mod store;
mod support;
mod webhooks;
