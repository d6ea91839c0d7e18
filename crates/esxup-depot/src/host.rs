//! [`HostImage`]: the VIBs installed on a host, from a facts file, a saved
//! `esxcli software vib list` (table, tab-separated, or a list of VIB ids),
//! or a depot image profile.

use crate::depot::Depot;
use crate::error::DepotError;
use crate::model::{parse_acceptance, ImageProfile, VibId};
use esxup_facts::{AcceptanceLevel, HostFacts};
use esxup_version::vib::VibVersion;
use serde::Serialize;

/// One installed VIB.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HostVib {
    /// The VIB id; composed as `<vendor>_bootbank_<name>_<version>` when the
    /// source did not give it (`id_composed` is then true).
    pub id: String,
    pub id_composed: bool,
    pub vendor: String,
    pub name: String,
    pub version: VibVersion,
    pub acceptance: Option<AcceptanceLevel>,
    pub install_date: Option<String>,
}

impl HostVib {
    fn from_parts(vendor: &str, name: &str, version: &str) -> HostVib {
        HostVib {
            id: format!("{vendor}_bootbank_{name}_{version}"),
            id_composed: true,
            vendor: vendor.to_string(),
            name: name.to_string(),
            version: VibVersion::parse(version),
            acceptance: None,
            install_date: None,
        }
    }

    fn from_id(id: &VibId) -> HostVib {
        HostVib {
            id: id.to_string(),
            id_composed: false,
            vendor: id.vendor.clone(),
            name: id.name.clone(),
            version: id.version.clone(),
            acceptance: None,
            install_date: None,
        }
    }

    /// As a parsed VIB id.
    pub fn vib_id(&self) -> VibId {
        VibId::parse(&self.id)
            .unwrap_or_else(|| VibId::new(&self.vendor, "bootbank", &self.name, self.version.as_str()))
    }
}

/// A host's software inventory.
#[derive(Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HostImage {
    /// Where it came from (`facts`, `vib list FILE`, `profile NAME`).
    pub source: String,
    pub vibs: Vec<HostVib>,
    /// Host acceptance level (`esxcli software acceptance get`), if known.
    pub acceptance: Option<AcceptanceLevel>,
    /// Installed image profile name, if known.
    pub profile_name: Option<String>,
    /// Hardware vendor/model (for `hwplatform` requirements), if known.
    pub hw_vendor: Option<String>,
    pub hw_model: Option<String>,
    /// What could not be read (lines skipped, ...).
    pub notes: Vec<String>,
}

impl HostImage {
    /// From a facts file. Fails if the facts carry no VIB list.
    pub fn from_facts(facts: &HostFacts) -> Result<HostImage, DepotError> {
        let label = facts.hostname.clone().unwrap_or_else(|| "facts".to_string());
        let vibs = facts.vibs.as_ref().ok_or_else(|| {
            DepotError::invalid(
                format!("facts of {label}"),
                "no installed VIB list (collect `esxcli software vib list` first)",
            )
        })?;
        let mut img = HostImage {
            source: format!("facts of {label}"),
            acceptance: facts.acceptance_level,
            profile_name: facts.image_profile.clone(),
            hw_vendor: facts.firmware.as_ref().and_then(|f| f.system_vendor.clone()),
            hw_model: facts.firmware.as_ref().and_then(|f| f.system_model.clone()),
            ..HostImage::default()
        };
        for v in vibs {
            let mut h = HostVib::from_parts(&v.vendor, &v.name, &v.version);
            h.acceptance = v.acceptance_level;
            h.install_date = v.install_date.map(|d| d.to_string());
            img.vibs.push(h);
        }
        Ok(img)
    }

