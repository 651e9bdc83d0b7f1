//! TOML profiles: a team's choices for a whole deployment in one readable
//! file under version control, in place of shell variables and an
//! openssl.cnf.
//!
//! A profile has shared settings at the top, then `[ca]`, `[server]`,
//! `[client]` and any number of `[[leaf]]` tables. Everything is checked
//! before anything is issued; an error names the file, line, column and key.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::ValueEnum;
use serde::Deserialize;
use toml::Spanned;

use crate::constraints::{IpRange, NameRules};
use crate::issue::Role;
use crate::keys::KeyType;
use crate::san::San;
use crate::settings::Settings;
use crate::subject;

/// How messages name the keys outside every table.
const TOP: &str = "the top level";

/// A checked profile.
#[derive(Clone, Debug, Default)]
pub struct Profile {
    /// The file it came from, for messages.
    pub path: PathBuf,
    /// Top-level settings, below every section.
    pub shared: Settings,
    /// The `[ca]` table.
    pub ca: CaSection,
    /// The `[server]` table.
    pub server: Settings,
    /// The `[client]` table.
    pub client: Settings,
    /// The `[[leaf]]` tables, in file order; names are unique.
    pub leaves: Vec<NamedLeaf>,
}

/// The `[ca]` table.
#[derive(Clone, Debug, Default)]
pub struct CaSection {
    /// Subject, days and key type of the CA.
    pub settings: Settings,
    /// How many intermediate CAs may follow; `None` means 0.
    pub path_len: Option<u8>,
    /// Names the CA may issue for.
    pub rules: NameRules,
}

/// One `[[leaf]]`.
#[derive(Clone, Debug)]
pub struct NamedLeaf {
    /// Base name of its files, unique in the profile.
    pub name: String,
    /// serverAuth, clientAuth or both.
    pub role: Role,
    /// Its own settings.
    pub settings: Settings,
}

impl Profile {
    /// Reads and checks a profile file.
    pub fn load(path: &Path) -> Result<Profile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read the profile {}", path.display()))?;
        Profile::parse(&text, path)
    }

    /// Checks profile text; `path` only names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Profile> {
        let place = Place { text, path };
        let raw: RawProfile = toml::from_str(text).map_err(|e| place.toml_error(&e))?;
        let shared = Settings {
            country: check(&place, TOP, "country", &raw.country, country)?,
            state: check(&place, TOP, "state", &raw.state, place_name)?,
            locality: check(&place, TOP, "locality", &raw.locality, place_name)?,
            org: check(&place, TOP, "org", &raw.org, name)?,
            ou: check(&place, TOP, "ou", &raw.ou, name)?,
            cn: None,
            sans: None,
            added_sans: Vec::new(),
            days: check(&place, TOP, "days", &raw.days, days)?,
            key_type: check(&place, TOP, "key_type", &raw.key_type, key_type)?,
        };
        let ca = match &raw.ca {
            Some(section) => ca_section(&place, section)?,
            None => CaSection::default(),
        };
        let server = leaf_section(&place, "[server]", raw.server.as_ref())?;
        let client = leaf_section(&place, "[client]", raw.client.as_ref())?;
        let leaves = named_leaves(&place, raw.leaf.as_deref().unwrap_or_default())?;
        Ok(Profile {
            path: path.to_path_buf(),
            shared,
            ca,
            server,
            client,
            leaves,
        })
    }

    /// The `[[leaf]]` called `name`.
    pub fn leaf(&self, name: &str) -> Result<&NamedLeaf> {
        self.leaves.iter().find(|l| l.name == name).ok_or_else(|| {
            let path = self.path.display();
            if ["server", "client"].contains(&name) {
                return anyhow!(
                    "{path}: no [[leaf]] named {name:?}; [{name}] is issued by \
                     `certgen {name} --profile {path}`"
                );
            }
            let names: Vec<&str> = self.leaves.iter().map(|l| l.name.as_str()).collect();
            anyhow!(
                "{path}: no [[leaf]] named {name:?}; the profile names {}",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )
        })
    }
}

