//! Probe-cycle benchmark: one cycle of 1,000 HTTP checks against a local server that answers
//! each request in 100 ms, with the concurrency bound at 1,000, on the embedded store (the
//! same path as `sitrep run`). Reports wall time per cycle and the process's peak memory.
//!
//! The server runs in a child process (this same binary, re-executed), so the memory figure
//! is the prober's alone. Run through `scripts/bench` (or `cargo bench -p sitrep-cli`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use shared::clock::SystemClock;
use shared::config::Config;
use shared::probe::cycle::Prober;
use shared::probe::outcome::Health;
use shared::store::sqlite::SqliteStore;
use sitrep_cli::flaky::{FlakyService, Mode};

const CHECKS: usize = 1_000;
const DELAY: Duration = Duration::from_millis(100);
const CYCLES: usize = 5;

fn serve() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let service = FlakyService::start(Mode::Slow(DELAY))
            .await
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
    if std::env::var_os("SITREP_BENCH_SERVE").is_some() {
        serve();
        return;
    }
    let mut server = Command::new(std::env::current_exe().expect("own path"))
        .env("SITREP_BENCH_SERVE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("server process");
    let mut address = String::new();
    BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut address)
        .expect("server address");
    let address = address.trim().to_owned();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let directory = std::env::temp_dir().join(format!("sitrep-bench-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let times = runtime.block_on(async {
        let clock = Arc::new(SystemClock);
        let store =
            Arc::new(SqliteStore::open(&directory.join("bench.db"), clock.clone()).expect("store"));
        let prober =
            Prober::new(Arc::new(config(&address)), store, clock, "bench").expect("prober");
        let mut times = Vec::new();
        for _ in 0..CYCLES {
            let started = Instant::now();
            let report = prober
                .run_cycle(tokio::time::Instant::now() + Duration::from_secs(30))
                .await;
            times.push(started.elapsed());
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
        }
        times
    });
    drop(server.stdin.take());
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&directory);

    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let mut warm: Vec<Duration> = times[1..].to_vec();
    warm.sort_unstable();
    println!(
        "probe_cycle: {CHECKS} HTTP checks, {} ms server delay, concurrency {CHECKS}, SQLite store",
        DELAY.as_millis()
    );
    println!(
        "probe_cycle: first cycle (new connections) {:>7.1} ms",
        ms(&times[0])
    );
    println!(
        "probe_cycle: warm cycles median            {:>7.1} ms (of {})",
        ms(&warm[warm.len() / 2]),
        warm.len()
    );
    println!(
        "probe_cycle: peak memory (VmHWM)           {:>7.1} MiB",
        peak_rss_mib()
    );
}
