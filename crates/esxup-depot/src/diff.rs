//! Image profile comparison: what PowerCLI's `Compare-EsxImageProfile`
//! shows (equal, only in one, upgraded, downgraded, acceptance levels), and
//! more: per-VIB versions, and the vmklinux drivers each side carries.

use crate::depot::Depot;
use crate::model::{ImageProfile, VibId};
use esxup_facts::AcceptanceLevel;
use serde::Serialize;
use std::collections::BTreeMap;

/// One VIB name present in both profiles with different versions.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VersionChange {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// The difference between profile `a` (reference) and `b` (comparison).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ProfileDiff {
    pub a: String,
    pub b: String,
    /// Same VIB set.
    pub packages_equal: bool,
    pub acceptance_a: Option<AcceptanceLevel>,
    pub acceptance_b: Option<AcceptanceLevel>,
    pub only_in_a: Vec<String>,
    pub only_in_b: Vec<String>,
    pub upgraded: Vec<VersionChange>,
    pub downgraded: Vec<VersionChange>,
    /// Same name and version in both.
    pub unchanged: usize,
    /// vmklinux driver VIBs of each side (gone in 7.0).
    pub vmklinux_in_a: Vec<String>,
    pub vmklinux_in_b: Vec<String>,
}

/// Compares two profiles by VIB name, in esximage version order.
pub fn diff_profiles(depot: &Depot, a: &ImageProfile, b: &ImageProfile) -> ProfileDiff {
    let index = |p: &ImageProfile| -> BTreeMap<String, (String, VibId)> {
        p.vib_ids
            .iter()
            .filter_map(|id| VibId::parse(id).map(|v| (v.name.clone(), (id.clone(), v))))
            .collect()
    };
    let (ia, ib) = (index(a), index(b));
    let mut d = ProfileDiff {
        a: a.name.clone(),
        b: b.name.clone(),
        packages_equal: false,
        acceptance_a: a.acceptance,
        acceptance_b: b.acceptance,
        only_in_a: Vec::new(),
        only_in_b: Vec::new(),
        upgraded: Vec::new(),
        downgraded: Vec::new(),
        unchanged: 0,
        vmklinux_in_a: Vec::new(),
        vmklinux_in_b: Vec::new(),
    };
    for (name, (id, va)) in &ia {
        match ib.get(name) {
            None => d.only_in_a.push(id.clone()),
            Some((_, vb)) => {
                let ch = VersionChange {
                    name: name.clone(),
                    from: va.version.to_string(),
                    to: vb.version.to_string(),
                };
                match vb.version.cmp(&va.version) {
                    std::cmp::Ordering::Greater => d.upgraded.push(ch),
                    std::cmp::Ordering::Less => d.downgraded.push(ch),
                    std::cmp::Ordering::Equal => d.unchanged += 1,
                }
            }
        }
    }
    for (name, (id, _)) in &ib {
        if !ia.contains_key(name) {
            d.only_in_b.push(id.clone());
        }
    }
    d.packages_equal =
        d.only_in_a.is_empty() && d.only_in_b.is_empty() && d.upgraded.is_empty() && d.downgraded.is_empty();
    let vmk = |p: &ImageProfile| -> Vec<String> {
        p.vib_ids.iter().filter(|id| depot.vib(id).is_some_and(|v| v.is_vmklinux())).cloned().collect()
    };
    d.vmklinux_in_a = vmk(a);
    d.vmklinux_in_b = vmk(b);
    d
}
