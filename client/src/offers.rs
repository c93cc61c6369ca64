//! "Does this offer fit my task?" and carving task resources out of an offer.
//!
//! A task's resources must come *out of* the offer it is launched with: the
//! master checks that every resource a task asks for is contained in the
//! offer, role, reservation and allocation info included. Building task
//! resources from scratch with [`scalar`](crate::resources::scalar) works
//! for the default role, but breaks as soon as the offer carries reserved
//! resources or `allocation_info` (every MULTI_ROLE framework gets it). So
//! [`RemainingResources::take`] cuts pieces off the offered resources and
//! keeps their metadata; whatever is left can go to the next task.
//!
//! ```
//! use mesos_client::offers::{RemainingResources, Resources};
//! use mesos_client::resources::{cpus, ranges, scalar};
//!
//! let offered = vec![scalar("cpus", 1.0), scalar("mem", 1024.0), ranges("ports", &[(31000, 31009)])];
//! let mut left = RemainingResources::new(offered);
//! let need = Resources::new(0.4, 128.0).with_ports(2);
//! let mut tasks = Vec::new();
//! while let Some(resources) = left.take(&need) {
//!     tasks.push(resources);
//! }
//! assert_eq!(tasks.len(), 2); // a third would need 1.2 cpus
//! assert_eq!(cpus(left.resources()), 0.2);
//! ```

use mesos_proto::v1::{Offer, Resource, value};

use crate::resources::{count_in_ranges, round3, to_ranges};

/// What one task (or executor) needs: scalar amounts and a number of ports.
///
/// `mem` and `disk` are in MB, as everywhere in Mesos. `ports` is a count:
/// which ports you get is decided by [`RemainingResources::take`] (the
/// lowest free ones).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Resources {
    /// CPU shares (`0.1` is a tenth of a core).
    pub cpus: f64,
    /// Memory in MB.
    pub mem: f64,
    /// Disk in MB (0 = none).
    pub disk: f64,
    /// Number of ports (0 = none).
    pub ports: u64,
}

impl Resources {
    /// `cpus` and `mem` (MB), no disk and no ports.
    pub fn new(cpus: f64, mem: f64) -> Resources {
        Resources {
            cpus,
            mem,
            ..Default::default()
        }
    }

    /// The same, with `disk` MB of disk.
    pub fn with_disk(mut self, disk: f64) -> Resources {
        self.disk = disk;
        self
    }

    /// The same, with `ports` ports.
    pub fn with_ports(mut self, ports: u64) -> Resources {
        self.ports = ports;
        self
    }

    /// The sum of two requirements (e.g. a task plus its executor's own).
    pub fn plus(self, other: Resources) -> Resources {
        Resources {
            cpus: round3(self.cpus + other.cpus),
            mem: round3(self.mem + other.mem),
            disk: round3(self.disk + other.disk),
            ports: self.ports.saturating_add(other.ports),
        }
    }
}

/// Whether `offer` holds at least `need`.
pub fn fits(offer: &Offer, need: &Resources) -> bool {
    RemainingResources::from_offer(offer).fits(need)
}

/// The not-yet-used part of an offer, from which tasks take their share.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemainingResources {
    left: Vec<Resource>,
}

impl RemainingResources {
    /// Starts with everything in `offer`.
    pub fn from_offer(offer: &Offer) -> RemainingResources {
        RemainingResources::new(offer.resources.clone())
    }

    /// Starts with `resources`.
    pub fn new(resources: Vec<Resource>) -> RemainingResources {
        RemainingResources { left: resources }
    }

    /// Whether [`take`](Self::take) would succeed.
    pub fn fits(&self, need: &Resources) -> bool {
        self.clone().take(need).is_some()
    }

