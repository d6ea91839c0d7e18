//! VIB signatures: the `sig.pkcs7` member, a CMS/PKCS#7 SignedData (PEM or
//! DER) that signs the exact bytes of `descriptor.xml` (detached). This
//! module reads it and checks it against the descriptor; it does no I/O.
//!
//! What "verified" means here: the signer's `messageDigest` attribute equals
//! the digest of the descriptor bytes, and the signature over the signed
//! attributes verifies with the public key of the certificate that
//! `sig.pkcs7` itself carries. Whether that certificate is trusted is not
//! checked: ESXi decides that against its own certificate store, which esxup
//! does not have.

use crate::error::DepotError;
use base64ct::Encoding;
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Encode, Header, Reader, SliceReader, Tag, TagNumber, Tagged};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use serde::Serialize;
use sha2::Digest;
use x509_cert::name::Name;
use x509_cert::Certificate;

/// Largest `sig.pkcs7` read: real ones are ~3.4 KB (one certificate); a
/// megabyte is far beyond any honest signature.
pub const MAX_SIGNATURE_BYTES: usize = 1 << 20;

const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const OID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const OID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_SUBJECT_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");

/// What `sig.pkcs7` holds, read and checked against the descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SignatureReport {
    /// `pem` or `der`.
    pub encoding: &'static str,
    /// Every certificate `sig.pkcs7` carries (the signer's and any chain).
    pub certificates: Vec<CertificateInfo>,
    /// One entry per SignerInfo, in file order.
    pub signers: Vec<SignerReport>,
    /// The overall result: the worst of the signers' (no signer: not verified).
    pub verification: Verification,
}

/// One X.509 certificate, as far as esxup reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CertificateInfo {
    /// Distinguished name in openssl's order, e.g. `C=US, ..., CN=...`.
    pub subject: String,
    pub issuer: String,
    pub common_name: Option<String>,
    pub organization: Option<String>,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// `YYYY-MM-DD` (UTC).
    pub not_before: String,
    pub not_after: String,
    /// Subject and issuer are the same name (a root or a self-signed key);
    /// whether it is trusted is for the host to decide.
    pub self_issued: bool,
}

/// One signer of `sig.pkcs7`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct SignerReport {
    /// The signer's certificate, when `sig.pkcs7` carries it.
    pub certificate: Option<CertificateInfo>,
    pub digest_algorithm: String,
    pub signature_algorithm: String,
    /// The signingTime attribute, `YYYY-MM-DDTHH:MM:SSZ`.
    pub signing_time: Option<String>,
    /// The signing time is after the certificate's notAfter (a fact about
    /// the file; what ESXi makes of it is not recorded).
    pub signed_after_certificate_expiry: bool,
    pub verification: Verification,
}

/// The result of checking one signature against the descriptor bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Verification {
    /// Digest and signature both check out (trust not checked).
    Verified,
    /// The descriptor is not what was signed: it was changed after signing.
    DescriptorMismatch { message: String },
    /// The digest matches but the signature does not verify with the
    /// signer certificate's key (signed attributes or signature altered).
    SignatureInvalid { message: String },
    /// Could not be checked: an algorithm esxup does not implement, or the
    /// signer certificate is missing. Not a failure.
    NotVerified { message: String },
}

impl Verification {
    /// Orders results from best to worst, to pick the overall one.
    fn rank(&self) -> u8 {
        match self {
            Verification::Verified => 0,
            Verification::NotVerified { .. } => 1,
            Verification::SignatureInvalid { .. } => 2,
            Verification::DescriptorMismatch { .. } => 3,
        }
    }
}

