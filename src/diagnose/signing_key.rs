//! Which certificate Entra ID refused, in the words the portal uses.
//!
//! An unknown-key refusal (AADSTS700027) quotes "Thumbprint of key used by client: '…'": the key
//! the assertion named, which is a SHA-256 thumbprint when the assertion carried `x5t#S256` (as
//! MSAL's newer libraries and entra-doctor send it) and a SHA-1 one for a bare `x5t`. The
//! portal's Certificates & secrets › Certificates list shows only a SHA-1 "Thumbprint" (the
//! keyCredential's `customKeyIdentifier`, which "defaults to the thumbprint of the certificate",
//! a 40-character value: learn.microsoft.com/graph/api/resources/keycredential; the portal step
//! "Record the certificate Thumbprint": learn.microsoft.com/entra/identity-platform/
//! how-to-add-credentials). So the evidence names both thumbprints of the certificate in use,
//! labelled, and says which one Entra ID quoted.

use crate::auth::EntraError;
use crate::auth::response::SigningCertificate;

/// Evidence lines for a refusal: Entra ID's quoted thumbprint with its kind, and, when
/// `about_credential` (the code is about the credential), the certificate in use with the
/// portal's SHA-1 "Thumbprint" and its SHA-256.
pub fn evidence(error: &EntraError, about_credential: bool) -> Vec<String> {
    let quoted = quoted_thumbprint(&error.error_description);
    let mut lines = Vec::new();
    if let Some(quoted) = &quoted {
        let kind = match quoted.len() {
            64 => "SHA-256, from the assertion's x5t#S256: the portal does not list this one",
            40 => "SHA-1: the portal lists it under Thumbprint",
            _ => "a key id",
        };
        lines.push(format!(
            "Entra ID's \"Thumbprint of key used by client\": {quoted} ({kind})"
        ));
    }
    if let Some(SigningCertificate {
        subject,
        thumbprint_sha1,
        thumbprint_sha256,
    }) = error.signed_with.as_ref().filter(|_| about_credential)
    {
        let same = quoted.as_deref().is_some_and(|q| {
            q.eq_ignore_ascii_case(thumbprint_sha1) || q.eq_ignore_ascii_case(thumbprint_sha256)
        });
        lines.push(format!(
            "certificate in use ({subject}): Thumbprint {thumbprint_sha1} (SHA-1, as Certificates \
             & secrets › Certificates lists it); SHA-256 {thumbprint_sha256}{}",
            if same {
                ": the key Entra ID did not find on the app"
            } else {
                ""
            }
        ));
    }
    lines
}

/// The value of "Thumbprint of key used by client: '…'" in an AADSTS description.
fn quoted_thumbprint(description: &str) -> Option<String> {
    const LABEL: &str = "Thumbprint of key used by client:";
    let start = description.find(LABEL)? + LABEL.len();
    let value: String = description[start..]
        .trim_start()
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_thumbprints_are_labelled_and_the_quoted_one_is_matched() {
        // The wording of the public tests/fixtures/real-world/cli-700027-m365-login-certificate-
        // key-not-found.txt; the SHA-256 is the demo's unregistered certificate's, as the demo
        // quotes it.
        let sha256 = "26C9C51A73C97F6E819A22D4222729C9FA0563D76AD46FC0C83009031D3F5CBC";
        let error = EntraError {
            error_description: format!(
                "AADSTS700027: Client assertion contains an invalid signature. [Reason - The key \
                 was not found., Thumbprint of key used by client: '{sha256}', Please visit …]"
            ),
            signed_with: Some(SigningCertificate {
                subject: "CN=daemon".into(),
                thumbprint_sha1: "1C74D736BEA6C95459FD38D02D0A2514A52FC9E9".into(),
                thumbprint_sha256: sha256.into(),
            }),
            ..EntraError::default()
        };
        assert_eq!(
            evidence(&error, true),
            [
                format!(
                    "Entra ID's \"Thumbprint of key used by client\": {sha256} (SHA-256, from the \
                     assertion's x5t#S256: the portal does not list this one)"
                ),
                format!(
                    "certificate in use (CN=daemon): Thumbprint \
                     1C74D736BEA6C95459FD38D02D0A2514A52FC9E9 (SHA-1, as Certificates & secrets › \
                     Certificates lists it); SHA-256 {sha256}: the key Entra ID did not find on \
                     the app"
                ),
            ]
        );
    }

    #[test]
    fn a_sha1_quote_without_a_local_certificate_is_named_too() {
        let error = EntraError {
            error_description: "Thumbprint of key used by client: \
                                '1C74D736BEA6C95459FD38D02D0A2514A52FC9E9', Please visit"
                .into(),
            ..EntraError::default()
        };
        assert_eq!(
            evidence(&error, true),
            ["Entra ID's \"Thumbprint of key used by client\": \
              1C74D736BEA6C95459FD38D02D0A2514A52FC9E9 (SHA-1: the portal lists it under \
              Thumbprint)"]
        );
        assert!(evidence(&EntraError::default(), true).is_empty());
    }
}
