//! The ESXi installation / upgrade script (kickstart, `KS.CFG`): written
//! from a host's facts, and linted when the admin brings their own.
//!
//! Facts about the installer (Weasel) this follows, from VMware's
//! "Installation and Upgrade Script Commands" (7.0, 8.0) and the installer's
//! script parser:
//! - `vmaccepteula` (alias `accepteula`) is required; exactly one of
//!   `install`, `upgrade`, `installorupgrade` may be given;
//! - `upgrade` always keeps the VMFS datastores; on an upgrade `rootpw`,
//!   `network`, `keyboard`, `install`, `clearpart`, `part` and `vmserialnum`
//!   are ignored with a warning;
//! - `--disk=` takes any name of the disk (`mpx.`, `t10.`, `naa.`, `vml.`,
//!   `/vmfs/devices/disks/...`); a bare `--firstdisk` means `local,remote,usb`;
//! - `rootpw --iscrypted` accepts `$1$` (MD5) and `$6$` (SHA-512) crypt
//!   hashes; a clear-text `rootpw` that fails the password rules stops the
//!   scripted install with an error;
//! - `%firstboot` does not run when UEFI Secure Boot is enabled (the log
//!   says "UEFI Secure Boot Enabled, skipping execution").

use crate::error::MediaError;

/// What the generated script does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KsMode {
    /// The scripted upgrade of the host's boot disk, keeping VMFS.
    Upgrade,
    /// A trial install onto a spare disk (the installer stick itself, or a
    /// named disk), never the host's boot disk.
    Install,
}

/// The disk the script names.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum KsDisk {
    /// `--disk=<name>`
    Disk(String),
    /// `--firstdisk=<filter list>`
    FirstDisk(String),
}

impl KsDisk {
    fn option(&self) -> String {
        match self {
            KsDisk::Disk(d) => format!("--disk={d}"),
            KsDisk::FirstDisk(f) if f.is_empty() => "--firstdisk".into(),
            KsDisk::FirstDisk(f) => format!("--firstdisk={f}"),
        }
    }
}

/// One `%firstboot` command with the comment that says why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct FirstbootCommand {
    pub comment: String,
    pub command: String,
}

/// Everything the generator needs.
#[derive(Clone, Debug)]
pub struct KsSpec {
    pub mode: KsMode,
    pub disk: KsDisk,
    /// `rootpw --iscrypted` hash (install only; an upgrade keeps the password).
    pub root_hash: Option<String>,
    /// `keyboard` layout name (install only), e.g. `Japanese`.
    pub keyboard: Option<String>,
    /// Comment lines at the top (host, target, how it was made).
    pub header: Vec<String>,
    /// Commands for `%firstboot`, in order.
    pub firstboot: Vec<FirstbootCommand>,
}

/// The trial install's `%firstboot`: runs esxup's read-only command list
/// (docs/collect-commands.md) on the freshly installed release and packs
/// the outputs as `/bootbank/ESXUP.TGZ`. The bootbank is the one FAT
/// partition the installed host mounts read-write by itself, so no USB
/// arbitrator gets in the way; `esxup collect --from-dir <stick>` reads the
/// archive back ([`crate::stick`]).
pub fn trial_firstboot() -> Vec<FirstbootCommand> {
    let mut v: Vec<FirstbootCommand> = esxup_collect::commands::save_lines("/tmp/esxup")
        .into_iter()
        .enumerate()
        .map(|(i, command)| FirstbootCommand {
            comment: if i == 0 {
                "esxup trial: save the read-only command outputs of this release (docs/collect-commands.md)"
                    .into()
            } else {
                "read-only".into()
            },
            command,
        })
        .collect();
    v.push(FirstbootCommand {
        comment: format!(
            "esxup trial: pack them onto the stick's bootbank as {} for `esxup collect --from-dir <stick>`",
            crate::stick::OUTPUT_ARCHIVE
        ),
        command: format!("cd /tmp && tar czf /bootbank/{} esxup && sync", crate::stick::OUTPUT_ARCHIVE),
    });
    v
}

