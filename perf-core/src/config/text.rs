//! How rules documents write values: keywords and durations as strings
//! ([`Text`], [`Keyword`]) and objects as ordered pairs with unique keys
//! ([`Pairs`]).

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::rules::{NoDataPolicy, Op, Severity, Statistic};

/// A JSON object read as its `(key, value)` pairs, in the document's order
/// and with unique keys.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Pairs<K, V>(pub(super) Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<K, V> Pairs<K, V> {
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: Serialize, V: Serialize> Serialize for Pairs<K, V> {
    fn serialize<S: Serializer>(&self, writer: S) -> Result<S::Ok, S::Error> {
        writer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de, K, V> Deserialize<'de> for Pairs<K, V>
where
    K: Deserialize<'de> + fmt::Display,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        reader.deserialize_map(PairsVisitor(PhantomData))
    }
}

pub(super) struct PairsVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K, V> Visitor<'de> for PairsVisitor<K, V>
where
    K: Deserialize<'de> + fmt::Display,
    V: Deserialize<'de>,
{
    type Value = Pairs<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pairs = Vec::new();
        let mut seen = HashSet::new();
        while let Some((key, value)) = map.next_entry::<K, V>()? {
            let text = key.to_string();
            if seen.contains(&text) {
                return Err(de::Error::custom(format!("duplicate key {text:?}")));
            }
            seen.insert(text);
            pairs.push((key, value));
        }
        Ok(Pairs(pairs))
    }
}

/// A value the document writes as a string, parsed and printed by its
/// [`Keyword`] implementation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Text<T>(pub(super) T);

/// A type written as a string in rules documents.
pub(super) trait Keyword: Sized {
    /// What a value of the wrong JSON type should have been.
    const EXPECTING: &'static str;
    /// The value written as `text`, or why it is not one.
    fn parse(text: &str) -> std::result::Result<Self, String>;
    /// The value as the document writes it.
    fn text(&self) -> String;
}

impl<T: Keyword> fmt::Display for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.text())
    }
}

impl<T: Keyword> Serialize for Text<T> {
    fn serialize<S: Serializer>(&self, writer: S) -> Result<S::Ok, S::Error> {
        writer.serialize_str(&self.0.text())
    }
}

impl<'de, T: Keyword> Deserialize<'de> for Text<T> {
    fn deserialize<D: Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        reader.deserialize_str(TextVisitor(PhantomData))
    }
}

pub(super) struct TextVisitor<T>(PhantomData<T>);

impl<T: Keyword> Visitor<'_> for TextVisitor<T> {
    type Value = Text<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<T>, E> {
        T::parse(text).map(Text).map_err(E::custom)
    }
}

/// [`Keyword`] for types whose `FromStr` and `Display` are the JSON form.
macro_rules! keyword_by_from_str {
    ($($type:ty => $expecting:literal),* $(,)?) => {$(
        impl Keyword for $type {
            const EXPECTING: &'static str = $expecting;
            fn parse(text: &str) -> std::result::Result<Self, String> {
                text.parse()
            }
            fn text(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

keyword_by_from_str! {
    Severity => "a severity: info, warning, error or critical",
    Op => "an operator: >, >=, < or <=",
    Statistic => "a statistic such as \"p95\", \"p99.9\" or \"mean\"",
}

impl Keyword for NoDataPolicy {
    const EXPECTING: &'static str = "a no-data policy: keep_last, resolve or fire";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        text.parse()
    }
    fn text(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Keyword for Duration {
    const EXPECTING: &'static str = "a duration such as \"60s\", \"5m\" or \"1h 30m\"";
    fn parse(text: &str) -> std::result::Result<Self, String> {
        humantime::parse_duration(text).map_err(|err| format!("invalid duration {text:?}: {err}"))
    }
    fn text(&self) -> String {
        humantime::format_duration(*self).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_back() {
        for text in ["60s", "5m", "1h 30m", "250ms", "0s"] {
            let d = Duration::parse(text).unwrap();
            assert_eq!(Duration::parse(&d.text()), Ok(d), "{text}");
        }
        assert_eq!(Duration::parse("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(Duration::from_secs(90).text(), "1m 30s");
        let err = Duration::parse("soon").unwrap_err();
        assert!(err.starts_with(r#"invalid duration "soon": "#), "{err}");
    }
}
