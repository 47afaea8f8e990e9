//! The layer rules of ARCHITECTURE.md, read from the `use` lines.

use crate::support::root;
use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Files under `dir` (relative to the workspace) that mention `needle`,
/// apart from `allowed`.
fn mentioning(dir: &str, needle: &str, allowed: &[&str]) -> Vec<String> {
    let root = root();
    let start = root.join(dir);
    let files = if start.is_dir() {
        sources(&start)
    } else {
        vec![start]
    };
    files
        .into_iter()
        .filter(|p| std::fs::read_to_string(p).unwrap().contains(needle))
        .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
        .filter(|p| !allowed.contains(&p.as_str()))
        .collect()
}

#[test]
fn the_server_uses_the_ui_only_to_mount_it() {
    let found = mentioning("server/src", "app::ui", &["server/src/http/mod.rs"]);
    assert_eq!(found, Vec::<String>::new(), "wire types live in app::api");
}

#[test]
fn the_wire_types_know_nothing_of_the_ui() {
    for needle in ["crate::ui", "leptos"] {
        assert_eq!(mentioning("app/src/api", needle, &[]), Vec::<String>::new());
    }
}

#[test]
fn the_feed_knows_nothing_of_the_index() {
    assert_eq!(
        mentioning("server/src/service/feed.rs", "index::", &[]),
        Vec::<String>::new()
    );
}

#[test]
fn time_and_randomness_come_from_the_clock_and_ids_ports() {
    // The adapters themselves; tower-sessions' dates moved onto the clock;
    // the GitHub App's JWT, which GitHub checks against the real time.
    let allowed = [
        "server/src/clock.rs",
        "server/src/ids.rs",
        "server/src/auth/sessions.rs",
        "server/src/github.rs",
    ];
    for needle in ["SystemTime::now", "OffsetDateTime::now_utc", "getrandom"] {
        assert_eq!(
            mentioning("server/src", needle, &allowed),
            Vec::<String>::new(),
            "{needle} outside the Clock and Ids adapters"
        );
    }
}