/// The script text.
pub fn render(spec: &KsSpec) -> String {
    let mut s = String::new();
    for h in &spec.header {
        s.push_str(&format!("# {h}\n"));
    }
    s.push_str("# Accept the VMware end user licence agreement (required).\n");
    s.push_str("vmaccepteula\n");
    match spec.mode {
        KsMode::Upgrade => {
            s.push_str("# Upgrade the ESXi on this disk; VMFS datastores are kept.\n");
            s.push_str(&format!("upgrade {}\n", spec.disk.option()));
        }
        KsMode::Install => {
            s.push_str("# Trial install onto a spare disk (never the host's boot disk).\n");
            s.push_str(&format!("install {} --overwritevmfs\n", spec.disk.option()));
            if let Some(h) = &spec.root_hash {
                s.push_str("# Root password, SHA-512 crypt hash (the clear text is never written).\n");
                s.push_str(&format!("rootpw --iscrypted {h}\n"));
            }
            if let Some(k) = &spec.keyboard {
                s.push_str("# Console keyboard layout, so that the password can be typed at the console.\n");
                s.push_str(&format!("keyboard {}\n", quote_word(k)));
            }
            s.push_str("network --bootproto=dhcp\n");
        }
    }
    s.push_str("reboot\n");
    if !spec.firstboot.is_empty() {
        s.push_str("\n%firstboot --interpreter=busybox\n");
        for c in &spec.firstboot {
            s.push_str(&format!("# {}\n{}\n", c.comment, c.command));
        }
    }
    s
}

fn quote_word(w: &str) -> String {
    if w.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        w.to_string()
    } else {
        format!("\"{}\"", w.replace('"', ""))
    }
}

/// Checks a root password against the installer's rules, before it is
/// hashed: 7 to 40 printable ASCII characters (Weasel), and the host's
/// default `passwdqc` policy `min=disabled,disabled,disabled,7,7`: at least
/// 7 characters from at least three of the four classes (lower case, upper
/// case, digits, others), where an upper-case first character and a digit
/// as the last character do not count (vSphere Security, "ESXi Passwords and
/// Account Lockout"). The installer's dictionary and sequence checks are not
/// repeated here.
pub fn check_password(pw: &str) -> Result<(), MediaError> {
    let n = pw.chars().count();
    if n < 7 {
        return Err(MediaError::Password(
            "it must be at least 7 characters long (ESXi installer rule)".into(),
        ));
    }
    if n > 40 {
        return Err(MediaError::Password(
            "it must be at most 40 characters long (ESXi installer rule)".into(),
        ));
    }
    if !pw.chars().all(|c| c == ' ' || c.is_ascii_graphic()) {
        return Err(MediaError::Password(
            "only ASCII letters, digits, punctuation and space are allowed (ESXi installer rule)".into(),
        ));
    }
    let chars: Vec<char> = pw.chars().collect();
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for (i, c) in chars.iter().enumerate() {
        match c {
            'a'..='z' => lower = true,
            'A'..='Z' if i > 0 => upper = true,
            'A'..='Z' => {}
            '0'..='9' if i + 1 < chars.len() => digit = true,
            '0'..='9' => {}
            _ => other = true,
        }
    }
    let classes = [lower, upper, digit, other].iter().filter(|b| **b).count();
    if classes < 3 {
        return Err(MediaError::Password(format!(
            "it uses {classes} of the 4 character classes (lower case, upper case, digits, others); ESXi requires \
             3 (an upper-case first letter and a digit at the end do not count)"
        )));
    }
    Ok(())
}

/// The SHA-512 crypt hash (`$6$`) for `rootpw --iscrypted`.
pub fn crypt_password(pw: &str) -> Result<String, MediaError> {
    let params = sha_crypt::Sha512Params::new(5000)
        .map_err(|e| MediaError::Password(format!("hash parameters: {e:?}")))?;
    sha_crypt::sha512_simple(pw, &params).map_err(|e| MediaError::Password(format!("hash: {e:?}")))
}

/// Whether `h` is a crypt hash the installer accepts with `--iscrypted`.
pub fn is_accepted_hash(h: &str) -> bool {
    let ok_salt = |s: &str| {
        !s.is_empty() && s.len() <= 16 && s.chars().all(|c| c.is_ascii_alphanumeric() || "./".contains(c))
    };
    let b64 =
        |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_alphanumeric() || "./".contains(c));
    if let Some(rest) = h.strip_prefix("$6$") {
        let rest = rest
            .strip_prefix("rounds=")
            .map(|r| r.split_once('$').map(|x| x.1).unwrap_or(""))
            .unwrap_or(rest);
        return matches!(rest.split_once('$'), Some((s, d)) if ok_salt(s) && b64(d, 86));
    }
    if let Some(rest) = h.strip_prefix("$1$") {
        return matches!(rest.split_once('$'), Some((s, d)) if s.len() <= 8 && ok_salt(s) && b64(d, 22));
    }
    b64(h, 13)
}

