//! The inputs `esxup check` and `esxup plan` share: "today", the knowledge
//! base and CPU/device tables (`--kb`), facts files, built-in examples and
//! the target image (`--depot`, `--profile`).
//!
//! Both commands read them the same way; where their messages or fallbacks
//! differ (and the tests pin them), the [`For`] argument says which command
//! asks.

use super::hinted;
use crate::cli::Global;
use anyhow::Context;
use esxup_check::{Target, TargetImage, TargetSpec};
use esxup_facts::HostFacts;
use esxup_i18n::Lang;
use esxup_kb::tables::Tables;
use esxup_kb::Kb;
use esxup_version::Date;
use std::path::{Path, PathBuf};

/// The options naming the host, the target and the target image, the same
/// in `esxup check` and `esxup plan` (flattened into both; each command
/// says which host inputs exclude each other).
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("image").args(["depot", "iso"])))]
pub struct InputArgs {
    /// Host facts file (JSON written by `esxup collect -o`).
    #[arg(long, value_name = "FILE")]
    pub facts: Option<PathBuf>,
    /// A built-in example host, e.g. `seed` (ESXi 6.7 P06 with Secure Boot
    /// aiming at 7.0 U2a); `esxup check --example list` shows them.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    /// Target: a build, `7.0U3g`, `ESXi 7.0 Update 3g`, an image profile, `latest-7.0`, `latest-8.0` or `auto`
    /// [default with --example: the example's own target, e.g. 7.0U2a for `seed`].
    #[arg(long, value_name = "T")]
    pub target: Option<String>,
    /// Depot or offline bundle of the target image, path or URL (or a text
    /// file of VIB ids, one per line); `esxup plan` also uses it in the
    /// esxcli commands of the runbook. `broadcom:` is Broadcom's ESXi
    /// online depot, with the download token from ESXUP_BROADCOM_TOKEN (or
    /// the file ESXUP_BROADCOM_TOKEN_FILE names); it is never printed.
    #[arg(long, value_name = "DEPOT", value_parser = super::broadcom::DepotArg)]
    pub depot: Option<String>,
    /// ESXi installer ISO of the target: its image profile stands for the
    /// target image, as with --depot, and its build is the default target.
    #[arg(long, value_name = "FILE.iso")]
    pub iso: Option<PathBuf>,
    /// Image profile in the depot [default: the `-standard` one of the target build].
    #[arg(long, value_name = "NAME", requires = "image")]
    pub profile: Option<String>,
    /// Language of the messages [default: from LC_ALL / LC_MESSAGES / LANG].
    #[arg(long, value_name = "en|ja")]
    pub lang: Option<Lang>,
}

impl InputArgs {
    /// `--lang`, else the language of the environment.
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or_else(Lang::from_env)
    }

    /// `--iso FILE` stands for `--depot FILE` (the depot engine reads
    /// ISOs), and without `--target` the ISO's own build is the target.
    pub fn take_iso(&mut self) -> anyhow::Result<()> {
        let Some(iso) = self.iso.take() else { return Ok(()) };
        if self.target.is_none() {
            let build = esxup_media::inspect::iso_build(&iso)
                .with_context(|| format!("read iso {}", iso.display()))?
                .ok_or_else(|| {
                    hinted(
                        format!("iso {}: BOOT.CFG names no build", iso.display()),
                        "name the target with --target",
                    )
                })?;
            self.target = Some(build.to_string());
        }
        self.depot = Some(iso.display().to_string());
        Ok(())
    }

    /// The text of `--target`, or the example's own target when `--example`
    /// is given without one. Required otherwise.
    pub fn target_text(&self) -> anyhow::Result<&str> {
        if let Some(t) = &self.target {
            return Ok(t);
        }
        match self.example.as_deref().and_then(esxup_check::examples::intended_target) {
            Some(t) => Ok(t),
            None => Err(hinted(
                "no target given",
                "name one with --target, e.g. --target 7.0U3w, --target latest-8.0 or --target auto",
            )),
        }
    }

    /// The target image of `--depot` (or `--iso`), its profile chosen for
    /// the resolved target's build; `None` when no depot is given.
    pub fn target_image(&self, resolved: Option<&Target>, cmd: For) -> anyhow::Result<Option<LoadedImage>> {
        self.depot
            .as_deref()
            .map(|d| load_image(d, self.profile.as_deref(), resolved.map(|t| t.release.build), cmd))
            .transpose()
    }

    /// The release `spec` (read from `--target`) names; `None` for `auto`.
    /// An unknown target is an error saying where the known ones are listed.
    pub fn resolve_target(&self, kb: &Kb, spec: &TargetSpec) -> anyhow::Result<Option<Target>> {
        Target::resolve(kb, spec).map_err(|e| {
            hinted(
                format!("target {:?}: {e}", self.target_text().unwrap_or_default()),
                "list known releases with `esxup releases`, or use --target auto",
            )
        })
    }
}

