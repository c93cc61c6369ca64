//! `offer-proxy-example-backend [--listen 127.0.0.1:8080] [--tasks 3]`: the
//! smallest backend for `offer-proxy`.
//!
//! For each offer (`POST /offer`) it asks for one small task, until it has
//! asked for `--tasks` of them, then answers `[]` (decline). Each status
//! (`POST /status`) is printed and taken with `200`. Start it, then the proxy:
//!
//! ```text
//! cargo run --bin offer-proxy-example-backend -- --listen 127.0.0.1:8080 --tasks 3
//! cargo run --bin offer-proxy -- --api-url http://127.0.0.1:8080 --master local --exit-after 3
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use ch18_offer_proxy::http::{Request, Response, Server};
use clap::Parser;
use serde_json::{Value, json};

/// A toy backend: one `echo` task per offer, up to --tasks.
#[derive(Parser, Debug)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// How many tasks to hand out in total.
    #[arg(long, default_value_t = 3)]
    tasks: usize,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let handed_out = AtomicUsize::new(0);
    let limit = args.tasks;
    let server = Server::start(&args.listen, move |request: &Request| {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match request.path.as_str() {
            "/offer" => {
                let cpus = body["resources"]["cpus"].as_f64().unwrap_or(0.0);
                let mem = body["resources"]["mem"].as_f64().unwrap_or(0.0);
                let fits = cpus >= 0.1 && mem >= 32.0;
                // Take a number only if we will hand out a task.
                let n = handed_out.fetch_add(1, Ordering::SeqCst);
                if !fits || n >= limit {
                    handed_out.fetch_sub(1, Ordering::SeqCst);
                    return Response::new(200, "[]");
                }
                println!(
                    "offer {} on {}: task example-{n}",
                    body["id"], body["hostname"]
                );
                let task = json!([{
                    "id": format!("example-{n}"),
                    "cmd": "echo hello from the backend",
                    "resources": {"cpus": 0.1, "mem": 32},
                }]);
                Response::new(200, task.to_string())
            }
            "/status" => {
                println!("status: {} is {}", body["id"], body["state"]);
                Response::new(200, "{}")
            }
            _ => Response::new(404, "{}"),
        }
    })?;
    println!("example backend at {}", server.url());
    // Serve until killed.
    loop {
        std::thread::park();
    }
}