/// How bad a lint finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The installer refuses the script, or it would harm the host.
    Error,
    /// The installer ignores or warns about it.
    Warning,
}

/// One finding of [`lint`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Lint {
    /// 1-based line, 0 for the whole script.
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

/// Commands the 7.0/8.0 installer knows (script parser grammar).
const KNOWN: &[&str] = &[
    "accepteula",
    "vmaccepteula",
    "clearpart",
    "dryrun",
    "install",
    "installorupgrade",
    "upgrade",
    "keyboard",
    "serialnum",
    "vmserialnum",
    "network",
    "paranoid",
    "part",
    "partition",
    "reboot",
    "rootpw",
    "include",
    "%include",
    "partitionembed",
];

/// What [`lint`] knows about the host the script is for.
#[derive(Clone, Debug, Default)]
pub struct LintContext {
    /// Every name of the host's boot disk (device id, `/vmfs/devices/disks/` path).
    pub boot_disk: Vec<String>,
    /// UEFI Secure Boot is on: `%firstboot` is skipped.
    pub secure_boot: Option<bool>,
    /// The `--firstdisk` class the boot disk falls in (`local`, `remote`,
    /// `usb`), when known.
    pub boot_class: Option<String>,
}

/// Lints a kickstart: unknown commands, no EULA, two disk commands,
/// `install --overwritevmfs` aimed at the host's boot disk, bad crypt
/// hashes, clear-text passwords that fail the rules, `%firstboot` under
/// Secure Boot.
pub fn lint(text: &str, ctx: &LintContext) -> Vec<Lint> {
    let mut out = Vec::new();
    let mut push =
        |line: usize, severity: Severity, message: String| out.push(Lint { line, severity, message });
    let mut eula = false;
    let mut rootpw = false;
    let mut disk_cmds: Vec<(usize, String)> = Vec::new();
    let mut section: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.starts_with('%') && !line.starts_with("%include") {
            let name = line.split_whitespace().next().unwrap_or("").to_string();
            if !["%pre", "%post", "%firstboot"].contains(&name.as_str()) {
                push(n, Severity::Warning, format!("unknown section {name}"));
            }
            if name == "%firstboot" && ctx.secure_boot == Some(true) {
                push(
                    n,
                    Severity::Warning,
                    "%firstboot does not run on a host with UEFI Secure Boot enabled".into(),
                );
            }
            section = Some(name);
            continue;
        }
        if section.is_some() || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !raw.is_ascii() {
            push(
                n,
                Severity::Warning,
                "non-ASCII characters (the installer warns and may misread them)".into(),
            );
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let cmd = words[0].to_ascii_lowercase();
        if !KNOWN.contains(&cmd.as_str()) {
            push(n, Severity::Error, format!("unknown command {:?}", words[0]));
            continue;
        }
        match cmd.as_str() {
            "accepteula" | "vmaccepteula" => eula = true,
            "install" | "upgrade" | "installorupgrade" => {
                disk_cmds.push((n, cmd.clone()));
                let opt = |name: &str| {
                    words.iter().skip(1).find_map(|w| {
                        let w = w.trim_start_matches('-');
                        let (k, v) = w.split_once('=').unwrap_or((w, ""));
                        (k.eq_ignore_ascii_case(name)).then(|| v.trim_matches('"').to_string())
                    })
                };
                let disk = opt("disk").or_else(|| opt("drive"));
                let first = opt("firstdisk");
                if disk.is_none() && first.is_none() {
                    push(n, Severity::Error, format!("{cmd} needs --disk=<disk> or --firstdisk"));
                }
                if disk.is_some() && first.is_some() {
                    push(n, Severity::Error, format!("{cmd} has both --disk and --firstdisk"));
                }
                if cmd == "installorupgrade" && opt("ignoressd").is_some() {
                    push(n, Severity::Error, "--ignoressd is not valid with installorupgrade".into());
                }
                let overwrites = cmd != "upgrade" && opt("overwritevmfs").is_some();
                if let Some(d) = &disk {
                    let hits_boot = ctx.boot_disk.iter().any(|b| same_disk(b, d));
                    if hits_boot && overwrites {
                        push(
                            n,
                            Severity::Error,
                            format!("{cmd} --overwritevmfs is aimed at the host's boot disk {d}: it would erase its datastores"),
                        );
                    } else if hits_boot && cmd == "install" {
                        push(n, Severity::Error, format!("install is aimed at the host's boot disk {d}: a fresh install replaces its configuration"));
                    }
                } else if let (Some(given), true) = (&first, overwrites || cmd == "install") {
                    // A bare --firstdisk means local,remote,usb.
                    let list = if given.is_empty() {
                        "local,remote,usb".to_string()
                    } else {
                        given.to_ascii_lowercase()
                    };
                    let may_hit = match &ctx.boot_class {
                        Some(c) => list.split(',').any(|x| x.trim() == c),
                        None => !ctx.boot_disk.is_empty(),
                    };
                    // Known to match the boot disk's class: an install there
                    // would replace the running ESXi. Unknown class: a warning.
                    let sev = if ctx.boot_class.is_some() && cmd == "install" {
                        Severity::Error
                    } else {
                        Severity::Warning
                    };
                    let shown = if given.is_empty() {
                        "--firstdisk".to_string()
                    } else {
                        format!("--firstdisk={given}")
                    };
                    if may_hit {
                        push(
                        n,
                        sev,
                        format!("{cmd} {shown} may pick the host's boot disk ({list} includes its class); name the disk with --disk="),
                    );
                    }
                }
            }
            "clearpart" | "part" | "partition" => {
                let value = |name: &str| {
                    words.iter().skip(1).find_map(|w| {
                        let (k, v) = w
                            .trim_start_matches('-')
                            .split_once('=')
                            .unwrap_or((w.trim_start_matches('-'), ""));
                        k.eq_ignore_ascii_case(name).then(|| v.trim_matches('"').to_string())
                    })
                };
                let boot = |d: &str| ctx.boot_disk.iter().any(|b| same_disk(b, d));
                let named: Vec<String> = ["drives", "ondisk", "ondrive"]
                    .iter()
                    .filter_map(|k| value(k))
                    .flat_map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>())
                    .collect();
                if let Some(d) = named.iter().find(|d| boot(d)) {
                    push(
                        n,
                        Severity::Error,
                        format!("{cmd} is aimed at the host's boot disk {d}: it would erase it"),
                    );
                } else if cmd == "clearpart" && value("alldrives").is_some() && !ctx.boot_disk.is_empty() {
                    let ignored = value("ignoredrives").unwrap_or_default();
                    if !ignored.split(',').any(boot) {
                        push(
                            n,
                            Severity::Error,
                            "clearpart --alldrives also clears the host's boot disk".into(),
                        );
                    }
                }
            }
            "include" | "%include" => push(
                n,
                Severity::Warning,
                format!("{} is read by the installer only: esxup did not check the file it names", words[0]),
            ),
            "rootpw" => {
                rootpw = true;
                let crypted = words.iter().any(|w| w.eq_ignore_ascii_case("--iscrypted"));
                let pw = words.iter().skip(1).find(|w| !w.starts_with("--"));
                match (crypted, pw) {
                    (_, None) => push(n, Severity::Error, "rootpw without a password".into()),
                    (true, Some(h)) if !is_accepted_hash(h) => push(
                        n,
                        Severity::Error,
                        "rootpw --iscrypted: not a $6$ (SHA-512) or $1$ (MD5) crypt hash the installer accepts".into(),
                    ),
                    (false, Some(p)) => {
                        push(n, Severity::Warning, "rootpw in clear text: use --iscrypted with a hash".into());
                        if let Err(e) = check_password(p) {
                            push(n, Severity::Error, format!("{e}: the installer stops here"));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    if disk_cmds.iter().any(|(_, c)| c == "install") && !rootpw {
        push(0, Severity::Error, "install without rootpw: the installer requires a root password".into());
    }
    if !eula {
        push(0, Severity::Error, "no vmaccepteula: the installer requires it".into());
    }
    if disk_cmds.len() > 1 {
        let lines: Vec<String> = disk_cmds.iter().map(|(n, c)| format!("{c} (line {n})")).collect();
        push(
            disk_cmds[1].0,
            Severity::Error,
            format!("more than one of install/upgrade/installorupgrade: {}", lines.join(", ")),
        );
    }
    if disk_cmds.is_empty() {
        push(0, Severity::Error, "no install, upgrade or installorupgrade command".into());
    }
    out
}

/// Two names of a disk are the same disk (a `/vmfs/devices/disks/` prefix
/// does not matter).
fn same_disk(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_start_matches("/vmfs/devices/disks/").to_ascii_lowercase();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_follow_the_installer() {
        assert!(check_password("short1A").is_ok());
        assert!(check_password("abc").unwrap_err().to_string().contains("at least 7"));
        // Two classes only once the leading capital and trailing digit are discounted.
        assert!(check_password("Xqatehi3").is_err());
        assert!(check_password("xqAteh!").is_ok());
        assert!(check_password("päss-Word1").is_err());
        assert!(check_password(&"aA1!".repeat(11)).is_err());
    }

    #[test]
    fn hashes_are_sha512_crypt_and_accepted() {
        let h = crypt_password("VMware1!x").unwrap();
        assert!(h.starts_with("$6$"), "{h}");
        assert!(is_accepted_hash(&h), "{h}");
        assert!(sha_crypt::sha512_check("VMware1!x", &h).is_ok());
        assert!(!is_accepted_hash("$5$abc$def"));
        assert!(!is_accepted_hash("secret"));
    }

    #[test]
    fn upgrade_script_keeps_vmfs_and_names_the_disk() {
        let s = render(&KsSpec {
            mode: KsMode::Upgrade,
            disk: KsDisk::Disk("mpx.vmhba32:C0:T0:L0".into()),
            root_hash: None,
            keyboard: None,
            header: vec!["esxup".into()],
            firstboot: vec![FirstbootCommand {
                comment: "slpd".into(),
                command: "/etc/init.d/slpd stop".into(),
            }],
        });
        assert!(s.contains("vmaccepteula\n"));
        assert!(s.contains("upgrade --disk=mpx.vmhba32:C0:T0:L0\n"));
        assert!(!s.contains("overwritevmfs"));
        assert!(s.contains("%firstboot --interpreter=busybox\n# slpd\n/etc/init.d/slpd stop\n"));
        assert!(lint(&s, &LintContext::default()).is_empty(), "{:?}", lint(&s, &LintContext::default()));
    }

    #[test]
    fn lint_finds_the_dangerous_and_the_unknown() {
        let ctx =
            LintContext { boot_disk: vec!["t10.ATA_BOOT".into()], secure_boot: Some(true), boot_class: None };
        let ks = "vmaccepteula\ninstall --disk=/vmfs/devices/disks/t10.ATA_BOOT --overwritevmfs\nupgrade --firstdisk\nfrobnicate now\nrootpw secret\n%firstboot\necho hi\n";
        let l = lint(ks, &ctx);
        let msgs: Vec<String> =
            l.iter().map(|x| format!("{}:{:?}:{}", x.line, x.severity, x.message)).collect();
        let has = |s: &str| msgs.iter().any(|m| m.contains(s));
        assert!(has("2:Error:install --overwritevmfs is aimed at the host's boot disk"), "{msgs:#?}");
        assert!(has("3:Error:more than one of install/upgrade/installorupgrade"), "{msgs:#?}");
        assert!(has("4:Error:unknown command \"frobnicate\""), "{msgs:#?}");
        assert!(has("5:Error:root password: it must be at least 7"), "{msgs:#?}");
        assert!(has("6:Warning:%firstboot does not run"), "{msgs:#?}");
        assert!(lint("install --firstdisk\n", &LintContext::default())
            .iter()
            .any(|x| x.message.contains("vmaccepteula")));

        // Other ways to wipe the boot disk, and what the installer requires.
        let ctx = LintContext {
            boot_disk: vec!["t10.ATA_BOOT".into()],
            secure_boot: None,
            boot_class: Some("local".into()),
        };
        let ks = "vmaccepteula\nclearpart --drives=naa.1,t10.ATA_BOOT --overwritevmfs\ninstall --firstdisk=local --overwritevmfs\npart ds1 --ondisk=t10.ATA_BOOT\n%include /tmp/more.cfg\n";
        let msgs: Vec<String> =
            lint(ks, &ctx).iter().map(|x| format!("{}:{:?}:{}", x.line, x.severity, x.message)).collect();
        let has = |s: &str| msgs.iter().any(|m| m.contains(s));
        assert!(has("2:Error:clearpart is aimed at the host's boot disk t10.ATA_BOOT"), "{msgs:#?}");
        assert!(has("3:Error:install --firstdisk=local may pick the host's boot disk"), "{msgs:#?}");
        assert!(has("4:Error:part is aimed at the host's boot disk"), "{msgs:#?}");
        assert!(has("5:Warning:%include is read by the installer only"), "{msgs:#?}");
        assert!(has("0:Error:install without rootpw"), "{msgs:#?}");
        let all =
            lint("vmaccepteula\nclearpart --alldrives\ninstall --disk=naa.2\nrootpw --iscrypted x\n", &ctx);
        assert!(all.iter().any(|x| x.message.contains("clearpart --alldrives also clears")), "{all:?}");
    }
}
