//! Scheduler events exactly as a Mesos 1.12 master sends them (compact JSON,
//! copied in shape from `fixtures/mesos-1.12/scheduler-json/`).

use super::{AGENT_ID, FRAMEWORK_ID, UPDATE_UUID};

/// SUBSCRIBED as Mesos 1.12 sends it (fixture `event-subscribed.json`), with
/// a chosen heartbeat interval.
pub fn subscribed(heartbeat_seconds: f64) -> String {
    format!(
        r#"{{"type":"SUBSCRIBED","subscribed":{{"framework_id":{{"value":"{FRAMEWORK_ID}"}},"heartbeat_interval_seconds":{heartbeat_seconds:?},"master_info":{{"id":"25c8d6d5-c7f6-43f2-bf68-e039baf1af66","ip":16777343,"port":5050,"pid":"master@127.0.0.1:5050","hostname":"localhost","version":"1.12.0","address":{{"hostname":"localhost","ip":"127.0.0.1","port":5050}},"capabilities":[{{"type":"AGENT_UPDATE"}},{{"type":"AGENT_DRAINING"}},{{"type":"QUOTA_V2"}}]}}}}}}"#
    )
}

pub fn heartbeat() -> String {
    r#"{"type":"HEARTBEAT"}"#.to_string()
}

/// OFFERS (fixture `event-offers.json`): ranges, set, scalars, attributes.
pub fn offers() -> String {
    format!(
        r#"{{"type":"OFFERS","offers":{{"offers":[{{"id":{{"value":"25c8d6d5-c7f6-43f2-bf68-e039baf1af66-O0"}},"framework_id":{{"value":"{FRAMEWORK_ID}"}},"agent_id":{{"value":"{AGENT_ID}"}},"hostname":"localhost","url":{{"scheme":"http","address":{{"hostname":"localhost","ip":"127.0.0.1","port":5051}},"path":"/slave(1)"}},"resources":[{{"name":"ports","type":"RANGES","ranges":{{"range":[{{"begin":31000,"end":32000}}]}},"role":"*"}},{{"name":"colors","type":"SET","set":{{"item":["red","green","blue"]}},"role":"*"}},{{"name":"cpus","type":"SCALAR","scalar":{{"value":4.0}},"role":"*"}},{{"name":"mem","type":"SCALAR","scalar":{{"value":2048.0}},"role":"*"}},{{"name":"disk","type":"SCALAR","scalar":{{"value":4096.0}},"role":"*"}}],"attributes":[{{"name":"rack","type":"TEXT","text":{{"value":"r1"}}}},{{"name":"zone","type":"TEXT","text":{{"value":"z1"}}}},{{"name":"level","type":"SCALAR","scalar":{{"value":3.5}}}},{{"name":"slots","type":"RANGES","ranges":{{"range":[{{"begin":1,"end":4}}]}}}}]}}]}}}}"#
    )
}

/// UPDATE TASK_RUNNING from an executor, with a uuid (fixture
/// `event-update-running.json`): must be acknowledged.
pub fn update_with_uuid() -> String {
    format!(
        r#"{{"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"cmd-ok"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","agent_id":{{"value":"{AGENT_ID}"}},"executor_id":{{"value":"cmd-ok"}},"timestamp":1795473762.350105,"uuid":"{UPDATE_UUID}","container_status":{{"container_id":{{"value":"598ce63f-e9b8-4f23-bd05-a1ec8ce212dd"}},"network_infos":[{{"ip_addresses":[{{"protocol":"IPv4","ip_address":"127.0.0.1"}}]}}],"executor_pid":21048}}}}}}}}"#
    )
}

/// UPDATE answering a reconciliation, without uuid (fixture
/// `event-update-reconcile-explicit-cmd-sleep.json`): must not be acknowledged.
pub fn update_without_uuid() -> String {
    format!(
        r#"{{"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"cmd-sleep"}},"state":"TASK_RUNNING","message":"Reconciliation: Latest task state","source":"SOURCE_MASTER","reason":"REASON_RECONCILIATION","agent_id":{{"value":"{AGENT_ID}"}},"timestamp":1795473767.171402}}}}}}"#
    )
}

pub fn error(message: &str) -> String {
    format!(r#"{{"type":"ERROR","error":{{"message":"{message}"}}}}"#)
}

/// UPDATE TASK_RUNNING of task `task` with a uuid made from `n` (distinct per
/// `n`): must be acknowledged, once per delivery.
pub fn update_numbered(task: &str, n: u8) -> String {
    // 16 bytes: n, then 15 fixed ones; base64 of that is what Mesos sends.
    let mut bytes = [7u8; 16];
    bytes[0] = n;
    let uuid = base64_16(&bytes);
    format!(
        r#"{{"type":"UPDATE","update":{{"status":{{"task_id":{{"value":"{task}"}},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","agent_id":{{"value":"{AGENT_ID}"}},"executor_id":{{"value":"{task}"}},"timestamp":1795473762.35,"uuid":"{uuid}"}}}}}}"#
    )
}

/// Standard base64 (with padding) of 16 bytes, without a dependency.
fn base64_16(bytes: &[u8; 16]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
