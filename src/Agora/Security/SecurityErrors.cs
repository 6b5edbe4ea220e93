using Agora.Errors;

namespace Agora.Security;

/// NGSI-LD (ETSI GS CIM 009) defines no error type for 401, 403 on access rights or 429. Agora uses these, in the
/// spec's namespace as peers do (Stellio answers AccessDenied), and the HTTP status says the rest.
internal static class SecurityErrors
{
    private const string Base = "https://uri.etsi.org/ngsi-ld/errors/";
    public const string Unauthorized = Base + "Unauthorized";
    public const string AccessDenied = Base + "AccessDenied";
    public const string TooManyRequests = Base + "TooManyRequests";

    public static NgsiLdException NotAuthenticated(string detail) => new(Unauthorized, "Unauthorized", detail, 401);

    public static NgsiLdException Denied(string detail) => new(AccessDenied, "Access denied", detail, 403);

    public static NgsiLdException Throttled(string detail) => new(TooManyRequests, "Too many requests", detail, 429);

    /// One answer for any tenant but the credential's own, whether that tenant exists or not.
    public static NgsiLdException ForeignTenant() =>
        Denied("This credential is valid for one tenant only, and NGSILD-Tenant names another; the right to access that tenant is missing.");
}