/// The file as written: every key optional, values still to be checked.
/// Unknown keys are refused, since a misspelt key would otherwise be
/// silently ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    country: Option<Spanned<String>>,
    state: Option<Spanned<String>>,
    locality: Option<Spanned<String>>,
    org: Option<Spanned<String>>,
    ou: Option<Spanned<String>>,
    days: Option<Spanned<i64>>,
    key_type: Option<Spanned<String>>,
    ca: Option<RawSection>,
    server: Option<RawSection>,
    client: Option<RawSection>,
    leaf: Option<Vec<Spanned<RawSection>>>,
}

/// A list value; the outer span locates the whole list, so that even an
/// empty one can be pointed at.
type List = Spanned<Vec<Spanned<String>>>;

/// Any section; which keys a section may hold is checked after parsing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    country: Option<Spanned<String>>,
    state: Option<Spanned<String>>,
    locality: Option<Spanned<String>>,
    org: Option<Spanned<String>>,
    ou: Option<Spanned<String>>,
    cn: Option<Spanned<String>>,
    san: Option<List>,
    days: Option<Spanned<i64>>,
    key_type: Option<Spanned<String>>,
    // [ca] only.
    path_len: Option<Spanned<i64>>,
    permitted_dns: Option<List>,
    excluded_dns: Option<List>,
    permitted_ip: Option<List>,
    excluded_ip: Option<List>,
    // [[leaf]] only.
    name: Option<Spanned<String>>,
    usage: Option<Spanned<String>>,
}

/// The profile text and its file name, to turn byte offsets into
/// `file:line:column` prefixes.
struct Place<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Place<'_> {
    /// `file:line:column` of a byte offset; both counted from 1.
    fn at(&self, offset: usize) -> String {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        format!("{}:{line}:{column}", self.path.display())
    }

    fn error(&self, span: &Range<usize>, message: String) -> anyhow::Error {
        anyhow!("{}: {message}", self.at(span.start))
    }

    /// A toml or serde error, located, with serde's wording for unknown keys,
    /// values of the wrong type and repeated keys replaced by one that names
    /// the key and its section.
    fn toml_error(&self, err: &toml::de::Error) -> anyhow::Error {
        let span = err.span().unwrap_or(0..0);
        let message = err.message().trim_end();
        let unknown = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(key, _)| key);
        let message = if let Some(key) = unknown {
            unknown_key_message(key, &self.section_at(span.start))
        } else if let Some(wrong) = wrong_type_message(message, err) {
            wrong
        } else if message == "duplicate key" {
            let key = self.text.get(span.clone()).unwrap_or_default();
            format!("duplicate key {:?}", key.trim_matches(['"', '\'']))
        } else {
            message.replace('\n', "; ")
        };
        self.error(&span, message)
    }

    /// The header of the table that holds the byte at `offset`.
    fn section_at(&self, offset: usize) -> String {
        self.text[..offset.min(self.text.len())]
            .lines()
            .rev()
            .map(str::trim)
            .find(|line| line.starts_with('['))
            .map(|line| line.split('#').next().unwrap_or(line).trim().to_owned())
            .unwrap_or_else(|| "the top level".to_owned())
    }
}

/// The message for a key no section of its kind has, with a pointer to
/// where it belongs when it belongs elsewhere.
fn unknown_key_message(key: &str, section: &str) -> String {
    let message = format!("unknown key {key:?} in {section}");
    let home = match key {
        "cn" => "[ca], [server], [client] or a [[leaf]]",
        "san" => "[server], [client] or a [[leaf]]",
        "path_len" | "permitted_dns" | "excluded_dns" | "permitted_ip" | "excluded_ip" => "[ca]",
        "name" | "usage" => "a [[leaf]]",
        _ => return message,
    };
    format!("{message}; it belongs in {home}")
}

