using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Agora.Security;

/// Authenticates "Authorization: ApiKey agora_…" or "X-Api-Key: agora_…".
internal sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Credentials credentials)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Name = "ApiKey";
    public const string Header = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (KeyOf(Request) is not { } key)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        if (credentials.VerifyApiKey(key) is not { } credential)
        {
            return Task.FromResult(AuthenticateResult.Fail("The API key is unknown, revoked or expired."));
        }
        var identity = new ClaimsIdentity(Caller.Claims(credential), Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Name)));
    }

    public static string? KeyOf(HttpRequest request)
    {
        if (request.Headers[Header] is { Count: > 0 } header)
        {
            return header.ToString().Trim();
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith(Name + " ", StringComparison.OrdinalIgnoreCase) ? authorization[(Name.Length + 1)..].Trim() : null;
    }
}
