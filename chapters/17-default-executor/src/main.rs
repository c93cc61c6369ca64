//! `ch17-scheduler [--master host:port] [--principal NAME --secret-file FILE] [--ca-file
//! CA.pem]`: see the crate docs (src/lib.rs) for what it does.

use std::error::Error;

use mesos_client::connect::Connection;

fn main() -> Result<(), Box<dyn Error>> {
    let usage = format!("usage: ch17-scheduler {}", Connection::USAGE);
    let (connection, rest) = Connection::from_args().unwrap_or_else(|err| fail(&err, &usage));
    if rest.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{usage}");
        println!("default master: local (an embedded cluster); more in src/lib.rs");
        return Ok(());
    }
    if let Some(arg) = rest.first() {
        fail(&format!("unknown argument {arg:?}"), &usage);
    }
    let mut config = ch17_default_executor::Config::new("local");
    config.connection = connection;
    let outcome = ch17_default_executor::run(config)?;
    println!("{outcome:?}");
    Ok(())
}

/// A bad command line: say what is wrong and how to call us, exit with status 2.
fn fail(what: &dyn std::fmt::Display, usage: &str) -> ! {
    eprintln!("ch17-scheduler: {what}\n{usage}");
    std::process::exit(2)
}