/// The vSphere API options of `check --host` and `plan --host`: one host
/// only. The fleet options of `esxup collect` (`--inventory`, `--out-dir`,
/// `--concurrency`) are not offered here until fleets are checked and
/// planned (issue 12): `--help` lists only what works.
#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// Collect the facts over the vSphere API from this ESXi host
    /// (`host`, `host:port`, `https://host`); bare `--host` reads GOVC_URL.
    #[arg(long = "host", value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub host: Option<String>,
    /// API user name [default: from the URL or GOVC_USERNAME].
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Pin the server certificate by its SHA-256 thumbprint (`AA:BB:...`).
    #[arg(long, value_name = "SHA256", conflicts_with = "insecure")]
    pub thumbprint: Option<String>,
    /// Do not check the server certificate at all (prints a warning).
    #[arg(long)]
    pub insecure: bool,
    /// Also trust the CA certificates in this PEM file (e.g. the vCenter VMCA root).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Timeout of each API request (connect, read, whole request), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

impl HostArgs {
    /// The same options as `esxup collect --host` takes them (one host, no fleet).
    pub fn to_vim_args(&self) -> super::collect_vim::VimArgs {
        super::collect_vim::VimArgs {
            host: self.host.clone(),
            user: self.user.clone(),
            thumbprint: self.thumbprint.clone(),
            insecure: self.insecure,
            ca_file: self.ca_file.clone(),
            password_file: self.password_file.clone(),
            timeout: self.timeout,
            inventory: None,
            concurrency: 1,
            out_dir: None,
            progress: true,
        }
    }
}

/// Bytes a user gave as text, as UTF-8: a UTF-8 BOM is dropped, and UTF-16
/// (what Windows PowerShell's `>` writes) or other non-UTF-8 input is an
/// error that says so and how to convert it.
pub fn text_from_bytes(bytes: Vec<u8>, what: &str) -> anyhow::Result<String> {
    let utf16 = bytes.starts_with(&[0xff, 0xfe])
        || bytes.starts_with(&[0xfe, 0xff])
        || (bytes.len() >= 8 && bytes.iter().filter(|b| **b == 0).count() * 3 > bytes.len());
    if utf16 {
        return Err(hinted(
            format!("{what} is UTF-16 text, not UTF-8"),
            "save it as UTF-8 (PowerShell: `... | Out-File -Encoding utf8 FILE`; Linux: `iconv -f UTF-16 -t UTF-8`)",
        ));
    }
    let bytes = match bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|e| {
        hinted(
            format!("{what} is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
            "save it as UTF-8 text",
        )
    })
}

/// The command reading the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum For {
    Check,
    Plan,
}

/// Today, or `ESXUP_TODAY=YYYY-MM-DD` for reproducible output.
pub fn today() -> anyhow::Result<Date> {
    match std::env::var("ESXUP_TODAY") {
        Ok(s) if !s.trim().is_empty() => {
            s.trim().parse::<Date>().with_context(|| format!("read ESXUP_TODAY={s:?}"))
        }
        _ => Ok(Date::today()),
    }
}

