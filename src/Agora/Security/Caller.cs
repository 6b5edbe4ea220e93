using System.Security.Claims;

namespace Agora.Security;

/// The roles of a tenant, strongest first: an admin may do everything a provider may, a provider everything a
/// consumer may.
internal enum Role
{
    Admin,
    Provider,
    Consumer,
}

internal static class Roles
{
    public static string Name(Role role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out Role role)
    {
        role = value switch
        {
            "admin" => Role.Admin,
            "provider" => Role.Provider,
            "consumer" => Role.Consumer,
            _ => (Role)(-1),
        };
        return Enum.IsDefined(role);
    }

    /// Whether a credential of this role holds the rights of the other.
    public static bool Covers(this Role held, Role needed) => held <= needed;
}

/// Who sent a request, whichever credential it came with: one tenant, one role and, for a provider, optionally
/// the entity types it may write. Every authentication handler turns its credential into these claims, so that
/// authorization reads one shape. A consumer key issued by the marketplace also names its agreement, whose terms
/// then bound every read, or its consumer organisation, whose active agreements together bound every read
/// (Market/MarketGate).
internal sealed record Caller(
    string CredentialId, string Tenant, Role Role, IReadOnlySet<string>? Types, int? RateLimit = null, string? Agreement = null, string? Consumer = null)
{
    public const string CredentialClaim = "agora:credential";
    public const string TenantClaim = "agora:tenant";
    public const string RoleClaim = "agora:role";
    public const string TypeClaim = "agora:type";
    public const string RateLimitClaim = "agora:rate";
    public const string AgreementClaim = "agora:agreement";
    public const string ConsumerClaim = "agora:consumer";

    public static IEnumerable<Claim> Claims(Credential credential) =>
        Claims(credential.Id, credential.Tenant, credential.Role, credential.Types, credential.RateLimit, credential.Agreement, credential.Consumer);

    public static IEnumerable<Claim> Claims(
        string credentialId, string tenant, Role role, IEnumerable<string>? types, int? rateLimit = null, string? agreement = null, string? consumer = null)
    {
        yield return new Claim(CredentialClaim, credentialId);
        yield return new Claim(TenantClaim, tenant);
        yield return new Claim(RoleClaim, Roles.Name(role));
        foreach (var type in types ?? [])
        {
            yield return new Claim(TypeClaim, type);
        }
        if (rateLimit is { } limit)
        {
            yield return new Claim(RateLimitClaim, limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (agreement is not null)
        {
            yield return new Claim(AgreementClaim, agreement);
        }
        if (consumer is not null)
        {
            yield return new Claim(ConsumerClaim, consumer);
        }
    }

    public static Caller? Of(ClaimsPrincipal user)
    {
        var id = user.FindFirst(CredentialClaim)?.Value;
        var tenant = user.FindFirst(TenantClaim)?.Value;
        if (id is null || tenant is null || !Roles.TryParse(user.FindFirst(RoleClaim)?.Value, out var role))
        {
            return null;
        }
        var types = user.FindAll(TypeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        var rate = int.TryParse(user.FindFirst(RateLimitClaim)?.Value, System.Globalization.CultureInfo.InvariantCulture, out var r) ? r : (int?)null;
        return new Caller(id, tenant, role, types.Count == 0 ? null : types, rate, user.FindFirst(AgreementClaim)?.Value, user.FindFirst(ConsumerClaim)?.Value);
    }
}
