//! `esxcli system ...` and `vmware -vl`: product version and build,
//! maintenance mode, kernel boot settings, scratch location, loaded modules,
//! and `esxcli hardware platform get` (system vendor and model).

use super::{empty, first_text_line, no_records, non_placeholder, parse_bool, records, ParseError};
use crate::model::{Module, Product};
use esxup_version::Version;

pub const VERSION_GET: &str = "esxcli system version get";
pub const VMWARE_VL: &str = "vmware -vl";
pub const MAINTENANCE_GET: &str = "esxcli system maintenanceMode get";
pub const KERNEL_LEGACY_CPU: &str = "esxcli system settings kernel list -o allowLegacyCPU";
pub const SCRATCH: &str = "esxcli system settings advanced list -o /ScratchConfig/CurrentScratchLocation";
pub const MODULE_LIST: &str = "esxcli system module list";
pub const PLATFORM_GET: &str = "esxcli hardware platform get";
pub const HOSTNAME_GET: &str = "esxcli system hostname get";

/// `esxcli system hostname get`: the FQDN, or the short host name.
pub fn hostname_get(text: &str) -> Result<String, ParseError> {
    let c = HOSTNAME_GET;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("Host Name").is_some()).ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `Host Name` field")
    })?;
    r.get("Fully Qualified Domain Name")
        .and_then(non_placeholder)
        .or_else(|| r.get("Host Name").and_then(non_placeholder))
        .ok_or_else(|| ParseError::new(c, r.line, "empty host name"))
}

/// Build number out of `Releasebuild-21495797`, `build-21813344` or `21495797`.
pub fn build_number(s: &str) -> Option<u32> {
    let t = s.trim();
    let digits = t.rsplit(['-', ' ']).next()?;
    digits.parse().ok()
}

/// `esxcli system version get` (text or XML).
pub fn version_get(text: &str) -> Result<Product, ParseError> {
    let c = VERSION_GET;
    let recs = records(c, text)?;
    // A record with none of this output's fields is some other text (a
    // login banner, an error message), not a truncated version output.
    let r = recs
        .iter()
        .find(|r| ["Product", "Version", "Build"].iter().any(|k| r.get(k).is_some()))
        .ok_or_else(|| no_records(c, text))?;
    let v = r.require(c, "Version")?;
    let version: Version =
        v.parse().map_err(|e| ParseError::new(c, field_line(r, "version"), format!("{e}")))?;
    let b = r.require(c, "Build")?;
    let build = build_number(b)
        .ok_or_else(|| ParseError::new(c, field_line(r, "build"), format!("bad build {b:?}")))?;
    let product_name = r.get("Product").and_then(non_placeholder);
    Ok(Product {
        version,
        build,
        update: r.get("Update").and_then(non_placeholder),
        patch: r.get("Patch").and_then(non_placeholder),
        full_name: Some(format!(
            "{} {version} build-{build}",
            product_name.as_deref().unwrap_or("VMware ESXi")
        )),
    })
}

fn field_line(r: &super::Rec, name: &str) -> usize {
    r.fields.iter().find(|(k, _, _)| k == name).map(|f| f.2).unwrap_or(r.line)
}

/// `vmware -vl` (or `vmware -v`): `VMware ESXi 8.0.1 build-21813344` and,
/// with `-l`, `VMware ESXi 8.0 Update 1`.
pub fn vmware_vl(text: &str) -> Result<Product, ParseError> {
    let c = VMWARE_VL;
    let (n, first) = first_text_line(text).ok_or_else(|| empty(c))?;
    let toks: Vec<&str> = first.split_whitespace().collect();
    let vpos = toks.iter().position(|t| t.parse::<Version>().is_ok()).ok_or_else(|| {
        ParseError::new(c, n, format!("expected `VMware ESXi x.y.z build-N`, found {first:?}"))
    })?;
    let version: Version = toks[vpos].parse().map_err(|e| ParseError::new(c, n, format!("{e}")))?;
    let build = toks
        .iter()
        .find_map(|t| t.strip_prefix("build-").and_then(|b| b.parse::<u32>().ok()))
        .ok_or_else(|| ParseError::new(c, n, format!("no `build-N` in {first:?}")))?;
    let mut update = None;
    for l in text.lines().skip(n) {
        let w: Vec<&str> = l.split_whitespace().collect();
        if let Some(i) = w.iter().position(|t| *t == "Update") {
            update = w.get(i + 1).map(|s| s.to_string());
        }
    }
    Ok(Product { version, build, update, patch: None, full_name: Some(first.to_string()) })
}

