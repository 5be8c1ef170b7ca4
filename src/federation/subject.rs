//! Who issued an external token, and what its subject says, in the documented shapes.
//!
//! Sources for the shapes:
//! - GitHub Actions: `repo:OWNER/REPO:environment:NAME`, `repo:OWNER/REPO:pull_request`,
//!   `repo:OWNER/REPO:ref:refs/heads/BRANCH`, `repo:OWNER/REPO:ref:refs/tags/TAG`
//!   (<https://docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect>);
//!   owners and repositories may carry their numeric ids (`OWNER@ID/REPO@ID`) with the immutable
//!   subject format (Azure/login#619).
//! - Kubernetes: `system:serviceaccount:NAMESPACE:NAME`
//!   (<https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/>).
//! - Terraform Cloud: `organization:ORG:project:PROJECT:workspace:WS:run_phase:plan|apply`
//!   (<https://developer.hashicorp.com/terraform/cloud-docs/workspaces/dynamic-provider-credentials/workload-identity-tokens>).
//! - GitLab: `project_path:GROUP/PROJECT:ref_type:branch|tag:ref:REF`
//!   (<https://docs.gitlab.com/ci/secrets/id_token_authentication/>).
//! - Google: the service account's numeric unique id; AWS (Cognito): `REGION:GUID`
//!   (<https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust>).

use serde::Serialize;

/// The identity provider a token's `iss` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerKind {
    #[serde(rename = "github-actions")]
    GitHubActions,
    /// An AKS cluster's OIDC issuer (`https://<region>.oic.prod-aks.azure.com/<tenant>/<id>/`).
    AksOidc,
    /// A Kubernetes API server's default issuer (`https://kubernetes.default.svc…`): the one a
    /// cluster uses when its OIDC issuer is not enabled.
    KubernetesDefault,
    #[serde(rename = "gitlab")]
    GitLab,
    TerraformCloud,
    Google,
    AwsCognito,
    /// Entra ID itself (`login.microsoftonline.com`, `sts.windows.net`).
    EntraId,
    Other,
}

impl IssuerKind {
    /// The kind of issuer `iss` names.
    pub fn of(iss: &str) -> Self {
        let parsed = url::Url::parse(iss).ok();
        let host = parsed
            .as_ref()
            .and_then(|u| u.host_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        match host.as_str() {
            "token.actions.githubusercontent.com" => Self::GitHubActions,
            "gitlab.com" => Self::GitLab,
            "app.terraform.io" | "app.eu.terraform.io" => Self::TerraformCloud,
            "accounts.google.com" => Self::Google,
            "cognito-identity.amazonaws.com" => Self::AwsCognito,
            "login.microsoftonline.com"
            | "sts.windows.net"
            | "login.microsoftonline.us"
            | "login.chinacloudapi.cn"
            | "login.partner.microsoftonline.cn" => Self::EntraId,
            h if h.ends_with(".oic.prod-aks.azure.com") => Self::AksOidc,
            h if h.starts_with("kubernetes.default.svc") => Self::KubernetesDefault,
            // The demo tenant's issuers play GitHub and an AKS cluster on loopback.
            _ if is_loopback(&host) => match parsed.as_ref().map(url::Url::path) {
                Some(p) if p.contains("/github-actions") => Self::GitHubActions,
                Some(p) if p.contains("/aks/") => Self::AksOidc,
                _ => Self::Other,
            },
            _ => Self::Other,
        }
    }

    /// A name for messages.
    pub fn label(self) -> &'static str {
        match self {
            Self::GitHubActions => "GitHub Actions",
            Self::AksOidc => "an AKS cluster's OIDC issuer",
            Self::KubernetesDefault => "a Kubernetes API server's default issuer",
            Self::GitLab => "GitLab",
            Self::TerraformCloud => "Terraform Cloud",
            Self::Google => "Google",
            Self::AwsCognito => "AWS (Cognito)",
            Self::EntraId => "Microsoft Entra ID",
            Self::Other => "an OIDC issuer",
        }
    }

    /// The subject shapes this issuer documents, for messages.
    pub fn expected_shapes(self) -> &'static [&'static str] {
        match self {
            Self::GitHubActions => &[
                "repo:OWNER/REPO:ref:refs/heads/BRANCH",
                "repo:OWNER/REPO:ref:refs/tags/TAG",
                "repo:OWNER/REPO:pull_request",
                "repo:OWNER/REPO:environment:NAME",
            ],
            Self::AksOidc | Self::KubernetesDefault => &["system:serviceaccount:NAMESPACE:NAME"],
            Self::GitLab => &["project_path:GROUP/PROJECT:ref_type:branch|tag:ref:REF"],
            Self::TerraformCloud => {
                &["organization:ORG:project:PROJECT:workspace:WORKSPACE:run_phase:plan|apply"]
            }
            Self::Google => &["the service account's numeric unique id"],
            Self::AwsCognito => &["REGION:GUID (the Cognito identity id)"],
            Self::EntraId | Self::Other => &[],
        }
    }
}

