//! `ch12-scheduler [--master URL --principal P --secret-file F --ca-file CA.pem]`: see the
//! crate docs (src/lib.rs) for what it does.

use std::error::Error;

fn main() -> Result<(), Box<dyn Error>> {
    if std::env::args().any(|arg| arg == "--help" || arg == "-h") {
        println!(
            "usage: ch12-scheduler [--master URL --principal P --secret-file F --ca-file CA.pem]"
        );
        println!("default master: local (an embedded cluster); more in src/lib.rs");
        return Ok(());
    }
    let mut config = ch12_auth_tls::Config::new(arg("--master").unwrap_or("local".into()));
    config.principal = arg("--principal");
    config.secret_file = arg("--secret-file").map(Into::into);
    config.ca_file = arg("--ca-file").map(Into::into);
    let outcome = ch12_auth_tls::run(config)?;
    println!("{outcome:?}");
    Ok(())
}

/// The value of `--name value` or `--name=value`, if given.
fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for (i, arg) in args.iter().enumerate() {
        if let Some(value) = arg.strip_prefix(&format!("{name}=")) {
            return Some(value.to_string());
        }
        if let (true, Some(value)) = (arg == name, args.get(i + 1)) {
            return Some(value.clone());
        }
    }
    None
}