/// Reads `sig` (the `sig.pkcs7` bytes, PEM or DER) and checks it against
/// `content` (the `descriptor.xml` bytes). `Ok(None)`: the member is empty,
/// i.e. the VIB is unsigned. `label` names the member in errors, e.g.
/// `x.vib!sig.pkcs7`.
pub fn inspect(label: &str, sig: &[u8], content: &[u8]) -> Result<Option<SignatureReport>, DepotError> {
    let err = |m: String| DepotError::Signature { path: label.to_string(), message: m };
    if sig.len() > MAX_SIGNATURE_BYTES {
        return Err(err(format!(
            "{} bytes, more than the {} a signature may have (refused)",
            sig.len(),
            MAX_SIGNATURE_BYTES
        )));
    }
    if sig.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(None);
    }
    let (encoding, der_bytes) = if sig.trim_ascii_start().starts_with(b"-----BEGIN ") {
        ("pem", pem_body(sig).map_err(err)?)
    } else if sig.first() == Some(&0x30) {
        ("der", sig.to_vec())
    } else {
        return Err(err("neither PEM (-----BEGIN PKCS7-----) nor DER (an ASN.1 SEQUENCE)".into()));
    };
    let ci = ContentInfo::from_der(&der_bytes).map_err(|e| err(format!("not a CMS ContentInfo: {e}")))?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(err(format!("content type {} is not SignedData", ci.content_type)));
    }
    let sd: SignedData = ci.content.decode_as().map_err(|e| err(format!("bad SignedData: {e}")))?;
    // The parsed SET OF SignerInfo is re-sorted by the decoder; read each
    // SignerInfo from its own bytes instead, so that the signed attributes
    // are verified exactly as they were signed.
    let raw_signers = raw_signer_infos(&der_bytes).map_err(|e| err(format!("bad SignedData: {e}")))?;

    let certs: Vec<&Certificate> = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => Some(c),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let embedded = match &sd.encap_content_info.econtent {
        Some(any) => Some(
            any.decode_as::<OctetStringRef>()
                .map_err(|e| err(format!("bad encapsulated content: {e}")))?
                .as_bytes()
                .to_vec(),
        ),
        None => None,
    };

    let mut signers = Vec::new();
    for raw in &raw_signers {
        let si = SignerInfo::from_der(raw).map_err(|e| err(format!("bad SignerInfo: {e}")))?;
        let signed_attrs = raw_signed_attrs(raw).map_err(|e| err(format!("bad SignerInfo: {e}")))?;
        signers.push(check_signer(&si, signed_attrs.as_deref(), &certs, content, embedded.as_deref()));
    }
    let verification = signers
        .iter()
        .map(|s| &s.verification)
        .max_by_key(|v| v.rank())
        .cloned()
        .unwrap_or(Verification::NotVerified { message: "sig.pkcs7 names no signer".into() });
    Ok(Some(SignatureReport {
        encoding,
        certificates: certs.iter().map(|c| cert_info(c)).collect(),
        signers,
        verification,
    }))
}

/// The base64 body of a PEM block, decoded. Line lengths and CRLF are not
/// held against it; the label must be PKCS7 or CMS.
fn pem_body(sig: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(sig).map_err(|_| "PEM: not ASCII text".to_string())?;
    let text = text.trim_start();
    let first_end = text.find('\n').unwrap_or(text.len());
    let begin = text[..first_end].trim_end();
    let label = begin
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
        .ok_or_else(|| format!("PEM: bad first line {begin:?}"))?;
    if !matches!(label, "PKCS7" | "CMS" | "PKCS #7 SIGNED DATA") {
        return Err(format!("PEM: label {label:?} is not PKCS7 or CMS"));
    }
    let rest = &text[first_end..];
    let end_marker = format!("-----END {label}-----");
    let end = rest.find(&end_marker).ok_or_else(|| format!("PEM: no {end_marker} line (truncated?)"))?;
    let b64: Vec<u8> = rest[..end].bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if b64.is_empty() {
        return Err("PEM: empty body".into());
    }
    base64ct::Base64::decode_vec(std::str::from_utf8(&b64).unwrap_or(""))
        .map_err(|e| format!("PEM: bad base64 ({e})"))
}

/// Each SignerInfo of a ContentInfo/SignedData, as its own DER bytes, in file
/// order.
fn raw_signer_infos(der: &[u8]) -> der::Result<Vec<&[u8]>> {
    let ci = AnyRef::from_der(der)?;
    let mut r = SliceReader::new(ci.value())?;
    let _content_type = AnyRef::decode(&mut r)?;
    let explicit = AnyRef::decode(&mut r)?;
    let sd = AnyRef::from_der(explicit.value())?;
    let mut r = SliceReader::new(sd.value())?;
    // signerInfos is the last element of SignedData.
    let mut last = None;
    while !r.is_finished() {
        last = Some(AnyRef::decode(&mut r)?);
    }
    let Some(set) = last.filter(|a| a.tag() == Tag::Set) else {
        return Err(Tag::Set.value_error());
    };
    let body = set.value();
    let mut r = SliceReader::new(body)?;
    let mut out = Vec::new();
    while !r.is_finished() {
        let start = usize::try_from(r.position())?;
        let _ = AnyRef::decode(&mut r)?;
        let end = usize::try_from(r.position())?;
        out.push(&body[start..end]);
    }
    Ok(out)
}

