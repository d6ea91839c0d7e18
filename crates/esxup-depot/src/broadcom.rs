//! Broadcom's online depots, which need a download token in the URL.
//!
//! Since 2025 Broadcom serves the ESXi online depot only at
//! `https://dl.broadcom.com/<download token>/PROD/COMP/ESX_HOST/main/vmw-depot-index.xml`
//! (Broadcom KB 390098, "VCF authenticated downloads configuration update
//! instructions"); VMware's `https://hostupdate.vmware.com/software/VUM/PRODUCTION/main/vmw-depot-index.xml`
//! and its `hostupdate-p01.vmware.com`-style mirrors no longer serve it.
//!
//! The token is a secret: whoever holds it downloads with the entitlement
//! of the site it was generated for. So it is never kept in a URL that
//! anything could print. A depot location names it by the placeholder
//! [`TOKEN_PLACEHOLDER`] (`https://dl.broadcom.com/<token>/PROD/...`): that
//! masked form is the depot's [`crate::Depot::location`], the label of every
//! file and every error, the key of the on-disk cache and the URL of the
//! fetch log. The real token is put in only when a request is sent, and
//! only to the Broadcom origin the location names (never to a URL a
//! depot index points elsewhere). An error of the HTTP library (whose text
//! carries the URL it was given) is kept in the `source` chain with the
//! token masked.
//!
//! Where the token comes from, first found wins: [`OpenOptions::download_token`](crate::OpenOptions),
//! a token given in the depot URL itself ([`use_token`]; the CLI warns that
//! it is then in the shell history and `ps`), `ESXUP_BROADCOM_TOKEN`, the
//! first line of the file `ESXUP_BROADCOM_TOKEN_FILE` names.
//!
//! `ESXUP_BROADCOM_BASE_URL` replaces `https://dl.broadcom.com` (a mirror
//! that keeps Broadcom's layout, or the tests' local server): `broadcom:`
//! then opens `<base>/<token>/PROD/COMP/ESX_HOST/main/vmw-depot-index.xml`.

use crate::error::DepotError;
use std::sync::Mutex;

/// What a depot location shows in place of the download token.
pub const TOKEN_PLACEHOLDER: &str = "<token>";
/// Broadcom's download site.
pub const DEFAULT_BASE_URL: &str = "https://dl.broadcom.com";
/// The ESXi online depot's index, below `<base>/<token>/`.
pub const ESX_HOST_INDEX: &str = "PROD/COMP/ESX_HOST/main/vmw-depot-index.xml";
/// The short form of the ESXi online depot (`--depot broadcom:`).
pub const SCHEME: &str = "broadcom:";
/// The environment variable holding the download token.
pub const TOKEN_ENV: &str = "ESXUP_BROADCOM_TOKEN";
/// The environment variable naming a file whose first line is the token.
pub const TOKEN_FILE_ENV: &str = "ESXUP_BROADCOM_TOKEN_FILE";
/// The environment variable replacing [`DEFAULT_BASE_URL`] (mirrors, tests).
pub const BASE_URL_ENV: &str = "ESXUP_BROADCOM_BASE_URL";

/// A Broadcom download token. Its `Debug` prints the placeholder, and it
/// has no `Display`: the text leaves this crate only inside a request.
#[derive(Clone, PartialEq, Eq)]
pub struct DownloadToken(String);

impl std::fmt::Debug for DownloadToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DownloadToken({TOKEN_PLACEHOLDER})")
    }
}

