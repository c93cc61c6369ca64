//! Conformance, offers: checklist items 41-51 (§9).

use std::collections::BTreeMap;
use std::time::Duration;

use e2e_tests::http::Next;
use e2e_tests::sched::{Sched, WAIT, command_task, framework, raw_status, small_resources};
use e2e_tests::testcluster;
use mesos_proto::v1::scheduler::{Event, event};
use mesos_proto::v1::task_status::{Reason, Source};
use mesos_proto::v1::{Offer, TaskState};
use serde_json::{Value, json};

/// The resources of an offer as `name -> printable value`, to compare offers.
fn summary(offer: &Offer) -> BTreeMap<String, String> {
    offer
        .resources
        .iter()
        .map(|r| {
            let v = if let Some(s) = &r.scalar {
                format!("{:.3}", s.value)
            } else if let Some(rs) = &r.ranges {
                rs.range
                    .iter()
                    .map(|x| format!("{}-{}", x.begin, x.end))
                    .collect::<Vec<_>>()
                    .join(",")
            } else if let Some(set) = &r.set {
                set.item.join(",")
            } else {
                String::new()
            };
            (r.name.clone(), v)
        })
        .collect()
}

/// Events for `d`; panics if the stream ends.
fn events_for(s: &mut Sched, d: Duration) -> Vec<Event> {
    let (events, end) = s.stream.collect_for(d);
    assert!(end.is_none(), "stream ended: {end:?}");
    events
}

fn offers_in(events: &[Event]) -> Vec<Offer> {
    events
        .iter()
        .filter_map(|e| e.offers.as_ref())
        .flat_map(|o| o.offers.clone())
        .collect()
}

#[test]
fn c41_offers_arrive_after_subscribe() {
    let (c, addr) = testcluster::start(2);
    let mut s = Sched::subscribe(&addr, framework("c41"));
    let mut agents = std::collections::BTreeSet::new();
    while agents.len() < 2 {
        for o in s.offers(WAIT) {
            assert_eq!(o.framework_id.value, s.framework_id);
            assert!(!o.id.value.is_empty() && !o.hostname.is_empty());
            assert!(!o.resources.is_empty());
            agents.insert(o.agent_id.value.clone());
        }
    }
    let ids: std::collections::BTreeSet<String> = c.agent_ids().into_iter().collect();
    assert_eq!(agents, ids, "both agents offered");
}

#[test]
fn c42_decline_with_zero_refusal_is_reoffered() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c42"));
    let first = s.offers(WAIT);
    s.decline(&first, Some(0.0));
    let again = s.offers(WAIT);
    assert_eq!(summary(&again[0]), summary(&first[0]));
    assert_ne!(again[0].id.value, first[0].id.value, "a new offer id");
}

#[test]
fn c43_decline_with_long_filter_then_revive() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c43"));
    let first = s.offers(WAIT);
    s.decline(&first, Some(3600.0));
    assert!(offers_in(&events_for(&mut s, Duration::from_millis(1500))).is_empty());
    s.call_ok("REVIVE", None);
    let again = s.offers(WAIT);
    assert_eq!(summary(&again[0]), summary(&first[0]));
}

#[test]
fn c44_suppress_then_revive() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c44"));
    let first = s.offers(WAIT);
    s.call_ok("SUPPRESS", None);
    s.decline(&first, Some(0.0));
    assert!(offers_in(&events_for(&mut s, Duration::from_millis(1500))).is_empty());
    s.call_ok("REVIVE", None);
    let again = s.offers(WAIT);
    assert_eq!(summary(&again[0]), summary(&first[0]));
}

#[test]
fn c45_decline_without_filters_refuses_for_five_seconds() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c45"));
    let first = s.offers(WAIT);
    let declined = std::time::Instant::now();
    s.decline(&first, None);
    assert!(offers_in(&events_for(&mut s, Duration::from_secs(3))).is_empty());
    let again = s.offers(Duration::from_secs(10));
    assert!(
        declined.elapsed() >= Duration::from_millis(4500),
        "{:?}",
        declined.elapsed()
    );
    assert_eq!(summary(&again[0]), summary(&first[0]));
}

