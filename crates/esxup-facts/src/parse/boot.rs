//! `cat /bootbank/boot.cfg` and `cat /altbootbank/boot.cfg`: the build each
//! bootbank holds (`build=7.0.3-0.50.20036589`), `bootstate=` (1 = an update
//! is staged and waits for a reboot) and the kernel options (`kernelopt=`).

use super::{empty, first_text_line, ParseError};
use esxup_version::Version;

pub const BOOTBANK_CFG: &str = "cat /bootbank/boot.cfg";
pub const ALTBOOTBANK_CFG: &str = "cat /altbootbank/boot.cfg";

/// What a `boot.cfg` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BootCfg {
    pub version: Option<Version>,
    pub build: Option<u32>,
    pub bootstate: Option<u32>,
    /// `kernelopt=` split on whitespace (`allowLegacyCPU=true`, ...).
    pub kernelopt: Vec<String>,
}

/// Parses a boot.cfg; `command` names the file it came from in errors.
pub fn boot_cfg(command: &str, text: &str) -> Result<BootCfg, ParseError> {
    first_text_line(text).ok_or_else(|| empty(command))?;
    let mut cfg = BootCfg::default();
    let mut seen = false;
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            return Err(ParseError::new(command, i + 1, format!("expected `key=value`, found {l:?}")));
        };
        seen = true;
        match k.trim() {
            "build" => {
                // `7.0.3-0.50.20036589`: version before '-', build = last dotted field.
                let v = v.trim();
                let (ver, rel) = v.split_once('-').unwrap_or((v, ""));
                cfg.version = ver.parse().ok();
                cfg.build = rel.rsplit('.').next().and_then(|b| b.parse().ok());
                if cfg.build.is_none() {
                    return Err(ParseError::new(
                        command,
                        i + 1,
                        format!("cannot read a build number in {v:?}"),
                    ));
                }
            }
            "bootstate" => {
                cfg.bootstate = Some(v.trim().parse().map_err(|_| {
                    ParseError::new(command, i + 1, format!("`bootstate` is not a number: {v:?}"))
                })?);
            }
            "kernelopt" => cfg.kernelopt = v.split_whitespace().map(str::to_string).collect(),
            _ => {}
        }
    }
    if !seen {
        return Err(empty(command));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_build_and_state() {
        let c = boot_cfg("x", "bootstate=1\ntitle=Loading VMware ESXi\nkernelopt=autoPartition=FALSE allowLegacyCPU=true\nbuild=7.0.3-0.50.20036589\nupdated=3\n").unwrap();
        assert_eq!(c.build, Some(20036589));
        assert_eq!(c.version, Some(Version::new(7, 0, 3)));
        assert_eq!(c.bootstate, Some(1));
        assert_eq!(c.kernelopt, vec!["autoPartition=FALSE", "allowLegacyCPU=true"]);
    }

    #[test]
    fn garbage_names_the_line() {
        let e = boot_cfg("cat /altbootbank/boot.cfg", "bootstate=0\n\u{fffd}\u{fffd} oops\n").unwrap_err();
        assert_eq!(e.line, 2);
    }
}
