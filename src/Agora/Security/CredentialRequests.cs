using System.Globalization;
using Agora.Errors;

namespace Agora.Security;

/// Reads what a new credential is for, the same for the admin API and the CLI.
internal static class CredentialRequests
{
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(90);
    private static readonly TimeSpan LongestLifetime = TimeSpan.FromDays(3650);

    public static CredentialRequest Parse(string? role, IReadOnlyList<string>? types, string? name, string? expiresIn, string? expiresAt, int? rateLimit, TimeProvider time)
    {
        if (!Roles.TryParse(role, out var parsed))
        {
            throw NgsiLdException.BadRequest("Invalid role", "role must be admin, provider or consumer.");
        }
        if (types is not null && (parsed != Role.Provider || types.Count == 0 || types.Any(string.IsNullOrWhiteSpace)))
        {
            throw NgsiLdException.BadRequest("Invalid entityTypes", "entityTypes limits a provider to a non-empty list of entity types; other roles take none.");
        }
        if (rateLimit is < 0)
        {
            throw NgsiLdException.BadRequest("Invalid rateLimit", "rateLimit must be 0 (none) or a positive number of requests per window.");
        }
        if (name is { Length: > 200 })
        {
            throw NgsiLdException.BadRequest("Invalid name", "name must be at most 200 characters.");
        }
        var now = time.GetUtcNow();
        var expires = expiresAt is not null
            ? DateTimeOffset.TryParse(expiresAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at
                : throw NgsiLdException.BadRequest("Invalid expiresAt", "expiresAt must be a date-time such as 2027-01-31T00:00:00Z.")
            : now + (expiresIn is null ? DefaultLifetime : Duration(expiresIn));
        if (expires <= now || expires - now > LongestLifetime)
        {
            throw NgsiLdException.BadRequest("Invalid expiry", "A credential must expire in the future and within ten years.");
        }
        return new CredentialRequest(parsed, types?.Select(SecurityAuthentication.ExpandType).Distinct().ToList(), name, expires, rateLimit);
    }

    /// "90d", "12h", "30m", or a .NET time span ("1.00:00:00").
    public static TimeSpan Duration(string value)
    {
        if (value.Length > 1 && long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 3650 * 24 * 60)
        {
            switch (value[^1])
            {
                case 'd': return TimeSpan.FromDays(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'm': return TimeSpan.FromMinutes(n);
            }
        }
        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span)
            ? span
            : throw NgsiLdException.BadRequest("Invalid expiresIn", "expiresIn must be like 90d, 12h or 30m.");
    }
}