#[test]
fn c46_allocation_info_only_for_multi_role() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c46-plain"));
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Offers);
    let v: Value = serde_json::from_slice(&raw).unwrap();
    assert!(!raw.windows(15).any(|w| w == b"allocation_info"), "{v}");
    drop(s);

    let info = json!({"user": "u", "name": "c46-multi", "roles": ["dev"],
                      "capabilities": [{"type": "MULTI_ROLE"}]});
    let mut s = Sched::subscribe(&addr, info);
    for o in s.offers(WAIT) {
        assert_eq!(
            o.allocation_info
                .as_ref()
                .and_then(|a| a.role.clone())
                .as_deref(),
            Some("dev")
        );
        for r in &o.resources {
            let role = r.allocation_info.as_ref().and_then(|a| a.role.clone());
            assert_eq!(role.as_deref(), Some("dev"), "{r:?}");
        }
    }
}

#[test]
fn c47_unreserved_resources_carry_role_star() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c47"));
    let (_, raw) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Offers);
    let v: Value = serde_json::from_slice(&raw).unwrap();
    for offer in v["offers"]["offers"].as_array().unwrap() {
        for r in offer["resources"].as_array().unwrap() {
            assert_eq!(r["role"], "*", "{r}");
            assert!(r.get("reservations").is_none());
        }
    }
}

#[test]
fn c48_accept_of_unknown_or_used_offer_is_task_lost() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c48"));
    let offer = s.offers(WAIT).remove(0);
    let mut fake = offer.clone();
    fake.id.value = "no-such-offer".into();
    let task = command_task("c48-a", &offer.agent_id.value, "true");
    assert_eq!(s.launch(&fake, vec![task], None).status(), 202);
    let (st, raw) = s.update_for(WAIT, "c48-a");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.source(), Source::SourceMaster);
    assert_eq!(st.reason(), Reason::ReasonInvalidOffers);
    assert!(st.uuid.is_none(), "{}", raw_status(&raw));
    // Using the real offer twice: the second ACCEPT names a consumed offer.
    let t1 = command_task("c48-b", &offer.agent_id.value, "sleep 5");
    assert_eq!(s.launch(&offer, vec![t1], None).status(), 202);
    let t2 = command_task("c48-c", &offer.agent_id.value, "true");
    assert_eq!(s.launch(&offer, vec![t2], None).status(), 202);
    let (st, _) = s.update_for(WAIT, "c48-c");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonInvalidOffers);
    assert!(st.uuid.is_none());
}

/// Builds the task list of one ACCEPT from the offer it uses.
type MakeTasks = Box<dyn Fn(&Offer) -> Vec<Value>>;