    /// From a saved `esxcli software vib list` (the column table), a
    /// tab-separated `name version vendor acceptance date` list, or VIB ids
    /// (one per line or comma-separated, e.g. a `VIBs Removed:` line).
    /// Lines starting with `#` are comments.
    pub fn from_vib_list(text: &str) -> Result<HostImage, DepotError> {
        let mut img = HostImage { source: "vib list".into(), ..HostImage::default() };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
        // The esxcli table: a header line, then a line of dashes giving the columns.
        if let Some(dash_at) = lines.iter().position(|l| {
            let t = l.trim();
            !t.is_empty() && t.chars().all(|c| c == '-' || c == ' ') && t.contains("--")
        }) {
            let cols = column_spans(lines[dash_at]);
            let header: Vec<String> = if dash_at > 0 {
                cols.iter().map(|&(s, e)| slice(lines[dash_at - 1], s, e).to_ascii_lowercase()).collect()
            } else {
                Vec::new()
            };
            let find = |want: &str| header.iter().position(|h| h.starts_with(want));
            let (ni, vi, ve, ai, di) =
                (find("name"), find("version"), find("vendor"), find("acceptance"), find("install"));
            let (Some(ni), Some(vi), Some(ve)) = (ni, vi, ve) else {
                return Err(DepotError::invalid("vib list", "table header lacks Name, Version or Vendor"));
            };
            for (n, l) in lines.iter().enumerate().skip(dash_at + 1) {
                if l.trim().is_empty() {
                    continue;
                }
                let cells: Vec<&str> = cols
                    .iter()
                    .enumerate()
                    .map(
                        |(i, &(s, e))| {
                            if i + 1 == cols.len() {
                                slice(l, s, usize::MAX)
                            } else {
                                slice(l, s, e)
                            }
                        },
                    )
                    .collect();
                let (name, version, vendor) = (cells[ni], cells[vi], cells[ve]);
                if name.is_empty() || version.is_empty() || vendor.is_empty() || name.contains(' ') {
                    img.notes.push(format!("vib list line {}: not a VIB row, skipped", n + 1));
                    continue;
                }
                let mut h = HostVib::from_parts(vendor, name, version);
                h.acceptance = ai.and_then(|i| parse_acceptance(cells[i]));
                h.install_date = di.map(|i| cells[i].to_string()).filter(|s| !s.is_empty());
                img.vibs.push(h);
            }
        } else {
            for (n, l) in lines.iter().enumerate() {
                let l = l.trim();
                if l.is_empty() {
                    continue;
                }
                if l.contains('\t') {
                    let f: Vec<&str> = l.split('\t').map(str::trim).collect();
                    if f.len() >= 3 {
                        let mut h = HostVib::from_parts(f[2], f[0], f[1]);
                        h.acceptance = f.get(3).and_then(|a| parse_acceptance(a));
                        h.install_date = f.get(4).map(|s| s.to_string()).filter(|s| !s.is_empty());
                        img.vibs.push(h);
                        continue;
                    }
                }
                let l = l.split_once(':').map(|(k, v)| if k.contains("VIBs") { v } else { l }).unwrap_or(l);
                for item in l.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match VibId::parse(item) {
                        Some(id) if !item.contains(' ') => img.vibs.push(HostVib::from_id(&id)),
                        _ => img
                            .notes
                            .push(format!("vib list line {}: {item:?} is not a VIB id, skipped", n + 1)),
                    }
                }
            }
        }
        if img.vibs.is_empty() {
            return Err(DepotError::invalid(
                "vib list",
                "no VIB found (expected `esxcli software vib list` output or VIB ids)",
            ));
        }
        Ok(img)
    }

    /// The VIBs of a depot image profile, as if a host ran it.
    pub fn from_profile(depot: &Depot, profile: &ImageProfile) -> HostImage {
        let mut img = HostImage {
            source: format!("image profile {}", profile.name),
            acceptance: profile.acceptance,
            profile_name: Some(profile.name.clone()),
            ..HostImage::default()
        };
        for id in &profile.vib_ids {
            match depot.vib(id) {
                Some(v) => img.vibs.push(HostVib {
                    id: v.id.clone(),
                    id_composed: false,
                    vendor: v.vendor.clone(),
                    name: v.name.clone(),
                    version: v.version.clone(),
                    acceptance: v.acceptance,
                    install_date: None,
                }),
                None => match VibId::parse(id) {
                    Some(p) => img.vibs.push(HostVib::from_id(&p)),
                    None => img.notes.push(format!("profile names {id:?}, not a VIB id")),
                },
            }
        }
        img
    }
}

fn column_spans(dashes: &str) -> Vec<(usize, usize)> {
    let b = dashes.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' {
            let s = i;
            while i < b.len() && b[i] == b'-' {
                i += 1;
            }
            out.push((s, i));
        } else {
            i += 1;
        }
    }
    out
}

/// A column cell: characters `s..e` (by char, as esxcli pads), trimmed.
fn slice(line: &str, s: usize, e: usize) -> &str {
    let start = line.char_indices().nth(s).map(|(i, _)| i).unwrap_or(line.len());
    let end = if e == usize::MAX {
        line.len()
    } else {
        line.char_indices().nth(e).map(|(i, _)| i).unwrap_or(line.len())
    };
    line.get(start..end.max(start)).unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_read_by_columns() {
        let t = "Name                           Version                            Vendor  Acceptance Level  Install Date\n\
-----------------------------  ---------------------------------  ------  ----------------  ------------\n\
bnxtnet                        216.0.50.0-4vmw.700.1.0.15843807   VMW     VMwareCertified   2020-04-03\n";
        let img = HostImage::from_vib_list(t).unwrap();
        assert_eq!(img.vibs.len(), 1);
        let v = &img.vibs[0];
        assert_eq!(v.id, "VMW_bootbank_bnxtnet_216.0.50.0-4vmw.700.1.0.15843807");
        assert!(v.id_composed);
        assert_eq!(v.acceptance, Some(AcceptanceLevel::VMwareCertified));
        assert_eq!(v.install_date.as_deref(), Some("2020-04-03"));
    }

    #[test]
    fn id_lists_and_result_lines() {
        let img = HostImage::from_vib_list(
            "# comment\nVMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794\n   VIBs Removed: VMware_locker_tools-light_6.0.0-0.0.2494585, INT_bootbank_igbn_1.5.2.0-1OEM.670.0.0.8169922\n",
        )
        .unwrap();
        let ids: Vec<&str> = img.vibs.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "VMW_bootbank_vmkusb_0.1-4vmw.670.3.159.18828794",
                "VMware_locker_tools-light_6.0.0-0.0.2494585",
                "INT_bootbank_igbn_1.5.2.0-1OEM.670.0.0.8169922"
            ]
        );
        assert!(HostImage::from_vib_list("hello world\n").is_err());
    }
}
