//! Series identity: a metric name plus a set of tags, order-insensitive.
//!
//! # Rules
//!
//! * **Names**: 1–200 bytes; first character `[A-Za-z_:]`, then
//!   `[A-Za-z0-9_:.]`; not starting with `__` or `perf_core_` (reserved for
//!   perf-core's own series). Dots are allowed (`api.response_time`) and become
//!   `_` in Prometheus exposition.
//! * **Tag keys**: 1–100 bytes of `[A-Za-z_][A-Za-z0-9_]*`, not starting with
//!   `__`, and not `le`, `quantile` or `perf_overflow` (used by exposition
//!   formats and the overflow series).
//! * **Tag values**: 1–256 bytes of UTF-8 without control characters.
//! * At most 16 tags, keys distinct.

use std::fmt;
use std::hash::{BuildHasher, Hash, Hasher};

use crate::error::{PerfError, Result};

/// A tag as passed to lookups: `(key, value)`.
pub type Tag<'a> = (&'a str, &'a str);

/// Longest metric name, in bytes.
pub const MAX_NAME_LEN: usize = 200;
/// Longest tag key, in bytes.
pub const MAX_TAG_KEY_LEN: usize = 100;
/// Longest tag value, in bytes.
pub const MAX_TAG_VALUE_LEN: usize = 256;
/// Most tags on one series.
pub const MAX_TAGS: usize = 16;
/// The tag that marks a metric's overflow series (`perf_overflow="true"`).
pub const OVERFLOW_TAG: &str = "perf_overflow";
/// Prefix of perf-core's own metric names.
pub(crate) const RESERVED_PREFIX: &str = "perf_core_";

/// Checks a metric name against the naming rules.
///
/// ```
/// use perf_core::validate_name;
/// assert!(validate_name("api.response_time").is_ok());
/// assert!(validate_name("9lives").is_err());
/// ```
pub fn validate_name(name: &str) -> Result<()> {
    let fail = |reason| {
        Err(PerfError::InvalidName {
            name: name.to_owned(),
            reason,
        })
    };
    let mut chars = name.chars();
    match chars.next() {
        None => return fail("must not be empty"),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_' || c == ':') => {
            return fail("must start with a letter, '_' or ':'")
        }
        _ => {}
    }
    if name.len() > MAX_NAME_LEN {
        return fail("must be at most 200 bytes");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.')) {
        return fail("may contain only letters, digits, '_', ':' and '.'");
    }
    if name.starts_with("__") || name.starts_with(RESERVED_PREFIX) {
        return fail("names starting with '__' or 'perf_core_' are reserved");
    }
    Ok(())
}

/// Checks the tags of a series perf-core itself wrote (a multi-process
/// state file, a baseline): the tag rules, except that a metric's overflow
/// series keeps its own tag (`perf_overflow="true"`), reserved to users.
/// What perf-core writes, perf-core reads back.
pub(crate) fn validate_stored_tags(tags: &[Tag<'_>]) -> Result<()> {
    let user: Vec<Tag<'_>> = tags
        .iter()
        .copied()
        .filter(|&tag| tag != (OVERFLOW_TAG, "true"))
        .collect();
    if user.len() + 1 < tags.len() {
        return Err(PerfError::InvalidTag {
            key: OVERFLOW_TAG.to_owned(),
            reason: "duplicate tag key",
        });
    }
    validate_tags(&user)
}

/// Checks a tag set against the tag rules.
///
/// ```
/// use perf_core::validate_tags;
/// assert!(validate_tags(&[("route", "/users/:id"), ("method", "GET")]).is_ok());
/// assert!(validate_tags(&[("route", "")]).is_err());
/// assert!(validate_tags(&[("a", "1"), ("a", "2")]).is_err());
/// ```
pub fn validate_tags(tags: &[Tag<'_>]) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(PerfError::InvalidTag {
            key: tags[MAX_TAGS].0.to_owned(),
            reason: "a series has at most 16 tags",
        });
    }
    for (i, &(key, value)) in tags.iter().enumerate() {
        validate_tag(key, value)?;
        if tags[..i].iter().any(|&(k, _)| k == key) {
            return Err(PerfError::InvalidTag {
                key: key.to_owned(),
                reason: "duplicate tag key",
            });
        }
    }
    Ok(())
}

