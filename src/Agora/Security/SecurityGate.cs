using System.Globalization;
using System.Threading.RateLimiting;
using Agora.Errors;
using Agora.NgsiLd;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Agora.Security;

/// Every request to the NGSI-LD and administration APIs passes here in Secured mode, in this order: a valid
/// credential (else 401), its rate limit (else 429), its tenant (else 403, the same whether the other tenant
/// exists or not), its role, and a provider's entity types (else 403 naming the missing right). Each decision is
/// audited. It works on method and path, so endpoints added later are covered without being named.
internal sealed class SecurityGate(RequestDelegate next, AuditLog audit, IOptions<SecurityOptions> options) : IDisposable
{
    private const string Realm = "realm=\"agora\"";
    private readonly RateLimitOptions _limits = options.Value.RateLimit;
    private readonly PartitionedRateLimiter<Caller> _limiter = PartitionedRateLimiter.Create<Caller, string>(caller =>
        RateLimitPartition.GetFixedWindowLimiter(caller.CredentialId, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = caller.RateLimit ?? options.Value.RateLimit.PermitLimit,
            Window = options.Value.RateLimit.Window,
            QueueLimit = 0,
        }));

    public async Task InvokeAsync(HttpContext http)
    {
        if (!AccessRules.IsGuarded(http.Request))
        {
            await next(http);
            return;
        }
        var requested = http.Request.Headers[NgsiLdRequest.TenantHeader].ToString().Trim();
        var result = await http.AuthenticateAsync(SecurityAuthentication.Scheme);
        if (!result.Succeeded)
        {
            var (challenge, detail) = Challenge(http.Request, result);
            await audit.WriteAsync(http, requested, null, AuditLog.Unauthenticated, detail);
            http.Response.OnStarting(() =>
            {
                http.Response.Headers.WWWAuthenticate = challenge;
                return Task.CompletedTask;
            });
            await NgsiLdErrorHandler.WriteAsync(http, SecurityErrors.NotAuthenticated(detail), http.RequestAborted);
            return;
        }
        http.User = result.Principal!;
        var caller = Caller.Of(http.User);
        if (caller is null)
        {
            await DenyAsync(http, requested, null, SecurityErrors.Denied("The credential carries no role of Agora (admin, provider or consumer), so it has no right here."));
            return;
        }
        if ((caller.RateLimit ?? _limits.PermitLimit) > 0)
        {
            using var lease = _limiter.AttemptAcquire(caller);
            if (!lease.IsAcquired)
            {
                var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : _limits.Window;
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                await audit.WriteAsync(http, caller.Tenant, caller.CredentialId, AuditLog.Throttled, "rate limit reached");
                http.Response.OnStarting(() =>
                {
                    http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                    return Task.CompletedTask;
                });
                await NgsiLdErrorHandler.WriteAsync(http, SecurityErrors.Throttled(
                    $"This credential may make {caller.RateLimit ?? _limits.PermitLimit} requests per {_limits.Window.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; retry after {seconds} s."), http.RequestAborted);
                return;
            }
        }
        if (requested != caller.Tenant)
        {
            await DenyAsync(http, caller.Tenant, caller.CredentialId, SecurityErrors.ForeignTenant());
            return;
        }
        var need = AccessRules.NeedOf(http.Request);
        if (!caller.Role.Covers(need.Role))
        {
            await DenyAsync(http, caller.Tenant, caller.CredentialId, SecurityErrors.Denied(
                $"{http.Request.Method} {http.Request.Path} needs the right to {need.Right}: role {Roles.Name(need.Role)} or stronger; this credential has role {Roles.Name(caller.Role)} in {TenantName(caller.Tenant)}."));
            return;
        }
        if (caller is { Role: Role.Provider, Types: not null } && need.Role == Role.Provider && await TypeGuard.CheckAsync(http, caller) is { } outside)
        {
            await DenyAsync(http, caller.Tenant, caller.CredentialId, SecurityErrors.Denied(outside));
            return;
        }
        await audit.WriteAsync(http, caller.Tenant, caller.CredentialId, AuditLog.Allowed, null);
        await next(http);
    }

    private async Task DenyAsync(HttpContext http, string tenant, string? actor, NgsiLdException error)
    {
        await audit.WriteAsync(http, tenant, actor, AuditLog.Denied, error.Detail);
        await NgsiLdErrorHandler.WriteAsync(http, error, http.RequestAborted);
    }

    private static string TenantName(string tenant) => tenant == "" ? "the default tenant" : $"tenant '{tenant}'";

    // RFC 6750: no error code when no credential was sent, invalid_token when one was and failed. The description
    // is Agora's own, never the validator's message, which could quote the token.
    private static (string[] Challenge, string Detail) Challenge(HttpRequest request, AuthenticateResult result)
    {
        var kind = SecurityAuthentication.CredentialOf(request);
        if (kind is null || result.None && kind != "Bearer")
        {
            var missing = kind is null
                ? "The request carries no credential: send Authorization: Bearer <token>, Authorization: ApiKey <key> or X-Api-Key."
                : "The Authorization header is neither Bearer nor ApiKey.";
            return ([$"Bearer {Realm}", $"ApiKey {Realm}"], missing);
        }
        var detail = kind == ApiKeyHandler.Name ? result.Failure?.Message ?? "The API key is invalid." : TokenProblem(result.Failure);
        var scheme = kind == ApiKeyHandler.Name ? "ApiKey" : "Bearer";
        return ([$"{scheme} {Realm}, error=\"invalid_token\", error_description=\"{detail}\""], detail);
    }

    private static string TokenProblem(Exception? failure) => failure switch
    {
        null => "Bearer tokens are not accepted here: no issuer is configured.",
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidAudienceException => "The token is not meant for this audience.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted.",
        SecurityTokenInvalidSignatureException => "The token's signature is invalid.",
        SecurityTokenInvalidTypeException => "The token is not an access token.",
        SecurityTokenMalformedException or ArgumentException => "The token is malformed.",
        { Message: "The token's client is unknown, revoked or expired." } => failure.Message,
        _ => "The token is invalid.",
    };

    public void Dispose() => _limiter.Dispose();
}
