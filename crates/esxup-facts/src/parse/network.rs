//! `esxcli network ...`: physical NICs, VMkernel interfaces, standard
//! vSwitches, and from the last two which uplinks carry the management network.

use super::{
    field_records, first_text_line, non_placeholder, nonempty_records, parse_bool, records, ParseError,
};
use crate::model::Nic;

pub const NIC_LIST: &str = "esxcli network nic list";
pub const IP_INTERFACE_LIST: &str = "esxcli network ip interface list";
pub const VSWITCH_LIST: &str = "esxcli network vswitch standard list";
pub const FIREWALL_CIMSLP: &str = "esxcli network firewall ruleset list -r CIMSLP";

/// `esxcli network nic list` (6.5+ with Admin/Link Status; 5.5/6.0 with `Link`).
/// `management` is left unknown here; see [`management_uplinks`].
pub fn nic_list(text: &str) -> Result<Vec<Nic>, ParseError> {
    let c = NIC_LIST;
    let recs = nonempty_records(c, text)?;
    recs.iter()
        .map(|r| {
            let [name, driver] = r.require_cells(c, ["Name", "Driver"])?;
            let link = r.get_any(&["Link Status", "Link"]).map(|s| s.eq_ignore_ascii_case("up"));
            Ok(Nic {
                name: name.to_string(),
                pci_address: r.get("PCI Device").and_then(non_placeholder),
                driver: non_placeholder(driver),
                link_up: link,
                speed_mbps: r.get("Speed").and_then(|s| s.trim().parse().ok()),
                mac: r.get("MAC Address").and_then(non_placeholder),
                description: r.get("Description").and_then(non_placeholder),
                management: None,
            })
        })
        .collect()
}

/// One VMkernel interface of `esxcli network ip interface list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmkInterface {
    pub name: String,
    pub portset: Option<String>,
    pub portgroup: Option<String>,
    /// Set when the interface sits on a distributed switch.
    pub vds_name: Option<String>,
    pub enabled: Option<bool>,
}

pub fn ip_interface_list(text: &str) -> Result<Vec<VmkInterface>, ParseError> {
    let c = IP_INTERFACE_LIST;
    let recs = field_records(c, text)?;
    recs.iter()
        .map(|r| {
            let name = r
                .get_or_title("Name")
                .ok_or_else(|| ParseError::new(c, r.line, "interface without `Name` (output truncated?)"))?;
            if r.get("Portset").is_none() && r.get("VDS Name").is_none() {
                return Err(ParseError::new(
                    c,
                    r.line,
                    format!("`{name}` has no `Portset` (output truncated?)"),
                ));
            }
            Ok(VmkInterface {
                name,
                portset: r.get("Portset").and_then(non_placeholder),
                portgroup: r.get("Portgroup").and_then(non_placeholder),
                vds_name: r.get("VDS Name").and_then(non_placeholder),
                enabled: r.get("Enabled").and_then(parse_bool),
            })
        })
        .collect()
}

/// One standard vSwitch of `esxcli network vswitch standard list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VSwitch {
    pub name: String,
    pub uplinks: Vec<String>,
    pub portgroups: Vec<String>,
}

fn list(v: Option<&str>) -> Vec<String> {
    v.map(|s| s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

pub fn vswitch_list(text: &str) -> Result<Vec<VSwitch>, ParseError> {
    let c = VSWITCH_LIST;
    let recs = field_records(c, text)?;
    recs.iter()
        .map(|r| {
            let name = r
                .get_or_title("Name")
                .ok_or_else(|| ParseError::new(c, r.line, "vSwitch without `Name` (output truncated?)"))?;
            if r.get("Uplinks").is_none() {
                return Err(ParseError::new(
                    c,
                    r.line,
                    format!("`{name}` has no `Uplinks` (output truncated?)"),
                ));
            }
            Ok(VSwitch { name, uplinks: list(r.get("Uplinks")), portgroups: list(r.get("Portgroups")) })
        })
        .collect()
}

/// Uplinks carrying the management network: those of the standard vSwitch
/// that holds `vmk0`. `None` when that cannot be told (no vmk0, or vmk0 on a
/// distributed switch whose uplinks these outputs do not show).
pub fn management_uplinks(ifaces: &[VmkInterface], vswitches: &[VSwitch]) -> Option<Vec<String>> {
    let vmk0 = ifaces.iter().find(|i| i.name == "vmk0")?;
    if vmk0.vds_name.is_some() {
        return None;
    }
    let ps = vmk0.portset.as_deref()?;
    vswitches.iter().find(|v| v.name == ps).map(|v| v.uplinks.clone())
}

/// `esxcli network firewall ruleset list -r CIMSLP`: ruleset enabled.
pub fn firewall_ruleset(text: &str) -> Result<bool, ParseError> {
    firewall_ruleset_named(text, "CIMSLP")
}

/// `esxcli network firewall ruleset list -r NAME`: whether ruleset `name`
/// is enabled (the same table for every ruleset).
pub fn firewall_ruleset_named(text: &str, name: &str) -> Result<bool, ParseError> {
    let c = FIREWALL_CIMSLP;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("Name").is_some_and(|n| n.eq_ignore_ascii_case(name))).ok_or_else(
        || ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), format!("no {name} row")),
    )?;
    let v = r.require(c, "Enabled")?;
    parse_bool(v).ok_or_else(|| ParseError::new(c, r.line, format!("`Enabled` is not true/false: {v:?}")))
}