fn validate_tag(key: &str, value: &str) -> Result<()> {
    let fail = |reason| {
        Err(PerfError::InvalidTag {
            key: key.to_owned(),
            reason,
        })
    };
    let mut chars = key.chars();
    match chars.next() {
        None => return fail("key must not be empty"),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return fail("key must start with a letter or '_'")
        }
        _ => {}
    }
    if key.len() > MAX_TAG_KEY_LEN {
        return fail("key must be at most 100 bytes");
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return fail("key may contain only letters, digits and '_'");
    }
    if key.starts_with("__") || matches!(key, "le" | "quantile" | OVERFLOW_TAG) {
        return fail("key is reserved ('__*', 'le', 'quantile', 'perf_overflow')");
    }
    if value.is_empty() {
        return fail("value must not be empty");
    }
    if value.len() > MAX_TAG_VALUE_LEN {
        return fail("value must be at most 256 bytes");
    }
    if value.chars().any(char::is_control) {
        return fail("value must not contain control characters");
    }
    Ok(())
}

/// The identity of a series: name and tags (sorted by key).
///
/// ```
/// use perf_core::Monitor;
/// let monitor = Monitor::builder().build()?;
/// monitor.counter("jobs", &[("queue", "mail"), ("kind", "retry")])?;
/// let key = &monitor.series()[0].key;
/// assert_eq!(key.name(), "jobs");
/// assert_eq!(key.to_string(), r#"jobs{kind="retry",queue="mail"}"#);
/// # Ok::<(), perf_core::PerfError>(())
/// ```
#[derive(Clone, Debug)]
pub struct SeriesKey {
    /// Order-insensitive hash of name and tags, computed by the registry.
    hash: u64,
    name: Box<str>,
    tags: Box<[(Box<str>, Box<str>)]>,
}

impl SeriesKey {
    pub(crate) fn new(hash: u64, name: &str, tags: &[Tag<'_>]) -> Self {
        let mut tags: Vec<(Box<str>, Box<str>)> =
            tags.iter().map(|&(k, v)| (k.into(), v.into())).collect();
        tags.sort_unstable();
        SeriesKey {
            hash,
            name: name.into(),
            tags: tags.into(),
        }
    }

    /// The key of the series `name{tags}`, checked as a monitor checks it
    /// ([`validate_name`], [`validate_tags`]); tags in any order. For
    /// printing and comparing keys outside a monitor.
    ///
    /// ```
    /// use perf_core::SeriesKey;
    /// let key = SeriesKey::from_parts("http.requests", &[("route", "/a\"b"), ("method", "GET")])?;
    /// assert_eq!(key.to_string(), r#"http.requests{method="GET",route="/a\"b"}"#);
    /// assert!(SeriesKey::from_parts("", &[]).is_err());
    /// # Ok::<(), perf_core::PerfError>(())
    /// ```
    pub fn from_parts(name: &str, tags: &[Tag<'_>]) -> Result<SeriesKey> {
        validate_name(name)?;
        validate_tags(tags)?;
        Ok(SeriesKey::detached(name, tags))
    }

    /// A key outside any registry (read back from a file): its index hash
    /// is 0, which only a registry uses.
    pub(crate) fn detached(name: &str, tags: &[Tag<'_>]) -> Self {
        SeriesKey::new(0, name, tags)
    }

    /// The order-insensitive hash the registry filed this key under.
    pub(crate) fn hash(&self) -> u64 {
        self.hash
    }

    /// The metric name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tags, sorted by key.
    pub fn tags(&self) -> impl ExactSizeIterator<Item = Tag<'_>> {
        self.tags.iter().map(|(k, v)| (&**k, &**v))
    }

    /// The value of tag `key`, if present.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags().find(|&(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the key has every tag of `include` and none of `exclude`
    /// (`key == value` pairs; a missing tag is not excluded).
    pub(crate) fn matches_tags(
        &self,
        include: &[(String, String)],
        exclude: &[(String, String)],
    ) -> bool {
        include.iter().all(|(k, v)| self.tag(k) == Some(v.as_str()))
            && exclude.iter().all(|(k, v)| self.tag(k) != Some(v.as_str()))
    }
}

/// Serialized as `{"name": …, "tags": [[key, value], …]}`; read back as a
/// key outside any registry (equal to the registry's key it names).
impl serde::Serialize for SeriesKey {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("SeriesKey", 2)?;
        out.serialize_field("name", &self.name)?;
        out.serialize_field("tags", &self.tags)?;
        out.end()
    }
}

impl<'de> serde::Deserialize<'de> for SeriesKey {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Named {
            name: String,
            tags: Vec<(String, String)>,
        }
        let named = Named::deserialize(deserializer)?;
        let tags: Vec<Tag<'_>> = named
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Ok(SeriesKey::detached(&named.name, &tags))
    }
}