/// `esxcli system maintenanceMode get`: `Enabled` / `Disabled`.
pub fn maintenance_mode(text: &str) -> Result<bool, ParseError> {
    let c = MAINTENANCE_GET;
    let recs = records(c, text)?;
    let v = scalar(c, text, &recs)?;
    parse_bool(&v.0)
        .ok_or_else(|| ParseError::new(c, v.1, format!("expected Enabled or Disabled, found {:?}", v.0)))
}

/// The one value of an output that prints a single word (text or XML).
pub(crate) fn scalar(c: &str, text: &str, recs: &[super::Rec]) -> Result<(String, usize), ParseError> {
    if text.trim_start().starts_with('<') {
        let r = recs.first().ok_or_else(|| no_records(c, text))?;
        let v = r.get("value").ok_or_else(|| ParseError::new(c, r.line, "expected a single value"))?;
        return Ok((v.to_string(), r.line));
    }
    let (n, l) = first_text_line(text).ok_or_else(|| empty(c))?;
    Ok((l.to_string(), n))
}

/// `esxcli system settings kernel list -o allowLegacyCPU`: `Some(true)` when
/// the configured or runtime value is TRUE.
pub fn kernel_allow_legacy_cpu(text: &str) -> Result<bool, ParseError> {
    let c = KERNEL_LEGACY_CPU;
    let recs = records(c, text)?;
    let r = recs
        .iter()
        .find(|r| r.get("Name").is_some_and(|n| n.eq_ignore_ascii_case("allowLegacyCPU")))
        .ok_or_else(|| {
            ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `allowLegacyCPU` row")
        })?;
    let conf = r.get("Configured").and_then(parse_bool);
    let run = r.get("Runtime").and_then(parse_bool);
    if conf.is_none() && run.is_none() {
        return Err(ParseError::new(c, r.line, "no Configured/Runtime value (output truncated?)"));
    }
    Ok(conf == Some(true) || run == Some(true))
}

/// `esxcli system settings advanced list -o /ScratchConfig/CurrentScratchLocation`:
/// the current scratch path (`/vmfs/volumes/...` persistent, `/tmp/scratch` not).
pub fn scratch_location(text: &str) -> Result<String, ParseError> {
    let c = SCRATCH;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("String Value").is_some()).ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `String Value` field")
    })?;
    Ok(r.get("String Value").unwrap_or_default().to_string())
}

/// Whether a scratch path is on persistent storage; `None` if it cannot be told.
pub fn scratch_is_persistent(path: &str) -> Option<bool> {
    if path.starts_with("/vmfs/volumes/") {
        Some(true)
    } else if path.starts_with("/tmp") {
        Some(false)
    } else {
        None
    }
}

/// `esxcli system module list`: name, loaded. The vmklinux compatibility
/// layer itself (`vmklinux_9`, `vmklinux_9_2_x_0`) is flagged; whether any
/// other module is a vmklinux driver cannot be told from this output.
pub fn module_list(text: &str) -> Result<Vec<Module>, ParseError> {
    let c = MODULE_LIST;
    let recs = records(c, text)?;
    if recs.is_empty() {
        return Err(no_records(c, text));
    }
    recs.iter()
        .map(|r| {
            let name = r.require(c, "Name")?.to_string();
            if name.is_empty() {
                return Err(ParseError::new(c, r.line, "empty module name"));
            }
            let loaded = r.get("Is Loaded").and_then(parse_bool);
            let vmklinux = if name.starts_with("vmklinux") { Some(true) } else { None };
            Ok(Module { name, loaded, vmklinux })
        })
        .collect()
}

/// `esxcli hardware platform get`: `(vendor, model)`.
pub fn platform_get(text: &str) -> Result<(Option<String>, Option<String>), ParseError> {
    let c = PLATFORM_GET;
    let recs = records(c, text)?;
    let r = recs.iter().find(|r| r.get("Vendor Name").is_some()).ok_or_else(|| {
        ParseError::new(c, first_text_line(text).map(|x| x.0).unwrap_or(0), "no `Vendor Name` field")
    })?;
    Ok((r.get("Vendor Name").and_then(non_placeholder), r.get("Product Name").and_then(non_placeholder)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_numbers() {
        assert_eq!(build_number("Releasebuild-21495797"), Some(21495797));
        assert_eq!(build_number("build-17700523"), Some(17700523));
        assert_eq!(build_number("x"), None);
    }

    #[test]
    fn version_get_missing_build_names_the_command() {
        let e = version_get("   Product: VMware ESXi\n   Version: 8.0.1\n").unwrap_err();
        assert!(e.to_string().contains("esxcli system version get"), "{e}");
        assert!(e.message.contains("Build"), "{e}");
    }

    #[test]
    fn scratch() {
        assert_eq!(scratch_is_persistent("/tmp/scratch"), Some(false));
        assert_eq!(scratch_is_persistent("/vmfs/volumes/5e1/.locker"), Some(true));
    }
}
