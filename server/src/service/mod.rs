//! Services: the product's behaviour, behind the ports.

pub mod admin;
pub mod ask;
pub mod assistant;
pub mod drift;
pub mod feed;
pub mod filters;
pub mod flow;
pub mod ids;
pub mod index;
pub mod integrations;
pub mod jobs;
pub mod policies;
pub mod projects;
pub mod requests;
pub mod signin;
