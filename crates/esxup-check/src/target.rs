//! Target specifications: what `--target` accepts and how it is resolved.

use esxup_kb::{Kb, Release, ResolveError};
use esxup_version::Branch;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What the admin asked for with `--target`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TargetSpec {
    /// `auto`: esxup picks the best target for this host.
    Auto,
    /// `latest-7.0`: the newest build of a branch.
    Latest { branch: Branch },
    /// Anything `esxup build` accepts: a build, `7.0U2a`, a profile name...
    Release { query: String },
}

/// Why a `--target` value was refused before looking it up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetSpecError {
    #[error("empty target: expected a build, a version such as 7.0U3g, latest-7.0, latest-8.0 or auto")]
    Empty,
    #[error("invalid target {0:?}: latest-<branch> needs a branch such as 7.0")]
    LatestBranch(String),
}

impl FromStr for TargetSpec {
    type Err = TargetSpecError;
    fn from_str(s: &str) -> Result<TargetSpec, TargetSpecError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(TargetSpecError::Empty);
        }
        let lower = t.to_ascii_lowercase();
        if lower == "auto" || lower == "best" {
            return Ok(TargetSpec::Auto);
        }
        if let Some(b) = lower.strip_prefix("latest-").or_else(|| lower.strip_prefix("latest:")) {
            let branch: Branch = b.parse().map_err(|_| TargetSpecError::LatestBranch(t.to_string()))?;
            return Ok(TargetSpec::Latest { branch });
        }
        Ok(TargetSpec::Release { query: t.to_string() })
    }
}

impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSpec::Auto => f.write_str("auto"),
            TargetSpec::Latest { branch } => write!(f, "latest-{branch}"),
            TargetSpec::Release { query } => f.write_str(query),
        }
    }
}

/// How the target release was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChosenBy {
    /// The admin named the release.
    Named,
    /// The newest release of a branch (`latest-x.y`).
    LatestOfBranch,
    /// `--target auto` picked it (see the report's recommendation).
    Auto,
}

/// A resolved target.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Target {
    pub spec: TargetSpec,
    pub chosen_by: ChosenBy,
    pub release: Release,
}

/// Why a target could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("no release of branch {0} in the knowledge base")]
    EmptyBranch(Branch),
}

impl Target {
    /// Resolves a named or latest-of-branch spec. `Auto` needs the host and is
    /// resolved by [`crate::check`]; here it is an error-free `None`.
    pub fn resolve(kb: &Kb, spec: &TargetSpec) -> Result<Option<Target>, TargetError> {
        match spec {
            TargetSpec::Auto => Ok(None),
            TargetSpec::Latest { branch } => {
                let r = kb.latest(*branch).ok_or(TargetError::EmptyBranch(*branch))?;
                Ok(Some(Target {
                    spec: spec.clone(),
                    chosen_by: ChosenBy::LatestOfBranch,
                    release: r.clone(),
                }))
            }
            TargetSpec::Release { query } => {
                let r = kb.resolve_str(query)?.release;
                Ok(Some(Target { spec: spec.clone(), chosen_by: ChosenBy::Named, release: r.clone() }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_target_specs() {
        assert_eq!("auto".parse::<TargetSpec>().unwrap(), TargetSpec::Auto);
        assert_eq!(
            "latest-8.0".parse::<TargetSpec>().unwrap(),
            TargetSpec::Latest { branch: Branch::new(8, 0) }
        );
        assert_eq!(
            "LATEST-7.0".parse::<TargetSpec>().unwrap(),
            TargetSpec::Latest { branch: Branch::new(7, 0) }
        );
        assert_eq!("7.0U3g".parse::<TargetSpec>().unwrap(), TargetSpec::Release { query: "7.0U3g".into() });
        assert!("latest-x".parse::<TargetSpec>().is_err());
        assert!("  ".parse::<TargetSpec>().is_err());
        assert_eq!(TargetSpec::Latest { branch: Branch::new(7, 0) }.to_string(), "latest-7.0");
    }

    #[test]
    fn latest_is_the_kbs_newest_build_of_the_highest_update_line() {
        let kb = Kb::embedded().expect("embedded knowledge base");
        let spec = TargetSpec::Latest { branch: Branch::new(8, 0) };
        let t = Target::resolve(kb, &spec).expect("resolves").expect("not auto");
        assert_eq!(t.chosen_by, ChosenBy::LatestOfBranch);
        // Not the back-in-time 8.0 U2f 25626445 (dated 2026-08-03, after U3k):
        // the 8.0 U3 line's newest build (data/releases/8.0.toml).
        assert_ne!(t.release.build, 25626445);
        assert_eq!(t.release.version.patch, 3, "{}", t.release.name);
        assert_eq!(Some(&t.release), kb.latest(Branch::new(8, 0)));
    }

    #[test]
    fn named_targets_use_the_kb_resolver_and_its_errors() {
        let kb = Kb::embedded().expect("embedded knowledge base");
        let t = Target::resolve(kb, &"7.0U3g".parse().unwrap()).unwrap().unwrap();
        assert_eq!(t.release.build, 20328353);
        let e = Target::resolve(kb, &"9.9U9".parse().unwrap()).unwrap_err();
        assert!(matches!(e, TargetError::Resolve(_)), "{e}");
    }
}
