using System.Security.Claims;
using System.Text.Json;
using Agora.JsonLd;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Agora.Security;

/// The credentials Agora accepts, as ASP.NET Core authentication schemes behind one policy scheme that picks by
/// the request: API keys; Agora's own tokens (the standard JWT bearer handler with the issuer's key); and tokens of
/// the city's identity provider (the same handler with the provider's metadata). Each turns its credential into
/// the claims of <see cref="Caller"/>.
internal static class SecurityAuthentication
{
    public const string Scheme = "Agora";
    public const string OwnTokenScheme = "AgoraToken";
    public const string ExternalScheme = "External";

    public static void AddSecurityAuthentication(this IServiceCollection services, SecurityOptions options, string issuer, IssuerKeys? keys, string? consumerClaim = null)
    {
        var authentication = services.AddAuthentication();
        authentication.AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.Name, null);
        authentication.AddPolicyScheme(Scheme, null, policy => policy.ForwardDefaultSelector = http => SchemeOf(http, issuer, options, keys));
        if (keys is not null)
        {
            authentication.AddJwtBearer(OwnTokenScheme, jwt =>
            {
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = issuer,
                    ValidAudience = options.Issuer.Audience,
                    IssuerSigningKey = keys.Signing,
                    ValidTypes = ["at+jwt"],
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                jwt.Events = new JwtBearerEvents { OnTokenValidated = OwnTokenValidated };
            });
        }
        if (!string.IsNullOrEmpty(options.Authority))
        {
            authentication.AddJwtBearer(ExternalScheme, jwt =>
            {
                jwt.Authority = options.Authority;
                jwt.Audience = options.Audience;
                jwt.MetadataAddress = options.MetadataAddress ?? "";
                jwt.RequireHttpsMetadata = options.RequireHttpsMetadata;
                jwt.MapInboundClaims = false;
                jwt.TokenValidationParameters.ClockSkew = TimeSpan.FromSeconds(30);
                jwt.Events = new JwtBearerEvents { OnTokenValidated = context => ExternalTokenValidated(context, options, consumerClaim) };
            });
        }
    }

    /// "ApiKey", "Bearer" or null: the kind of credential a request carries, for the scheme and the challenge.
    public static string? CredentialOf(HttpRequest request)
    {
        if (ApiKeyHandler.KeyOf(request) is not null)
        {
            return ApiKeyHandler.Name;
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.Length > 0 ? authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "Bearer" : "Other" : null;
    }

    // A bearer token goes to the handler of the issuer it names; the name is only a hint, each handler checks it.
    private static string SchemeOf(HttpContext http, string issuer, SecurityOptions options, IssuerKeys? keys)
    {
        if (CredentialOf(http.Request) != "Bearer")
        {
            return ApiKeyHandler.Name;
        }
        var external = !string.IsNullOrEmpty(options.Authority);
        if (keys is null)
        {
            return external ? ExternalScheme : ApiKeyHandler.Name;
        }
        if (!external)
        {
            return OwnTokenScheme;
        }
        try
        {
            var token = new JsonWebToken(http.Request.Headers.Authorization.ToString()["Bearer ".Length..].Trim());
            return token.Issuer == issuer ? OwnTokenScheme : ExternalScheme;
        }
        catch (ArgumentException)
        {
            return ExternalScheme;
        }
    }

    // Agora's tokens name one of its clients: a client revoked since is refused at once, not when its token expires.
    private static Task OwnTokenValidated(TokenValidatedContext context)
    {
        var id = context.Principal?.FindFirst("sub")?.Value;
        var store = context.HttpContext.RequestServices.GetRequiredService<SecurityStore>();
        var time = context.HttpContext.RequestServices.GetRequiredService<TimeProvider>();
        if (id is null || store.Find(CredentialKind.Client, id) is not { } found || !found.Credential.IsActive(time.GetUtcNow()))
        {
            context.Fail("The token's client is unknown, revoked or expired.");
            return Task.CompletedTask;
        }
        context.Principal = new ClaimsPrincipal(new ClaimsIdentity(Caller.Claims(found.Credential), OwnTokenScheme));
        return Task.CompletedTask;
    }

    // The provider's tokens are mapped by the configured claim names. A token without an Agora role stays
    // authenticated but without rights, which is a 403 that says so. A consumer's token names its consumer
    // organisation in the market's ConsumerClaim, when one is configured, as "oidc:" and the claim's value.
    private static Task ExternalTokenValidated(TokenValidatedContext context, SecurityOptions options, string? consumerClaim)
    {
        var principal = context.Principal!;
        var subject = principal.FindFirst("sub")?.Value ?? principal.FindFirst("azp")?.Value ?? principal.FindFirst("client_id")?.Value ?? "unknown";
        var tenant = principal.FindFirst(options.TenantClaim)?.Value ?? "";
        var roles = Values(principal, options.RoleClaim).Select(r => Roles.TryParse(r, out var role) ? role : (Role?)null).OfType<Role>().ToList();
        var identity = new ClaimsIdentity(ExternalScheme);
        if (roles.Count > 0)
        {
            var types = Values(principal, options.TypesClaim).Select(ExpandType).ToList();
            var role = roles.Min();
            // Namespaced, so that no account (signed up under the same name) can read through this organisation's agreements.
            var consumer = role == Role.Consumer && consumerClaim is { Length: > 0 } && Values(principal, consumerClaim).FirstOrDefault() is { } claimed
                ? Market.ConsumerNames.OfIdentity(claimed)
                : null;
            identity.AddClaims(Caller.Claims("oidc:" + subject, tenant, role, types.Count == 0 ? null : types, consumer: consumer));
        }
        context.Principal = new ClaimsPrincipal(identity);
        return Task.CompletedTask;
    }

    /// An entity type as a provider's limit holds it: an IRI as given, a bare name in the core context's vocabulary.
    public static string ExpandType(string type) => JsonLdContext.Core.ExpandTerm(type);

    // The values of a claim, or of a JSON path into one ("realm_access.roles"); arrays and space-separated lists
    // both count as several values.
    private static IEnumerable<string> Values(ClaimsPrincipal principal, string path)
    {
        var dot = path.IndexOf('.');
        var name = dot < 0 ? path : path[..dot];
        foreach (var claim in principal.FindAll(name))
        {
            if (dot < 0)
            {
                foreach (var value in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    yield return value;
                }
                continue;
            }
            JsonElement element;
            try
            {
                element = JsonDocument.Parse(claim.Value).RootElement;
            }
            catch (JsonException)
            {
                continue;
            }
            foreach (var step in path[(dot + 1)..].Split('.'))
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(step, out element))
                {
                    element = default;
                    break;
                }
            }
            if (element.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in element.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String))
                {
                    yield return item.GetString()!;
                }
            }
            else if (element.ValueKind == JsonValueKind.String)
            {
                yield return element.GetString()!;
            }
        }
    }
}