#[test]
fn c49_invalid_tasks_are_task_error() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c49"));
    let agent = |o: &Offer| o.agent_id.value.clone();
    let mut cases: Vec<(&str, MakeTasks)> = Vec::new();
    cases.push((
        "dup",
        Box::new(move |o| {
            vec![
                command_task("dup", &agent(o), "sleep 5"),
                command_task("dup", &agent(o), "true"),
            ]
        }),
    ));
    cases.push((
        "nores",
        Box::new(move |o| {
            let mut t = command_task("nores", &agent(o), "true");
            t.as_object_mut().unwrap().remove("resources");
            vec![t]
        }),
    ));
    cases.push((
        "huge",
        Box::new(move |o| {
            let mut t = command_task("huge", &agent(o), "true");
            t["resources"] =
                json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 100.0}}]);
            vec![t]
        }),
    ));
    cases.push((
        "both",
        Box::new(move |o| {
            let mut t = command_task("both", &agent(o), "true");
            t["executor"] = json!({"executor_id": {"value": "e"}, "command": {"value": "sleep 5"},
                                   "resources": small_resources()});
            vec![t]
        }),
    ));
    cases.push((
        "wrongagent",
        Box::new(move |_| vec![command_task("wrongagent", "some-other-agent", "true")]),
    ));
    cases.push((
        "bad/id",
        Box::new(move |o| vec![command_task("bad/id", &agent(o), "true")]),
    ));
    cases.push((
        "neither",
        Box::new(move |o| {
            let mut t = command_task("neither", &agent(o), "true");
            t.as_object_mut().unwrap().remove("command");
            vec![t]
        }),
    ));
    cases.push((
        "nocmd",
        Box::new(move |o| {
            let mut t = command_task("nocmd", &agent(o), "true");
            t.as_object_mut().unwrap().remove("command");
            t["executor"] = json!({"executor_id": {"value": "e2"}, "resources": small_resources()});
            vec![t]
        }),
    ));
    for (task, make) in cases {
        let offer = s.offers(WAIT).remove(0);
        let r = s.launch(&offer, make(&offer), Some(json!({"refuse_seconds": 0.0})));
        assert_eq!(r.status(), 202);
        // For the duplicate, the second task with the same id is the invalid one.
        let st = loop {
            let (st, _) = s.update_for(WAIT, task);
            s.ack(&st);
            if st.state() == TaskState::TaskError {
                break st;
            }
        };
        assert_eq!(st.reason(), Reason::ReasonTaskInvalid, "{task}");
        assert_eq!(st.source(), Source::SourceMaster, "{task}");
        assert!(st.uuid.is_none(), "{task}");
        assert!(
            st.message.as_deref().is_some_and(|m| !m.is_empty()),
            "{task}: a reason"
        );
    }
}

#[test]
fn c50_unused_accept_resources_are_filtered_for_five_seconds() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c50"));
    let offer = s.offers(WAIT).remove(0);
    let accepted = std::time::Instant::now();
    let task = command_task("c50-t", &offer.agent_id.value, "sleep 30");
    assert_eq!(s.launch(&offer, vec![task], None).status(), 202);
    let events = events_for(&mut s, Duration::from_secs(3));
    assert!(
        offers_in(&events).is_empty(),
        "re-offered before the default 5 s filter"
    );
    let again = s.offers(Duration::from_secs(10));
    assert!(
        accepted.elapsed() >= Duration::from_millis(4500),
        "{:?}",
        accepted.elapsed()
    );
    assert_eq!(again[0].agent_id, offer.agent_id);
}

#[test]
fn c51_agent_loss_rescinds_offers_fails_agent_and_loses_tasks() {
    let (c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c51"));
    let offer = s.offers(WAIT).remove(0);
    let task = command_task("c51-t", &offer.agent_id.value, "sleep 30");
    // refuse 0 so the remaining resources come back as an outstanding offer.
    assert_eq!(
        s.launch(&offer, vec![task], Some(json!({"refuse_seconds": 0.0})))
            .status(),
        202
    );
    // The task runs and the rest of the agent is offered again (in either order).
    let (mut running, mut outstanding) = (false, None);
    while !running || outstanding.is_none() {
        let (ev, _) = s.stream.next_event(WAIT);
        if let Some(o) = ev.offers {
            outstanding = o.offers.into_iter().next();
        } else if let Some(u) = ev.update {
            s.ack(&u.status);
            running |= u.status.state() == TaskState::TaskRunning;
        }
    }
    let outstanding = outstanding.unwrap();
    assert!(c.lose_agent(0));
    let (mut rescinded, mut failure, mut lost) = (false, false, false);
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !(rescinded && failure && lost) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let ev = match s.stream.next_within(left) {
            Next::Event(ev, _) => ev,
            other => panic!("rescind {rescinded} failure {failure} lost {lost}: {other:?}"),
        };
        match ev.r#type() {
            event::Type::Rescind => {
                assert_eq!(ev.rescind.unwrap().offer_id, outstanding.id);
                rescinded = true;
            }
            event::Type::Failure => {
                let f = ev.failure.unwrap();
                assert_eq!(f.agent_id.as_ref(), Some(&offer.agent_id));
                assert!(f.executor_id.is_none() && f.status.is_none(), "{f:?}");
                failure = true;
            }
            event::Type::Update => {
                let st = ev.update.unwrap().status;
                assert_eq!(st.state(), TaskState::TaskLost, "{st:?}");
                assert_eq!(st.source(), Source::SourceMaster);
                assert!(
                    matches!(
                        st.reason(),
                        Reason::ReasonAgentRemoved | Reason::ReasonAgentDisconnected
                    ),
                    "{st:?}"
                );
                assert!(st.uuid.is_none());
                lost = true;
            }
            _ => {}
        }
    }
}

