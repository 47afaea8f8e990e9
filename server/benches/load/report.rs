//! The printed table: latencies per route, the server's RSS and CPU, what
//! the SSE clients received, and the goals, each met or NOT met.

use crate::common::percentile;
use crate::sse::Received;
use crate::traffic::{CREATE, Route};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

/// Everything one run measured.
pub struct Outcome {
    pub setup: String,
    pub routes: BTreeMap<&'static str, Route>,
    pub sends: u64,
    pub late: u64,
    pub max_late: Duration,
    pub created: Vec<String>,
    pub clients: Vec<Received>,
    pub drain: Duration,
    /// RSS samples (KiB), the first taken before the load.
    pub rss: Vec<u64>,
    pub held: Duration,
    /// The server's store operations over the run and its drain, by
    /// `bucket=…,operation=…`.
    pub store_ops: BTreeMap<String, u64>,
    pub server_cpu: Duration,
    pub generator_cpu: Duration,
    pub server_log: String,
    /// Created requests no SSE client saw, with where they stand.
    pub unseen: Vec<String>,
}

/// API p99 goal.
const P99_GOAL: Duration = Duration::from_millis(50);

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// Min, median and max of `values`.
fn spread(mut values: Vec<u64>) -> String {
    values.sort_unstable();
    match (values.first(), values.last()) {
        (Some(min), Some(max)) => format!("{min} / {} / {max}", values[values.len() / 2]),
        _ => "none".into(),
    }
}

/// The report, as printed.
pub fn render(mut o: Outcome) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{}", o.setup);
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "{:<42} {:>7} {:>6} {:>8} {:>8} {:>8}",
        "route", "count", "errors", "p50 ms", "p99 ms", "max ms"
    );
    let (mut errors, mut slow) = (0u64, Vec::new());
    let mut all_reads: Vec<Duration> = Vec::new();
    for (name, route) in &mut o.routes {
        errors += route.errors;
        if name != &CREATE {
            all_reads.extend(&route.samples);
        }
        let count = route.samples.len() as u64 + route.errors;
        if route.samples.is_empty() {
            let _ = writeln!(w, "{name:<42} {count:>7} {:>6}", route.errors);
            continue;
        }
        let (p50, p99) = (
            percentile(&mut route.samples, 0.5),
            percentile(&mut route.samples, 0.99),
        );
        let max = *route.samples.last().unwrap_or(&Duration::ZERO);
        if p99 > P99_GOAL {
            slow.push(format!("{name} {} ms", ms(p99)));
        }
        let _ = writeln!(
            w,
            "{name:<42} {count:>7} {:>6} {:>8} {:>8} {:>8}",
            route.errors,
            ms(p50),
            ms(p99),
            ms(max)
        );
    }
    if !all_reads.is_empty() {
        let (p50, p99) = (
            percentile(&mut all_reads, 0.5),
            percentile(&mut all_reads, 0.99),
        );
        let _ = writeln!(
            w,
            "{:<42} {:>7} {:>6} {:>8} {:>8} {:>8}",
            "all reads",
            all_reads.len(),
            "",
            ms(p50),
            ms(p99),
            ms(*all_reads.last().unwrap_or(&Duration::ZERO))
        );
    }
    for (name, route) in &o.routes {
        if let Some(e) = &route.first_error {
            let _ = writeln!(w, "  first error of {name}: {e}");
        }
    }
    let _ = writeln!(
        w,
        "sends: {} in {:.1?}; {} reached more than one 10 ms tick late (latest {} ms)",
        o.sends,
        o.held,
        o.late,
        ms(o.max_late)
    );
    let _ = writeln!(w);
    let (first, last) = (o.rss.first(), o.rss.last());
    let peak = o.rss.iter().max();
    if let (Some(first), Some(peak), Some(last)) = (first, peak, last) {
        let _ = writeln!(
            w,
            "server RSS: {} before the load, peak {}, {} at the end ({} samples, 1 s apart)",
            mib(*first),
            mib(*peak),
            mib(*last),
            o.rss.len()
        );
    }
    let share = |cpu: Duration| cpu.as_secs_f64() / o.held.as_secs_f64().max(0.001) * 100.0;
    let _ = writeln!(
        w,
        "CPU over the run: server {:.1} s ({:.0} % of one core), load generator {:.1} s ({:.0} %)",
        o.server_cpu.as_secs_f64(),
        share(o.server_cpu),
        o.generator_cpu.as_secs_f64(),
        share(o.generator_cpu)
    );
    let _ = writeln!(w, "{}", o.server_log);
    let over = (o.held + o.drain).as_secs_f64().max(0.001);
    let total: u64 = o.store_ops.values().sum();
    let _ = writeln!(
        w,
        "store operations over the run and its drain: {total} ({:.0}/s)",
        total as f64 / over
    );
    for (what, n) in &o.store_ops {
        let _ = writeln!(w, "  {what}: {n} ({:.1}/s)", *n as f64 / over);
    }
    let _ = writeln!(w);

    let created: HashSet<&str> = o.created.iter().map(String::as_str).collect();
    let opened = o.clients.iter().filter(|c| c.opened).count();
    let open = o.clients.iter().filter(|c| c.open_at_end).count();
    let seen: Vec<u64> = o
        .clients
        .iter()
        .filter(|c| c.opened)
        .map(|c| {
            c.ids
                .iter()
                .filter(|id| created.contains(id.as_str()))
                .count() as u64
        })
        .collect();
    let missing = seen.iter().filter(|n| **n < created.len() as u64).count();
    let resyncs: u64 = o.clients.iter().map(|c| c.resyncs).sum();
    let _ = writeln!(
        w,
        "SSE: {open} of {} clients open at the end ({opened} opened); `request` events per client (min / median / max): {}",
        o.clients.len(),
        spread(
            o.clients
                .iter()
                .filter(|c| c.opened)
                .map(|c| c.events)
                .collect()
        )
    );
    let _ = writeln!(
        w,
        "SSE: {} requests created; created ids seen per client (min / median / max): {}; {missing} clients missed one or more; {resyncs} resync events; {}",
        created.len(),
        spread(seen),
        if missing == 0 {
            format!(
                "every client had every created request {:.1?} after the last answer",
                o.drain
            )
        } else {
            format!(
                "counted after waiting {:.1?} (at most 30 s) for changes on their way",
                o.drain
            )
        }
    );
    for unseen in o.unseen.iter().take(10) {
        let _ = writeln!(w, "  seen by no client: {unseen}");
    }
    if let Some(why) = o.clients.iter().find_map(|c| c.error.as_ref()) {
        let _ = writeln!(w, "  first SSE error: {why}");
    }
    let _ = writeln!(w);
    let sse_errors = o.clients.iter().filter(|c| !c.open_at_end).count() as u64;
    let _ = writeln!(
        w,
        "goal: 0 errors ............................. {} ({errors} API, {sse_errors} SSE streams lost or refused)",
        met(errors == 0 && sse_errors == 0)
    );
    let _ = writeln!(
        w,
        "goal: API p99 <= 50 ms on every route ...... {}{}",
        met(slow.is_empty()),
        if slow.is_empty() {
            String::new()
        } else {
            format!(" ({})", slow.join(", "))
        }
    );
    let _ = writeln!(
        w,
        "goal: every SSE client receives every change {}",
        met(missing == 0 && opened == o.clients.len() && !created.is_empty())
    );
    out
}
