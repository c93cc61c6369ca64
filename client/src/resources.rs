//! Resources without the protobuf noise: build them, and read totals out of
//! an offer.
//!
//! A Mesos `Resource` is a name, a type and one of three value kinds:
//! scalars (`cpus`, `mem` in MB, `disk` in MB, `gpus`), ranges (`ports`) and
//! sets. An offer may list the same name several times, once per role or
//! reservation, so reading "how many cpus" means adding them up.
//!
//! ```
//! use mesos_client::resources::{cpus, ports, ranges, scalar};
//!
//! let offered = vec![scalar("cpus", 1.5), scalar("cpus", 0.5), ranges("ports", &[(31000, 31005)])];
//! assert_eq!(cpus(&offered), 2.0);
//! assert_eq!(ports(&offered), vec![(31000, 31005)]);
//! ```
//!
//! Scalars are rounded to three decimals, as Mesos itself does (it stores
//! them as fixed-point numbers), so `0.1 + 0.2` reads as `0.3`.

use mesos_proto::v1::{Resource, value};

/// An unreserved scalar resource such as `scalar("cpus", 0.1)` or
/// `scalar("mem", 32.0)` (MB).
pub fn scalar(name: &str, amount: f64) -> Resource {
    let mut resource = Resource {
        name: name.to_string(),
        scalar: Some(value::Scalar { value: amount }),
        ..Default::default()
    };
    resource.set_type(value::Type::Scalar);
    resource
}

/// An unreserved ranges resource: `ranges("ports", &[(31000, 31005)])`.
/// Both ends are inclusive, as in Mesos.
pub fn ranges(name: &str, bounds: &[(u64, u64)]) -> Resource {
    let mut resource = Resource {
        name: name.to_string(),
        ranges: Some(to_ranges(bounds)),
        ..Default::default()
    };
    resource.set_type(value::Type::Ranges);
    resource
}

/// An unreserved set resource: `set("colors", &["red", "blue"])`.
pub fn set(name: &str, items: &[&str]) -> Resource {
    let mut resource = Resource {
        name: name.to_string(),
        set: Some(value::Set {
            item: items.iter().map(|s| s.to_string()).collect(),
        }),
        ..Default::default()
    };
    resource.set_type(value::Type::Set);
    resource
}

/// The sum of every scalar resource called `name` (0 if there is none),
/// whatever its role or reservation.
pub fn scalar_total(resources: &[Resource], name: &str) -> f64 {
    let sum: f64 = resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.scalar.as_ref())
        .map(|s| s.value)
        .sum();
    round3(sum)
}

/// Total `cpus`.
pub fn cpus(resources: &[Resource]) -> f64 {
    scalar_total(resources, "cpus")
}

/// Total `mem`, in MB.
pub fn mem(resources: &[Resource]) -> f64 {
    scalar_total(resources, "mem")
}

/// Total `disk`, in MB.
pub fn disk(resources: &[Resource]) -> f64 {
    scalar_total(resources, "disk")
}

/// Total `gpus`.
pub fn gpus(resources: &[Resource]) -> f64 {
    scalar_total(resources, "gpus")
}

/// Every range of the resources called `name`, sorted and merged
/// (`[(31000, 31002), (31003, 31005)]` becomes `[(31000, 31005)]`).
pub fn ranges_total(resources: &[Resource], name: &str) -> Vec<(u64, u64)> {
    let mut all: Vec<(u64, u64)> = resources
        .iter()
        .filter(|r| r.name == name)
        .filter_map(|r| r.ranges.as_ref())
        .flat_map(|r| r.range.iter().map(|x| (x.begin, x.end)))
        .filter(|(begin, end)| begin <= end)
        .collect();
    all.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(all.len());
    for (begin, end) in all {
        match merged.last_mut() {
            Some(last) if begin <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => merged.push((begin, end)),
        }
    }
    merged
}

/// The `ports` ranges, sorted and merged.
pub fn ports(resources: &[Resource]) -> Vec<(u64, u64)> {
    ranges_total(resources, "ports")
}

/// How many values some inclusive ranges hold: `[(31000, 31005)]` -> 6.
pub fn count_in_ranges(bounds: &[(u64, u64)]) -> u64 {
    bounds
        .iter()
        .filter(|(begin, end)| begin <= end)
        .map(|(begin, end)| (end - begin).saturating_add(1))
        .fold(0, u64::saturating_add)
}

/// A one-line summary for logs in the Mesos text form:
/// `cpus:4; mem:2048; disk:4096; ports:[31000-32000]`. Names keep their
/// first-seen order; values of the same name are added up.
pub fn describe(resources: &[Resource]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for r in resources {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    let parts: Vec<String> = names
        .into_iter()
        .map(|name| {
            let of_name: Vec<&Resource> = resources.iter().filter(|r| r.name == name).collect();
            if of_name.iter().any(|r| r.ranges.is_some()) {
                let text: Vec<String> = ranges_total(resources, name)
                    .iter()
                    .map(|(b, e)| format!("{b}-{e}"))
                    .collect();
                format!("{name}:[{}]", text.join(", "))
            } else if of_name.iter().any(|r| r.set.is_some()) {
                let items: Vec<&str> = of_name
                    .iter()
                    .filter_map(|r| r.set.as_ref())
                    .flat_map(|s| s.item.iter().map(String::as_str))
                    .collect();
                format!("{name}:{{{}}}", items.join(", "))
            } else {
                format!("{name}:{}", scalar_total(resources, name))
            }
        })
        .collect();
    parts.join("; ")
}

pub(crate) fn to_ranges(bounds: &[(u64, u64)]) -> value::Ranges {
    value::Ranges {
        range: bounds
            .iter()
            .map(|&(begin, end)| value::Range { begin, end })
            .collect(),
    }
}

/// Rounds to the three decimals Mesos keeps.
pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
