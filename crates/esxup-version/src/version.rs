//! ESXi product versions (`7.0.3`) and branches (`7.0`).

use std::fmt;
use std::str::FromStr;

/// A release branch: the `x.y` of a version. Updates stay on a branch,
/// upgrades move between branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Branch {
    pub major: u8,
    pub minor: u8,
}

/// A product version `x.y.z` as `esxcli system version get` prints it.
/// The `z` of 7.0 and later is the update number (7.0.3 = 7.0 Update 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u8,
    pub minor: u8,
    pub patch: u8,
}

/// Why a version or branch string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VersionError {
    #[error("invalid ESXi version {0:?}: expected x.y.z such as 7.0.3")]
    Version(String),
    #[error("invalid ESXi branch {0:?}: expected x.y such as 7.0")]
    Branch(String),
}

/// How VMware names a move between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MoveKind {
    /// Same version and build.
    Same,
    /// Same branch (x.y), newer build: an *update* (patch or update release).
    Update,
    /// Newer branch: an *upgrade* (e.g. 6.7 -> 7.0).
    Upgrade,
    /// Older branch, or an older build on the same branch.
    Downgrade,
}

impl Version {
    pub const fn new(major: u8, minor: u8, patch: u8) -> Version {
        Version { major, minor, patch }
    }

    pub const fn branch(self) -> Branch {
        Branch { major: self.major, minor: self.minor }
    }

    /// Classifies the move from `self` at `from_build` to `to` at `to_build`.
    pub fn classify(self, from_build: u32, to: Version, to_build: u32) -> MoveKind {
        match self.branch().cmp(&to.branch()) {
            std::cmp::Ordering::Less => MoveKind::Upgrade,
            std::cmp::Ordering::Greater => MoveKind::Downgrade,
            std::cmp::Ordering::Equal => match from_build.cmp(&to_build) {
                std::cmp::Ordering::Less => MoveKind::Update,
                std::cmp::Ordering::Equal => MoveKind::Same,
                std::cmp::Ordering::Greater => MoveKind::Downgrade,
            },
        }
    }
}

impl Branch {
    pub const fn new(major: u8, minor: u8) -> Branch {
        Branch { major, minor }
    }
}

fn parse_u8s(s: &str, n: usize) -> Option<Vec<u8>> {
    let parts: Vec<&str> = s.trim().split('.').collect();
    if parts.len() != n {
        return None;
    }
    parts.iter().map(|p| if p.is_empty() || p.len() > 3 { None } else { p.parse().ok() }).collect()
}

impl FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Version, VersionError> {
        let v = parse_u8s(s, 3).ok_or_else(|| VersionError::Version(s.to_string()))?;
        Ok(Version::new(v[0], v[1], v[2]))
    }
}

impl FromStr for Branch {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Branch, VersionError> {
        let v = parse_u8s(s, 2).ok_or_else(|| VersionError::Branch(s.to_string()))?;
        Ok(Branch::new(v[0], v[1]))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl fmt::Display for Branch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

macro_rules! serde_via_str {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
serde_via_str!(Version);
serde_via_str!(Branch);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_moves_like_vmware() {
        let v67 = Version::new(6, 7, 0);
        let v70 = Version::new(7, 0, 3);
        assert_eq!(v67.classify(17700523, v70, 20328353), MoveKind::Upgrade);
        assert_eq!(v70.classify(19193900, v70, 20328353), MoveKind::Update);
        assert_eq!(v70.classify(20328353, v67, 17700523), MoveKind::Downgrade);
        assert_eq!(v67.classify(18828794, v67, 17700523), MoveKind::Downgrade);
        assert_eq!(v67.classify(17700523, v67, 17700523), MoveKind::Same);
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!("7.0.3".parse::<Version>().unwrap(), Version::new(7, 0, 3));
        assert_eq!("6.7".parse::<Branch>().unwrap(), Branch::new(6, 7));
        assert!("7.0".parse::<Version>().is_err());
        assert!("7.x.3".parse::<Version>().is_err());
        assert!("7.0.3".parse::<Branch>().is_err());
    }
}

crate::string_json_schema!(Version, "Version", "ESXi version x.y.z (`7.0.3`)");
crate::string_json_schema!(Branch, "Branch", "ESXi branch x.y (`7.0`)");
