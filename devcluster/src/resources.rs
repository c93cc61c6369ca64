//! Resource arithmetic: the small part of Mesos' `Resources` class a dev cluster needs.
//!
//! Only unreserved resources exist here, so a resource is identified by its name alone:
//! scalars add, ranges merge, sets unite. Scalars are kept to three decimals, as Mesos'
//! fixed-point arithmetic does (so `0.1 + 0.2` is exactly `0.3`).

use mesos_proto::v1::{Resource, resource, value};

/// The value of one named resource.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    /// A scalar in thousandths (fixed point, as Mesos stores them).
    Scalar(i64),
    /// Sorted, non-overlapping, non-adjacent inclusive ranges.
    Ranges(Vec<(u64, u64)>),
    /// A sorted set of items.
    Set(Vec<String>),
}

/// A bag of unreserved resources, in the order their names first appeared.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    entries: Vec<(String, Quantity)>,
}

/// How reservations are written in resources sent to a framework (§7.1), chosen by its
/// `RESERVATION_REFINEMENT` capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceFormat {
    /// Without the capability: `role` (`"*"` when unreserved) plus `reservation`.
    PreRefinement,
    /// With it: no `role`; a `reservations` stack, absent when unreserved.
    PostRefinement,
}

/// Mesos' role name rules (`roles::validate`, §2.2), with its messages.
pub(crate) fn validate_role(role: &str) -> Result<(), String> {
    if role == "*" {
        return Ok(());
    }
    if role.starts_with('/') {
        return Err(format!("Role '{role}' cannot start with a slash"));
    }
    if role.ends_with('/') {
        return Err(format!("Role '{role}' cannot end with a slash"));
    }
    if role.contains("//") {
        return Err(format!("Role '{role}' cannot contain two adjacent slashes"));
    }
    if role.is_empty() {
        return Err("Role names cannot be the empty string".to_string());
    }
    for part in role.split('/') {
        if part == "." || part == ".." || part == "*" {
            return Err(format!(
                "Role '{role}' cannot include '{part}' as a component"
            ));
        }
        if part.starts_with('-') {
            return Err(format!(
                "Role component '{part}' is invalid because it starts with a dash"
            ));
        }
        // Mesos' INVALID_CHARACTERS: ASCII whitespace and DEL (its message says backspace).
        if part.contains(['\t', '\n', '\u{b}', '\u{c}', '\r', ' ', '\u{7f}']) {
            return Err(format!(
                "Role component '{part}' is invalid because it contains backspace or whitespace"
            ));
        }
    }
    Ok(())
}

/// One resource against Mesos' `Resources::validate(const Resource&)`.
fn validate_one(r: &Resource) -> Result<(), String> {
    if r.name.is_empty() {
        return Err("Empty resource name".to_string());
    }
    let (sc, rg, st) = (r.scalar.is_some(), r.ranges.is_some(), r.set.is_some());
    match value::Type::try_from(r.r#type) {
        Ok(value::Type::Scalar) => {
            if !sc || rg || st {
                return Err("Invalid scalar resource".to_string());
            }
            if r.scalar.as_ref().is_some_and(|s| s.value < 0.0) {
                return Err("Invalid scalar resource: value < 0".to_string());
            }
        }
        Ok(value::Type::Ranges) => {
            if sc || !rg || st {
                return Err("Invalid ranges resource".to_string());
            }
            let ranges = r.ranges.as_ref().map_or(&[][..], |x| &x.range[..]);
            for (i, a) in ranges.iter().enumerate() {
                if a.begin > a.end {
                    return Err("Invalid ranges resource: begin > end".to_string());
                }
                if ranges[i + 1..]
                    .iter()
                    .any(|b| a.begin <= b.begin && b.begin <= a.end)
                {
                    return Err("Invalid ranges resource: overlapping ranges".to_string());
                }
            }
        }
        Ok(value::Type::Set) => {
            if sc || rg || !st {
                return Err("Invalid set resource".to_string());
            }
            let items = r.set.as_ref().map_or(&[][..], |x| &x.item[..]);
            if items
                .iter()
                .enumerate()
                .any(|(i, a)| items[i + 1..].contains(a))
            {
                return Err("Invalid set resource: duplicated elements".to_string());
            }
        }
        Ok(value::Type::Text) => return Err("Unsupported resource type".to_string()),
        Err(_) => return Err("Invalid resource type".to_string()),
    }
    if r.disk.is_some() && r.name != "disk" {
        return Err(format!(
            "DiskInfo should not be set for {} resource",
            r.name
        ));
    }
    if r.reservations.is_empty() {
        // The pre-refinement format.
        let role = r.role.as_deref().unwrap_or("*");
        validate_role(role)?;
        if let Some(res) = &r.reservation {
            if res.r#type.is_some() {
                return Err("'Resource.ReservationInfo.type' must not be set for the 'Resource.reservation' field".to_string());
            }
            if res.role.is_some() {
                return Err("'Resource.ReservationInfo.role' must not be set for the 'Resource.reservation' field".to_string());
            }
            if role == "*" {
                return Err(
                    "Invalid reservation: role \"*\" cannot be dynamically reserved".to_string(),
                );
            }
        }
    } else {
        // The refinement format.
        for res in &r.reservations {
            if res.r#type.is_none() {
                return Err(
                    "Invalid reservation: 'Resource.ReservationInfo.type' field must be set."
                        .to_string(),
                );
            }
        }
    }
    Ok(())
}