/// The signed attributes of one SignerInfo as they are signed: their own
/// bytes under a SET OF tag (0x31) instead of the `[0] IMPLICIT` one.
fn raw_signed_attrs(signer_info: &[u8]) -> der::Result<Option<Vec<u8>>> {
    let si = AnyRef::from_der(signer_info)?;
    let mut r = SliceReader::new(si.value())?;
    for _ in 0..3 {
        // version, sid, digestAlgorithm
        AnyRef::decode(&mut r)?;
    }
    let next = AnyRef::decode(&mut r)?;
    if next.tag() != (Tag::ContextSpecific { constructed: true, number: TagNumber::N0 }) {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(next.value().len() + 6);
    Header::new(Tag::Set, next.value().len())?.encode_to_vec(&mut out)?;
    out.extend_from_slice(next.value());
    Ok(Some(out))
}

/// Digest algorithms esxup can compute.
#[derive(Clone, Copy, Debug)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_digest_oid(oid: &ObjectIdentifier) -> Option<Hash> {
        Some(match oid.to_string().as_str() {
            "1.3.14.3.2.26" => Hash::Sha1,
            "2.16.840.1.101.3.4.2.1" => Hash::Sha256,
            "2.16.840.1.101.3.4.2.2" => Hash::Sha384,
            "2.16.840.1.101.3.4.2.3" => Hash::Sha512,
            _ => return None,
        })
    }
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
    fn pkcs1v15(self) -> Pkcs1v15Sign {
        match self {
            Hash::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
            Hash::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            Hash::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            Hash::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// How a signature algorithm OID is verified: RSA PKCS#1 v1.5 with the
/// SignerInfo's digest (`rsaEncryption`) or with the one it names.
enum SigAlg {
    RsaWithDigest,
    Rsa(Hash),
}

fn sig_alg(oid: &ObjectIdentifier) -> Option<SigAlg> {
    Some(match oid.to_string().as_str() {
        "1.2.840.113549.1.1.1" => SigAlg::RsaWithDigest,
        "1.2.840.113549.1.1.5" => SigAlg::Rsa(Hash::Sha1),
        "1.2.840.113549.1.1.11" => SigAlg::Rsa(Hash::Sha256),
        "1.2.840.113549.1.1.12" => SigAlg::Rsa(Hash::Sha384),
        "1.2.840.113549.1.1.13" => SigAlg::Rsa(Hash::Sha512),
        _ => return None,
    })
}

/// A readable name for the algorithm OIDs met in CMS; others stay dotted.
fn alg_name(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.3.14.3.2.26" => "sha1".into(),
        "2.16.840.1.101.3.4.2.1" => "sha256".into(),
        "2.16.840.1.101.3.4.2.2" => "sha384".into(),
        "2.16.840.1.101.3.4.2.3" => "sha512".into(),
        "2.16.840.1.101.3.4.2.4" => "sha224".into(),
        "1.2.840.113549.1.1.1" => "rsaEncryption".into(),
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "rsassaPss".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption".into(),
        "1.2.840.10045.2.1" => "ecPublicKey".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        other => other.to_string(),
    }
}

fn check_signer(
    si: &SignerInfo,
    signed_attrs: Option<&[u8]>,
    certs: &[&Certificate],
    content: &[u8],
    embedded: Option<&[u8]>,
) -> SignerReport {
    let cert = certs.iter().copied().find(|c| is_signer(c, &si.sid));
    let mut signing_time = None;
    let mut signing_dt = None;
    if let Some(attrs) = &si.signed_attrs {
        if let Some(t) = attrs.iter().find(|a| a.oid == OID_SIGNING_TIME).and_then(|a| a.values.get(0)) {
            if let Some(t) = t.to_der().ok().and_then(|d| x509_cert::time::Time::from_der(&d).ok()) {
                let dt = t.to_date_time();
                signing_time = Some(format!(
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    dt.year(),
                    dt.month(),
                    dt.day(),
                    dt.hour(),
                    dt.minutes(),
                    dt.seconds()
                ));
                signing_dt = Some(dt);
            }
        }
    }
    let signed_after_certificate_expiry = match (cert, signing_dt) {
        (Some(c), Some(st)) => st > c.tbs_certificate.validity.not_after.to_date_time(),
        _ => false,
    };
    SignerReport {
        certificate: cert.map(cert_info),
        digest_algorithm: alg_name(&si.digest_alg.oid),
        signature_algorithm: alg_name(&si.signature_algorithm.oid),
        signing_time,
        signed_after_certificate_expiry,
        verification: verify_signer(si, signed_attrs, cert, content, embedded),
    }
}

fn verify_signer(
    si: &SignerInfo,
    signed_attrs: Option<&[u8]>,
    cert: Option<&Certificate>,
    content: &[u8],
    embedded: Option<&[u8]>,
) -> Verification {
    let not_verified = |m: String| Verification::NotVerified { message: m };
    if let Some(e) = embedded {
        // Not the detached form VIBs use: the signed content travels inside.
        if e != content {
            return Verification::DescriptorMismatch {
                message: "sig.pkcs7 carries its own signed content, which differs from descriptor.xml".into(),
            };
        }
    }
    let Some(cert) = cert else {
        return not_verified("the signer's certificate is not in sig.pkcs7".into());
    };
    let Some(digest) = Hash::from_digest_oid(&si.digest_alg.oid) else {
        return not_verified(format!("digest algorithm {} is not supported", alg_name(&si.digest_alg.oid)));
    };
    let sig_hash = match sig_alg(&si.signature_algorithm.oid) {
        Some(SigAlg::RsaWithDigest) => digest,
        Some(SigAlg::Rsa(h)) => h,
        None => {
            return not_verified(format!(
                "signature algorithm {} is not supported (esxup verifies RSA PKCS#1 v1.5)",
                alg_name(&si.signature_algorithm.oid)
            ))
        }
    };
    let spki = &cert.tbs_certificate.subject_public_key_info;
    if spki.algorithm.oid != OID_RSA {
        return not_verified(format!("signer key type {} is not supported", alg_name(&spki.algorithm.oid)));
    }
    let key = match spki.subject_public_key.as_bytes().map(RsaPublicKey::from_pkcs1_der) {
        Some(Ok(k)) => k,
        Some(Err(e)) => return not_verified(format!("signer RSA key not usable: {e}")),
        None => return not_verified("signer RSA key is not a whole number of bytes".into()),
    };
    let signature = si.signature.as_bytes();
    match signed_attrs {
        Some(raw) => {
            let actual = digest.digest(content);
            let md = si
                .signed_attrs
                .as_ref()
                .and_then(|a| a.iter().find(|a| a.oid == OID_MESSAGE_DIGEST))
                .filter(|a| a.values.len() == 1)
                .and_then(|a| a.values.get(0))
                .and_then(|v| v.decode_as::<OctetStringRef>().ok());
            let Some(md) = md else {
                return Verification::SignatureInvalid {
                    message: "the signed attributes hold no single messageDigest".into(),
                };
            };
            if md.as_bytes() != actual.as_slice() {
                return Verification::DescriptorMismatch {
                    message: format!(
                        "{} of descriptor.xml is {}, the signature's messageDigest is {}",
                        alg_name(&si.digest_alg.oid),
                        hex::encode(&actual),
                        hex::encode(md.as_bytes())
                    ),
                };
            }
            match key.verify(sig_hash.pkcs1v15(), &sig_hash.digest(raw), signature) {
                Ok(()) => Verification::Verified,
                Err(_) => Verification::SignatureInvalid {
                    message: "the signature over the signed attributes does not verify with the signer certificate's key"
                        .into(),
                },
            }
        }
        None => match key.verify(sig_hash.pkcs1v15(), &sig_hash.digest(content), signature) {
            Ok(()) => Verification::Verified,
            Err(_) => Verification::DescriptorMismatch {
                message: "the signature (no signed attributes) does not verify over descriptor.xml".into(),
            },
        },
    }
}

fn is_signer(cert: &Certificate, sid: &SignerIdentifier) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            tbs.issuer == ias.issuer && tbs.serial_number == ias.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(skid) => tbs
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == OID_SUBJECT_KEY_ID)
            .filter_map(|e| OctetStringRef::from_der(e.extn_value.as_bytes()).ok())
            .any(|v| v.as_bytes() == skid.0.as_bytes()),
    }
}

