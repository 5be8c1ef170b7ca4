//! How Entra ID reads the `scope` of a client-credentials request: exactly one
//! `{resource}/.default`, and the resource is everything before the last `/`
//! (`https://database.windows.net/.default` → `https://database.windows.net`,
//! `https://database.windows.net//.default` → `https://database.windows.net/`).

/// Why a scope is refused, with the AADSTS code Entra ID answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// One scope without `/.default` (a permission name, `openid`, ...): AADSTS1002012.
    MissingDefault,
    /// Several scopes, several resources, or no resource in front of `/.default`: AADSTS70011.
    Invalid,
}

/// The resource identifier a client-credentials scope names, exactly as Entra ID reads it.
pub fn resource_from_scope(scope: &str) -> Result<String, ScopeError> {
    let items: Vec<&str> = scope.split_whitespace().collect();
    let [item] = items.as_slice() else {
        return Err(ScopeError::Invalid);
    };
    match item.rfind('/') {
        Some(slash) if &item[slash..] == "/.default" => {
            if slash == 0 {
                Err(ScopeError::Invalid)
            } else {
                Ok(item[..slash].to_owned())
            }
        }
        _ if *item == ".default" => Err(ScopeError::Invalid),
        _ => Err(ScopeError::MissingDefault),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_is_everything_before_the_last_slash() {
        assert_eq!(
            resource_from_scope("https://database.windows.net/.default").as_deref(),
            Ok("https://database.windows.net")
        );
        assert_eq!(
            resource_from_scope("https://database.windows.net//.default").as_deref(),
            Ok("https://database.windows.net/")
        );
        assert_eq!(
            resource_from_scope("api://0580fc27-5a59-4256-bb3c-fa881957fdd7/.default").as_deref(),
            Ok("api://0580fc27-5a59-4256-bb3c-fa881957fdd7")
        );
    }

    #[test]
    fn permission_names_and_mixed_scopes_are_refused() {
        let missing = Err(ScopeError::MissingDefault);
        assert_eq!(
            resource_from_scope("https://graph.microsoft.com/User.Read.All"),
            missing
        );
        assert_eq!(resource_from_scope("User.Read.All"), missing);
        assert_eq!(resource_from_scope("openid"), missing);
        let invalid = Err(ScopeError::Invalid);
        assert_eq!(resource_from_scope("/.default"), invalid);
        assert_eq!(resource_from_scope(".default"), invalid);
        assert_eq!(resource_from_scope(""), invalid);
        assert_eq!(
            resource_from_scope(
                "https://graph.microsoft.com/.default https://x.sharepoint.com/.default"
            ),
            invalid
        );
    }
}
