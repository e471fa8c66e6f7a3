//! Start-up benchmark: time from process start until the function asks the Lambda Runtime API
//! for its first event, for the probe binary and for a minimal `lambda_runtime` hello-world.
//!
//! A small Runtime API stand-in on 127.0.0.1 notes when `GET .../invocation/next` arrives,
//! then the process is killed. Run through `scripts/bench`, which builds both binaries in
//! release mode and passes their paths in `SITREP_PROBE_BIN` and `SITREP_HELLO_BIN`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;

/// Starts `binary` against a fresh Runtime API stand-in; returns the time to its first poll.
fn time_to_first_poll(binary: &str) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "sitrep-probe")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "benchmark")
        .env("AWS_SECRET_ACCESS_KEY", "benchmark")
        .env("AWS_SESSION_TOKEN", "benchmark")
        .env("SITREP_TABLE", "sitrep-benchmark")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let (mut stream, _) = listener.accept().expect("the function connects");
    let mut request = [0u8; 1024];
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = stream.read(&mut request).expect("read");
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&request[..n]);
    }
    let elapsed = started.elapsed();
    let line = String::from_utf8_lossy(&seen);
    assert!(
        line.starts_with("GET /2018-06-01/runtime/invocation/next"),
        "unexpected first request: {line}"
    );
    let _ = stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n");
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn main() {
    let (Ok(probe), Ok(hello)) = (
        std::env::var("SITREP_PROBE_BIN"),
        std::env::var("SITREP_HELLO_BIN"),
    ) else {
        eprintln!(
            "startup: run through scripts/bench (SITREP_PROBE_BIN and SITREP_HELLO_BIN are unset)"
        );
        return;
    };
    // Warm the page cache for both, then alternate so drift hits both alike.
    time_to_first_poll(&probe);
    time_to_first_poll(&hello);
    let (mut probe_runs, mut hello_runs) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        probe_runs.push(time_to_first_poll(&probe));
        hello_runs.push(time_to_first_poll(&hello));
    }
    let (p, h) = (median(probe_runs), median(hello_runs));
    let size = |path: &str| std::fs::metadata(path).map(|m| m.len() / 1024).unwrap_or(0);
    println!("startup: median of {RUNS} runs, process start -> first GET /runtime/invocation/next");
    println!(
        "startup: probe        {:>8.2} ms  ({} KiB binary)",
        p.as_secs_f64() * 1e3,
        size(&probe)
    );
    println!(
        "startup: hello-world  {:>8.2} ms  ({} KiB binary)",
        h.as_secs_f64() * 1e3,
        size(&hello)
    );
    println!(
        "startup: ratio        {:>8.2}x (target <= 1.5x)",
        p.as_secs_f64() / h.as_secs_f64()
    );
}
