use super::{Instruction, check, parse};

const GOOD: &str = "# syntax=docker/dockerfile:1
ARG RUST=1.95.0
FROM rust:${RUST} AS builder
RUN cargo build \\
    # a comment inside a continuation
    --release
FROM debian:bookworm-slim
COPY --from=builder /src/target/release/tfpilot /usr/local/bin/
USER 10001:10001
HEALTHCHECK CMD [\"curl\", \"-f\", \"http://127.0.0.1:3000/healthz\"]
ENTRYPOINT [\"tfpilot\"]
";

#[test]
fn parse_joins_continuations_and_skips_comments() {
    let got = parse(GOOD).unwrap();
    assert_eq!(
        got[2],
        Instruction {
            line: 4,
            name: "RUN".into(),
            args: "cargo build --release".into(),
        }
    );
    let names: Vec<&str> = got.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ARG",
            "FROM",
            "RUN",
            "FROM",
            "COPY",
            "USER",
            "HEALTHCHECK",
            "ENTRYPOINT"
        ]
    );
}

#[test]
fn the_project_dockerfile_passes() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Dockerfile")).unwrap();
    assert_eq!(check(&text), Vec::<String>::new());
}

#[test]
fn each_broken_file_is_named() {
    let cases: [(&str, &str, &str); 9] = [
        ("a good file", "", ""),
        (
            "RUN before FROM",
            "ARG RUST=1.95.0\nFROM rust:${RUST} AS builder\n",
            "RUN true\nARG RUST=1.95.0\nFROM rust:${RUST} AS builder\n",
        ),
        (
            "an unknown instruction",
            "USER 10001:10001\n",
            "USR 10001\nUSER 10001:10001\n",
        ),
        (
            "COPY from a stage that does not exist",
            "--from=builder",
            "--from=build",
        ),
        (
            "COPY from a later stage's index",
            "--from=builder",
            "--from=1",
        ),
        ("no healthcheck", "HEALTHCHECK CMD", "LABEL x=y\n#"),
        ("root as the final user", "USER 10001:10001", "USER root"),
        (
            "no entrypoint",
            "ENTRYPOINT [\"tfpilot\"]",
            "CMD [\"tfpilot\"]",
        ),
        (
            "a dangling continuation",
            "ENTRYPOINT [\"tfpilot\"]\n",
            "ENTRYPOINT [\"tfpilot\"] \\\n",
        ),
    ];
    let expected = [
        "",
        "line 2: the first instruction after ARG is RUN, not FROM",
        "line 9: unknown instruction USR",
        "line 8: COPY --from=build names no earlier stage",
        "line 8: COPY --from=1 names no earlier stage",
        "the final stage has no HEALTHCHECK",
        "line 9: the final USER is root",
        "the final stage has no ENTRYPOINT",
        "line 11: the last instruction ends with a line continuation",
    ];
    for ((what, from, to), want) in cases.iter().zip(expected) {
        let text = if from.is_empty() {
            GOOD.to_owned()
        } else {
            GOOD.replacen(from, to, 1)
        };
        let got = check(&text);
        if want.is_empty() {
            assert_eq!(got, Vec::<String>::new(), "{what}");
        } else {
            assert!(got.iter().any(|p| p == want), "{what}: {got:?}");
        }
    }
}