/// Equal when name and tags are: keys from different monitors (whose
/// registries hash with different seeds) and keys read back from files
/// compare as the series they name.
impl PartialEq for SeriesKey {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.tags == other.tags
    }
}

impl Eq for SeriesKey {}

/// Orders by name, then by the sorted tags: the order listings use.
impl Ord for SeriesKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.name, &self.tags).cmp(&(&other.name, &other.tags))
    }
}

impl PartialOrd for SeriesKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Hashes name and tags, consistently with `Eq` (not the registry's seeded
/// hash, which differs from monitor to monitor).
impl Hash for SeriesKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.tags.hash(state);
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_series(f, &self.name, self.tags())
    }
}

/// Writes `name{k="v",...}` with `\` and `"` escaped.
pub(crate) fn write_series<'a>(
    f: &mut impl fmt::Write,
    name: &str,
    tags: impl ExactSizeIterator<Item = Tag<'a>>,
) -> fmt::Result {
    f.write_str(name)?;
    if tags.len() == 0 {
        return Ok(());
    }
    f.write_char('{')?;
    for (i, (k, v)) in tags.enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write!(
            f,
            "{k}=\"{}\"",
            v.replace('\\', "\\\\").replace('"', "\\\"")
        )?;
    }
    f.write_char('}')
}

/// A borrowed name + tags, matching a stored [`SeriesKey`] in any tag order
/// without allocating.
pub(crate) struct SeriesQuery<'a> {
    pub(crate) hash: u64,
    pub(crate) name: &'a str,
    pub(crate) tags: &'a [Tag<'a>],
}

impl Hash for SeriesQuery<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl SeriesQuery<'_> {
    /// Whether this query names the stored `key`, in any tag order.
    #[inline]
    pub(crate) fn matches(&self, key: &SeriesKey) -> bool {
        self.hash == key.hash
            && same_str(self.name, &key.name)
            && self.tags.len() == key.tags.len()
            && (self.in_stored_order(key) || self.permutation_of(key))
    }

    /// The common case: tags passed in sorted order, as stored.
    #[inline]
    fn in_stored_order(&self, key: &SeriesKey) -> bool {
        self.tags
            .iter()
            .zip(key.tags())
            .all(|(q, k)| same_tag(*q, k))
    }

    /// The stored keys are distinct, so if all `n` of them appear among the
    /// query's `n` tags with equal values, the query is a permutation of them.
    fn permutation_of(&self, key: &SeriesKey) -> bool {
        key.tags()
            .all(|stored| self.tags.iter().any(|&q| same_tag(q, stored)))
    }
}

#[inline(always)]
fn same_tag(a: Tag<'_>, b: Tag<'_>) -> bool {
    same_str(a.0, b.0) && same_str(a.1, b.1)
}

/// String equality that compares short strings (names and tags usually are)
/// eight bytes at a time inline, instead of calling `memcmp`: on the lookup
/// path the calls cost more than the comparisons.
#[inline(always)]
fn same_str(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    if a.len() > 32 {
        return a == b;
    }
    let (words_a, words_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let (rest_a, rest_b) = (words_a.remainder(), words_b.remainder());
    words_a.zip(words_b).all(|(x, y)| word(x) == word(y))
        && rest_a.iter().zip(rest_b).all(|(x, y)| x == y)
}

#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(bytes.try_into().expect("chunks_exact(8) yields 8 bytes"))
}