/// §7.1/§7.3: one offer is one agent for one role, and filters are per role: after the
/// offer for one role is declined with a long filter, the same agent is offered to the
/// framework's other role.
#[test]
fn c46_multi_role_gets_one_offer_per_role() {
    let (_c, addr) = testcluster::start(1);
    let info = json!({"user": "u", "name": "c46-two", "roles": ["a", "b"],
                      "capabilities": [{"type": "MULTI_ROLE"}]});
    let mut s = Sched::subscribe(&addr, info);
    let mut roles = std::collections::BTreeSet::new();
    while roles.len() < 2 {
        let offers = s.offers(WAIT);
        for o in &offers {
            let role = o.allocation_info.clone().and_then(|a| a.role);
            let role = role.expect("allocation_info.role");
            assert!(
                roles.insert(role.clone()),
                "role {role} offered again despite its filter"
            );
        }
        s.decline(&offers, Some(3600.0));
    }
    assert_eq!(roles, ["a", "b"].map(String::from).into());
}

/// c51 for a checkpointing PARTITION_AWARE framework: its tasks become
/// `TASK_UNREACHABLE` with `REASON_AGENT_REMOVED` and `unreachable_time`.
#[test]
fn c51_agent_loss_partition_aware_checkpointing() {
    let (c, addr) = testcluster::start(1);
    let mut info = framework("c51-pa");
    info["checkpoint"] = json!(true);
    info["capabilities"] = json!([{"type": "PARTITION_AWARE"}]);
    let mut s = Sched::subscribe(&addr, info);
    s.launch_one(|o| command_task("c51-pa-t", &o.agent_id.value, "sleep 30"));
    s.wait_state(WAIT, "c51-pa-t", TaskState::TaskRunning);
    assert!(c.lose_agent(0));
    let (st, _) = s.update_for(Duration::from_secs(15), "c51-pa-t");
    assert_eq!(st.state(), TaskState::TaskUnreachable, "{st:?}");
    assert_eq!(st.reason(), Reason::ReasonAgentRemoved);
    assert_eq!(st.source(), Source::SourceMaster);
    assert!(st.unreachable_time.is_some() && st.uuid.is_none());
}

/// §7.2: all offers of one ACCEPT must come from the same agent; otherwise every task gets
/// `TASK_LOST`/`REASON_INVALID_OFFERS` and the offers return without a filter.
#[test]
fn c48_accept_with_offers_of_two_agents_is_invalid() {
    let (_c, addr) = testcluster::start(2);
    let mut s = Sched::subscribe(&addr, framework("c48-two"));
    let mut offers: Vec<Offer> = Vec::new();
    while offers.len() < 2 {
        for o in s.offers(WAIT) {
            if offers.iter().all(|x| x.agent_id != o.agent_id) {
                offers.push(o);
            }
        }
    }
    let task = command_task("c48-two-t", &offers[0].agent_id.value, "true");
    let accept = json!({
        "offer_ids": [{"value": offers[0].id.value}, {"value": offers[1].id.value}],
        "operations": [{"type": "LAUNCH", "launch": {"task_infos": [task]}}]
    });
    s.call_ok("ACCEPT", Some(("accept", accept)));
    let (st, _) = s.update_for(WAIT, "c48-two-t");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonInvalidOffers);
    // Returned without a filter: both agents are offered again soon.
    let mut again = std::collections::BTreeSet::new();
    while again.len() < 2 {
        for o in s.offers(WAIT) {
            again.insert(o.agent_id.value);
        }
    }
}

