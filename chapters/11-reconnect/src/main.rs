//! `ch11-scheduler [--master host:port] [--principal NAME --secret-file FILE] [--ca-file
//! CA.pem] [--no-faults]`: see the crate docs (src/lib.rs) for what it does.

use std::error::Error;

use mesos_client::connect::Connection;

fn main() -> Result<(), Box<dyn Error>> {
    let usage = format!("usage: ch11-scheduler {} [--no-faults]", Connection::USAGE);
    let (connection, mut rest) = Connection::from_args().unwrap_or_else(|err| fail(&err, &usage));
    if rest.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{usage}");
        println!("default master: local (an embedded cluster); more in src/lib.rs");
        return Ok(());
    }
    // `--no-faults` for a real master, which has no fault endpoint: break things yourself.
    let faults = !rest.iter().any(|arg| arg == "--no-faults");
    rest.retain(|arg| arg != "--no-faults");
    if let Some(arg) = rest.first() {
        fail(&format!("unknown argument {arg:?}"), &usage);
    }
    let mut config = ch11_reconnect::Config::new("local");
    config.connection = connection;
    config.faults = faults;
    let outcome = ch11_reconnect::run(config)?;
    println!("{outcome:?}");
    Ok(())
}

/// A bad command line: say what is wrong and how to call us, exit with status 2.
fn fail(what: &dyn std::fmt::Display, usage: &str) -> ! {
    eprintln!("ch11-scheduler: {what}\n{usage}");
    std::process::exit(2)
}