/// serde's "invalid type: FOUND, expected EXPECTED", reworded to name the
/// key and section and to say what the key takes in the profile's terms.
/// The key's path is only in the error's plain rendering, hence the
/// round trip through `Display` without the input text.
fn wrong_type_message(message: &str, err: &toml::de::Error) -> Option<String> {
    let (found, expected) = message
        .strip_prefix("invalid type: ")?
        .split_once(", expected ")?;
    let mut plain = err.clone();
    plain.set_input(None);
    let rendered = plain.to_string();
    let path = rendered
        .lines()
        .find_map(|line| line.strip_prefix("in `")?.strip_suffix('`'))?;
    let (section, key) = match path.rsplit_once('.') {
        Some(("leaf", key)) => ("[[leaf]]".to_owned(), key),
        Some((table, key)) => (format!("[{table}]"), key),
        None => (TOP.to_owned(), path),
    };
    let expected = match expected {
        "i64" => "a whole number",
        "a sequence" => "a list",
        other if other.starts_with("struct ") => "a table",
        other => other,
    };
    let found = found.replace('`', "");
    Some(format!(
        "{key:?} in {section}: must be {expected}, not {found}"
    ))
}

/// Checks one value with `validate`, locating any error at the value.
fn check_one<T: std::borrow::Borrow<B>, B: ?Sized, U>(
    place: &Place<'_>,
    section: &str,
    key: &str,
    value: &Spanned<T>,
    validate: impl Fn(&B) -> Result<U>,
) -> Result<U> {
    validate(value.get_ref().borrow())
        .map_err(|e| place.error(&value.span(), format!("{key:?} in {section}: {e:#}")))
}

/// Checks an optional value.
fn check<T: std::borrow::Borrow<B>, B: ?Sized, U>(
    place: &Place<'_>,
    section: &str,
    key: &str,
    value: &Option<Spanned<T>>,
    validate: impl Fn(&B) -> Result<U>,
) -> Result<Option<U>> {
    value
        .as_ref()
        .map(|v| check_one(place, section, key, v, validate))
        .transpose()
}

/// Checks each element of an optional list.
fn check_list<U>(
    place: &Place<'_>,
    section: &str,
    key: &str,
    values: &Option<List>,
    validate: impl Fn(&str) -> Result<U>,
) -> Result<Option<Vec<U>>> {
    values
        .as_ref()
        .map(|list| {
            list.get_ref()
                .iter()
                .map(|v| check_one(place, section, key, v, &validate))
                .collect::<Result<Vec<U>>>()
        })
        .transpose()
}

/// Refuses keys that have no meaning in this kind of section; `why` says
/// where they belong instead.
fn refuse_keys(
    place: &Place<'_>,
    section: &str,
    why: &str,
    present: &[(&str, Option<Range<usize>>)],
) -> Result<()> {
    for (key, span) in present {
        if let Some(span) = span {
            return Err(place.error(
                span,
                format!("key {key:?} is not allowed in {section}; {why}"),
            ));
        }
    }
    Ok(())
}

fn span_of<T>(value: &Option<Spanned<T>>) -> Option<Range<usize>> {
    value.as_ref().map(Spanned::span)
}

/// Subject, SANs, days and key type of any section.
fn section_settings(place: &Place<'_>, section: &str, raw: &RawSection) -> Result<Settings> {
    Ok(Settings {
        country: check(place, section, "country", &raw.country, country)?,
        state: check(place, section, "state", &raw.state, place_name)?,
        locality: check(place, section, "locality", &raw.locality, place_name)?,
        org: check(place, section, "org", &raw.org, name)?,
        ou: check(place, section, "ou", &raw.ou, name)?,
        cn: check(place, section, "cn", &raw.cn, name)?,
        sans: sans(place, section, raw)?,
        added_sans: Vec::new(),
        days: check(place, section, "days", &raw.days, days)?,
        key_type: check(place, section, "key_type", &raw.key_type, key_type)?,
    })
}

