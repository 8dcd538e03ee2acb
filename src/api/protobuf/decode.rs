//! Turns one protobuf message into the JSON object Go's `encoding/json` would write for the same
//! Go struct, driven by the field table in `schema.rs`.
//!
//! Upstream truth: gogo-protobuf `Unmarshal` in k8s.io/api `*/generated.pb.go` (wire handling and
//! error text) and the json tags of `*/types.go` (names, `omitempty`, pointers, `inline`). Go writes
//! every non-pointer field on the wire even when zero, so a zero scalar of a `One` field is dropped
//! here exactly as `omitempty` drops it from JSON.

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::table::{Card, Field, Kind, Message};
use super::wire::{Reader, WIRE_END_GROUP, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT};

/// Deeper nesting than any Kubernetes object has; guards the stack against hostile input.
const MAX_DEPTH: usize = 100;

/// Zero time in Go (`time.Time{}`): 0001-01-01T00:00:00Z as Unix seconds.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

pub fn message(data: &[u8], msg: &Message, depth: usize) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    message_into(data, msg, depth, &mut out)?;
    Ok(out)
}

fn message_into(
    data: &[u8],
    msg: &Message,
    depth: usize,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("proto: {}: max depth exceeded", msg.0));
    }
    let mut r = Reader::new(data);
    while !r.at_end() {
        let (number, wire) = r.key()?;
        if wire == WIRE_END_GROUP {
            return Err(format!(
                "proto: {}: wiretype end group for non-group",
                msg.0
            ));
        }
        if number == 0 {
            return Err(format!(
                "proto: {}: illegal tag {number} (wire type {wire})",
                msg.0
            ));
        }
        let Some(field) = u32::try_from(number).ok().and_then(|n| msg.field(n)) else {
            r.skip(wire)?;
            continue;
        };
        read_field(&mut r, wire, field, depth, out)?;
    }
    Ok(())
}

