//! What one certificate says, gathered from the command line, a profile
//! section, the profile's shared settings and the built-in defaults, in that
//! order of precedence: the first that gives a value wins.

use anyhow::Result;

use crate::cli::CertFlags;
use crate::keys::KeyType;
use crate::san::San;
use crate::subject::Subject;

/// Validity of a certificate when nothing sets it, as in the openssl recipe.
pub const DEFAULT_DAYS: u32 = 3650;

/// Common name of a server or client certificate when nothing sets it.
pub const DEFAULT_LEAF_CN: &str = "localhost";

/// One level of settings; `None` (or an empty list) leaves the value to the
/// level below.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// Subject C.
    pub country: Option<String>,
    /// Subject ST.
    pub state: Option<String>,
    /// Subject L.
    pub locality: Option<String>,
    /// Subject O.
    pub org: Option<String>,
    /// Subject OU.
    pub ou: Option<String>,
    /// Subject CN.
    pub cn: Option<String>,
    /// subjectAltNames; `None` means "the default for the CN".
    pub sans: Option<Vec<San>>,
    /// subjectAltNames added to whichever `sans` resolve to: the names of
    /// `--k8s-service`. Only the command line gives them.
    pub added_sans: Vec<San>,
    /// Validity in days.
    pub days: Option<u32>,
    /// Algorithm of a new key.
    pub key_type: Option<KeyType>,
}

impl Settings {
    /// The settings the command line gives.
    pub fn from_flags(flags: &CertFlags) -> Settings {
        let subject = &flags.subject;
        Settings {
            country: subject.country.clone(),
            state: subject.state.clone(),
            locality: subject.locality.clone(),
            org: subject.org.clone(),
            ou: subject.ou.clone(),
            cn: flags.cn.clone(),
            sans: (!flags.san.is_empty()).then(|| flags.san.clone()),
            added_sans: flags
                .k8s_service
                .iter()
                .flat_map(|service| service_names(service, &flags.namespace))
                .collect(),
            days: flags.days,
            key_type: flags.key_type,
        }
    }

    /// Each value of `self`, or where it has none, the value of `lower`.
    pub fn or(&self, lower: &Settings) -> Settings {
        fn pick<T: Clone>(high: &Option<T>, low: &Option<T>) -> Option<T> {
            high.clone().or_else(|| low.clone())
        }
        Settings {
            country: pick(&self.country, &lower.country),
            state: pick(&self.state, &lower.state),
            locality: pick(&self.locality, &lower.locality),
            org: pick(&self.org, &lower.org),
            ou: pick(&self.ou, &lower.ou),
            cn: pick(&self.cn, &lower.cn),
            sans: pick(&self.sans, &lower.sans),
            added_sans: [&self.added_sans[..], &lower.added_sans[..]].concat(),
            days: self.days.or(lower.days),
            key_type: self.key_type.or(lower.key_type),
        }
    }

    /// The subject, with `default_cn` where no level named one.
    pub fn subject(&self, default_cn: &str) -> Subject {
        Subject {
            country: self.country.clone(),
            state: self.state.clone(),
            locality: self.locality.clone(),
            org: self.org.clone(),
            ou: self.ou.clone(),
            cn: self.cn.clone().unwrap_or_else(|| default_cn.to_owned()),
        }
    }

    /// The SANs: those given, or the defaults for the common name, then the
    /// added ones that are not among them yet.
    pub fn sans_for(&self, cn: &str) -> Result<Vec<San>> {
        let mut sans = match &self.sans {
            Some(sans) => sans.clone(),
            None => San::defaults_for(cn)?,
        };
        for san in &self.added_sans {
            if !sans.contains(san) {
                sans.push(san.clone());
            }
        }
        Ok(sans)
    }

    /// Validity in days, or [`DEFAULT_DAYS`].
    pub fn days(&self) -> u32 {
        self.days.unwrap_or(DEFAULT_DAYS)
    }

    /// Key type, or the default RSA 2048.
    pub fn key_type(&self) -> KeyType {
        self.key_type.unwrap_or_default()
    }
}

/// The four names a Service is reached by inside a cluster: `NAME` from
/// its own namespace, then ever more qualified forms.
pub fn service_names(service: &str, namespace: &str) -> Vec<San> {
    [
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
    .into_iter()
    .map(San::Dns)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_named_four_ways() {
        let names: Vec<String> = service_names("my-release-milvus", "db")
            .iter()
            .map(San::to_string)
            .collect();
        assert_eq!(
            names,
            [
                "DNS:my-release-milvus",
                "DNS:my-release-milvus.db",
                "DNS:my-release-milvus.db.svc",
                "DNS:my-release-milvus.db.svc.cluster.local",
            ]
        );
    }

    #[test]
    fn service_names_are_added_to_the_sans_from_any_level() {
        let service = |name| Settings {
            added_sans: service_names(name, "db"),
            ..Settings::default()
        };
        let names = |settings: &Settings, cn| -> Vec<String> {
            let sans = settings.sans_for(cn).unwrap();
            sans.iter().map(San::to_string).collect()
        };
        // Over the CN's defaults, keeping them.
        let defaults = names(&service("svc"), "localhost");
        assert_eq!(&defaults[..3], ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]);
        assert_eq!(defaults.len(), 7);
        // Over SANs a lower level gives, keeping them, and without repeating
        // a name already there.
        let section = Settings {
            sans: Some(vec![
                San::Dns("svc.db".into()),
                San::Dns("a.example".into()),
            ]),
            ..Settings::default()
        };
        assert_eq!(
            names(&service("svc").or(&section), "ignored"),
            [
                "DNS:svc.db",
                "DNS:a.example",
                "DNS:svc",
                "DNS:svc.db.svc",
                "DNS:svc.db.svc.cluster.local",
            ]
        );
    }

    #[test]
    fn the_higher_level_wins_value_by_value() {
        let flags = Settings {
            cn: Some("flag".into()),
            ..Settings::default()
        };
        let section = Settings {
            cn: Some("section".into()),
            days: Some(10),
            ..Settings::default()
        };
        let shared = Settings {
            days: Some(20),
            org: Some("shared".into()),
            key_type: Some(KeyType::EcdsaP256),
            ..Settings::default()
        };
        let resolved = flags.or(&section).or(&shared);
        assert_eq!(resolved.cn.as_deref(), Some("flag"));
        assert_eq!(resolved.days(), 10);
        assert_eq!(resolved.org.as_deref(), Some("shared"));
        assert_eq!(resolved.key_type(), KeyType::EcdsaP256);
        assert_eq!(Settings::default().days(), DEFAULT_DAYS);
        assert_eq!(Settings::default().key_type(), KeyType::Rsa2048);
    }
}
