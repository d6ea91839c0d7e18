//! `vim-cmd` outputs: the VM list (`vmsvc/getallvms`), per-VM summary, guest
//! and snapshot dumps, and the licence (`vimsvc/license --show`).

use super::vmodl::{self, V};
use super::{first_text_line, ParseError};
use crate::model::{License, PowerState, Snapshot, ToolsStatus, Vm};
use esxup_version::Date;

pub const GETALLVMS: &str = "vim-cmd vmsvc/getallvms";
pub const LICENSE_SHOW: &str = "vim-cmd vimsvc/license --show";

/// `vim-cmd vmsvc/get.summary N` and friends, for error messages.
pub fn per_vm_command(what: &str, id: &str) -> String {
    format!("vim-cmd vmsvc/{what} {id}")
}

/// `vim-cmd vmsvc/getallvms`: one VM per row; names and datastores may hold
/// spaces, so a row is read as `Vmid`, the name up to ` [`, the `.vmx` path,
/// then guest id, `vmx-NN` and the annotation. Lines that do not start with a
/// Vmid continue a multi-line annotation, or are `Skipping invalid VM` notes.
pub fn getallvms(text: &str) -> Result<Vec<Vm>, ParseError> {
    let c = GETALLVMS;
    let Some((hn, header)) = first_text_line(text) else { return Ok(Vec::new()) };
    if !header.starts_with("Vmid") {
        return Err(ParseError::new(
            c,
            hn,
            format!("expected the `Vmid  Name  File ...` header, found {header:?}"),
        ));
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(hn) {
        let n = i + 1;
        let t = line.trim_start();
        let id: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
        if id.is_empty() || !t[id.len()..].starts_with([' ', '\t']) {
            continue; // annotation continuation or a "Skipping invalid VM" note
        }
        let rest = &t[id.len()..];
        let open = rest
            .find(" [")
            .ok_or_else(|| ParseError::new(c, n, "row has no `[datastore] path.vmx` (output truncated?)"))?;
        let name = rest[..open].trim().to_string();
        let file = &rest[open + 1..];
        let vmx_end = file
            .find(".vmx")
            .map(|p| p + 4)
            .ok_or_else(|| ParseError::new(c, n, "row has no `.vmx` file (output truncated?)"))?;
        let datastore = file.strip_prefix('[').and_then(|f| f.split(']').next()).map(str::to_string);
        let mut tail = file[vmx_end..].split_whitespace();
        let guest = tail.next();
        let version = tail.next();
        let hw = version.and_then(|v| v.strip_prefix("vmx-")).and_then(|v| v.parse().ok());
        if name.is_empty() || guest.is_none() || hw.is_none() {
            return Err(ParseError::new(c, n, "row lacks name, guest OS or `vmx-NN` (output truncated?)"));
        }
        out.push(Vm {
            name,
            id: Some(id),
            power_state: None,
            hardware_version: hw,
            guest_os: guest.map(str::to_string),
            tools_status: None,
            tools_version: None,
            datastore,
            snapshots: None,
        });
    }
    Ok(out)
}

/// Tools status from the API's `toolsVersionStatus2` (or, failing that,
/// `toolsVersionStatus`) value names.
pub fn tools_status(s: &str) -> Option<ToolsStatus> {
    Some(match s {
        "guestToolsNotInstalled" => ToolsStatus::NotInstalled,
        "guestToolsCurrent" => ToolsStatus::Current,
        "guestToolsSupportedOld" => ToolsStatus::SupportedOld,
        "guestToolsSupportedNew" => ToolsStatus::SupportedNew,
        "guestToolsTooOld" => ToolsStatus::TooOld,
        "guestToolsTooNew" => ToolsStatus::TooNew,
        "guestToolsUnmanaged" => ToolsStatus::Unmanaged,
        "guestToolsBlacklisted" => ToolsStatus::Blacklisted,
        "guestToolsNeedUpgrade" => ToolsStatus::SupportedOld,
        _ => return None,
    })
}

fn power_state(s: &str) -> Option<PowerState> {
    match s {
        "poweredOn" => Some(PowerState::PoweredOn),
        "poweredOff" => Some(PowerState::PoweredOff),
        "suspended" => Some(PowerState::Suspended),
        _ => None,
    }
}

/// What `vim-cmd vmsvc/get.summary N` adds to a VM.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VmSummary {
    pub name: Option<String>,
    pub power_state: Option<PowerState>,
    pub guest_full_name: Option<String>,
    pub hardware_version: Option<u32>,
    pub tools_status: Option<ToolsStatus>,
}