fn cert_info(c: &Certificate) -> CertificateInfo {
    let tbs = &c.tbs_certificate;
    let date = |t: &x509_cert::time::Time| {
        let dt = t.to_date_time();
        format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day())
    };
    let serial = tbs.serial_number.as_bytes();
    let serial = match serial.iter().position(|b| *b != 0) {
        Some(i) => &serial[i..],
        None => &serial[serial.len().saturating_sub(1)..],
    };
    CertificateInfo {
        subject: name_string(&tbs.subject),
        issuer: name_string(&tbs.issuer),
        common_name: name_part(&tbs.subject, "2.5.4.3"),
        organization: name_part(&tbs.subject, "2.5.4.10"),
        serial: hex::encode(serial),
        not_before: date(&tbs.validity.not_before),
        not_after: date(&tbs.validity.not_after),
        self_issued: tbs.subject == tbs.issuer,
    }
}

fn attr_short(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "2.5.4.6" => "C".into(),
        "2.5.4.8" => "ST".into(),
        "2.5.4.7" => "L".into(),
        "2.5.4.10" => "O".into(),
        "2.5.4.11" => "OU".into(),
        "2.5.4.3" => "CN".into(),
        "2.5.4.5" => "serialNumber".into(),
        "1.2.840.113549.1.9.1" => "emailAddress".into(),
        other => other.to_string(),
    }
}

