//! The protobuf wire format at its lowest level: keys, varints, and
//! length-delimited values, read and written without any schema.

use crate::error::{Error, Result};
use crate::plan::Kind;

/// Deeper nesting than this is refused (Mesos messages nest a dozen levels
/// at most; the cap keeps hostile input from exhausting the stack).
pub(crate) const MAX_DEPTH: usize = 64;

/// One field value as it sits on the wire.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
}

/// Calls `each` with the number and value of every field in `bytes`, in
/// wire order. Malformed bytes are an error, never a panic.
pub(crate) fn read_fields<'a>(
    mut bytes: &'a [u8],
    mut each: impl FnMut(u32, WireValue<'a>) -> Result<()>,
) -> Result<()> {
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        let number = u32::try_from(key >> 3).map_err(|_| bad("field number out of range"))?;
        if number == 0 {
            return Err(bad("field number 0"));
        }
        let value = match key & 7 {
            0 => WireValue::Varint(read_varint(&mut bytes)?),
            1 => {
                let (head, tail) = bytes
                    .split_at_checked(8)
                    .ok_or_else(|| bad("truncated 64-bit value"))?;
                bytes = tail;
                WireValue::Fixed64(u64::from_le_bytes(head.try_into().expect("8 bytes")))
            }
            5 => {
                let (head, tail) = bytes
                    .split_at_checked(4)
                    .ok_or_else(|| bad("truncated 32-bit value"))?;
                bytes = tail;
                WireValue::Fixed32(u32::from_le_bytes(head.try_into().expect("4 bytes")))
            }
            2 => {
                let length =
                    usize::try_from(read_varint(&mut bytes)?).map_err(|_| bad("length"))?;
                let (head, tail) = bytes
                    .split_at_checked(length)
                    .ok_or_else(|| bad("truncated length-delimited value"))?;
                bytes = tail;
                WireValue::Len(head)
            }
            _ => return Err(bad("unsupported wire type (groups are not used by Mesos)")),
        };
        each(number, value)?;
    }
    Ok(())
}

/// The values of a packed repeated scalar field.
pub(crate) fn unpack(kind: Kind, mut bytes: &[u8]) -> Result<Vec<WireValue<'static>>> {
    let mut values = Vec::new();
    while !bytes.is_empty() {
        let value = match kind {
            Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => {
                let (head, tail) = bytes
                    .split_at_checked(8)
                    .ok_or_else(|| bad("truncated packed value"))?;
                bytes = tail;
                WireValue::Fixed64(u64::from_le_bytes(head.try_into().expect("8 bytes")))
            }
            Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => {
                let (head, tail) = bytes
                    .split_at_checked(4)
                    .ok_or_else(|| bad("truncated packed value"))?;
                bytes = tail;
                WireValue::Fixed32(u32::from_le_bytes(head.try_into().expect("4 bytes")))
            }
            _ => WireValue::Varint(read_varint(&mut bytes)?),
        };
        values.push(value);
    }
    Ok(values)
}

/// Reads one base-128 varint and advances `bytes` past it.
#[inline]
pub(crate) fn read_varint(bytes: &mut &[u8]) -> Result<u64> {
    // Most keys and many values fit in one byte.
    if let Some((&byte, rest)) = bytes.split_first()
        && byte < 0x80
    {
        *bytes = rest;
        return Ok(u64::from(byte));
    }
    let mut value: u64 = 0;
    for (index, byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            *bytes = &bytes[index + 1..];
            return Ok(value);
        }
    }
    Err(bad("invalid varint"))
}

/// Appends a base-128 varint.
pub(crate) fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a field key (number and wire type).
pub(crate) fn write_key(out: &mut Vec<u8>, number: u32, wire_type: u8) {
    write_varint(out, (u64::from(number) << 3) | u64::from(wire_type));
}

fn bad(what: &str) -> Error {
    Error::Protobuf(what.to_string())
}