fn is_loopback(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// What a subject says, parsed along the documented shapes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SubjectShape {
    #[serde(rename = "github-branch")]
    GitHubBranch {
        repo: String,
        branch: String,
    },
    #[serde(rename = "github-tag")]
    GitHubTag {
        repo: String,
        tag: String,
    },
    #[serde(rename = "github-pull-request")]
    GitHubPullRequest {
        repo: String,
    },
    #[serde(rename = "github-environment")]
    GitHubEnvironment {
        repo: String,
        environment: String,
    },
    KubernetesServiceAccount {
        namespace: String,
        name: String,
    },
    #[serde(rename = "gitlab")]
    GitLab {
        project: String,
        ref_type: String,
        reference: String,
    },
    TerraformCloud {
        organization: String,
        rest: String,
    },
    GoogleId,
    AwsCognitoId,
    /// A subject of no documented shape.
    Unknown,
}

impl SubjectShape {
    /// Parses a subject.
    pub fn parse(sub: &str) -> Self {
        if let Some(rest) = sub.strip_prefix("repo:")
            && let Some((repo, entity)) = rest.split_once(':')
            && is_owner_repo(repo)
        {
            let repo = repo.to_owned();
            if entity == "pull_request" {
                return Self::GitHubPullRequest { repo };
            }
            if let Some(branch) = entity
                .strip_prefix("ref:refs/heads/")
                .filter(|b| !b.is_empty())
            {
                return Self::GitHubBranch {
                    repo,
                    branch: branch.to_owned(),
                };
            }
            if let Some(tag) = entity
                .strip_prefix("ref:refs/tags/")
                .filter(|t| !t.is_empty())
            {
                return Self::GitHubTag {
                    repo,
                    tag: tag.to_owned(),
                };
            }
            if let Some(environment) = entity
                .strip_prefix("environment:")
                .filter(|e| !e.is_empty())
            {
                return Self::GitHubEnvironment {
                    repo,
                    environment: environment.to_owned(),
                };
            }
            return Self::Unknown;
        }
        if let Some(rest) = sub.strip_prefix("system:serviceaccount:") {
            let mut parts = rest.split(':');
            if let (Some(ns), Some(name), None) = (parts.next(), parts.next(), parts.next())
                && is_dns_label(ns)
                && is_dns_subdomain(name)
            {
                return Self::KubernetesServiceAccount {
                    namespace: ns.to_owned(),
                    name: name.to_owned(),
                };
            }
            return Self::Unknown;
        }
        if let Some(rest) = sub.strip_prefix("project_path:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            if let [
                project,
                "ref_type",
                ref_type @ ("branch" | "tag"),
                "ref",
                reference,
            ] = parts.as_slice()
                && project.contains('/')
                && !reference.is_empty()
            {
                return Self::GitLab {
                    project: (*project).to_owned(),
                    ref_type: (*ref_type).to_owned(),
                    reference: (*reference).to_owned(),
                };
            }
            return Self::Unknown;
        }
        if let Some(rest) = sub.strip_prefix("organization:") {
            let parts: Vec<&str> = rest.split(':').collect();
            if parts.len() >= 7
                && parts[1] == "project"
                && parts[3] == "workspace"
                && parts[5] == "run_phase"
            {
                return Self::TerraformCloud {
                    organization: parts[0].to_owned(),
                    rest: parts[1..].join(":"),
                };
            }
            return Self::Unknown;
        }
        if !sub.is_empty() && sub.len() <= 30 && sub.bytes().all(|b| b.is_ascii_digit()) {
            return Self::GoogleId;
        }
        if let Some((region, id)) = sub.split_once(':')
            && region.contains('-')
            && uuid::Uuid::parse_str(id).is_ok()
        {
            return Self::AwsCognitoId;
        }
        Self::Unknown
    }

    /// The issuer kinds that mint subjects of this shape.
    pub fn fits(&self, issuer: IssuerKind) -> bool {
        match self {
            Self::GitHubBranch { .. }
            | Self::GitHubTag { .. }
            | Self::GitHubPullRequest { .. }
            | Self::GitHubEnvironment { .. } => issuer == IssuerKind::GitHubActions,
            Self::KubernetesServiceAccount { .. } => {
                matches!(issuer, IssuerKind::AksOidc | IssuerKind::KubernetesDefault)
            }
            Self::GitLab { .. } => issuer == IssuerKind::GitLab,
            Self::TerraformCloud { .. } => issuer == IssuerKind::TerraformCloud,
            Self::GoogleId => issuer == IssuerKind::Google,
            Self::AwsCognitoId => issuer == IssuerKind::AwsCognito,
            Self::Unknown => false,
        }
    }

    /// "branch 'main' of octo-org/octo-repo", for side-by-side differences.
    pub fn describe(&self) -> String {
        match self {
            Self::GitHubBranch { repo, branch } => format!("branch '{branch}' of {repo}"),
            Self::GitHubTag { repo, tag } => format!("tag '{tag}' of {repo}"),
            Self::GitHubPullRequest { repo } => format!("a pull request of {repo}"),
            Self::GitHubEnvironment { repo, environment } => {
                format!("environment '{environment}' of {repo}")
            }
            Self::KubernetesServiceAccount { namespace, name } => {
                format!("service account '{name}' in namespace '{namespace}'")
            }
            Self::GitLab {
                project,
                ref_type,
                reference,
            } => format!("{ref_type} '{reference}' of GitLab project {project}"),
            Self::TerraformCloud { organization, rest } => {
                format!("Terraform Cloud organization '{organization}' ({rest})")
            }
            Self::GoogleId => "a Google account id".to_owned(),
            Self::AwsCognitoId => "an AWS Cognito identity id".to_owned(),
            Self::Unknown => "a subject of no documented shape".to_owned(),
        }
    }

    /// The GitHub repository, for GitHub shapes.
    pub fn github_repo(&self) -> Option<&str> {
        match self {
            Self::GitHubBranch { repo, .. }
            | Self::GitHubTag { repo, .. }
            | Self::GitHubPullRequest { repo }
            | Self::GitHubEnvironment { repo, .. } => Some(repo),
            _ => None,
        }
    }

    /// The GitHub entity kind ("branch", "tag", "pull_request", "environment").
    pub fn github_entity(&self) -> Option<&'static str> {
        match self {
            Self::GitHubBranch { .. } => Some("branch"),
            Self::GitHubTag { .. } => Some("tag"),
            Self::GitHubPullRequest { .. } => Some("pull_request"),
            Self::GitHubEnvironment { .. } => Some("environment"),
            _ => None,
        }
    }
}

