//! `boot.cfg`, the ESXi boot loader's configuration (`key=value` lines:
//! `kernel`, `kernelopt`, `modules` separated by ` --- `, `title`, `prefix`,
//! `timeout`, and esximage's `bootstate`, `build`, `updated`; VMware, "About
//! the boot.cfg File": "Any other line must remain unchanged").
//!
//! The editor changes one thing, the kickstart option on the `kernelopt`
//! line, and keeps every other byte of the file as it was (line endings
//! included), so that the root and the `EFI/BOOT/` copy stay consistent.

/// A parsed `boot.cfg`, holding the original text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootCfg {
    text: String,
}

impl BootCfg {
    pub fn parse(bytes: &[u8]) -> BootCfg {
        BootCfg { text: String::from_utf8_lossy(bytes).into_owned() }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value of the first `key=` line (keys compared without case).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case(key).then(|| v.trim_end_matches('\r').trim())
        })
    }

    /// The modules in boot order (`modules=/a --- /b`), without options.
    pub fn modules(&self) -> Vec<String> {
        self.get("modules")
            .map(|m| m.split("---").filter_map(|s| s.split_whitespace().next()).map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The `build=` line split into version and build number:
    /// `7.0.3-0.50.20328353` -> (`7.0.3`, 20328353).
    pub fn version_build(&self) -> Option<(String, u32)> {
        let b = self.get("build")?;
        let (ver, rest) = b.split_once('-')?;
        let build = rest.rsplit('.').next()?.parse().ok()?;
        Some((ver.to_string(), build))
    }

    /// The `ks=` option of the `kernelopt` line, if any.
    pub fn kickstart(&self) -> Option<&str> {
        self.get("kernelopt")?.split_whitespace().find_map(|t| t.strip_prefix("ks="))
    }

    /// A copy with `ks=<location>` on the `kernelopt` line (replacing any
    /// `ks=` there), or without a `ks=` option when `location` is `None`.
    /// Other options (`runweasel`, `cdromBoot`) and every other line stay as
    /// they were; a file without a `kernelopt` line gets one after `kernel=`.
    pub fn with_kickstart(&self, location: Option<&str>) -> BootCfg {
        let mut out = String::with_capacity(self.text.len() + 32);
        let mut done = false;
        for line in self.text.split_inclusive('\n') {
            let body = line.trim_end_matches(['\n', '\r']);
            let eol = &line[body.len()..];
            match body.split_once('=') {
                Some((k, v)) if !done && k.trim().eq_ignore_ascii_case("kernelopt") => {
                    let mut opts: Vec<&str> =
                        v.split_whitespace().filter(|t| !t.starts_with("ks=")).collect();
                    let ks = location.map(|l| format!("ks={l}"));
                    if let Some(ks) = &ks {
                        opts.push(ks);
                    }
                    out.push_str(k);
                    out.push('=');
                    out.push_str(&opts.join(" "));
                    out.push_str(eol);
                    done = true;
                }
                _ => out.push_str(line),
            }
        }
        if !done {
            if let Some(l) = location {
                // Insert after the kernel= line, or at the end.
                let mut with = String::new();
                let mut inserted = false;
                for line in out.split_inclusive('\n') {
                    with.push_str(line);
                    if !inserted && line.trim_start().to_ascii_lowercase().starts_with("kernel=") {
                        if !line.ends_with('\n') {
                            with.push('\n');
                        }
                        with.push_str(&format!("kernelopt=ks={l}\n"));
                        inserted = true;
                    }
                }
                if !inserted {
                    if !with.is_empty() && !with.ends_with('\n') {
                        with.push('\n');
                    }
                    with.push_str(&format!("kernelopt=ks={l}\n"));
                }
                out = with;
            }
        }
        BootCfg { text: out }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CFG: &str = "bootstate=0\ntitle=Loading ESXi installer\ntimeout=5\nprefix=\nkernel=/b.b00\nkernelopt=runweasel cdromBoot\nmodules=/jumpstrt.gz --- /s.v00 --- /imgdb.tgz\nbuild=7.0.3-0.50.20328353\nupdated=0\n";

    #[test]
    fn reads_build_modules_and_options() {
        let c = BootCfg::parse(CFG.as_bytes());
        assert_eq!(c.version_build(), Some(("7.0.3".into(), 20328353)));
        assert_eq!(c.modules(), ["/jumpstrt.gz", "/s.v00", "/imgdb.tgz"]);
        assert_eq!(c.get("KERNEL"), Some("/b.b00"));
        assert_eq!(c.kickstart(), None);
    }

    #[test]
    fn kickstart_edit_changes_only_kernelopt() {
        let c = BootCfg::parse(CFG.as_bytes());
        let e = c.with_kickstart(Some("usb:/KS.CFG"));
        assert_eq!(e.kickstart(), Some("usb:/KS.CFG"));
        let diff: Vec<(&str, &str)> = CFG.lines().zip(e.text().lines()).filter(|(a, b)| a != b).collect();
        assert_eq!(diff, [("kernelopt=runweasel cdromBoot", "kernelopt=runweasel cdromBoot ks=usb:/KS.CFG")]);
        // Replacing, then removing, goes back to the original.
        let again = e.with_kickstart(Some("usb:/KS.CFG"));
        assert_eq!(again, e);
        assert_eq!(e.with_kickstart(None).text(), CFG);
    }

    #[test]
    fn crlf_and_missing_kernelopt_are_kept_readable() {
        let crlf = CFG.replace('\n', "\r\n");
        let e = BootCfg::parse(crlf.as_bytes()).with_kickstart(Some("usb:/KS.CFG"));
        assert!(e.text().contains("kernelopt=runweasel cdromBoot ks=usb:/KS.CFG\r\n"), "{}", e.text());
        let no = BootCfg::parse(b"kernel=/b.b00\nmodules=/s.v00\n").with_kickstart(Some("usb:/KS.CFG"));
        assert_eq!(no.text(), "kernel=/b.b00\nkernelopt=ks=usb:/KS.CFG\nmodules=/s.v00\n");
    }
}
