//! The paced traffic: API reads and creates sent on a fixed schedule (open
//! loop: every 10 ms tick sends its share whether or not earlier answers
//! came back; a tick the generator reaches late counts as a late send).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

/// The answers to one route template.
#[derive(Default)]
pub struct Route {
    /// Latencies of the successful answers (send to last body byte).
    pub samples: Vec<Duration>,
    /// Non-2xx answers and transport errors.
    pub errors: u64,
    /// The first error, for the report.
    pub first_error: Option<String>,
}

/// What the traffic saw.
#[derive(Default)]
pub struct Recorder {
    routes: Mutex<BTreeMap<&'static str, Route>>,
    /// Sends whose tick came more than one tick late.
    pub late: AtomicU64,
    /// The latest a tick was reached, in µs.
    pub max_late_us: AtomicU64,
    /// Ids of the requests the creates stored.
    pub created: Mutex<Vec<String>>,
}

impl Recorder {
    fn ok(&self, route: &'static str, took: Duration) {
        let mut routes = self.routes.lock().unwrap();
        routes.entry(route).or_default().samples.push(took);
    }

    fn err(&self, route: &'static str, why: String) {
        let mut routes = self.routes.lock().unwrap();
        let entry = routes.entry(route).or_default();
        entry.errors += 1;
        entry.first_error.get_or_insert(why);
    }

    /// The routes, taken out.
    pub fn take(&self) -> BTreeMap<&'static str, Route> {
        std::mem::take(&mut *self.routes.lock().unwrap())
    }
}

/// The create route's template.
pub const CREATE: &str = "POST /api/v1/requests";

/// Dashboard filters the filtered list rotates through.
const FILTERS: [&str; 4] = [
    "status=created",
    "status=failed&environment=prod",
    "environment=dev&module=sqs-queue",
    "q=resource-12",
];

/// What to send, how fast, for how long.
pub struct Plan {
    pub base: String,
    pub token: String,
    /// Seeded ids the single reads pick from.
    pub ids: Arc<Vec<String>>,
    pub reads_per_s: u64,
    pub creates_per_s: u64,
    pub secs: u64,
    /// Makes the created names unique to this run.
    pub run: String,
}

/// Read number `n` of the mix: 30 % the dashboard's first page, 20 % a
/// filtered page, 40 % one request, 10 % the module catalogue.
fn read(plan: &Plan, n: u64) -> (&'static str, String) {
    let base = &plan.base;
    match n % 10 {
        0..=2 => (
            "GET /api/v1/requests?limit=50",
            format!("{base}/api/v1/requests?limit=50"),
        ),
        3 | 4 => {
            let filter = FILTERS[(n / 10) as usize % FILTERS.len()];
            (
                "GET /api/v1/requests?<filter>&limit=50",
                format!("{base}/api/v1/requests?{filter}&limit=50"),
            )
        }
        5..=8 => {
            let id = &plan.ids[fastrand::usize(..plan.ids.len())];
            (
                "GET /api/v1/requests/{id}",
                format!("{base}/api/v1/requests/{id}"),
            )
        }
        _ => ("GET /api/v1/modules", format!("{base}/api/v1/modules")),
    }
}

async fn send(rec: &Recorder, route: &'static str, req: reqwest::RequestBuilder) -> Option<String> {
    let t = Instant::now();
    match req.send().await {
        Ok(res) => {
            let status = res.status();
            match res.text().await {
                Ok(body) if status.is_success() => {
                    rec.ok(route, t.elapsed());
                    Some(body)
                }
                Ok(body) => {
                    let head: String = body.chars().take(160).collect();
                    rec.err(route, format!("{status}: {head}"));
                    None
                }
                Err(e) => {
                    rec.err(route, format!("{status}, body: {e}"));
                    None
                }
            }
        }
        Err(e) => {
            rec.err(route, format!("transport: {e}"));
            None
        }
    }
}

/// Sends the plan's traffic; returns once every send has been answered.
pub async fn drive(http: reqwest::Client, plan: Plan, rec: Arc<Recorder>) {
    const TICKS_PER_S: u64 = 100;
    let plan = Arc::new(plan);
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / TICKS_PER_S));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut sent = Vec::new();
    let (mut reads, mut creates) = (0u64, 0u64);
    for t in 0..plan.secs * TICKS_PER_S {
        let at = tick.tick().await;
        let late = at.elapsed();
        rec.max_late_us
            .fetch_max(late.as_micros() as u64, Ordering::Relaxed);
        let due = |rate: u64| (t + 1) * rate / TICKS_PER_S - t * rate / TICKS_PER_S;
        let (n_reads, n_creates) = (due(plan.reads_per_s), due(plan.creates_per_s));
        if late > Duration::from_millis(1000 / TICKS_PER_S) {
            rec.late.fetch_add(n_reads + n_creates, Ordering::Relaxed);
        }
        for _ in 0..n_reads {
            let (route, url) = read(&plan, reads);
            reads += 1;
            let req = http.get(url).bearer_auth(&plan.token);
            let rec = rec.clone();
            sent.push(tokio::spawn(async move {
                send(&rec, route, req).await;
            }));
        }
        for _ in 0..n_creates {
            let name = format!("load-{}-{creates}", plan.run);
            creates += 1;
            let req = http
                .post(format!("{}/api/v1/requests", plan.base))
                .bearer_auth(&plan.token)
                .json(&serde_json::json!({
                    "project": "sandbox", "environment": "dev", "module": "sqs-queue",
                    "config": {"name": name, "dlq_max_receive_count": 3},
                }));
            let rec = rec.clone();
            sent.push(tokio::spawn(async move {
                if let Some(body) = send(&rec, CREATE, req).await {
                    let id = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["request"]["id"].as_str().map(str::to_owned));
                    match id {
                        Some(id) => rec.created.lock().unwrap().push(id),
                        None => rec.err(CREATE, "201 without request.id".into()),
                    }
                }
            }));
        }
    }
    for task in sent {
        let _ = task.await;
    }
}
