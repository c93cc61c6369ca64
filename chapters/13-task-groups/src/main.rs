//! `ch13-scheduler [--master host:port]`: see the crate docs (src/lib.rs) for what it does.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().any(|arg| arg == "--help" || arg == "-h") {
        println!("usage: ch13-scheduler [--master host:port]");
        println!("default master: local (an embedded cluster); more in src/lib.rs");
        return Ok(());
    }
    let outcome = ch13_task_groups::run(ch13_task_groups::Config::new(master_from_args()))?;
    println!("{outcome:?}");
    Ok(())
}

/// `--master host:port` (or `--master=host:port`); default `local`, an embedded cluster.
fn master_from_args() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for (i, arg) in args.iter().enumerate() {
        if let Some(value) = arg.strip_prefix("--master=") {
            return value.to_string();
        }
        if let (true, Some(value)) = (arg == "--master", args.get(i + 1)) {
            return value.clone();
        }
    }
    "local".to_string()
}
