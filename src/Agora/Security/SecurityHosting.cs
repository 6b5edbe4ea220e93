using Agora.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Agora.Security;

/// Wires security into the host. Open mode adds nothing to the request path; Secured mode adds the token
/// endpoint, the authentication schemes and the gate in front of the NGSI-LD and administration APIs.
internal static class SecurityHosting
{
    public static WebApplicationBuilder AddSecurity(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecurityOptions>()
            .BindConfiguration(SecurityOptions.Section)
            .Validate(o => o.Mode is null or "" or "Open" or "Secured", "Agora:Security:Mode must be Open or Secured.")
            .Validate(o => !(o.Mode == "Open" && !string.IsNullOrEmpty(o.Authority)), "Agora:Security:Authority configures an identity provider, which needs Mode=Secured.")
            .Validate(o => string.IsNullOrEmpty(o.Authority) || !string.IsNullOrEmpty(o.Audience), "Agora:Security:Audience is required with Authority: a token for another service must not be accepted here.")
            .Validate(o => o.RateLimit.PermitLimit >= 0 && o.RateLimit.Window > TimeSpan.Zero, "Agora:Security:RateLimit needs PermitLimit >= 0 and a positive Window.")
            .Validate(o => o.AuditRetentionDays >= 0, "Agora:Security:AuditRetentionDays must not be negative.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SecurityStore>();
        builder.Services.AddSingleton<Credentials>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuditLog>());
        builder.Services.KeepTokensOutOfLogs();

        var options = builder.Configuration.GetSection(SecurityOptions.Section).Get<SecurityOptions>() ?? new SecurityOptions();
        if (options.Secured)
        {
            var agora = builder.Configuration.GetSection(AgoraOptions.Section).Get<AgoraOptions>() ?? new AgoraOptions();
            var issuer = IssuerOf(options, agora);
            var keys = options.Issuer.Enabled ? IssuerKeys.LoadOrCreate(agora.Data) : null;
            if (keys is not null)
            {
                builder.Services.AddTokenIssuer(options, issuer, keys);
            }
            var consumerClaim = builder.Configuration.GetSection(Market.MarketOptions.Section).Get<Market.MarketOptions>()?.ConsumerClaim;
            builder.Services.AddSecurityAuthentication(options, issuer, keys, consumerClaim);
        }
        return builder;
    }

    /// Whether Agora runs Secured: the administration and market APIs exist in that mode only.
    public static bool IsSecured(this IEndpointRouteBuilder app) =>
        app.ServiceProvider.GetRequiredService<IOptions<SecurityOptions>>().Value.Secured;

    public static WebApplication UseSecurity(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.Secured)
        {
            // The authentication middleware runs OpenIddict's token endpoint and nothing else; the gate
            // authenticates by itself. WebApplication adds the middleware to the whole pipeline when it was not
            // added to it (it looks for this property, which UseAuthentication sets), so the property says it was.
            app.UseWhen(http => TokenIssuer.Serves(http.Request.Path), issuer => issuer.UseAuthentication());
            ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
            app.UseMiddleware<SecurityGate>();
        }
        return app;
    }

    /// The "iss" of Agora's own tokens: as configured, else this node's own address.
    public static string IssuerOf(SecurityOptions options, AgoraOptions agora)
    {
        var host = System.Net.IPAddress.TryParse(agora.Host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{agora.Host}]"
            : agora.Host;
        var uri = options.Issuer.Uri is { Length: > 0 } configured ? configured : $"http://{host}:{agora.Port}/";
        return uri.EndsWith('/') ? uri : uri + "/";
    }
}