/// The SANs of a section. An empty list is refused rather than read as
/// "none": it would issue a certificate that no client accepts for any host.
fn sans(place: &Place<'_>, section: &str, raw: &RawSection) -> Result<Option<Vec<San>>> {
    if let Some(list) = raw.san.as_ref().filter(|l| l.get_ref().is_empty()) {
        return Err(place.error(
            &list.span(),
            format!(
                "\"san\" in {section}: the list is empty; name at least one host or \
                 address, or remove the key to use the common name"
            ),
        ));
    }
    check_list(place, section, "san", &raw.san, San::parse)
}

fn ca_section(place: &Place<'_>, raw: &RawSection) -> Result<CaSection> {
    let section = "[ca]";
    refuse_keys(
        place,
        section,
        "a CA certificate names no hosts (permitted_dns and permitted_ip limit the names \
         it may issue for)",
        &[("san", span_of(&raw.san))],
    )?;
    refuse_keys(
        place,
        section,
        "it belongs in a [[leaf]]",
        &[("name", span_of(&raw.name)), ("usage", span_of(&raw.usage))],
    )?;
    let path_len = check(place, section, "path_len", &raw.path_len, |n: &i64| {
        u8::try_from(*n).map_err(|_| anyhow!("must be a whole number from 0 to 255"))
    })?;
    let dns_rule = |s: &str| {
        // A constraint is a subtree, not a pattern: RFC 5280 section
        // 4.2.1.10 gives "*" no meaning there, so it would match nothing.
        if s.contains('*') {
            bail!(
                "{s:?} has a wildcard; write \"example.com\" for a domain and every name \
                 below it, or \".example.com\" for the names below it only"
            );
        }
        let bare = s.strip_prefix('.').unwrap_or(s);
        San::parse(&format!("DNS:{bare}")).map(|_| s.to_ascii_lowercase())
    };
    let rules = NameRules {
        permitted_dns: check_list(
            place,
            section,
            "permitted_dns",
            &raw.permitted_dns,
            dns_rule,
        )?
        .unwrap_or_default(),
        excluded_dns: check_list(place, section, "excluded_dns", &raw.excluded_dns, dns_rule)?
            .unwrap_or_default(),
        permitted_ip: check_list(
            place,
            section,
            "permitted_ip",
            &raw.permitted_ip,
            IpRange::parse,
        )?
        .unwrap_or_default(),
        excluded_ip: check_list(
            place,
            section,
            "excluded_ip",
            &raw.excluded_ip,
            IpRange::parse,
        )?
        .unwrap_or_default(),
    };
    Ok(CaSection {
        settings: section_settings(place, section, raw)?,
        path_len,
        rules,
    })
}

fn leaf_section(place: &Place<'_>, section: &str, raw: Option<&RawSection>) -> Result<Settings> {
    let Some(raw) = raw else {
        return Ok(Settings::default());
    };
    refuse_ca_keys(place, section, raw)?;
    refuse_keys(
        place,
        section,
        "it belongs in a [[leaf]]",
        &[("name", span_of(&raw.name)), ("usage", span_of(&raw.usage))],
    )?;
    section_settings(place, section, raw)
}

fn refuse_ca_keys(place: &Place<'_>, section: &str, raw: &RawSection) -> Result<()> {
    refuse_keys(
        place,
        section,
        "it belongs in [ca]",
        &[
            ("path_len", span_of(&raw.path_len)),
            ("permitted_dns", span_of(&raw.permitted_dns)),
            ("excluded_dns", span_of(&raw.excluded_dns)),
            ("permitted_ip", span_of(&raw.permitted_ip)),
            ("excluded_ip", span_of(&raw.excluded_ip)),
        ],
    )
}