fn to_milli(v: f64) -> i64 {
    if v.is_finite() {
        (v * 1000.0).round().clamp(-1e15, 1e15) as i64
    } else {
        0
    }
}

fn normalize(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.retain(|(b, e)| b <= e);
    ranges.sort();
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (b, e) in ranges {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

fn subtract_ranges(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(mut start, end) in a {
        let mut alive = true;
        for &(bb, be) in b {
            if !alive || be < start || bb > end {
                continue;
            }
            if bb > start {
                out.push((start, bb - 1));
            }
            if be >= end {
                alive = false;
            } else {
                start = be + 1;
            }
        }
        if alive {
            out.push((start, end));
        }
    }
    normalize(out)
}

fn ranges_contain(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    b.iter()
        .all(|&(bb, be)| a.iter().any(|&(ab, ae)| ab <= bb && be <= ae))
}

impl Quantity {
    fn is_empty(&self) -> bool {
        match self {
            Quantity::Scalar(v) => *v <= 0,
            Quantity::Ranges(r) => r.is_empty(),
            Quantity::Set(s) => s.is_empty(),
        }
    }
}

impl Resources {
    /// No resources.
    pub fn new() -> Resources {
        Resources::default()
    }

    /// Parses Mesos' `--resources` text: `name:value;...` with scalars, `[a-b,c-d]` ranges
    /// and `{x,y}` sets. A `name(role)` prefix is accepted and the role ignored.
    pub fn parse(text: &str) -> Result<Resources, String> {
        let mut out = Resources::new();
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, val) = part
                .split_once(':')
                .ok_or_else(|| format!("Bad resource '{part}': expecting name:value"))?;
            let name = name.split('(').next().unwrap_or(name).trim().to_string();
            let q =
                parse_quantity(val.trim()).ok_or_else(|| format!("Bad resource value '{part}'"))?;
            out.add(&name, q);
        }
        Ok(out)
    }

    /// Sums a list of protobuf resources (roles, reservations and allocation info are ignored).
    pub fn from_protos(list: &[Resource]) -> Resources {
        Resources::sum_of(list)
    }

    /// [`Resources::from_protos`] of any sequence of resources.
    fn sum_of<'a>(list: impl IntoIterator<Item = &'a Resource>) -> Resources {
        let mut out = Resources::new();
        for r in list {
            let q = match r.r#type() {
                value::Type::Scalar => {
                    Quantity::Scalar(to_milli(r.scalar.as_ref().map_or(0.0, |s| s.value)))
                }
                value::Type::Ranges => {
                    Quantity::Ranges(normalize(r.ranges.as_ref().map_or(Vec::new(), |rs| {
                        rs.range.iter().map(|x| (x.begin, x.end)).collect()
                    })))
                }
                value::Type::Set => {
                    let mut items = r.set.as_ref().map_or(Vec::new(), |s| s.item.clone());
                    items.sort();
                    items.dedup();
                    Quantity::Set(items)
                }
                value::Type::Text => continue,
            };
            out.add(&r.name, q);
        }
        out
    }

    /// Mesos' `Resources::validate` for each resource of `list` (the first check a 1.12
    /// master applies to every resource of a LAUNCH or LAUNCH_GROUP operation): a name, a
    /// SCALAR/RANGES/SET type with exactly its own payload, scalars not negative, ranges
    /// not inverted nor overlapping, sets without duplicates, `disk` info only on `disk`,
    /// and a reservation format that is one of the two (§7.1). The error is Mesos' text.
    pub fn validate(list: &[Resource]) -> Result<(), String> {
        list.iter().try_for_each(validate_one)
    }

    /// The master's `resource::validate` of a task's or executor's resources:
    /// [`Resources::validate`] (prefixed `Invalid resources: ` as Mesos does), then whole
    /// `gpus`. Callers prefix it again as Mesos does ("Task uses invalid resources: ...").
    pub fn protos_valid(list: &[Resource]) -> Result<(), String> {
        Resources::validate(list).map_err(|e| format!("Invalid resources: {e}"))?;
        // Mesos' `validateGpus`: three decimals are kept, and they must be zero.
        // Summed over the `gpus` resources alone (the others cannot change it): this runs
        // for every task, and the whole sum copies every name.
        let gpus = Resources::sum_of(list.iter().filter(|r| r.name == "gpus")).scalar("gpus");
        if (gpus * 1000.0).round() as i64 % 1000 != 0 {
            return Err(
                "Invalid 'gpus' resource: The 'gpus' resource must be an unsigned integer"
                    .to_string(),
            );
        }
        Ok(())
    }

    /// Whether every resource of `list` is one a devcluster offer can contain for
    /// allocation role `role`: unreserved (no role other than `*`, no reservation in either
    /// format), not revocable, not shared, no disk info (volumes, sources), no resource
    /// provider, and allocated to `role` if it names an allocation at all. Mesos compares
    /// all of these when it checks that a task fits its offer, and devcluster offers only
    /// plain unreserved resources, so anything else is "more than available" there too.
    pub fn offerable_to(list: &[Resource], role: &str) -> bool {
        list.iter().all(|r| {
            r.role.as_deref().is_none_or(|x| x == "*")
                && r.reservation.is_none()
                && r.reservations.is_empty()
                && r.revocable.is_none()
                && r.shared.is_none()
                && r.disk.is_none()
                && r.provider_id.is_none()
                && r.allocation_info
                    .as_ref()
                    .and_then(|a| a.role.as_deref())
                    .is_none_or(|x| x == role)
        })
    }

    /// Mesos' `detectOverlappingSetAndRangeResources`: whether some range or set item is
    /// in more than one of `lists` (the sum of their sizes exceeds the size of their union).
    pub fn overlap(lists: &[&[Resource]]) -> bool {
        fn size(r: &Resources) -> u128 {
            r.entries
                .iter()
                .map(|(_, q)| match q {
                    Quantity::Scalar(_) => 0,
                    Quantity::Ranges(rs) => rs.iter().map(|(b, e)| (e - b) as u128 + 1).sum(),
                    Quantity::Set(items) => items.len() as u128,
                })
                .sum()
        }
        let parts: Vec<Resources> = lists.iter().map(|l| Resources::from_protos(l)).collect();
        let union = parts.iter().fold(Resources::new(), |acc, p| acc.plus(p));
        parts.iter().map(size).sum::<u128>() != size(&union)
    }

    fn add(&mut self, name: &str, q: Quantity) {
        if let Some((_, existing)) = self.entries.iter_mut().find(|(n, _)| n == name) {
            match (existing, q) {
                (Quantity::Scalar(a), Quantity::Scalar(b)) => *a += b,
                (Quantity::Ranges(a), Quantity::Ranges(b)) => {
                    let mut all = a.clone();
                    all.extend(b);
                    *a = normalize(all);
                }
                (Quantity::Set(a), Quantity::Set(b)) => {
                    a.extend(b);
                    a.sort();
                    a.dedup();
                }
                _ => {}
            }
        } else if !q.is_empty() {
            self.entries.push((name.to_string(), q));
        }
    }

    /// `self + other`.
    pub fn plus(&self, other: &Resources) -> Resources {
        let mut out = self.clone();
        for (n, q) in &other.entries {
            out.add(n, q.clone());
        }
        out
    }

    /// `self - other` (never below zero; missing names are ignored).
    pub fn minus(&self, other: &Resources) -> Resources {
        let mut out = Resources::new();
        for (n, q) in &self.entries {
            let left = match (q, other.get(n)) {
                (q, None) => q.clone(),
                (Quantity::Scalar(a), Some(Quantity::Scalar(b))) => {
                    Quantity::Scalar((a - b).max(0))
                }
                (Quantity::Ranges(a), Some(Quantity::Ranges(b))) => {
                    Quantity::Ranges(subtract_ranges(a, b))
                }
                (Quantity::Set(a), Some(Quantity::Set(b))) => {
                    Quantity::Set(a.iter().filter(|x| !b.contains(x)).cloned().collect())
                }
                (q, Some(_)) => q.clone(),
            };
            if !left.is_empty() {
                out.entries.push((n.clone(), left));
            }
        }
        out
    }

    /// `self = self + other`, in place: [`Resources::plus`] without copying `self`.
    pub fn add_all(&mut self, other: &Resources) {
        for (n, q) in &other.entries {
            self.add(n, q.clone());
        }
    }

    /// `self = self - other`, in place: [`Resources::minus`] without copying what
    /// `other` does not touch (names and untouched quantities stay where they are).
    pub fn subtract(&mut self, other: &Resources) {
        for (n, q) in self.entries.iter_mut() {
            match (q, other.get(n)) {
                (Quantity::Scalar(a), Some(Quantity::Scalar(b))) => *a = (*a - b).max(0),
                (Quantity::Ranges(a), Some(Quantity::Ranges(b))) => *a = subtract_ranges(a, b),
                (Quantity::Set(a), Some(Quantity::Set(b))) => a.retain(|x| !b.contains(x)),
                _ => {}
            }
        }
        self.entries.retain(|(_, q)| !q.is_empty());
    }

    /// Whether `other` fits inside `self`.
    pub fn contains(&self, other: &Resources) -> bool {
        other.entries.iter().all(|(n, q)| match (self.get(n), q) {
            (_, q) if q.is_empty() => true,
            (Some(Quantity::Scalar(a)), Quantity::Scalar(b)) => a >= b,
            (Some(Quantity::Ranges(a)), Quantity::Ranges(b)) => ranges_contain(a, b),
            (Some(Quantity::Set(a)), Quantity::Set(b)) => b.iter().all(|x| a.contains(x)),
            _ => false,
        })
    }

    fn get(&self, name: &str) -> Option<&Quantity> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, q)| q)
    }

    /// The value of a scalar resource (0 if absent).
    pub fn scalar(&self, name: &str) -> f64 {
        match self.get(name) {
            Some(Quantity::Scalar(v)) => *v as f64 / 1000.0,
            _ => 0.0,
        }
    }

    /// Whether there is nothing at all.
    pub fn is_empty(&self) -> bool {
        self.entries.iter().all(|(_, q)| q.is_empty())
    }

    /// Mesos' default `--min_allocatable_resources`: at least 0.01 cpus or 32 MB mem.
    pub fn allocatable(&self) -> bool {
        self.scalar("cpus") >= 0.01 || self.scalar("mem") >= 32.0
    }

    /// Protobuf resources as an offer carries them (§7.1): in `format`, with an
    /// `allocation_info` for `role` when given. Non-scalar resources come first, as in the
    /// offers Mesos 1.12 sends (`ports`, sets, then `cpus`, `mem`, `disk`).
    pub fn to_protos(
        &self,
        allocation_role: Option<&str>,
        format: ResourceFormat,
    ) -> Vec<Resource> {
        let (scalars, others): (Vec<_>, Vec<_>) = self
            .entries
            .iter()
            .partition(|(_, q)| matches!(q, Quantity::Scalar(_)));
        let mut out = Self::protos(others.into_iter().chain(scalars), allocation_role);
        if format == ResourceFormat::PostRefinement {
            // Unreserved in the refinement format: no `role`, an empty (so absent)
            // `reservations` stack.
            for r in &mut out {
                r.role = None;
            }
        }
        out
    }

    /// Protobuf resources in the configured order, without a role (the `AgentInfo` form).
    pub fn to_protos_configured(&self) -> Vec<Resource> {
        let mut out = Self::protos(self.entries.iter(), None);
        for r in &mut out {
            r.role = None;
        }
        out
    }

    fn protos<'a>(
        entries: impl Iterator<Item = &'a (String, Quantity)>,
        allocation_role: Option<&str>,
    ) -> Vec<Resource> {
        entries
            .map(|(name, q)| {
                let mut r = Resource {
                    name: name.clone(),
                    role: Some("*".to_string()),
                    allocation_info: allocation_role.map(|role| resource::AllocationInfo {
                        role: Some(role.to_string()),
                    }),
                    ..Default::default()
                };
                match q {
                    Quantity::Scalar(v) => {
                        r.set_type(value::Type::Scalar);
                        r.scalar = Some(value::Scalar {
                            value: *v as f64 / 1000.0,
                        });
                    }
                    Quantity::Ranges(rs) => {
                        r.set_type(value::Type::Ranges);
                        r.ranges = Some(value::Ranges {
                            range: rs
                                .iter()
                                .map(|&(begin, end)| value::Range { begin, end })
                                .collect(),
                        });
                    }
                    Quantity::Set(items) => {
                        r.set_type(value::Type::Set);
                        r.set = Some(value::Set {
                            item: items.clone(),
                        });
                    }
                }
                r
            })
            .collect()
    }

    /// The JSON summary used by the state endpoints:
    /// `{"cpus":4.0,"gpus":0.0,"mem":4096.0,"disk":10240.0,"ports":"[31000-32000]"}`.
    pub fn summary(&self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for name in ["cpus", "disk", "gpus", "mem"] {
            map.insert(name.to_string(), serde_json::json!(self.scalar(name)));
        }
        for (n, q) in &self.entries {
            match q {
                Quantity::Scalar(v) => {
                    map.insert(n.clone(), serde_json::json!(*v as f64 / 1000.0));
                }
                Quantity::Ranges(r) => {
                    map.insert(n.clone(), serde_json::Value::String(format_ranges(r)));
                }
                Quantity::Set(s) => {
                    map.insert(
                        n.clone(),
                        serde_json::Value::String(format!("{{{}}}", s.join(", "))),
                    );
                }
            }
        }
        serde_json::Value::Object(map)
    }

    /// Mesos' text form, e.g. `cpus(allocated: *):4; ports(allocated: *):[31000-32000]`,
    /// used in TASK_ERROR messages.
    pub fn describe(&self, role: &str) -> String {
        self.entries
            .iter()
            .map(|(n, q)| {
                let v = match q {
                    Quantity::Scalar(v) => format_scalar(*v),
                    Quantity::Ranges(r) => format_ranges(r),
                    Quantity::Set(s) => format!("{{{}}}", s.join(", ")),
                };
                format!("{n}(allocated: {role}):{v}")
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

fn format_scalar(milli: i64) -> String {
    let v = milli as f64 / 1000.0;
    if milli % 1000 == 0 {
        format!("{}", milli / 1000)
    } else {
        format!("{v}")
    }
}

pub(crate) fn format_ranges(r: &[(u64, u64)]) -> String {
    let parts: Vec<String> = r.iter().map(|(b, e)| format!("{b}-{e}")).collect();
    format!("[{}]", parts.join(", "))
}

pub(crate) fn parse_quantity(val: &str) -> Option<Quantity> {
    if let Some(inner) = val.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        let mut out = Vec::new();
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (b, e) = part.split_once('-')?;
            out.push((b.trim().parse().ok()?, e.trim().parse().ok()?));
        }
        return Some(Quantity::Ranges(normalize(out)));
    }
    if let Some(inner) = val.strip_prefix('{').and_then(|v| v.strip_suffix('}')) {
        let mut items: Vec<String> = inner
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        items.sort();
        items.dedup();
        return Some(Quantity::Set(items));
    }
    let v: f64 = val.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| Quantity::Scalar(to_milli(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic() {
        let total = Resources::parse("cpus:4;mem:4096;ports:[31000-32000]").unwrap();
        let task = Resources::parse("cpus:0.1;mem:32;ports:[31000-31000]").unwrap();
        let left = total.minus(&task);
        assert_eq!(left.scalar("cpus"), 3.9);
        assert!(total.contains(&task));
        assert!(!task.contains(&total));
        assert_eq!(
            left.plus(&task),
            Resources::parse("cpus:4;mem:4096;ports:[31000-32000]").unwrap()
        );
        assert_eq!(left.summary()["ports"], "[31001-32000]");
    }

    #[test]
    fn in_place_arithmetic_matches_plus_and_minus() {
        let texts = [
            "cpus:4;mem:4096;ports:[31000-32000];zones:{a,b,c}",
            "cpus:0.1;mem:32;ports:[31000-31000]",
            "cpus:4;zones:{b}",
            "mem:8192;ports:[30000-31500];gpus:1",
            "",
        ];
        for a in texts {
            for b in texts {
                let (a, b) = (Resources::parse(a).unwrap(), Resources::parse(b).unwrap());
                let mut sum = a.clone();
                sum.add_all(&b);
                assert_eq!(sum, a.plus(&b));
                let mut difference = a.clone();
                difference.subtract(&b);
                assert_eq!(difference, a.minus(&b));
            }
        }
    }
}
