//! Resource builders and readers, offer fit and carving, on offers exactly
//! as Mesos 1.12 sent them (`fixtures/mesos-1.12/scheduler-*/`).

use std::path::Path;

use mesos_client::offers::{RemainingResources, Resources, fits};
use mesos_client::resources::{
    count_in_ranges, cpus, describe, disk, gpus, mem, ports, ranges, ranges_total, scalar, set,
};
use mesos_proto::v1::scheduler::Event;
use mesos_proto::v1::{Offer, Resource, resource, value};

fn offer_from(fixture: &str) -> Offer {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/mesos-1.12")
        .join(fixture);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    let event: Event = mesos_proto::json::from_slice(&bytes).unwrap();
    event.offers.unwrap().offers.remove(0)
}

/// Non-MULTI_ROLE framework: resources carry `role: "*"`, no allocation info.
fn plain_offer() -> Offer {
    offer_from("scheduler-json/event-offers.json")
}

/// MULTI_ROLE framework: every resource carries `allocation_info`.
fn multi_role_offer() -> Offer {
    offer_from("scheduler-partition-aware/event-offers-multi-role.json")
}

#[test]
fn builders_make_the_mesos_shapes() {
    let json = mesos_proto::json::to_value(&scalar("cpus", 0.1));
    assert_eq!(
        json,
        serde_json::json!({"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}})
    );
    let json = mesos_proto::json::to_value(&ranges("ports", &[(31000, 31005)]));
    assert_eq!(
        json,
        serde_json::json!({"name": "ports", "type": "RANGES", "ranges": {"range": [{"begin": 31000, "end": 31005}]}})
    );
    let colors = set("colors", &["red", "blue"]);
    assert_eq!(colors.r#type(), value::Type::Set);
    assert_eq!(colors.set.unwrap().item, vec!["red", "blue"]);
}

#[test]
fn totals_of_a_real_offer() {
    let offer = plain_offer();
    assert_eq!(cpus(&offer.resources), 4.0);
    assert_eq!(mem(&offer.resources), 2048.0);
    assert_eq!(disk(&offer.resources), 4096.0);
    assert_eq!(gpus(&offer.resources), 0.0);
    assert_eq!(ports(&offer.resources), vec![(31000, 32000)]);
    assert_eq!(count_in_ranges(&ports(&offer.resources)), 1001);
    assert_eq!(
        describe(&offer.resources),
        "ports:[31000-32000]; colors:{red, green, blue}; cpus:4; mem:2048; disk:4096"
    );
}

#[test]
fn scalars_add_up_without_float_noise_and_ranges_merge() {
    let rs = vec![scalar("cpus", 0.1), scalar("cpus", 0.2), scalar("mem", 1.0)];
    assert_eq!(cpus(&rs), 0.3);
    let rs = vec![
        ranges("ports", &[(31003, 31005), (31010, 31010)]),
        ranges("ports", &[(31000, 31002)]),
        ranges("other", &[(1, 2)]),
    ];
    assert_eq!(
        ranges_total(&rs, "ports"),
        vec![(31000, 31005), (31010, 31010)]
    );
    assert_eq!(count_in_ranges(&[(31000, 31005), (31010, 31010)]), 7);
}

#[test]
fn fit_checks_every_dimension() {
    let offer = plain_offer();
    assert!(fits(
        &offer,
        &Resources::new(4.0, 2048.0)
            .with_disk(4096.0)
            .with_ports(1001)
    ));
    assert!(!fits(&offer, &Resources::new(4.001, 1.0)));
    assert!(!fits(&offer, &Resources::new(1.0, 2049.0)));
    assert!(!fits(&offer, &Resources::new(1.0, 1.0).with_disk(5000.0)));
    assert!(!fits(&offer, &Resources::new(1.0, 1.0).with_ports(1002)));
    assert!(fits(&offer, &Resources::default()));
}

#[test]
fn carving_tasks_out_of_an_offer_keeps_role_and_allocation_info() {
    for offer in [plain_offer(), multi_role_offer()] {
        let mut left = RemainingResources::from_offer(&offer);
        let need = Resources::new(1.5, 512.0).with_disk(100.0).with_ports(3);
        let first = left.take(&need).unwrap();
        let second = left.take(&need).unwrap();
        assert!(left.take(&need).is_none(), "only 4 cpus");
        assert_eq!(cpus(left.resources()), 1.0);
        assert_eq!(mem(left.resources()), 1024.0);

        assert_eq!(cpus(&first), 1.5);
        assert_eq!(mem(&first), 512.0);
        assert_eq!(disk(&first), 100.0);
        assert_eq!(ports(&first), vec![(31000, 31002)]);
        assert_eq!(ports(&second), vec![(31003, 31005)]);
        assert_eq!(ports(left.resources()), vec![(31006, 32000)]);

        // Each piece is a copy of an offered entry: same role, same
        // allocation_info, as the master requires.
        for piece in first.iter().chain(&second) {
            let offered = offer
                .resources
                .iter()
                .find(|r| r.name == piece.name)
                .unwrap();
            assert_eq!(piece.role, offered.role);
            assert_eq!(piece.allocation_info, offered.allocation_info);
            assert_eq!(piece.r#type, offered.r#type);
        }
        // Tasks and leftovers add back up to the offer.
        let all: Vec<Resource> = first
            .iter()
            .chain(&second)
            .chain(left.resources())
            .cloned()
            .collect();
        assert_eq!(cpus(&all), 4.0);
        assert_eq!(mem(&all), 2048.0);
        assert_eq!(count_in_ranges(&ports(&all)), 1001);
    }
    let multi = multi_role_offer();
    let piece = RemainingResources::from_offer(&multi)
        .take(&Resources::new(0.1, 1.0))
        .unwrap();
    assert_eq!(
        piece[0].allocation_info.as_ref().unwrap().role.as_deref(),
        Some("*")
    );
}

#[test]
fn a_failed_take_changes_nothing() {
    let offer = plain_offer();
    let mut left = RemainingResources::from_offer(&offer);
    assert!(
        left.take(&Resources::new(1.0, 1.0).with_ports(5000))
            .is_none()
    );
    assert_eq!(left.resources(), &offer.resources[..]);
}

#[test]
fn needs_spread_over_reserved_and_unreserved_entries() {
    let mut reserved = scalar("cpus", 0.5);
    reserved.reservations.push(resource::ReservationInfo {
        role: Some("web".into()),
        principal: Some("ops".into()),
        ..Default::default()
    });
    let mut left = RemainingResources::new(vec![
        reserved.clone(),
        scalar("cpus", 1.0),
        scalar("mem", 64.0),
    ]);
    let taken = left.take(&Resources::new(1.2, 64.0)).unwrap();
    let cpu_pieces: Vec<&Resource> = taken.iter().filter(|r| r.name == "cpus").collect();
    assert_eq!(cpu_pieces.len(), 2);
    assert_eq!(cpu_pieces[0].reservations, reserved.reservations);
    assert_eq!(cpu_pieces[0].scalar.as_ref().unwrap().value, 0.5);
    assert_eq!(cpu_pieces[1].scalar.as_ref().unwrap().value, 0.7);
    assert_eq!(cpus(left.resources()), 0.3);
    assert_eq!(mem(left.resources()), 0.0);
    assert!(
        left.resources().iter().all(|r| r.name != "mem"),
        "used-up entries go away"
    );
}

#[test]
fn volumes_are_not_carved() {
    let mut volume = scalar("disk", 100.0);
    volume.disk = Some(resource::DiskInfo::default());
    let left = RemainingResources::new(vec![volume]);
    assert!(!left.fits(&Resources::default().with_disk(10.0)));
}

#[test]
fn requirements_add_up() {
    let task = Resources::new(0.1, 32.0).with_ports(1);
    let executor = Resources::new(0.2, 32.0).with_disk(10.0);
    assert_eq!(
        task.plus(executor),
        Resources {
            cpus: 0.3,
            mem: 64.0,
            disk: 10.0,
            ports: 1
        }
    );
}