fn need_dump(command: &str, text: &str) -> Result<V, ParseError> {
    vmodl::parse(command, text)?.ok_or_else(|| {
        ParseError::new(
            command,
            first_text_line(text).map(|x| x.0).unwrap_or(0),
            "no `(vim.…) {` dump in the output",
        )
    })
}

pub fn vm_summary(id: &str, text: &str) -> Result<VmSummary, ParseError> {
    let c = per_vm_command("get.summary", id);
    let v = need_dump(&c, text)?;
    if v.get("runtime").is_none() && v.get("config").is_none() {
        return Err(ParseError::new(&c, 1, "summary has neither `runtime` nor `config`"));
    }
    let tools = v
        .text_at("guest.toolsVersionStatus2")
        .and_then(tools_status)
        .or_else(|| v.text_at("guest.toolsVersionStatus").and_then(tools_status));
    Ok(VmSummary {
        name: v.text_at("config.name").map(str::to_string),
        power_state: v.text_at("runtime.powerState").and_then(power_state),
        guest_full_name: v.text_at("config.guestFullName").map(str::to_string),
        hardware_version: v
            .text_at("config.hwVersion")
            .and_then(|h| h.strip_prefix("vmx-"))
            .and_then(|h| h.parse().ok()),
        tools_status: tools,
    })
}

/// What `vim-cmd vmsvc/get.guest N` adds to a VM.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestTools {
    pub tools_status: Option<ToolsStatus>,
    pub tools_version: Option<String>,
    pub guest_full_name: Option<String>,
}

pub fn vm_guest(id: &str, text: &str) -> Result<GuestTools, ParseError> {
    let c = per_vm_command("get.guest", id);
    let v = need_dump(&c, text)?;
    let st = v
        .text_at("toolsVersionStatus2")
        .and_then(tools_status)
        .or_else(|| v.text_at("toolsVersionStatus").and_then(tools_status));
    let ver = v.text_at("toolsVersion").filter(|s| !s.is_empty() && *s != "0").map(str::to_string);
    Ok(GuestTools {
        tools_status: st,
        tools_version: ver,
        guest_full_name: v.text_at("guestFullName").map(str::to_string),
    })
}

/// `vim-cmd vmsvc/get.snapshotinfo N` (a `vim.vm.SnapshotInfo` dump; empty
/// or `null` when the VM has none) or the older `vmsvc/snapshot.get N`
/// layout (`--Snapshot Name : x`, `--Snapshot Created On : 12/17/2022 15:34:49`,
/// read as month/day/year).
pub fn vm_snapshots(id: &str, text: &str) -> Result<Vec<Snapshot>, ParseError> {
    let c = per_vm_command("get.snapshotinfo", id);
    if text.contains("--Snapshot Name") {
        return snapshot_get_layout(&c, text);
    }
    let Some(v) = vmodl::parse(&c, text)? else {
        return match first_text_line(text) {
            None => Ok(Vec::new()),
            Some((n, l)) => {
                Err(ParseError::new(&c, n, format!("expected a `(vim.vm.SnapshotInfo)` dump, found {l:?}")))
            }
        };
    };
    let mut out = Vec::new();
    if let Some(V::Arr(roots)) = v.get("rootSnapshotList") {
        walk(roots, &mut out, 0);
    }
    Ok(out)
}