/// §7.3: a refusal filter only hides resources contained in what was declined: when more
/// becomes free on the agent (a task ends), the agent is offered again at once.
#[test]
fn c50_filter_hides_only_what_was_declined() {
    let (_c, addr) = testcluster::start(1);
    let mut s = Sched::subscribe(&addr, framework("c50-superset"));
    let offer = s.offers(WAIT).remove(0);
    let task = command_task("c50-s", &offer.agent_id.value, "sleep 30");
    let r = s.launch(&offer, vec![task], Some(json!({"refuse_seconds": 3600.0})));
    assert_eq!(r.status(), 202);
    s.wait_state(WAIT, "c50-s", TaskState::TaskRunning);
    assert!(offers_in(&events_for(&mut s, Duration::from_millis(800))).is_empty());
    s.call_ok(
        "KILL",
        Some(("kill", json!({"task_id": {"value": "c50-s"}}))),
    );
    s.wait_state(WAIT, "c50-s", TaskState::TaskKilled);
    let again = s.offers(WAIT);
    assert_eq!(summary(&again[0]), summary(&offer), "the whole agent again");
}

/// §2.3 REVIVE: a list naming a role the framework is not subscribed to drops the whole
/// call (still 202).
#[test]
fn c44_revive_naming_an_unknown_role_is_dropped() {
    let (_c, addr) = testcluster::start(1);
    let info = json!({"user": "u", "name": "c44-bad-revive", "roles": ["a"],
                      "capabilities": [{"type": "MULTI_ROLE"}]});
    let mut body = e2e_tests::sched::subscribe_body(&info);
    body["subscribe"]["suppressed_roles"] = json!(["a"]);
    let mut s = Sched::subscribe_raw(&addr, &[], &body);
    s.call_ok(
        "REVIVE",
        Some(("revive", json!({"roles": ["a", "not-mine"]}))),
    );
    assert!(offers_in(&events_for(&mut s, Duration::from_millis(800))).is_empty());
    s.call_ok("REVIVE", Some(("revive", json!({"roles": ["a"]}))));
    assert!(!s.offers(WAIT).is_empty());
}

/// §7.5: with `--offer_timeout`, an offer left alone is rescinded and offered again.
#[test]
fn c51_offer_timeout_rescinds_and_reoffers() {
    let (_c, addr) = testcluster::start_with(1, |cfg| {
        cfg.offer_timeout = Some(Duration::from_millis(300));
    });
    let mut s = Sched::subscribe(&addr, framework("c51-timeout"));
    let offer = s.offers(WAIT).remove(0);
    let (ev, _) = s
        .stream
        .wait_for(WAIT, |e| e.r#type() == event::Type::Rescind);
    assert_eq!(ev.rescind.unwrap().offer_id, offer.id);
    let again = s.offers(WAIT).remove(0);
    assert_ne!(again.id, offer.id);
    // Accepting the rescinded offer: TASK_LOST with REASON_INVALID_OFFERS.
    let task = command_task("c51-late", &offer.agent_id.value, "true");
    assert_eq!(s.launch(&offer, vec![task], None).status(), 202);
    let (st, _) = s.update_for(WAIT, "c51-late");
    assert_eq!(st.state(), TaskState::TaskLost);
    assert_eq!(st.reason(), Reason::ReasonInvalidOffers);
}