/// A directory string as text: the string types as they are, BMPString
/// from UTF-16, anything else as `#` and hex (as RFC 4514 does).
fn attr_value(v: &der::asn1::Any) -> String {
    match v.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString | Tag::VisibleString => {
            String::from_utf8_lossy(v.value()).into_owned()
        }
        Tag::BmpString => {
            let units: Vec<u16> =
                v.value().chunks(2).map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])).collect();
            String::from_utf16_lossy(&units)
        }
        _ => format!("#{}", hex::encode(v.to_der().unwrap_or_default())),
    }
}

/// The name in openssl's order (`C=US, ST=..., CN=...`).
fn name_string(n: &Name) -> String {
    n.0.iter()
        .flat_map(|rdn| rdn.0.iter())
        .map(|atv| format!("{}={}", attr_short(&atv.oid), attr_value(&atv.value)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The last value of one attribute of a name (the most specific, as openssl
/// picks the CN).
fn name_part(n: &Name, oid: &str) -> Option<String> {
    n.0.iter()
        .rev()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid.to_string() == oid)
        .map(|atv| attr_value(&atv.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// `(descriptor.xml, sig.pkcs7)` of the VMware-signed USB NIC fling VIB
    /// for 7.0 U3 (fixture `components-7x/`, see SOURCES.md).
    fn fling() -> (Vec<u8>, Vec<u8>) {
        let zip = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "tests/fixtures/components-7x/7-updates_ESXi703-VMKUSB-NIC-FLING-55634242-component-19849370.zip",
        );
        let mut z = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
        let mut vib = Vec::new();
        z.by_name("vib20/vmkusb-nic-fling/VMW_bootbank_vmkusb-nic-fling_1.10-1vmw.703.0.50.55634242.vib")
            .unwrap()
            .read_to_end(&mut vib)
            .unwrap();
        let members = crate::ar_members("fling.vib", &vib).unwrap();
        let get = |n: &str| {
            let m = members.iter().find(|m| m.name == n).unwrap();
            vib[m.offset..m.offset + m.size].to_vec()
        };
        (get("descriptor.xml"), get("sig.pkcs7"))
    }

    fn report(sig: &[u8], desc: &[u8]) -> SignatureReport {
        inspect("fling.vib!sig.pkcs7", sig, desc).unwrap().unwrap()
    }

    fn err(sig: &[u8], desc: &[u8]) -> String {
        inspect("x.vib!sig.pkcs7", sig, desc).unwrap_err().to_string()
    }

    #[test]
    fn a_vmware_signature_verifies_and_names_its_signer() {
        // Values as `openssl cms -cmsout -print` shows them for this file.
        let (desc, sig) = fling();
        let r = report(&sig, &desc);
        assert_eq!(r.encoding, "pem");
        assert_eq!(r.verification, Verification::Verified);
        assert_eq!(r.certificates.len(), 1);
        assert_eq!(r.signers.len(), 1);
        let s = &r.signers[0];
        assert_eq!(s.digest_algorithm, "sha256");
        assert_eq!(s.signature_algorithm, "rsaEncryption");
        assert_eq!(s.signing_time.as_deref(), Some("2022-05-24T06:52:24Z"));
        assert!(!s.signed_after_certificate_expiry);
        let c = s.certificate.as_ref().unwrap();
        assert_eq!(c, &r.certificates[0]);
        assert_eq!(
            c.subject,
            "C=US, ST=California, L=Palo Alto, O=VMware, Inc., CN=VMware Certified VIB Signing"
        );
        assert_eq!(c.issuer, c.subject);
        assert!(c.self_issued);
        assert_eq!(c.common_name.as_deref(), Some("VMware Certified VIB Signing"));
        assert_eq!(c.organization.as_deref(), Some("VMware, Inc."));
        // openssl prints it in decimal: 14458748796179525568.
        assert_eq!(u64::from_str_radix(&c.serial, 16).unwrap(), 14458748796179525568);
        assert_eq!((c.not_before.as_str(), c.not_after.as_str()), ("2017-09-06", "2037-09-01"));
    }

    #[test]
    fn der_reads_like_pem() {
        let (desc, sig) = fling();
        let der = pem_body(&sig).unwrap();
        assert_eq!(der[0], 0x30);
        let (p, d) = (report(&sig, &desc), report(&der, &desc));
        assert_eq!(d.encoding, "der");
        assert_eq!(d.signers, p.signers);
        assert_eq!(d.verification, Verification::Verified);
        // CRLF line ends, as a Windows copy would have them.
        let crlf = String::from_utf8(sig.clone()).unwrap().replace('\n', "\r\n");
        assert_eq!(report(crlf.as_bytes(), &desc).verification, Verification::Verified);
    }

    #[test]
    fn a_changed_descriptor_no_longer_matches() {
        let (desc, sig) = fling();
        for change in 0..3 {
            let mut d = desc.clone();
            match change {
                0 => d.push(b'\n'),
                1 => d[desc.len() / 2] ^= 0x01,
                _ => {
                    d.pop();
                }
            }
            let v = report(&sig, &d).verification;
            let Verification::DescriptorMismatch { message } = v else { panic!("{change}: {v:?}") };
            assert!(message.starts_with("sha256 of descriptor.xml is "), "{message}");
        }
    }

    #[test]
    fn changed_signed_attributes_or_signature_are_invalid() {
        // The digest still matches the descriptor; what was signed did not.
        let (desc, sig) = fling();
        let der = pem_body(&sig).unwrap();
        // The signingTime value "220524065224Z" -> "220524065225Z".
        let at = der.windows(13).position(|w| w == b"220524065224Z").unwrap();
        let mut t = der.clone();
        t[at + 11] = b'5';
        let r = report(&t, &desc);
        assert_eq!(r.signers[0].signing_time.as_deref(), Some("2022-05-24T06:52:25Z"));
        assert!(matches!(r.verification, Verification::SignatureInvalid { .. }), "{:?}", r.verification);
        // The last byte of the file is the last byte of the signature value.
        let mut t = der.clone();
        *t.last_mut().unwrap() ^= 0x01;
        assert!(matches!(report(&t, &desc).verification, Verification::SignatureInvalid { .. }));
    }

    #[test]
    fn without_signed_attributes_the_signature_covers_the_descriptor() {
        // Drop the signed attributes: the RSA signature (made over them) is
        // now checked against the descriptor itself and fails.
        let (desc, sig) = fling();
        let der = pem_body(&sig).unwrap();
        let ci = ContentInfo::from_der(&der).unwrap();
        let mut sd: SignedData = ci.content.decode_as().unwrap();
        let mut si = sd.signer_infos.0.get(0).unwrap().clone();
        si.signed_attrs = None;
        sd.signer_infos = cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(vec![si]).unwrap());
        let ci = ContentInfo { content_type: OID_SIGNED_DATA, content: der::Any::encode_from(&sd).unwrap() };
        let r = report(&ci.to_der().unwrap(), &desc);
        assert_eq!(r.signers[0].signing_time, None);
        let Verification::DescriptorMismatch { message } = r.verification else { panic!("{r:?}") };
        assert!(message.contains("no signed attributes"), "{message}");
    }

    #[test]
    fn unsupported_algorithms_are_not_failures() {
        let (desc, sig) = fling();
        let der = pem_body(&sig).unwrap();
        let ci = ContentInfo::from_der(&der).unwrap();
        let mut sd: SignedData = ci.content.decode_as().unwrap();
        let mut si = sd.signer_infos.0.get(0).unwrap().clone();
        si.signature_algorithm.oid = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
        sd.signer_infos = cms::signed_data::SignerInfos(der::asn1::SetOfVec::try_from(vec![si]).unwrap());
        let ci = ContentInfo { content_type: OID_SIGNED_DATA, content: der::Any::encode_from(&sd).unwrap() };
        let r = report(&ci.to_der().unwrap(), &desc);
        let Verification::NotVerified { message } = r.verification else { panic!("{r:?}") };
        assert_eq!(
            message,
            "signature algorithm ecdsa-with-SHA256 is not supported (esxup verifies RSA PKCS#1 v1.5)"
        );
    }

    #[test]
    fn empty_is_unsigned() {
        assert_eq!(inspect("x", b"", b"<vib/>").unwrap(), None);
        assert_eq!(inspect("x", b"\n", b"<vib/>").unwrap(), None);
    }

    #[test]
    fn garbage_truncated_and_oversized_inputs_are_errors() {
        let (desc, sig) = fling();
        let e = err(b"hello", &desc);
        assert_eq!(
            e,
            "read signature x.vib!sig.pkcs7: neither PEM (-----BEGIN PKCS7-----) nor DER (an ASN.1 SEQUENCE)"
        );
        let e = err(&sig[..sig.len() / 2], &desc);
        assert_eq!(e, "read signature x.vib!sig.pkcs7: PEM: no -----END PKCS7----- line (truncated?)");
        let e = err(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &desc);
        assert!(e.ends_with("PEM: label \"CERTIFICATE\" is not PKCS7 or CMS"), "{e}");
        let e = err(b"-----BEGIN PKCS7-----\n!!!!\n-----END PKCS7-----\n", &desc);
        assert!(e.starts_with("read signature x.vib!sig.pkcs7: PEM: bad base64"), "{e}");
        let der = pem_body(&sig).unwrap();
        let e = err(&der[..der.len() - 10], &desc);
        assert!(e.starts_with("read signature x.vib!sig.pkcs7: not a CMS ContentInfo: "), "{e}");
        let big = vec![0x30; MAX_SIGNATURE_BYTES + 1];
        assert_eq!(
            err(&big, &desc),
            "read signature x.vib!sig.pkcs7: 1048577 bytes, more than the 1048576 a signature may have (refused)"
        );
    }

    #[test]
    fn truncations_and_flips_never_panic() {
        // Every prefix of the DER and of the PEM, and a flipped byte at every
        // position of the DER: each gives an error or a report, never a panic.
        let (desc, sig) = fling();
        let der = pem_body(&sig).unwrap();
        for n in 0..der.len() {
            assert!(inspect("x", &der[..n], &desc).is_err() || n == 0, "DER prefix of {n} bytes read");
        }
        for n in 0..sig.len() {
            let _ = inspect("x", &sig[..n], &desc);
        }
        let mut verified = 0;
        for i in 0..der.len() {
            let mut b = der.clone();
            b[i] ^= 0x5a;
            if let Ok(Some(r)) = inspect("x", &b, &desc) {
                verified += usize::from(r.verification == Verification::Verified);
            }
        }
        // Flips inside the parts nobody signs (the certificate's own
        // signature, unsigned fields) may still verify; most do not.
        assert!(verified < der.len() / 2, "{verified} of {} flipped files verified", der.len());
    }
}