fn walk(list: &[V], out: &mut Vec<Snapshot>, depth: usize) {
    if depth > 256 {
        return;
    }
    for s in list {
        let name = s.text_at("name").unwrap_or_default().to_string();
        let created = s.text_at("createTime").and_then(|t| t.get(..10)).and_then(|d| d.parse::<Date>().ok());
        out.push(Snapshot { name, created, size_bytes: None });
        if let Some(V::Arr(children)) = s.get("childSnapshotList") {
            walk(children, out, depth + 1);
        }
    }
}

fn snapshot_get_layout(c: &str, text: &str) -> Result<Vec<Snapshot>, ParseError> {
    let mut out: Vec<Snapshot> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start_matches(['-', '|', ' ']);
        let Some((k, v)) = t.split_once(':') else { continue };
        let (k, v) = (k.trim(), v.trim());
        if k == "Snapshot Name" {
            out.push(Snapshot { name: v.to_string(), created: None, size_bytes: None });
        } else if k == "Snapshot Created On" {
            let last =
                out.last_mut().ok_or_else(|| ParseError::new(c, i + 1, "creation date before any name"))?;
            let d = v.split_whitespace().next().unwrap_or_default();
            let p: Vec<&str> = d.split('/').collect();
            if let [m, dd, y] = p.as_slice() {
                last.created = format!("{y}-{m:0>2}-{dd:0>2}").parse().ok();
            }
            if last.created.is_none() {
                return Err(ParseError::new(c, i + 1, format!("unreadable date {v:?}")));
            }
        }
    }
    Ok(out)
}

/// `vim-cmd vimsvc/license --show`: edition, version, expiry, masked key.
pub fn license_show(text: &str) -> Result<License, ParseError> {
    let c = LICENSE_SHOW;
    let mut serial = None;
    let mut name = None;
    let mut version = None;
    let mut expires = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("serial:") {
            serial = Some(v.trim().to_string());
        } else if let Some(v) = t.strip_prefix("name:") {
            name = Some(v.trim().to_string());
        } else if let Some(rest) = t.strip_prefix('[') {
            let Some((k, v)) = rest.split_once("] =") else { continue };
            let v = v.trim();
            match k {
                "ProductVersion" => version = v.split('.').next().and_then(|m| m.parse::<u8>().ok()),
                "expirationDate" => {
                    expires = Some(v.get(..10).and_then(|d| d.parse::<Date>().ok()).ok_or_else(|| {
                        ParseError::new(c, i + 1, format!("unreadable expirationDate {v:?}"))
                    })?)
                }
                _ => {}
            }
        }
    }
    if serial.is_none() && name.is_none() {
        return Err(ParseError::new(
            c,
            first_text_line(text).map(|x| x.0).unwrap_or(0),
            "no `serial:` or `name:` line (output truncated?)",
        ));
    }
    let key_masked = serial.map(|s| {
        let groups: Vec<&str> = s.split('-').collect();
        match groups.split_last() {
            Some((last, rest)) if !rest.is_empty() => {
                let mut m: Vec<String> = rest.iter().map(|g| "*".repeat(g.len())).collect();
                m.push(last.to_string());
                m.join("-")
            }
            _ => "*".repeat(s.len()),
        }
    });
    Ok(License { edition: name, product_major: version, expires, key_masked })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getallvms_with_spaces_and_empty() {
        let t = "Vmid   Name    File   Guest OS   Version   Annotation\n12  my vm  [ds 1] my vm/my vm.vmx  otherGuest64  vmx-19  note\nmore note\n";
        let v = getallvms(t).unwrap();
        assert_eq!(v[0].name, "my vm");
        assert_eq!(v[0].datastore.as_deref(), Some("ds 1"));
        assert_eq!(v[0].hardware_version, Some(19));
        assert_eq!(getallvms("").unwrap(), vec![]);
        let e = getallvms("Vmid Name File\n3  web01  [datastore1] web01/web").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn no_snapshots() {
        assert_eq!(vm_snapshots("1", "").unwrap(), vec![]);
        assert_eq!(vm_snapshots("1", "(vim.vm.SnapshotInfo) null\n").unwrap(), vec![]);
    }
}