/// The knowledge base and CPU/device tables: the folder of `--kb DIR`
/// (loaded once per process run), else the active data
/// ([`super::kb::default_data`]: the user data directory's bundle, else
/// the built-in data), with the data-age warning.
pub fn load_kb(g: &Global, cmd: For) -> anyhow::Result<(&'static Kb, &'static Tables)> {
    match &g.kb {
        Some(dir) => {
            let kb = Kb::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load knowledge base {}: {e}", dir.display()),
                    match cmd {
                        For::Check => "check the folder with `esxup kb-lint DIR`, or drop --kb",
                        For::Plan => "check the folder with `esxup kb-lint DIR`",
                    },
                )
            })?;
            let tables = Tables::load_dir(dir).map_err(|e| {
                hinted(
                    format!("load CPU/device tables from {}: {e}", dir.display()),
                    "the folder needs cpu.toml and devices.toml",
                )
            })?;
            Ok((Box::leak(Box::new(kb)), Box::leak(Box::new(tables))))
        }
        None => {
            // The user data directory's bundle, else the built-in data (the
            // built-in errors keep their wording per command).
            let a = match (super::kb::default_data(), cmd) {
                (Ok(a), _) => a,
                (Err(e), For::Check) => return Err(anyhow::anyhow!("{e}")),
                (Err(e), For::Plan) => return Err(e),
            };
            super::kb::warn_age(g, a.kb, a.source);
            Ok((a.kb, a.tables))
        }
    }
}

/// Reads a facts file, refusing other schema versions clearly.
pub fn read_facts(path: &Path) -> anyhow::Result<HostFacts> {
    let text = esxup_facts::read_facts_text(path).map_err(|e| {
        let hint = match e {
            esxup_facts::FactsError::TooLarge { .. } | esxup_facts::FactsError::NotAFile { .. } => {
                "give a facts file written by `esxup collect -o FILE`"
            }
            _ => "check the path",
        };
        hinted(e.to_string(), hint)
    })?;
    parse_facts(&text, &path.display().to_string())
}

fn parse_facts(text: &str, origin: &str) -> anyhow::Result<HostFacts> {
    // Fast path for the fleet: one strict parse. On any problem, the facts
    // loader explains it (schema version first, then the field).
    if let Ok(f) = serde_json::from_str::<HostFacts>(text) {
        if f.schema_version == esxup_facts::SCHEMA_VERSION {
            return Ok(f);
        }
    }
    match HostFacts::from_json_str(text, Path::new(origin)) {
        Ok(f) => Ok(f),
        Err(e) => {
            let hint = match &e {
                esxup_facts::FactsError::Newer { .. } => {
                    "upgrade esxup, or re-collect the facts with this esxup (`esxup collect`)"
                }
                esxup_facts::FactsError::Unsupported { .. } | esxup_facts::FactsError::Shape { .. } => {
                    "re-collect the facts with this esxup (`esxup collect`)"
                }
                _ => "write facts with `esxup collect` (saved command outputs: `esxup collect --from-dir DIR -o FILE`)",
            };
            Err(hinted(e.to_string(), hint))
        }
    }
}

/// The answer to `--example list`, or an unknown `--example NAME`, before
/// anything else is read (the target included): `Ok(Some(text))` is the
/// list to print (exit 0), `Err` an unknown name (exit 2, the list in the
/// hint), `Ok(None)` nothing to do here.
pub fn example_list(a: &InputArgs, cmd: For) -> anyhow::Result<Option<String>> {
    match a.example.as_deref() {
        Some("list") => Ok(Some(esxup_render::examples::render_list())),
        Some(n) => example(n, cmd).map(|_| None),
        None => Ok(None),
    }
}

/// A built-in example host by name.
pub fn example(name: &str, cmd: For) -> anyhow::Result<HostFacts> {
    esxup_check::examples::get(name).ok_or_else(|| {
        let prefix = match cmd {
            For::Check => "",
            For::Plan => "plan: ",
        };
        hinted(
            format!("{prefix}unknown example {name:?}"),
            format!("built-in examples (`--example list`): {}", esxup_check::examples::names().join(", ")),
        )
    })
}

/// The `--depot` image, keeping the depot and profile it was read from so
/// that each host's `esxcli software profile update` can be simulated.
pub struct LoadedImage {
    pub image: TargetImage,
    /// The depot and the name of the image profile (not for VIB id lists
    /// and driver bundles, which have no profile to apply).
    depot: Option<(esxup_depot::Depot, String)>,
}

