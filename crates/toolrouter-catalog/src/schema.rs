//! A tool's JSON Schema kept as compact JSON text, parsed only when something needs to look
//! inside it.
//!
//! A `serde_json::Value` tree takes about thirteen times the memory of its text, and the
//! catalog's schemas were most of the server's idle heap while most tools are never called.
//! [`Schema`] keeps the text and offers two ways in: [`Schema::parse`], a fresh tree for one-off
//! passes (validation, the search index) that is dropped afterwards, and [`Schema::value`], parsed
//! on first use and kept, for per-call paths of the tools actually in use.
//!
//! The text is the compact serialization of the schema as a `Value` (serde_json without
//! `preserve_order`, so object keys sorted), which is exactly what serializing the former `Value`
//! field wrote: serializing a `Schema` to JSON writes the stored text verbatim, so JSON output is
//! byte-for-byte what it was. serde_json's pretty printer would also copy the text as is, so
//! pretty output goes through [`to_string_pretty`], which lays schemas out like the rest.
//! Serializers other than serde_json's see serde_json's raw-value envelope, not the schema: no
//! catalog type is serialized with one.

use std::fmt;
use std::io;
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::value::RawValue;

/// A JSON Schema held as compact JSON text. Equality is by JSON value.
pub struct Schema {
    raw: Box<RawValue>,
    parsed: OnceLock<Value>,
}

impl Schema {
    /// The schema of `value`, as text; the tree itself is not kept.
    pub fn from_value(value: &Value) -> Schema {
        // Serializing a `Value` cannot fail: its keys are strings.
        let raw = serde_json::value::to_raw_value(value).expect("a JSON value serializes");
        Schema {
            raw,
            parsed: OnceLock::new(),
        }
    }

    /// `{"type":"object"}`: any object, the default output schema.
    pub fn empty_object() -> Schema {
        Schema::from_value(&serde_json::json!({"type": "object"}))
    }

    /// A fresh tree of the schema, not kept: for one-off passes, so that they do not leave every
    /// schema parsed in memory.
    pub fn parse(&self) -> Value {
        match self.parsed.get() {
            Some(v) => v.clone(),
            // The text was produced by serializing a `Value`, so it parses.
            None => serde_json::from_str(self.raw.get()).expect("stored schema text is JSON"),
        }
    }

    /// The schema's tree, parsed on first use and kept: for per-call paths.
    pub fn value(&self) -> &Value {
        self.parsed.get_or_init(|| {
            serde_json::from_str(self.raw.get()).expect("stored schema text is JSON")
        })
    }

    /// The compact JSON text.
    pub fn as_raw(&self) -> &RawValue {
        &self.raw
    }

    /// Whether the schema is a JSON object, answered from the text without parsing.
    pub fn is_object(&self) -> bool {
        self.raw.get().starts_with('{')
    }
}

impl Default for Schema {
    fn default() -> Schema {
        Schema::empty_object()
    }
}

impl From<Value> for Schema {
    fn from(value: Value) -> Schema {
        Schema::from_value(&value)
    }
}

/// Copies the text only: a copy parses again when it is used.
impl Clone for Schema {
    fn clone(&self) -> Schema {
        Schema {
            raw: self.raw.clone(),
            parsed: OnceLock::new(),
        }
    }
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.raw.get() == other.raw.get() || self.parse() == other.parse()
    }
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Schema")
            .field(&format_args!("{}", self.raw.get()))
            .finish()
    }
}

/// The compact JSON text.
impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw.get())
    }
}

impl Serialize for Schema {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

/// Accepts any JSON value (through `Value`, so any self-describing format works) and stores its
/// compact text.
impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Schema, D::Error> {
        Value::deserialize(deserializer).map(|v| Schema::from_value(&v))
    }
}

/// Pretty JSON of `value`, with every [`Schema`] in it indented like the rest: exactly what
/// `serde_json::to_string_pretty` wrote when schemas were `Value`s.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    let formatter = ExpandRaw {
        pretty: PrettyFormatter::new(),
        depth: 0,
    };
    value.serialize(&mut serde_json::Serializer::with_formatter(
        &mut out, formatter,
    ))?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(out).expect("serde_json writes UTF-8"))
}

/// serde_json's pretty formatter, but raw fragments (schemas) are parsed and laid out at the
/// current depth instead of copied.
struct ExpandRaw {
    pretty: PrettyFormatter<'static>,
    /// Open arrays and objects, as the inner formatter counts them for its indentation.
    depth: usize,
}