impl DownloadToken {
    /// A token as the Broadcom Support Portal shows it (surrounding blanks
    /// dropped). `origin` names where it was read, for the error; the
    /// error never quotes the token.
    pub fn new(text: &str, origin: &str) -> Result<DownloadToken, DepotError> {
        let t = text.trim();
        let bad = |m: &str| DepotError::Token { origin: origin.to_string(), message: m.to_string() };
        if t.is_empty() {
            return Err(bad("the download token is empty"));
        }
        if t == TOKEN_PLACEHOLDER {
            return Err(bad("the download token is the placeholder <token>, not a token"));
        }
        // A token is one URL path segment: only unreserved characters, so
        // that it is sent as given and never needs escaping.
        if !t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
            return Err(bad(
                "the download token holds characters other than letters, digits and -._~ (copy it again from the Broadcom Support Portal)",
            ));
        }
        Ok(DownloadToken(t.to_string()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// The token itself, for the one place it must go as text: the
    /// standard input of the host's `esxcli` (`esxup run`), never argv.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

/// The token given in a depot URL on the command line, for the fetches of
/// this process (the CLI masks the URL when it parses it, then calls this).
static GIVEN: Mutex<Option<DownloadToken>> = Mutex::new(None);

/// Uses `token` for the depot fetches of this process that name `<token>`
/// and have no [`OpenOptions::download_token`](crate::OpenOptions).
pub fn use_token(token: DownloadToken) {
    if let Ok(mut g) = GIVEN.lock() {
        *g = Some(token);
    }
}

/// The token of `ESXUP_BROADCOM_TOKEN`, else of the file `ESXUP_BROADCOM_TOKEN_FILE`
/// names (its first line, at most 4 KiB read); `None` when neither is set.
pub fn token_from_env() -> Result<Option<DownloadToken>, DepotError> {
    if let Some(v) = std::env::var_os(TOKEN_ENV).filter(|v| !v.is_empty()) {
        let v = v.to_str().ok_or_else(|| DepotError::Token {
            origin: TOKEN_ENV.to_string(),
            message: "the download token is not UTF-8 text".into(),
        })?;
        return DownloadToken::new(v, TOKEN_ENV).map(Some);
    }
    let Some(path) = std::env::var_os(TOKEN_FILE_ENV).filter(|v| !v.is_empty()) else { return Ok(None) };
    let origin = format!("{TOKEN_FILE_ENV}={}", std::path::Path::new(&path).display());
    use std::io::Read;
    let mut text = Vec::new();
    std::fs::File::open(&path).and_then(|f| f.take(4096).read_to_end(&mut text)).map_err(|e| {
        DepotError::Token { origin: origin.clone(), message: format!("cannot read the file: {e}") }
    })?;
    let text = String::from_utf8_lossy(&text);
    DownloadToken::new(text.lines().next().unwrap_or(""), &origin).map(Some)
}

/// The token for a location that names `<token>`: the options', the one
/// given in the URL, the environment's.
pub(crate) fn token_for(given: Option<&DownloadToken>) -> Result<Option<DownloadToken>, DepotError> {
    if let Some(t) = given {
        return Ok(Some(t.clone()));
    }
    if let Some(t) = GIVEN.lock().ok().and_then(|g| g.clone()) {
        return Ok(Some(t));
    }
    token_from_env()
}

/// `ESXUP_BROADCOM_BASE_URL` (no trailing `/`), else `https://dl.broadcom.com`.
pub fn base_url() -> String {
    match std::env::var(BASE_URL_ENV) {
        Ok(b) if !b.trim().is_empty() => b.trim().trim_end_matches('/').to_string(),
        _ => DEFAULT_BASE_URL.to_string(),
    }
}

/// A depot location with any download token taken out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The location to open and to show: a Broadcom URL names `<token>`.
    pub masked: String,
    /// The token that was written in the location itself (a secret on the
    /// command line: warn, and prefer `ESXUP_BROADCOM_TOKEN`).
    pub token_in_url: Option<DownloadToken>,
    /// `<base>/<token>/`, when the location is a Broadcom URL: the only
    /// prefix the real token is put into.
    pub token_prefix: Option<String>,
}

/// Takes the download token out of a depot location: `broadcom:` becomes
/// the ESXi depot's masked URL, a Broadcom URL (`dl.broadcom.com` or
/// `ESXUP_BROADCOM_BASE_URL`) whose first path segment is a token gets
/// `<token>` there instead; anything else is returned as it is.
pub fn split_token(location: &str) -> Result<Location, DepotError> {
    let plain = || Location { masked: location.to_string(), token_in_url: None, token_prefix: None };
    if let Some(rest) = location.strip_prefix(SCHEME) {
        if !rest.is_empty() {
            return Err(DepotError::Invalid {
                path: location.to_string(),
                message: format!(
                    "unknown Broadcom depot {rest:?}: `broadcom:` alone names the ESXi depot; give any other as its full URL with <token> in place of the token"
                ),
            });
        }
        let base = base_url();
        return Ok(Location {
            masked: format!("{base}/{TOKEN_PLACEHOLDER}/{ESX_HOST_INDEX}"),
            token_in_url: None,
            token_prefix: Some(format!("{base}/{TOKEN_PLACEHOLDER}/")),
        });
    }
    let mut bases = vec![DEFAULT_BASE_URL.to_string()];
    let over = base_url();
    if over != DEFAULT_BASE_URL {
        bases.push(over);
    }
    for base in bases {
        let Some(rest) = strip_prefix_ci(location, &format!("{base}/")) else { continue };
        let Some((segment, tail)) = rest.split_once('/') else { continue };
        // Broadcom's layout: <base>/<token>/PROD/...
        if !tail.starts_with("PROD/") {
            continue;
        }
        let prefix = format!("{base}/{TOKEN_PLACEHOLDER}/");
        let masked = format!("{prefix}{tail}");
        if segment == TOKEN_PLACEHOLDER {
            return Ok(Location { masked, token_in_url: None, token_prefix: Some(prefix) });
        }
        let token = DownloadToken::new(segment, "the depot URL")?;
        return Ok(Location { masked, token_in_url: Some(token), token_prefix: Some(prefix) });
    }
    Ok(plain())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// A masked Broadcom URL split around `<token>` (`https://dl.broadcom.com/`,
/// `PROD/...`) with the token to put between them, for a command the host
/// runs itself (`esxcli software profile update -d`); `None` for any other
/// location.
pub fn split_for_host(masked: &str) -> Result<Option<(String, String, DownloadToken)>, DepotError> {
    let loc = split_token(masked)?;
    let Some(prefix) = loc.token_prefix else { return Ok(None) };
    let Some(tail) = loc.masked.strip_prefix(&prefix) else { return Ok(None) };
    let head = &prefix[..prefix.len() - TOKEN_PLACEHOLDER.len() - 1];
    let token = token_for(loc.token_in_url.as_ref())?
        .ok_or_else(|| DepotError::NoToken { url: loc.masked.clone() })?;
    Ok(Some((head.to_string(), tail.to_string(), token)))
}

/// Whether `location` names a depot on VMware's retired update servers
/// (`hostupdate.vmware.com`, `hostupdate-p01.vmware.com`, ...).
pub fn is_retired_vmware_depot(location: &str) -> bool {
    let Some((_, rest)) = location.split_once("://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("").trim_end_matches('.').to_ascii_lowercase();
    host.starts_with("hostupdate") && host.ends_with(".vmware.com")
}

/// The real URL of a masked one: `<token>` after `prefix` replaced by the
/// token. A URL outside `prefix` is returned unchanged.
pub(crate) fn unmask(url: &str, prefix: &str, token: &DownloadToken) -> String {
    match url.strip_prefix(prefix) {
        Some(rest) => {
            let head = &prefix[..prefix.len() - TOKEN_PLACEHOLDER.len() - 1];
            format!("{head}{}/{rest}", token.expose())
        }
        None => url.to_string(),
    }
}

/// `text` with every occurrence of the token replaced by `<token>`.
pub(crate) fn mask_text(text: &str, token: &DownloadToken) -> String {
    text.replace(token.expose(), TOKEN_PLACEHOLDER)
}

/// An error whose text had the token in it, with the token masked; its
/// `source` is the original error's source (which names no URL: I/O and TLS
/// errors), so that causes are still found by type.
#[derive(Debug)]
pub(crate) struct Masked {
    pub text: String,
    pub inner: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for Masked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Masked {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

/// What Broadcom means by a refusal of a token URL.
///
/// Broadcom KB 395322 ("VCF Authenticated Downloads Token Troubleshooting
/// Guide") lists the status codes a token URL answers: "Token expired: 401",
/// "Invalid token provided: 403", "Token not provided: 403", "Invalid file
/// path provided: 403", then "Not Entitled" (the copy of the KB read for this
/// code was cut off before that row's code), and warns that "Tokens will not
/// work for a short duration after creation. If a token is tested too soon,
/// it will return \"Not Entitled\"."
pub(crate) fn refusal(status: u16) -> Option<&'static str> {
    match status {
        401 => Some("the download token was refused as expired (Broadcom KB 395322: 401 means the token expired)"),
        403 => Some(
            "the download token or the path was refused (Broadcom KB 395322: 403 means an invalid token, no token, an invalid file path, or a site not entitled to the download)",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "Ab12-cd34_EF.56~gh";

    #[test]
    fn broadcom_scheme_and_token_urls_are_masked() {
        let l = split_token("broadcom:").unwrap();
        assert!(l.masked.ends_with("/<token>/PROD/COMP/ESX_HOST/main/vmw-depot-index.xml"), "{}", l.masked);
        assert!(l.token_in_url.is_none());
        let url = format!("https://dl.broadcom.com/{T}/PROD/COMP/ESX_HOST/main/vmw-depot-index.xml");
        let l = split_token(&url).unwrap();
        assert_eq!(l.masked, "https://dl.broadcom.com/<token>/PROD/COMP/ESX_HOST/main/vmw-depot-index.xml");
        assert_eq!(l.token_in_url.as_ref().map(|t| t.expose()), Some(T));
        assert!(!format!("{l:?}").contains(T), "Debug masks the token");
        let prefix = l.token_prefix.clone().unwrap();
        let tok = l.token_in_url.unwrap();
        assert_eq!(unmask(&l.masked, &prefix, &tok), url);
        // Another origin never gets the token.
        assert_eq!(unmask("https://elsewhere/<token>/x", &prefix, &tok), "https://elsewhere/<token>/x");
        // Other URLs are left alone.
        for u in ["https://mirror.example/depot/index.xml", "/srv/depot", "https://dl.broadcom.com/x/other"] {
            assert_eq!(split_token(u).unwrap().masked, u);
        }
        assert!(split_token("broadcom:vcenter").is_err());
    }

    #[test]
    fn tokens_are_checked_without_quoting_them() {
        assert!(DownloadToken::new("  abc123 \n", "x").is_ok());
        for bad in ["", "   ", "<token>", "a/b", "a b", "tök"] {
            let e = DownloadToken::new(bad, "ESXUP_BROADCOM_TOKEN").unwrap_err().to_string();
            assert!(e.starts_with("read download token from ESXUP_BROADCOM_TOKEN: "), "{e}");
            if bad.len() > 3 && bad != TOKEN_PLACEHOLDER {
                assert!(!e.contains(bad), "{e}");
            }
        }
    }

    #[test]
    fn retired_vmware_hosts_are_recognised() {
        for u in [
            "https://hostupdate.vmware.com/software/VUM/PRODUCTION/main/vmw-depot-index.xml",
            "http://hostupdate-p01.vmware.com/software/VUM/PRODUCTION/main/vmw-depot-index.xml",
            "https://HOSTUPDATE.VMWARE.COM:443/software/VUM/PRODUCTION/main/",
        ] {
            assert!(is_retired_vmware_depot(u), "{u}");
        }
        for u in
            ["https://dl.broadcom.com/<token>/PROD/x", "/srv/hostupdate.vmware.com", "https://vmware.com/"]
        {
            assert!(!is_retired_vmware_depot(u), "{u}");
        }
    }
}