/// The `[[leaf]]` tables: each needs a unique `name` that writes files of
/// its own, and a `usage`.
fn named_leaves(place: &Place<'_>, raws: &[Spanned<RawSection>]) -> Result<Vec<NamedLeaf>> {
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    let mut leaves = Vec::new();
    for (index, table) in raws.iter().enumerate() {
        let raw = table.get_ref();
        let section = format!("[[leaf]] number {}", index + 1);
        refuse_ca_keys(place, &section, raw)?;
        let Some(name_value) = &raw.name else {
            // Located at the table's `[[leaf]]` header.
            return Err(place.error(
                &table.span(),
                format!("{section} has no \"name\"; give it the base name of its files"),
            ));
        };
        let name = check_one(place, &section, "name", name_value, file_stem)?;
        // The files of "server" and "client" belong to those sections.
        if ["ca", "server", "client"].contains(&name.as_str()) {
            return Err(place.error(
                &name_value.span(),
                format!("\"name\" in {section}: {name:?} would write the files of [{name}]"),
            ));
        }
        if let Some(first) = seen.get(&name) {
            return Err(place.error(
                &name_value.span(),
                format!(
                    "\"name\" in {section}: {name:?} is already the name of the leaf at {}, \
                     and both would write {name}.pem",
                    place.at(first.start)
                ),
            ));
        }
        seen.insert(name.clone(), name_value.span());
        let Some(usage_value) = &raw.usage else {
            return Err(place.error(
                &name_value.span(),
                format!(
                    "[[leaf]] {name:?} has no \"usage\"; set usage = \"server\", \"client\" or \
                     \"both\""
                ),
            ));
        };
        // Once named, the leaf is called by its name in messages.
        let section = format!("[[leaf]] {name:?}");
        let role = check_one(place, &section, "usage", usage_value, usage)?;
        let settings = section_settings(place, &section, raw)?;
        leaves.push(NamedLeaf {
            name,
            role,
            settings,
        });
    }
    Ok(leaves)
}

fn country(value: &str) -> Result<String> {
    subject::parse_country(value)
}

fn place_name(value: &str) -> Result<String> {
    subject::check_attribute(value, subject::MAX_PLACE)
}

fn name(value: &str) -> Result<String> {
    subject::check_attribute(value, subject::MAX_NAME)
}

fn days(value: &i64) -> Result<u32> {
    u32::try_from(*value)
        .ok()
        .filter(|d| (1..=36500).contains(d))
        .ok_or_else(|| anyhow!("must be a whole number of days from 1 to 36500"))
}

fn key_type(value: &str) -> Result<KeyType> {
    KeyType::from_str(value, false).map_err(|_| {
        let names: Vec<&str> = KeyType::ALL.iter().map(|k| k.name()).collect();
        anyhow!(
            "{value:?} is not a key type; use one of {}",
            names.join(", ")
        )
    })
}

fn usage(value: &str) -> Result<Role> {
    match value {
        "server" => Ok(Role::Server),
        "client" => Ok(Role::Client),
        "both" => Ok(Role::Both),
        other => Err(anyhow!(
            "{other:?} is not a usage; use \"server\", \"client\" or \"both\""
        )),
    }
}

