//! What the tool knows about the operator's setup, to fill the fixes' placeholders.

/// Values for `{tenant}`, `{client_id}`, `{resource}`, `{scope}` and `{role}`. Unknown values
/// render as a readable stand-in (`<client-id>`), never as an unfilled `{placeholder}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FixContext {
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub resource: Option<String>,
    pub scope: Option<String>,
    pub role: Option<String>,
}

impl FixContext {
    /// Everything a validated request knows: tenant, client id, resource and scope. A managed
    /// identity's tenant (and client id, unless it was named by it) is not known until its token
    /// says it: [`FixContext::with_token`].
    pub fn for_request(request: &crate::auth::TokenRequest) -> Self {
        Self {
            tenant: request.known_tenant().map(ToString::to_string),
            client_id: request.known_client_id().map(str::to_owned),
            resource: Some(request.scopes.resource().to_owned()),
            scope: Some(request.scopes.to_request_value()),
            role: None,
        }
    }

    /// Fills what is not known from the token's own `tid` and `appid`/`azp`. Only a GUID is
    /// taken: a claim is attacker-shaped and lands in suggested commands.
    #[must_use]
    pub fn with_token(mut self, claims: &crate::token::Claims) -> Self {
        let guid = |value: Option<&str>| {
            value
                .filter(|v| crate::auth::tenant::is_guid(v))
                .map(str::to_owned)
        };
        if self.tenant.is_none() {
            self.tenant = guid(claims.tid.as_deref());
        }
        if self.client_id.is_none() {
            self.client_id = guid(claims.client_id());
        }
        self
    }

    /// Fills the placeholders of a catalog template; `{{` and `}}` stand for literal braces.
    pub fn render(&self, template: &str) -> String {
        let value = |name: &str| -> Option<String> {
            let (known, stand_in) = match name {
                "tenant" => (&self.tenant, "<tenant-id>"),
                "client_id" => (&self.client_id, "<client-id>"),
                "resource" => (&self.resource, "<resource>"),
                "scope" => (&self.scope, "<resource>/.default"),
                "role" => (&self.role, "<app-role>"),
                _ => return None,
            };
            Some(known.clone().unwrap_or_else(|| stand_in.to_owned()))
        };
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            if let Some(stripped) = after.strip_prefix("{{") {
                out.push('{');
                rest = stripped;
            } else if let Some(filled) = after
                .find('}')
                .and_then(|close| value(&after[1..close]).map(|v| (v, close)))
            {
                out.push_str(&filled.0);
                rest = &after[filled.1 + 1..];
            } else {
                out.push('{');
                rest = &after[1..];
            }
        }
        out.push_str(rest);
        out.replace("}}", "}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_known_values_and_stands_in_for_unknown_ones() {
        let context = FixContext {
            client_id: Some("abc".into()),
            ..FixContext::default()
        };
        assert_eq!(
            context.render("az ad app show --id {client_id} --tenant {tenant}"),
            "az ad app show --id abc --tenant <tenant-id>"
        );
        assert_eq!(
            context.render("@{{DisplayName='x'}} {unknown}"),
            "@{DisplayName='x'} {unknown}"
        );
    }
}