    /// Cuts `need` out of what is left and returns it as task resources, or
    /// `None` (and changes nothing) if it does not fit.
    ///
    /// Each returned resource is a copy of an offered one (same `role`,
    /// `allocation_info`, reservations, provider) with a smaller amount; a
    /// need may be split across several offered entries, e.g. reserved and
    /// unreserved cpus. Ports are the lowest free ones. Only plain disk is
    /// used for `disk`: persistent volumes and mount disks (`Resource.disk`
    /// set) and shared resources cannot be divided, so they are left alone.
    pub fn take(&mut self, need: &Resources) -> Option<Vec<Resource>> {
        let mut left = self.left.clone();
        let mut taken = Vec::new();
        take_scalar(&mut left, "cpus", need.cpus, &mut taken)?;
        take_scalar(&mut left, "mem", need.mem, &mut taken)?;
        take_scalar(&mut left, "disk", need.disk, &mut taken)?;
        take_ports(&mut left, need.ports, &mut taken)?;
        self.left = left;
        Some(taken)
    }

    /// What is still unused.
    pub fn resources(&self) -> &[Resource] {
        &self.left
    }

    /// What is still unused, by value.
    pub fn into_resources(self) -> Vec<Resource> {
        self.left
    }
}

/// Mesos keeps scalars as fixed-point numbers with three decimals; counting
/// in thousandths avoids `0.1 + 0.2 != 0.3` surprises.
fn milli(x: f64) -> i64 {
    (x * 1000.0).round() as i64
}

/// Whether pieces may be cut off this resource.
fn divisible(r: &Resource) -> bool {
    r.disk.is_none() && r.shared.is_none()
}

fn take_scalar(
    left: &mut Vec<Resource>,
    name: &str,
    amount: f64,
    out: &mut Vec<Resource>,
) -> Option<()> {
    let mut want = milli(amount);
    if want <= 0 {
        return Some(());
    }
    for r in left.iter_mut().filter(|r| r.name == name && divisible(r)) {
        let Some(scalar) = r.scalar.as_mut() else {
            continue;
        };
        let have = milli(scalar.value);
        let n = have.min(want);
        if n <= 0 {
            continue;
        }
        scalar.value = (have - n) as f64 / 1000.0;
        let mut piece = r.clone();
        piece.scalar = Some(value::Scalar {
            value: n as f64 / 1000.0,
        });
        out.push(piece);
        want -= n;
        if want == 0 {
            break;
        }
    }
    // Entries used up completely disappear, as they would from an offer.
    left.retain(|r| !(r.name == name && r.scalar.as_ref().is_some_and(|s| milli(s.value) == 0)));
    (want == 0).then_some(())
}

fn take_ports(left: &mut Vec<Resource>, count: u64, out: &mut Vec<Resource>) -> Option<()> {
    let mut want = count;
    if want == 0 {
        return Some(());
    }
    for r in left
        .iter_mut()
        .filter(|r| r.name == "ports" && divisible(r))
    {
        let Some(ranges) = r.ranges.as_mut() else {
            continue;
        };
        let mut bounds: Vec<(u64, u64)> = ranges
            .range
            .iter()
            .map(|x| (x.begin, x.end))
            .filter(|(b, e)| b <= e)
            .collect();
        bounds.sort_unstable();
        let mut picked = Vec::new();
        let mut kept = Vec::new();
        for (begin, end) in bounds {
            let size = count_in_ranges(&[(begin, end)]);
            if want == 0 {
                kept.push((begin, end));
            } else if size <= want {
                picked.push((begin, end));
                want -= size;
            } else {
                let last = begin + (want - 1);
                picked.push((begin, last));
                kept.push((last + 1, end));
                want = 0;
            }
        }
        if picked.is_empty() {
            continue;
        }
        *ranges = to_ranges(&kept);
        let mut piece = r.clone();
        piece.ranges = Some(to_ranges(&picked));
        out.push(piece);
        if want == 0 {
            break;
        }
    }
    left.retain(|r| !(r.name == "ports" && r.ranges.as_ref().is_some_and(|x| x.range.is_empty())));
    (want == 0).then_some(())
}