/// `OWNER/REPO`, optionally with numeric ids (`OWNER@123/REPO@456`).
fn is_owner_repo(text: &str) -> bool {
    let Some((owner, repo)) = text.split_once('/') else {
        return false;
    };
    let part = |p: &str| {
        let name = p.split_once('@').map_or(p, |(n, id)| {
            if id.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty() {
                n
            } else {
                ""
            }
        });
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    part(owner) && part(repo)
}

/// A namespace name: an RFC 1123 label.
fn is_dns_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && !text.starts_with('-')
        && !text.ends_with('-')
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A service account name: an RFC 1123 subdomain.
fn is_dns_subdomain(text: &str) -> bool {
    !text.is_empty() && text.len() <= 253 && text.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_subjects_parse_by_entity() {
        assert_eq!(
            SubjectShape::parse("repo:octo-org/octo-repo:ref:refs/heads/main"),
            SubjectShape::GitHubBranch {
                repo: "octo-org/octo-repo".into(),
                branch: "main".into()
            }
        );
        assert_eq!(
            SubjectShape::parse("repo:octo-org/octo-repo:pull_request"),
            SubjectShape::GitHubPullRequest {
                repo: "octo-org/octo-repo".into()
            }
        );
        assert_eq!(
            SubjectShape::parse("repo:octo-org/octo-repo:environment:Production"),
            SubjectShape::GitHubEnvironment {
                repo: "octo-org/octo-repo".into(),
                environment: "Production".into()
            }
        );
        assert_eq!(
            SubjectShape::parse("repo:octo-org@65/octo-repo@74:ref:refs/tags/v1.2"),
            SubjectShape::GitHubTag {
                repo: "octo-org@65/octo-repo@74".into(),
                tag: "v1.2".into()
            }
        );
        assert_eq!(
            SubjectShape::parse("repo:octo-org/octo-repo:workflow:x"),
            SubjectShape::Unknown
        );
    }

    #[test]
    fn kubernetes_and_other_subjects_parse() {
        assert_eq!(
            SubjectShape::parse("system:serviceaccount:payments:api-sa"),
            SubjectShape::KubernetesServiceAccount {
                namespace: "payments".into(),
                name: "api-sa".into()
            }
        );
        assert_eq!(
            SubjectShape::parse("system:serviceaccount:payments"),
            SubjectShape::Unknown
        );
        assert!(matches!(
            SubjectShape::parse("project_path:group/app:ref_type:branch:ref:main"),
            SubjectShape::GitLab { .. }
        ));
        assert!(matches!(
            SubjectShape::parse(
                "organization:acme:project:Default Project:workspace:prod:run_phase:apply"
            ),
            SubjectShape::TerraformCloud { .. }
        ));
        assert_eq!(
            SubjectShape::parse("113475438248934895348"),
            SubjectShape::GoogleId
        );
        assert_eq!(
            SubjectShape::parse("us-east-1:9f0c4a51-3b0e-4c4e-9d3c-0e6b6d8f2a11"),
            SubjectShape::AwsCognitoId
        );
    }

    #[test]
    fn issuers_are_recognised_by_host() {
        assert_eq!(
            IssuerKind::of("https://token.actions.githubusercontent.com"),
            IssuerKind::GitHubActions
        );
        assert_eq!(
            IssuerKind::of(
                "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/"
            ),
            IssuerKind::AksOidc
        );
        assert_eq!(
            IssuerKind::of("https://kubernetes.default.svc.cluster.local"),
            IssuerKind::KubernetesDefault
        );
        assert_eq!(IssuerKind::of("not a url"), IssuerKind::Other);
    }
}
