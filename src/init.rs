//! `certgen init`: starter profiles, compiled into the binary from
//! `templates/`, written where the user asks and never over a file.

use std::io::Write;

use anyhow::anyhow;

use crate::cli::InitArgs;
use crate::error::{Failure, Kind, ResultExt};
use crate::files::{self, Access, Output};
use crate::issuing::Report;

/// A starter profile.
pub struct Template {
    /// The name `--template` takes.
    pub name: &'static str,
    /// One line for `--list`.
    pub summary: &'static str,
    /// The profile text.
    pub text: &'static str,
}

/// Every starter profile, the default first.
pub const TEMPLATES: [Template; 3] = [
    Template {
        name: "recipe",
        summary: "the Milvus openssl recipe's values (CN, Shanghai, milvus, localhost), with SANs",
        text: include_str!("../templates/recipe.toml"),
    },
    Template {
        name: "milvus-cluster",
        summary: "a Milvus cluster with internal TLS: a name-constrained CA, a certificate per \
                  component",
        text: include_str!("../templates/milvus-cluster.toml"),
    },
    Template {
        name: "minimal",
        summary: "the server's name and nothing else",
        text: include_str!("../templates/minimal.toml"),
    },
];

/// Lists the templates, or writes the chosen one.
pub fn run(args: &InitArgs, report: &Report) -> Result<(), Failure> {
    if args.list {
        let mut stdout = std::io::stdout().lock();
        for template in &TEMPLATES {
            let _ = writeln!(stdout, "{:<16} {}", template.name, template.summary);
        }
        return Ok(());
    }
    let Some(template) = TEMPLATES.iter().find(|t| t.name == args.template) else {
        let names: Vec<&str> = TEMPLATES.iter().map(|t| t.name).collect();
        return Err(Failure::new(
            Kind::Input,
            anyhow!(
                "no template named {:?}; choose one of {} (certgen init --list)",
                args.template,
                names.join(", ")
            ),
        ));
    };
    if files::occupied(&args.file) && !args.force {
        return Err(Failure::new(
            Kind::Exists,
            anyhow!(
                "refusing to overwrite {}; edit it, or run `certgen init --force` to start over",
                args.file.display()
            ),
        ));
    }
    if let Some(dir) = args.file.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::ensure_dir(dir).or_fail(Kind::Write)?;
    }
    let output = Output {
        path: args.file.clone(),
        contents: template.text.as_bytes().to_vec(),
        access: Access::Public,
        replace: args.force,
    };
    files::commit(&[output]).or_fail(Kind::Write)?;
    report.line(format!(
        "wrote {} ({} template); edit it, then run `certgen all --profile {}`",
        args.file.display(),
        template.name,
        args.file.display()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;
    use std::path::Path;

    #[test]
    fn every_template_is_a_valid_profile() {
        for template in &TEMPLATES {
            let profile = Profile::parse(template.text, Path::new(template.name))
                .unwrap_or_else(|e| panic!("{}: {e:#}", template.name));
            assert!(
                profile.server.cn.is_some(),
                "{} names no server",
                template.name
            );
        }
    }

    #[test]
    fn every_setting_in_a_template_has_a_comment_above_it() {
        // The recipe and minimal templates explain every key; the cluster
        // template explains the first [[leaf]] and repeats its shape.
        for template in TEMPLATES.iter().filter(|t| t.name != "milvus-cluster") {
            let lines: Vec<&str> = template.text.lines().collect();
            for (index, line) in lines.iter().enumerate() {
                let is_setting = line.contains(" = ") && !line.starts_with('#');
                if is_setting {
                    let above = lines[..index].last().copied().unwrap_or_default();
                    assert!(
                        above.starts_with('#'),
                        "{}: {line:?} has no comment",
                        template.name
                    );
                }
            }
        }
    }
}