impl Formatter for ExpandRaw {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.pretty.begin_array(w)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        self.pretty.end_array(w)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth += 1;
        self.pretty.begin_object(w)
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.depth -= 1;
        self.pretty.end_object(w)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }

    fn write_raw_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let value: Value = serde_json::from_str(fragment)?;
        let text = serde_json::to_string_pretty(&value)?;
        let indent = "  ".repeat(self.depth);
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                w.write_all(b"\n")?;
                w.write_all(indent.as_bytes())?;
            }
            w.write_all(line.as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Text in, the stored text, and what serializing writes.
    fn check(input: &str, expected: &str) {
        let schema: Schema = serde_json::from_str(input).expect("parses");
        assert_eq!(schema.to_string(), expected, "stored text of {input}");
        let written = serde_json::to_string(&schema).expect("serializes");
        assert_eq!(written, expected, "serialized {input}");
        // As the former `Value` field wrote it.
        let as_value: Value = serde_json::from_str(input).expect("parses");
        assert_eq!(
            written,
            serde_json::to_string(&as_value).expect("serializes")
        );
    }

    #[test]
    fn stores_and_writes_the_compact_text_a_value_would() {
        check(
            r#"{ "type": "object",
                 "properties": {"b": {"type": "integer", "maximum": 1.50}, "a": {"type": "string"}},
                 "required": ["b", "a"] }"#,
            r#"{"properties":{"a":{"type":"string"},"b":{"maximum":1.5,"type":"integer"}},"required":["b","a"],"type":"object"}"#,
        );
        check(
            r#"{"description": "é \u00e9 \"q\""}"#,
            r#"{"description":"é é \"q\""}"#,
        );
        check("true", "true");
        check(r#"[1, 2.50, "x"]"#, r#"[1,2.5,"x"]"#);
    }

    #[test]
    fn inside_a_struct_it_round_trips_byte_for_byte() {
        #[derive(Serialize, Deserialize)]
        struct Holder {
            z: u8,
            input: Schema,
            a: Vec<Schema>,
        }
        let text = r#"{"z":1,"input":{"properties":{"q":{"type":"string"}},"type":"object"},"a":[{},{"type":"object"}]}"#;
        let h: Holder = serde_json::from_str(text).expect("parses");
        assert_eq!(serde_json::to_string(&h).expect("serializes"), text);
        let v = serde_json::to_value(&h).expect("to value");
        assert_eq!(v["input"]["properties"]["q"]["type"], "string");
        let back: Holder = serde_json::from_value(v).expect("from value");
        assert_eq!(back.input, h.input);
    }

    #[test]
    fn pretty_output_is_what_value_fields_gave() {
        #[derive(Serialize)]
        struct Now {
            z: u8,
            input: Schema,
            list: Vec<Schema>,
            nested: Vec<Vec<Schema>>,
        }
        #[derive(Serialize)]
        struct Before {
            z: u8,
            input: Value,
            list: Vec<Value>,
            nested: Vec<Vec<Value>>,
        }
        let input = json!({"type": "object", "properties": {"b": {"type": "array", "items": {}}, "a": {}}, "required": ["b"]});
        let list = vec![
            json!({}),
            json!([]),
            json!(3),
            json!({"x": [1, {"y": "z"}]}),
        ];
        let now = Now {
            z: 1,
            input: Schema::from_value(&input),
            list: list.iter().map(Schema::from_value).collect(),
            nested: vec![vec![Schema::from_value(&input)]],
        };
        let before = Before {
            z: 1,
            input: input.clone(),
            list,
            nested: vec![vec![input]],
        };
        assert_eq!(
            to_string_pretty(&now).expect("serializes"),
            serde_json::to_string_pretty(&before).expect("serializes")
        );
        assert_eq!(
            to_string_pretty(&Schema::default()).expect("serializes"),
            "{\n  \"type\": \"object\"\n}"
        );
    }

    #[test]
    fn parse_is_fresh_and_value_is_kept() {
        let schema = Schema::from_value(&json!({"type": "object", "properties": {}}));
        assert!(schema.parsed.get().is_none());
        assert_eq!(schema.parse(), json!({"type": "object", "properties": {}}));
        assert!(schema.parsed.get().is_none(), "parse() keeps nothing");
        let first: *const Value = schema.value();
        assert!(schema.parsed.get().is_some());
        assert!(std::ptr::eq(first, schema.value()), "parsed once");
        assert_eq!(schema.parse(), *schema.value());
        let copy = schema.clone();
        assert!(copy.parsed.get().is_none(), "a copy holds text only");
        assert_eq!(copy.value(), schema.value());
    }

    #[test]
    fn equality_is_by_json_value() {
        let a: Schema = serde_json::from_str(r#"{"b": 1, "a": [true]}"#).expect("parses");
        let b = Schema::from_value(&json!({"a": [true], "b": 1}));
        assert_eq!(a, b);
        assert_ne!(a, Schema::from_value(&json!({"a": [true], "b": 2})));
        assert_eq!(a, a.clone());
    }

    #[test]
    fn default_is_the_empty_object_schema() {
        let d = Schema::default();
        assert_eq!(d.to_string(), r#"{"type":"object"}"#);
        assert_eq!(d, Schema::empty_object());
        assert!(d.is_object());
        assert!(!Schema::from_value(&json!("object")).is_object());
        assert!(!Schema::from_value(&json!(["{"])).is_object());
        assert_eq!(format!("{d:?}"), r#"Schema({"type":"object"})"#);
    }
}