impl fmt::Display for SeriesQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut tags = self.tags.to_vec();
        tags.sort_unstable();
        write_series(f, self.name, tags.into_iter())
    }
}

/// Hashes name + tags so that tag order does not matter: the per-tag hashes
/// are added, a commutative combination. Seeded randomly per registry.
#[derive(Clone, Default)]
pub(crate) struct SeriesHasher(foldhash::fast::RandomState);

impl SeriesHasher {
    #[inline]
    pub(crate) fn hash(&self, name: &str, tags: &[Tag<'_>]) -> u64 {
        tags.iter().fold(self.0.hash_one(name), |h, tag| {
            h.wrapping_add(self.0.hash_one(tag))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        for ok in ["a", "http_requests", "api.response_time", "ns:metric", "_x"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(201);
        for bad in [
            "",
            "1a",
            "a-b",
            "a b",
            "é",
            "__x",
            "perf_core_x",
            long.as_str(),
        ] {
            assert!(
                matches!(validate_name(bad), Err(PerfError::InvalidName { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn tags_follow_the_rules() {
        let long = "v".repeat(257);
        let bad: [&[Tag]; 9] = [
            &[("", "v")],
            &[("1k", "v")],
            &[("k-k", "v")],
            &[("le", "1")],
            &[("__name__", "x")],
            &[("k", "")],
            &[("k", "a\nb")],
            &[("k", long.as_str())],
            &[("k", "1"), ("k", "1")],
        ];
        for tags in bad {
            assert!(
                matches!(validate_tags(tags), Err(PerfError::InvalidTag { .. })),
                "{tags:?}"
            );
        }
        let many: Vec<(String, String)> = (0..17).map(|i| (format!("k{i}"), "v".into())).collect();
        let many: Vec<Tag> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert!(validate_tags(&many).is_err());
        assert!(validate_tags(&many[..16]).is_ok());
        assert!(validate_tags(&[("route", "/a \"b\" ✓")]).is_ok());
    }

    #[test]
    fn tag_order_does_not_change_identity() {
        let hasher = SeriesHasher::default();
        let a: &[Tag] = &[("x", "1"), ("y", "2"), ("z", "3")];
        let b: &[Tag] = &[("z", "3"), ("x", "1"), ("y", "2")];
        assert_eq!(hasher.hash("m", a), hasher.hash("m", b));
        let key = SeriesKey::new(hasher.hash("m", a), "m", a);
        let query = SeriesQuery {
            hash: hasher.hash("m", b),
            name: "m",
            tags: b,
        };
        assert!(query.matches(&key));
        let other: &[Tag] = &[("x", "1"), ("y", "2"), ("z", "4")];
        let query = SeriesQuery {
            hash: hasher.hash("m", other),
            name: "m",
            tags: other,
        };
        assert!(!query.matches(&key));
    }

    #[test]
    fn same_str_agrees_with_eq() {
        let samples = [
            "",
            "a",
            "route",
            "method",
            "/users/:id",
            "GET",
            "POST",
            "http.server.duration",
            "http.server.duration2",
            &"x".repeat(40),
            &"x".repeat(41),
        ];
        for a in samples {
            for b in samples {
                assert_eq!(same_str(a, b), a == b, "{a:?} {b:?}");
            }
        }
        assert!(!same_str("abcdefgh1", "abcdefgh2"));
        assert!(!same_str("1bcdefgh1", "2bcdefgh1"));
    }

    #[test]
    fn tag_boundaries_are_part_of_the_hash() {
        let hasher = SeriesHasher::default();
        assert_ne!(
            hasher.hash("m", &[("ab", "c")]),
            hasher.hash("m", &[("a", "bc")])
        );
    }

    #[test]
    fn display_escapes_quotes_and_backslashes() {
        let key = SeriesKey::new(0, "m", &[("b", "x\"y"), ("a", "c\\d")]);
        assert_eq!(key.to_string(), r#"m{a="c\\d",b="x\"y"}"#);
    }
}
