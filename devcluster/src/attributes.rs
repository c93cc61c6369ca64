//! Agent attributes: Mesos' `--attributes` text and the JSON object form of the state
//! endpoints (`{"rack":"r1","level":3.5,"slots":"[1-4]"}`).

use mesos_proto::v1::{Attribute, value};

use crate::resources::{Quantity, format_ranges, parse_quantity};

/// Parses Mesos' `--attributes` text (`rack:r1;level:3.5;slots:[1-4]`) into attributes.
pub fn parse_attributes(text: &str) -> Result<Vec<Attribute>, String> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, val) = part
            .split_once(':')
            .ok_or_else(|| format!("Bad attribute '{part}': expecting name:value"))?;
        let mut a = Attribute {
            name: name.trim().to_string(),
            ..Default::default()
        };
        match parse_quantity(val.trim()) {
            Some(Quantity::Scalar(v)) => {
                a.set_type(value::Type::Scalar);
                a.scalar = Some(value::Scalar {
                    value: v as f64 / 1000.0,
                });
            }
            Some(Quantity::Ranges(r)) => {
                a.set_type(value::Type::Ranges);
                a.ranges = Some(value::Ranges {
                    range: r
                        .iter()
                        .map(|&(begin, end)| value::Range { begin, end })
                        .collect(),
                });
            }
            Some(Quantity::Set(s)) => {
                a.set_type(value::Type::Set);
                a.set = Some(value::Set { item: s });
            }
            None => {
                a.set_type(value::Type::Text);
                a.text = Some(value::Text {
                    value: val.trim().to_string(),
                });
            }
        }
        out.push(a);
    }
    Ok(out)
}

/// The JSON object form of attributes used by the state endpoints.
pub fn attributes_json(attrs: &[Attribute]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for a in attrs {
        let v = match a.r#type() {
            value::Type::Scalar => serde_json::json!(a.scalar.as_ref().map_or(0.0, |s| s.value)),
            value::Type::Ranges => serde_json::Value::String(format_ranges(
                &a.ranges.as_ref().map_or(Vec::new(), |r| {
                    r.range.iter().map(|x| (x.begin, x.end)).collect::<Vec<_>>()
                }),
            )),
            value::Type::Set => serde_json::Value::String(format!(
                "{{{}}}",
                a.set.as_ref().map_or(String::new(), |s| s.item.join(", "))
            )),
            value::Type::Text => serde_json::Value::String(
                a.text.as_ref().map_or(String::new(), |t| t.value.clone()),
            ),
        };
        map.insert(a.name.clone(), v);
    }
    serde_json::Value::Object(map)
}
