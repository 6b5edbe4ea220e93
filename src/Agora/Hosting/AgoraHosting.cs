using System.Net;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Notifications;
using Agora.Security;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Hosting;

internal static class AgoraHosting
{
    public static WebApplicationBuilder AddAgora(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<HostEnded>();
        builder.Services.AddOptions<AgoraOptions>()
            .BindConfiguration(AgoraOptions.Section)
            .Validate(o => o.Port is > 0 and < 65536, "Agora:Port must be between 1 and 65535.")
            .Validate(o => o.MaxBodyBytes > 0, "Agora:MaxBodyBytes must be positive.")
            .Validate(o => o.Synchronous is "Normal" or "Full", "Agora:Synchronous must be Normal or Full.")
            .Validate(o => o.Host == "localhost" || IPAddress.TryParse(o.Host, out _), "Agora:Host must be an IP address or localhost.")
            .Validate<IOptions<SecurityOptions>>((o, security) => IsLoopback(o.Host) || security.Value.Secured,
                "Agora:Host must be a loopback address until security is configured (Agora:Security:Mode=Secured): an open broker is never exposed to a network.")
            .ValidateOnStart();

        var options = builder.Configuration.GetSection(AgoraOptions.Section).Get<AgoraOptions>() ?? new AgoraOptions();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            kestrel.AddServerHeader = false;
            // An address that fails validation is not listened on; validation stops the start with its reason.
            if (options.Host == "localhost" || IPAddress.TryParse(options.Host, out _))
            {
                kestrel.Listen(ParseHost(options.Host), options.Port);
            }
        });

        builder.Services.AddExceptionHandler<NgsiLdErrorHandler>();
        builder.Services.AddProblemDetails();
        builder.Services.AddHttpClient(ContextResolver.HttpClientName);
        builder.Services.AddSingleton<ContextResolver>();
        builder.Services.AddSingleton<TenantStores>();
        builder.Services.Configure<Federation.FederationOptions>(builder.Configuration.GetSection(Federation.FederationOptions.Section));
        builder.Services.AddHttpClient(Federation.SourceClient.ClientName, client =>
        {
            client.Timeout = Timeout.InfiniteTimeSpan;
            // A source's answer is read whole; one larger than this fails as that source's answer, not the request.
            client.MaxResponseContentBufferSize = 64 * 1024 * 1024;
        });
        builder.Services.AddSingleton<Federation.SourceRegistry>();
        builder.Services.AddSingleton<Federation.SourceClient>();
        builder.Services.AddSingleton<Federation.Distributed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TenantStores>());
        builder.AddNotifications();
        return builder;
    }

    public static WebApplication UseAgora(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/ngsi-ld/v1", StringComparison.Ordinal))
            {
                NgsiLdRequest.EchoTenant(http);
            }
            return next(http);
        });
        app.UseExceptionHandler();
        // An empty path segment is a missing id (e.g. /entities//attrs): say so, rather than 404 or 405.
        app.Use((http, next) => http.Request.Path.Value?.Contains("//", StringComparison.Ordinal) == true
            ? throw NgsiLdException.BadRequest("Missing id", $"The path {http.Request.Path} has an empty segment where an id belongs.")
            : next(http));
        app.UseStatusCodePages(async status =>
        {
            var http = status.HttpContext;
            if (http.Response.StatusCode == 404)
            {
                await NgsiLdErrorHandler.WriteAsync(http, NgsiLdException.NotFound("Not found", $"No resource at {http.Request.Path}."));
            }
            else if (http.Response.StatusCode == 405)
            {
                await NgsiLdErrorHandler.WriteAsync(http, new NgsiLdException(ErrorTypes.OperationNotSupported, "Method not allowed", $"{http.Request.Method} is not supported on {http.Request.Path}.", 405));
            }
        });

        var options = app.Services.GetRequiredService<IOptions<AgoraOptions>>().Value;
        if (app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.Secured)
        {
            app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation(
                "Agora is listening on http://{Host}:{Port}/ngsi-ld/v1 with its store in {Data}. Security is on: every NGSI-LD and administration request needs a credential.",
                options.Host, options.Port, Path.GetFullPath(options.Data)));
            return app;
        }
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            // Kestrel may also have been given endpoints by its own configuration (Kestrel:Endpoints): an open
            // broker stops rather than serve on any address that is not loopback.
            var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
            var exposed = addresses.Where(a => !IsLoopback(HostOf(a))).ToList();
            if (exposed.Count > 0)
            {
                app.Logger.LogCritical("Agora is open (no security configured) but was given the non-loopback address {Addresses}; it stops. Configure Agora:Security, or listen on loopback only.", string.Join(", ", exposed));
                Environment.ExitCode = 1;
                app.Lifetime.StopApplication();
                return;
            }
            app.Logger.LogWarning(
                "Agora is listening on http://{Host}:{Port}/ngsi-ld/v1 with its store in {Data}. Security is not configured: anyone who can reach this address may read and write, so Agora listens on loopback only.",
                options.Host, options.Port, Path.GetFullPath(options.Data));
        });
        return app;
    }

    private static bool IsLoopback(string host) =>
        host is "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    // The host of a server address such as http://127.0.0.1:1026 or http://[::1]:1026.
    private static string HostOf(string address) =>
        Uri.TryCreate(address.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            ? uri.Host.Trim('[', ']')
            : address;

    private static IPAddress ParseHost(string host) => host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
}