fn file_stem(value: &str) -> Result<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
    if value.is_empty() || value.starts_with('.') || !value.chars().all(allowed) {
        return Err(anyhow!(
            "{value:?} is not a plain file name: use letters, digits, '.', '-' and '_'"
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Profile> {
        Profile::parse(text, Path::new("p.toml"))
    }

    fn error(text: &str) -> String {
        format!("{:#}", parse(text).expect_err("the profile was accepted"))
    }

    #[test]
    fn reads_every_section() {
        let profile = parse(
            r#"
country = "cn"
org = "milvus"
days = 400
key_type = "ecdsa-p256"

[ca]
cn = "milvus CA"
path_len = 1
permitted_dns = ["milvus.svc", ".example.com"]
permitted_ip = ["10.0.0.0/8"]

[server]
cn = "proxy"
san = ["proxy.milvus.svc", "10.0.0.5"]

[client]
cn = "app"

[[leaf]]
name = "datanode"
usage = "both"
days = 30
"#,
        )
        .unwrap();
        assert_eq!(profile.shared.country.as_deref(), Some("CN"));
        assert_eq!(profile.shared.days, Some(400));
        assert_eq!(profile.ca.path_len, Some(1));
        assert_eq!(
            profile.ca.rules.permitted_dns,
            ["milvus.svc", ".example.com"]
        );
        assert_eq!(profile.server.sans.as_ref().unwrap().len(), 2);
        assert_eq!(profile.leaves[0].role, Role::Both);
        assert_eq!(profile.leaf("datanode").unwrap().settings.days, Some(30));
        assert!(profile.leaf("nope").is_err());
    }

    #[test]
    fn names_file_line_column_and_section_of_an_unknown_key() {
        let text = "country = \"CN\"\n\n[server]\ncn = \"x\"\ncommn_name = \"y\"\n";
        assert_eq!(
            error(text),
            "p.toml:5:1: unknown key \"commn_name\" in [server]"
        );
        let text = "[[leaf]]\nname = \"a\"\nusage = \"server\"\nsna = []\n";
        assert_eq!(error(text), "p.toml:4:1: unknown key \"sna\" in [[leaf]]");
        assert_eq!(
            error("colour = 1\n"),
            "p.toml:1:1: unknown key \"colour\" in the top level"
        );
    }

    #[test]
    fn locates_bad_values_at_the_value() {
        assert_eq!(
            error("[server]\ncountry = \"China\"\n"),
            "p.toml:2:11: \"country\" in [server]: must be a two-letter ISO 3166 country code \
             such as CN or US"
        );
        let bad_san = error("[client]\nsan = [\"ok.example\", \"bad name\"]\n");
        assert!(
            bad_san.starts_with("p.toml:2:22: \"san\" in [client]: "),
            "{bad_san}"
        );
        assert!(error("days = 0\n").starts_with("p.toml:1:8: \"days\" in the top level"));
        assert!(error("key_type = \"dsa\"\n").contains("is not a key type"));
    }

    #[test]
    fn names_the_key_of_a_value_of_the_wrong_type() {
        assert_eq!(
            error("[server]\ndays = \"ten\"\n"),
            "p.toml:2:8: \"days\" in [server]: must be a whole number, not string \"ten\""
        );
        assert_eq!(
            error("org = [\"a\"]\n"),
            "p.toml:1:7: \"org\" in the top level: must be a string, not sequence"
        );
        assert_eq!(
            error("[[leaf]]\nname = \"a\"\nsan = \"a\"\n"),
            "p.toml:3:7: \"san\" in [[leaf]]: must be a list, not string \"a\""
        );
    }

    #[test]
    fn locates_what_has_no_value_of_its_own() {
        assert_eq!(
            error("org = \"x\"\n\n[[leaf]]\nusage = \"both\"\n"),
            "p.toml:3:1: [[leaf]] number 1 has no \"name\"; give it the base name of its files"
        );
        assert!(error("[ca]\nsan = []\n").starts_with("p.toml:2:7: key \"san\" is not allowed"));
        assert!(error("[server]\nsan = []\n")
            .starts_with("p.toml:2:7: \"san\" in [server]: the list is empty"));
    }

    #[test]
    fn rejects_wildcards_in_name_constraints() {
        let message = error("[ca]\nexcluded_dns = [\"*.example.com\"]\n");
        assert!(
            message.starts_with(
                "p.toml:2:17: \"excluded_dns\" in [ca]: \"*.example.com\" has a wildcard"
            ),
            "{message}"
        );
        let profile = parse("[ca]\npermitted_dns = [\".Example.com\"]\n").unwrap();
        assert_eq!(profile.ca.rules.permitted_dns, [".example.com"]);
    }
}
