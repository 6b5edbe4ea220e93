namespace Agora.Security;

/// The "Agora:Security" section. Without any of it Agora is open (and listens on loopback only); with Mode=Secured,
/// or an external identity provider named in Authority, every NGSI-LD and administration request needs a credential.
internal sealed class SecurityOptions
{
    public const string Section = "Agora:Security";

    /// "Open" or "Secured". Left empty, it is Secured when Authority is set and Open otherwise.
    public string? Mode { get; set; }

    /// The external OIDC provider's issuer URL (e.g. a Keycloak realm, https://sso.city.example/realms/city);
    /// its signing keys come from its discovery document. Empty: only Agora's own tokens and API keys are accepted.
    public string? Authority { get; set; }

    /// The audience the external provider puts in tokens meant for Agora ("aud"); required with Authority.
    public string? Audience { get; set; }

    /// Where the discovery document is, when not at {Authority}/.well-known/openid-configuration.
    public string? MetadataAddress { get; set; }

    /// Whether the discovery document must come over HTTPS. Only a test or a lab should turn this off.
    public bool RequireHttpsMetadata { get; set; } = true;

    /// Claim of an external token naming its tenant; absent means the default tenant.
    public string TenantClaim { get; set; } = "tenant";

    /// Claim of an external token holding its role(s): admin, provider or consumer. A dotted path reads into a
    /// JSON claim, as Keycloak's "realm_access.roles".
    public string RoleClaim { get; set; } = "roles";

    /// Claim of an external token listing the entity types (IRIs) a provider may write; absent means all.
    public string TypesClaim { get; set; } = "entity_types";

    /// Agora's own token endpoint (OAuth2 client credentials), for cities without an identity provider.
    public IssuerOptions Issuer { get; set; } = new();

    /// Requests one credential may make per window; over it the answer is 429 with Retry-After.
    public RateLimitOptions RateLimit { get; set; } = new();

    /// Audit entries older than this are deleted; 0 keeps them for ever.
    public int AuditRetentionDays { get; set; } = 365;

    public bool Secured => Mode is null or "" ? !string.IsNullOrEmpty(Authority) : Mode == "Secured";
}

internal sealed class IssuerOptions
{
    /// Whether POST /oauth2/token issues tokens (in Secured mode only).
    public bool Enabled { get; set; } = true;

    /// The "iss" of Agora's tokens. Empty: http://{Host}:{Port}/. Behind a reverse proxy, its public URL.
    public string? Uri { get; set; }

    /// The "aud" of Agora's tokens.
    public string Audience { get; set; } = "agora";

    /// How long an issued access token is valid.
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);
}

internal sealed class RateLimitOptions
{
    /// Requests per window for each credential; 0 turns rate limiting off. An API key may carry its own limit.
    public int PermitLimit { get; set; } = 100;

    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(1);
}