impl LoadedImage {
    /// The image profile the depot gave (none for VIB lists and driver bundles).
    pub fn profile_name(&self) -> Option<&str> {
        self.depot.as_ref().map(|(_, n)| n.as_str())
    }

    /// The image for one host: with the simulated transaction's problems
    /// when it came from a depot profile (see [`TargetImage::simulated_on`]).
    pub fn for_host(&self, facts: &HostFacts) -> TargetImage {
        match &self.depot {
            Some((d, name)) => match d.profile(name) {
                Some(p) => self.image.simulated_on(d, p, facts),
                None => self.image.clone(),
            },
            None => self.image.clone(),
        }
    }
}

/// Whether a file is a VIB id list (one `<vendor>_<type>_<name>_<version>`
/// per line) rather than a depot index.
fn is_vib_list(text: &str) -> bool {
    text.lines().any(|l| l.contains("_bootbank_") || l.contains("_locker_"))
        && !text.trim_start().starts_with('<')
}

/// The target image of `--depot`: a text file of VIB ids, or a depot's
/// `--profile`, else its `-standard` profile carrying the target build, else
/// its only profile. Otherwise `check` reads a depot without profiles (a
/// driver or component bundle) as a partial image and asks for `--profile`
/// when there are several; `plan` asks for `--profile` naming the build.
pub fn load_image(
    depot: &str,
    profile: Option<&str>,
    target_build: Option<u32>,
    cmd: For,
) -> anyhow::Result<LoadedImage> {
    let p = Path::new(depot);
    if p.is_file() {
        if let Some(text) = std::fs::read_to_string(p).ok().filter(|t| is_vib_list(t)) {
            let name = profile
                .map(str::to_string)
                .or_else(|| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
                .unwrap_or_default();
            let image = TargetImage::from_vib_ids(&name, depot, &text).map_err(anyhow::Error::new)?;
            return Ok(LoadedImage { image, depot: None });
        }
    }
    let opts = esxup_depot::OpenOptions {
        progress: super::out::download_progress(),
        ..esxup_depot::OpenOptions::default()
    };
    let d = esxup_depot::Depot::open_with(depot, &opts).map_err(|e| {
        match super::broadcom::open_hint(depot, &e) {
            Some(hint) => anyhow::Error::new(super::HintedWithCause {
                hinted: super::Hinted { message: format!("open depot {depot}"), hint },
                cause: Box::new(e),
            }),
            None => anyhow::Error::new(e).context(format!("open depot {depot}")),
        }
    })?;
    let names = || d.profiles().iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ");
    let prof = match profile {
        Some(n) => d.profile(n).ok_or_else(|| {
            hinted(
                format!("depot {depot} has no image profile {n:?}"),
                format!("profiles in it: {}", names()),
            )
        })?,
        None => {
            let by_build = target_build.and_then(|b| {
                let bs = b.to_string();
                d.profiles().iter().find(|p| p.name.contains(&bs) && p.name.ends_with("-standard"))
            });
            match (by_build, d.profiles(), cmd) {
                (Some(p), _, _) => p,
                (None, [one], _) => one,
                // A driver or component bundle: its VIBs are added to the image.
                (None, [], For::Check) => {
                    return Ok(LoadedImage { image: TargetImage::from_depot_vibs(&d), depot: None })
                }
                (None, _, For::Check) => {
                    return Err(hinted(
                        format!("depot {depot}: cannot tell which image profile to check against"),
                        format!("pass --profile NAME; profiles: {}", names()),
                    ));
                }
                (None, _, For::Plan) => {
                    return Err(hinted(
                        format!(
                            "depot {depot}: no image profile of build {}",
                            target_build.map(|b| b.to_string()).unwrap_or_default()
                        ),
                        format!("pass --profile NAME; profiles: {}", names()),
                    ))
                }
            }
        }
    };
    let image = TargetImage::from_depot(&d, prof);
    let name = prof.name.clone();
    Ok(LoadedImage { image, depot: Some((d, name)) })
}
