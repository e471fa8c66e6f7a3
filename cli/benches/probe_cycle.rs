//! Probe-cycle benchmark: one cycle of 1,000 HTTP checks against a local server that answers
//! each request in 100 ms, with the concurrency bound at 1,000, on the embedded store (the
//! same path as `sitrep run`). Reports wall time per cycle and the process's peak memory.
//!
//! Cycles run in two phases: against a server that closes each connection after answering, so
//! every check connects anew (what the one-minute schedule sees: idle connections are dropped
//! after 50 s), and against one that keeps connections alive for the next cycle. Each phase's
//! prober and server run in processes of their own (this same binary, re-executed), so each
//! memory figure is one prober's alone. Run through `scripts/bench` (or `cargo bench -p sitrep-cli`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::clock::SystemClock;
use shared::config::Config;
use shared::probe::cycle::Prober;
use shared::probe::outcome::Health;
use shared::store::Store;
use shared::store::sqlite::SqliteStore;
use sitrep_cli::flaky::{FlakyService, Mode};

const CHECKS: usize = 1_000;
const DELAY: Duration = Duration::from_millis(100);
const CYCLES: usize = 8;

fn serve(keep_alive: bool) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let service = if keep_alive {
            FlakyService::start(Mode::Slow(DELAY)).await
        } else {
            FlakyService::start_closing(Mode::Slow(DELAY)).await
        }
        .expect("server");
        println!("{}", service.address());
        std::io::stdout().flush().expect("flush");
        // Serve until the benchmark closes our stdin.
        let _ =
            tokio::task::spawn_blocking(|| std::io::stdin().read_line(&mut String::new())).await;
    });
}

fn config(address: &str) -> Config {
    let mut text = format!(
        "[service]\nname = \"bench\"\nstatus_url = \"https://status.example\"\n[probe]\nconcurrency = {CHECKS}\n"
    );
    for c in 0..CHECKS / 10 {
        text.push_str(&format!(
            "[[components]]\nid = \"c{c}\"\nname = \"Component {c}\"\n"
        ));
    }
    for i in 0..CHECKS {
        text.push_str(&format!(
            "[[checks]]\nid = \"check-{i}\"\ncomponent = \"c{}\"\nkind = \"http\"\nurl = \"http://{address}/health?check={i}\"\ntimeout = \"5s\"\nconditions = ['[STATUS] == 200', '[BODY].status == \"ok\"']\n",
            i / 10
        ));
    }
    Config::parse(&text).expect("valid benchmark config")
}

/// Runs one cycle and checks it did the whole job: every check up, nothing failed to store.
async fn timed_cycle(prober: &Prober) -> Duration {
    let started = Instant::now();
    let report = prober
        .run_cycle(tokio::time::Instant::now() + Duration::from_secs(30))
        .await;
    let elapsed = started.elapsed();
    let up = report
        .checks
        .iter()
        .filter(|c| c.outcome.health == Health::Up)
        .count();
    assert_eq!(
        up,
        CHECKS,
        "every check passed: {:?}",
        report
            .checks
            .iter()
            .find(|c| c.outcome.health != Health::Up)
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    elapsed
}

fn median_ms(times: &[Duration]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2].as_secs_f64() * 1e3
}

fn max_ms(times: &[Duration]) -> f64 {
    times
        .iter()
        .max()
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
}

/// Starts this binary again with `variable` set to `value`; returns the child and the first
/// line it prints (a server's address, a prober's figures).
fn spawn_child(variable: &str, value: &str) -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .env(variable, value)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("child process");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the child's first line");
    (child, line.trim().to_owned())
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|kb| kb.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    if let Some(how) = std::env::var_os("SITREP_BENCH_SERVE") {
        serve(how == "keep-alive");
        return;
    }
    if let Some(address) = std::env::var_os("SITREP_BENCH_PROBE") {
        measure(&address.to_string_lossy());
        return;
    }
    println!(
        "probe_cycle: {CHECKS} HTTP checks, {} ms server delay, concurrency {CHECKS}, SQLite store",
        DELAY.as_millis()
    );
    // Every check opens a new connection: what each cycle of the one-minute schedule sees,
    // since sitrep drops connections idle for 50 s.
    run_phase("close", "new connections");
    // Connections kept from the cycle before: a schedule faster than 50 s.
    run_phase("keep-alive", "reused connections");
}

/// Runs the cycles of one phase in a process of their own, so its peak memory is its own.
fn run_phase(server: &str, name: &str) {
    let (mut server, address) = spawn_child("SITREP_BENCH_SERVE", server);
    let (mut prober, figures) = spawn_child("SITREP_BENCH_PROBE", &address);
    let figures: Vec<f64> = figures
        .split_whitespace()
        .map(|f| f.parse().expect("a figure"))
        .collect();
    assert!(
        prober.wait().expect("prober").success(),
        "the prober failed"
    );
    drop(server.stdin.take());
    let _ = server.wait();
    println!(
        "probe_cycle: {name:<19} median {:>6.1} ms, max {:>6.1} ms (of {CYCLES}), peak memory {:>5.1} MiB",
        figures[0], figures[1], figures[2]
    );
}

/// The prober's process: `CYCLES` timed cycles against `address`.
fn measure(address: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let directory = std::env::temp_dir().join(format!("sitrep-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let times = runtime.block_on(async {
        let clock = Arc::new(SystemClock);
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&directory.join("bench.db"), clock.clone()).expect("store"));
        let prober = Prober::new(Arc::new(config(address)), store, clock, "bench").expect("prober");
        // The first cycle also creates every check's state; it counts like the others.
        let mut times = Vec::new();
        for _ in 0..CYCLES {
            times.push(timed_cycle(&prober).await);
        }
        times
    });
    let _ = std::fs::remove_dir_all(&directory);
    println!(
        "{} {} {}",
        median_ms(&times),
        max_ms(&times),
        peak_rss_mib()
    );
}
