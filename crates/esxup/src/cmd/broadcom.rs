//! `--depot broadcom:` and Broadcom's download-token URLs on the command
//! line: the one parser of every depot argument (`esxup depot ...`,
//! `check`, `plan`, `report`, `run`), and the hints of the errors opening
//! such a depot.
//!
//! The parser hands every command the masked location
//! (`https://dl.broadcom.com/<token>/PROD/...`, see
//! [`esxup_depot::broadcom`]), so that no runbook, report, journal, cache
//! path or message can carry the token. A token typed in the URL still
//! works, with a warning: the shell history and `ps` keep the command line.

use esxup_depot::broadcom;
use esxup_depot::DepotError;
use std::ffi::OsStr;

/// The clap value parser of depot arguments (see the module doc).
#[derive(Clone, Copy, Debug, Default)]
pub struct DepotArg;

impl clap::builder::TypedValueParser for DepotArg {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        // clap's own errors quote the value, which may hold the token: ours do not.
        let name = arg.map(|a| a.to_string()).unwrap_or_else(|| "DEPOT".into());
        let fail = |m: String| clap::Error::raw(clap::error::ErrorKind::ValueValidation, format!("{m}\n"));
        let text = value.to_str().ok_or_else(|| fail(format!("{name}: the depot is not UTF-8 text")))?;
        let loc = broadcom::split_token(text).map_err(|e| fail(format!("{name}: {e}")))?;
        if let Some(token) = loc.token_in_url {
            eprintln!(
                "warning: the Broadcom download token is in the command line, where the shell history and `ps` keep it"
            );
            eprintln!(
                "hint: put it in {} (or a file named by {}) and give the depot as `{}`",
                broadcom::TOKEN_ENV,
                broadcom::TOKEN_FILE_ENV,
                broadcom::SCHEME
            );
            broadcom::use_token(token);
        }
        Ok(loc.masked)
    }
}

/// The hint for an error opening the depot `location`, when the error is
/// about Broadcom's download token or VMware's retired update servers.
pub fn open_hint(location: &str, e: &DepotError) -> Option<String> {
    let env = broadcom::TOKEN_ENV;
    let hint = match e {
        DepotError::TokenRefused { status: 401, .. } => format!(
            "generate a new download token in the Broadcom Support Portal (support.broadcom.com) and put it in {env}"
        ),
        DepotError::TokenRefused { .. } => format!(
            "check the download token in {env}, that its site is entitled to ESXi downloads, and the depot path; a token generated a few minutes ago is refused for a short while (Broadcom KB 395322)"
        ),
        DepotError::NoToken { .. } => format!(
            "put your Broadcom download token (Broadcom Support Portal, Generate Download Token) in {env}, or name a file holding it with {}",
            broadcom::TOKEN_FILE_ENV
        ),
        DepotError::Token { .. } => {
            format!("copy the download token again from the Broadcom Support Portal into {env}")
        }
        _ if broadcom::is_retired_vmware_depot(location) => format!(
            "VMware's hostupdate depots are retired (Broadcom serves the ESXi depot with a download token): give --depot {} with your token in {env}",
            broadcom::SCHEME
        ),
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "https://hostupdate.vmware.com/software/VUM/PRODUCTION/main/vmw-depot-index.xml";

    #[test]
    fn retired_hosts_get_the_new_form_whatever_failed() {
        let http = DepotError::Http { url: OLD.into(), message: "server answered 403 Forbidden".into() };
        let unreachable = DepotError::Transport {
            url: OLD.into(),
            message: "unreachable: cannot resolve the host name".into(),
            source: None,
        };
        for e in [http, unreachable] {
            let h = open_hint(OLD, &e).unwrap_or_default();
            assert!(h.contains("--depot broadcom:") && h.contains("ESXUP_BROADCOM_TOKEN"), "{h}");
        }
        let other = DepotError::Http { url: "https://m/x.xml".into(), message: "server answered 404".into() };
        assert_eq!(open_hint("https://m/x.xml", &other), None);
    }
}