fn go_name(field: &Field) -> String {
    if let (Kind::Msg(inner), Card::Inline) = (&field.2, &field.3) {
        return inner.0.to_string();
    }
    let mut chars = field.1.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

fn expected_wire(kind: &Kind) -> u8 {
    match kind {
        Kind::I32 | Kind::I64 | Kind::Bool => WIRE_VARINT,
        Kind::F64 => WIRE_FIXED64,
        _ => WIRE_LEN,
    }
}

fn read_field(
    r: &mut Reader<'_>,
    wire: u8,
    field: &Field,
    depth: usize,
    out: &mut Map<String, Value>,
) -> Result<(), String> {
    let Field(_, name, kind, card) = field;
    let want = expected_wire(kind);
    let packed = *card == Card::Rep && want == WIRE_VARINT && wire == WIRE_LEN;
    if wire != want && !packed {
        return Err(format!(
            "proto: wrong wireType = {wire} for field {}",
            go_name(field)
        ));
    }
    match card {
        Card::Inline => {
            let Kind::Msg(inner) = kind else {
                return Err(format!("proto: {name}: inline field is not a message"));
            };
            let bytes = r.bytes()?;
            message_into(bytes, inner, depth + 1, out)
        }
        Card::Rep => {
            if let Kind::Map(value_kind) = kind {
                let (key, value) = map_entry(r.bytes()?, value_kind, depth)?;
                let entry = out
                    .entry(name.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(map) = entry {
                    map.insert(key, value);
                }
                return Ok(());
            }
            let mut items = Vec::new();
            if packed {
                let mut inner = Reader::new(r.bytes()?);
                while !inner.at_end() {
                    items.push(value(&mut inner, kind, depth)?);
                }
            } else {
                items.push(value(r, kind, depth)?);
            }
            let entry = out
                .entry(name.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = entry {
                list.extend(items);
            }
            Ok(())
        }
        Card::One | Card::Keep => {
            let v = value(r, kind, depth)?;
            if *card == Card::One && is_zero_scalar(kind, &v) {
                out.remove(*name);
                return Ok(());
            }
            match (out.get_mut(*name), v) {
                // A message field seen twice is merged, as proto.Unmarshal does.
                (Some(Value::Object(existing)), Value::Object(new))
                    if matches!(kind, Kind::Msg(_)) =>
                {
                    existing.extend(new);
                }
                (_, v) => {
                    out.insert(name.to_string(), v);
                }
            }
            Ok(())
        }
    }
}

fn is_zero_scalar(kind: &Kind, v: &Value) -> bool {
    match kind {
        Kind::Str | Kind::Bytes => v.as_str().is_some_and(str::is_empty),
        Kind::I32 | Kind::I64 => v.as_i64() == Some(0),
        Kind::F64 => v.as_f64() == Some(0.0),
        Kind::Bool => v.as_bool() == Some(false),
        _ => false,
    }
}

/// One value of `kind` at the reader (wire type already checked).
fn value(r: &mut Reader<'_>, kind: &Kind, depth: usize) -> Result<Value, String> {
    Ok(match kind {
        Kind::Str => Value::String(String::from_utf8_lossy(r.bytes()?).into_owned()),
        Kind::I32 => Value::from(r.varint()? as i64 as i32),
        Kind::I64 => Value::from(r.varint()? as i64),
        Kind::Bool => Value::Bool(r.varint()? != 0),
        Kind::F64 => {
            Number::from_f64(f64::from_bits(r.fixed64()?)).map_or(Value::Null, Value::Number)
        }
        Kind::Bytes => Value::String(base64::engine::general_purpose::STANDARD.encode(r.bytes()?)),
        Kind::Msg(inner) => Value::Object(message(r.bytes()?, inner, depth + 1)?),
        Kind::Map(_) => return Err("proto: map value outside a map entry".to_string()),
        Kind::Time => time(r.bytes()?, false)?,
        Kind::MicroTime => time(r.bytes()?, true)?,
        Kind::Quantity => {
            let s = single_string(r.bytes()?, "Quantity")?;
            // An empty Quantity is the zero quantity, which Go marshals as "0".
            Value::String(if s.is_empty() { "0".to_string() } else { s })
        }
        Kind::IntOrString => int_or_string(r.bytes()?)?,
        Kind::RawJson => raw_json(r.bytes()?, depth)?,
        Kind::StrList => {
            let mut items = Vec::new();
            let mut inner = Reader::new(r.bytes()?);
            while !inner.at_end() {
                let (number, wire) = inner.key()?;
                if number == 1 && wire == WIRE_LEN {
                    items.push(Value::String(
                        String::from_utf8_lossy(inner.bytes()?).into_owned(),
                    ));
                } else {
                    inner.skip(wire)?;
                }
            }
            Value::Array(items)
        }
    })
}

fn map_entry(data: &[u8], value_kind: &Kind, depth: usize) -> Result<(String, Value), String> {
    let mut r = Reader::new(data);
    let mut key = String::new();
    let mut val = None;
    while !r.at_end() {
        let (number, wire) = r.key()?;
        match (number, wire) {
            (1, WIRE_LEN) => key = String::from_utf8_lossy(r.bytes()?).into_owned(),
            (2, w) if w == expected_wire(value_kind) => {
                val = Some(value(&mut r, value_kind, depth + 1)?)
            }
            (_, w) => r.skip(w)?,
        }
    }
    let val = match (val, value_kind) {
        (Some(v), _) => v,
        (None, Kind::Msg(_)) => Value::Object(Map::new()),
        (None, Kind::StrList) => Value::Array(Vec::new()),
        (None, Kind::Quantity) => Value::String("0".to_string()),
        (None, _) => Value::String(String::new()),
    };
    Ok((key, val))
}

/// A message whose only field 1 is a string (`Quantity`).
fn single_string(data: &[u8], what: &str) -> Result<String, String> {
    let mut r = Reader::new(data);
    let mut s = String::new();
    while !r.at_end() {
        match r.key()? {
            (1, WIRE_LEN) => s = String::from_utf8_lossy(r.bytes()?).into_owned(),
            (1, w) => return Err(format!("proto: wrong wireType = {w} for field {what}")),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(s)
}

/// `metav1.Time` / `MicroTime` from `{seconds = 1, nanos = 2}`; an empty message is the zero time.
fn time(data: &[u8], micro: bool) -> Result<Value, String> {
    if data.is_empty() {
        return Ok(Value::Null);
    }
    let mut r = Reader::new(data);
    let (mut seconds, mut nanos) = (0i64, 0i64);
    while !r.at_end() {
        match r.key()? {
            (1, WIRE_VARINT) => seconds = r.varint()? as i64,
            (2, WIRE_VARINT) => nanos = i64::from(r.varint()? as i64 as i32),
            (1, w) => return Err(format!("proto: wrong wireType = {w} for field Seconds")),
            (2, w) => return Err(format!("proto: wrong wireType = {w} for field Nanos")),
            (_, w) => r.skip(w)?,
        }
    }
    if seconds == GO_ZERO_TIME_SECONDS && nanos == 0 {
        return Ok(Value::Null);
    }
    let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
    let ts = jiff::Timestamp::from_nanosecond(total)
        .map_err(|_| format!("proto: Timestamp: seconds {seconds} out of range"))?;
    let text = if micro {
        format!(
            "{}.{:06}Z",
            ts.strftime("%Y-%m-%dT%H:%M:%S"),
            ts.subsec_nanosecond() / 1000
        )
    } else {
        ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    };
    Ok(Value::String(text))
}

/// `intstr.IntOrString{type = 1, intVal = 2, strVal = 3}`: type 1 is a string.
fn int_or_string(data: &[u8]) -> Result<Value, String> {
    let mut r = Reader::new(data);
    let (mut ty, mut int_val, mut str_val) = (0i64, 0i32, String::new());
    while !r.at_end() {
        match r.key()? {
            (1, WIRE_VARINT) => ty = r.varint()? as i64,
            (2, WIRE_VARINT) => int_val = r.varint()? as i64 as i32,
            (3, WIRE_LEN) => str_val = String::from_utf8_lossy(r.bytes()?).into_owned(),
            (1, w) => return Err(format!("proto: wrong wireType = {w} for field Type")),
            (2, w) => return Err(format!("proto: wrong wireType = {w} for field IntVal")),
            (3, w) => return Err(format!("proto: wrong wireType = {w} for field StrVal")),
            (_, w) => r.skip(w)?,
        }
    }
    Ok(if ty == 1 {
        Value::String(str_val)
    } else {
        Value::from(int_val)
    })
}

/// `RawExtension{raw = 1}` / `FieldsV1{Raw = 1}`: the raw bytes are JSON (or a nested `k8s\0` body).
fn raw_json(data: &[u8], depth: usize) -> Result<Value, String> {
    let mut r = Reader::new(data);
    let mut raw: &[u8] = &[];
    while !r.at_end() {
        match r.key()? {
            (1, WIRE_LEN) => raw = r.bytes()?,
            (1, w) => return Err(format!("proto: wrong wireType = {w} for field Raw")),
            (_, w) => r.skip(w)?,
        }
    }
    if raw.is_empty() {
        return Ok(Value::Null);
    }
    if raw.starts_with(super::PREFIX) {
        return super::decode_nested(raw, depth + 1);
    }
    serde_json::from_slice(raw).map_err(|e| format!("invalid JSON in embedded object: {e}"))
}
