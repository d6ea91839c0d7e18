//! The target image as the checks see it (from `--depot`): its VIBs, their
//! acceptance levels and the PCI ids their drivers claim.
//!
//! This is a plain view so that the rules stay independent of how a depot is
//! read; `esxup check --depot` fills it from `esxup-depot` (or from a VIB id
//! list, one `<vendor>_<type>_<name>_<version>` per line).

use esxup_facts::AcceptanceLevel;
use serde::Serialize;

/// One VIB of the target image.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImageVib {
    pub name: String,
    pub version: String,
    pub vendor: String,
    pub acceptance_level: Option<AcceptanceLevel>,
    /// `(vendor, device)` PCI ids from `PCIID` software tags (7.0+ drivers).
    pub pci_ids: Vec<(u16, u16)>,
}

/// A target image profile.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TargetImage {
    /// Image profile name (`ESXi-7.0U2a-17867351-standard`).
    pub profile: String,
    /// Where it was read from (depot path or URL).
    pub source: String,
    pub acceptance_level: Option<AcceptanceLevel>,
    pub vibs: Vec<ImageVib>,
    /// Only part of the image is known (a driver/component bundle without an
    /// image profile): its VIBs add drivers, but a PCI id it does not claim
    /// says nothing about the rest of the image.
    pub partial: bool,
    /// The problems `esxcli software profile update` would report applying
    /// this depot profile to the checked host, in esxcli's words
    /// (`esxup_depot::simulate`). Set per host by [`TargetImage::simulated_on`];
    /// `None`: not simulated (no depot profile, or no VIB list in the facts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulated: Option<Vec<esxup_depot::Problem>>,
}

/// Why a VIB id list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error(
        "read VIB list {source_name} line {line}: {text:?} is not a <vendor>_<type>_<name>_<version> VIB id"
    )]
    BadVibId { source_name: String, line: usize, text: String },
    #[error("read VIB list {0}: no VIB ids found")]
    Empty(String),
}

impl TargetImage {
    /// Builds an image from VIB ids (`VMW_bootbank_vmkusb_0.1-1vmw.702.0.0.17867351`),
    /// one per line; `#` starts a comment line.
    pub fn from_vib_ids(profile: &str, source: &str, text: &str) -> Result<TargetImage, ImageError> {
        let mut vibs = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let id = l.split_whitespace().next().unwrap_or(l);
            let v = parse_vib_id(id).ok_or_else(|| ImageError::BadVibId {
                source_name: source.to_string(),
                line: i + 1,
                text: l.to_string(),
            })?;
            vibs.push(v);
        }
        if vibs.is_empty() {
            return Err(ImageError::Empty(source.to_string()));
        }
        Ok(TargetImage {
            profile: profile.to_string(),
            source: source.to_string(),
            acceptance_level: None,
            vibs,
            partial: false,
            simulated: None,
        })
    }

    pub fn vib(&self, name: &str) -> Option<&ImageVib> {
        self.vibs.iter().find(|v| v.name == name)
    }

    /// Whether any VIB claims PCI ids (a depot read with software tags).
    pub fn has_pci_tags(&self) -> bool {
        self.vibs.iter().any(|v| !v.pci_ids.is_empty())
    }
}

/// Splits a VIB id `<vendor>_<type>_<name>_<version>`. Names may contain
/// `_`? No: VMware ids keep `_` as the separator and the version is the last
/// field; the name is everything between the type and the version.
pub fn parse_vib_id(id: &str) -> Option<ImageVib> {
    let mut it = id.splitn(3, '_');
    let vendor = it.next()?;
    let _kind = it.next()?;
    let rest = it.next()?;
    let (name, version) = rest.rsplit_once('_')?;
    if vendor.is_empty() || name.is_empty() || version.is_empty() {
        return None;
    }
    let acceptance = match vendor {
        "VMW" | "VMware" => Some(AcceptanceLevel::VMwareCertified),
        _ => None,
    };
    Some(ImageVib {
        name: name.to_string(),
        version: version.to_string(),
        vendor: vendor.to_string(),
        acceptance_level: acceptance,
        pci_ids: Vec::new(),
    })
}

impl TargetImage {
    /// The view of an image profile of a depot read by `esxup-depot`: its
    /// VIBs with acceptance levels and `PCIID` software tags.
    pub fn from_depot(depot: &esxup_depot::Depot, profile: &esxup_depot::ImageProfile) -> TargetImage {
        let vibs = profile
            .vib_ids
            .iter()
            .filter_map(|id| depot.vib(id).map(vib_of).or_else(|| parse_vib_id(id)))
            .collect();
        TargetImage {
            profile: profile.name.clone(),
            source: depot.location().to_string(),
            acceptance_level: profile.acceptance,
            vibs,
            partial: false,
            simulated: None,
        }
    }

    /// Every VIB of a depot without image profiles (a driver or component
    /// bundle to add to the standard image): a partial image.
    pub fn from_depot_vibs(depot: &esxup_depot::Depot) -> TargetImage {
        TargetImage {
            profile: format!("VIBs of {}", depot.location()),
            source: depot.location().to_string(),
            acceptance_level: None,
            vibs: depot.vibs().iter().map(vib_of).collect(),
            partial: true,
            simulated: None,
        }
    }

    /// This image with the transaction of `esxcli software profile update`
    /// (no `--allow-downgrades`) simulated on the host of `facts`: `profile`
    /// of `depot` is the image this one was read from. Facts without a VIB
    /// list leave it unsimulated (the VIB rules report them as unknown).
    pub fn simulated_on(
        &self,
        depot: &esxup_depot::Depot,
        profile: &esxup_depot::ImageProfile,
        facts: &esxup_facts::HostFacts,
    ) -> TargetImage {
        let simulated = esxup_depot::HostImage::from_facts(facts).ok().map(|host| {
            esxup_depot::simulate(&host, depot, profile, &esxup_depot::TxOptions::default()).problems
        });
        TargetImage { simulated, ..self.clone() }
    }
}

fn vib_of(v: &esxup_depot::Vib) -> ImageVib {
    ImageVib {
        name: v.name.clone(),
        version: v.version.to_string(),
        vendor: v.vendor.clone(),
        acceptance_level: v.acceptance,
        pci_ids: v.pci_ids().filter_map(parse_pciid).collect(),
    }
}

/// `10ec8168` (vendor + device, maybe followed by subsystem ids) -> ids.
fn parse_pciid(tag: &str) -> Option<(u16, u16)> {
    let t: String = tag.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    if t.len() < 8 {
        return None;
    }
    Some((u16::from_str_radix(&t[0..4], 16).ok()?, u16::from_str_radix(&t[4..8], 16).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vib_ids() {
        let v = parse_vib_id("VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794").unwrap();
        assert_eq!(
            (v.vendor.as_str(), v.name.as_str(), v.version.as_str()),
            ("VMW", "vmkusb", "0.1-4vmw.670.3.159.18828794")
        );
        let v = parse_vib_id("VMW_bootbank_shim-libfc-9-2-1-0_6.7.0-0.0.8169922").unwrap();
        assert_eq!(v.name, "shim-libfc-9-2-1-0");
        assert!(parse_vib_id("novib").is_none());
        assert!(TargetImage::from_vib_ids("p", "x", "bad line\n").is_err());
    }
}
