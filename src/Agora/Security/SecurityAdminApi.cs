using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.NgsiLd;
using Microsoft.Extensions.Options;

namespace Agora.Security;

/// The administration API of a tenant: its API keys, its OAuth2 clients and its audit log. A tenant's admin sees
/// and changes its own tenant's only; an id of another tenant's credential is answered as unknown.
internal static class SecurityAdminApi
{
    private const string JsonLines = "application/x-ndjson";

    /// The administration API exists in Secured mode only: open, anyone on this machine could mint an admin
    /// key that stays valid once security is switched on. The first key comes from `agora admin create-key`.
    public static IEndpointRouteBuilder MapSecurityAdmin(this IEndpointRouteBuilder app)
    {
        if (!app.IsSecured())
        {
            return app;
        }
        var admin = app.MapGroup(AccessRules.AdminBase);
        MapCredentials(admin, "apikeys", CredentialKind.ApiKey);
        MapCredentials(admin, "clients", CredentialKind.Client);
        admin.MapGet("/audit", AuditAsync);
        return app;
    }

    private static void MapCredentials(RouteGroupBuilder admin, string path, CredentialKind kind)
    {
        admin.MapPost($"/{path}", (HttpContext http, Credentials credentials, AuditLog audit) => CreateAsync(http, credentials, audit, kind, path));
        admin.MapGet($"/{path}", (HttpContext http, SecurityStore store) =>
            TypedResults.Ok(store.List(kind, TenantOf(http)).Select(c => View(c, http))));
        admin.MapGet($"/{path}/{{id}}", (HttpContext http, SecurityStore store, string id) =>
            Results.Ok(View(Own(store, http, kind, id), http)));
        admin.MapDelete($"/{path}/{{id}}", async (HttpContext http, SecurityStore store, AuditLog audit, TimeProvider time, string id) =>
        {
            var tenant = TenantOf(http);
            if (!store.Revoke(kind, tenant, id, time.GetUtcNow()))
            {
                throw UnknownCredential(id);
            }
            await audit.WriteAsync(http, tenant, Caller.Of(http.User)?.CredentialId, AuditLog.Changed, $"revoked {Noun(kind)} {id}");
            return Results.NoContent();
        });
    }

    private static async Task<IResult> CreateAsync(HttpContext http, Credentials credentials, AuditLog audit, CredentialKind kind, string path)
    {
        var tenant = TenantOf(http);
        var body = await JsonNode.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted) as JsonObject
            ?? throw NgsiLdException.BadRequest("Invalid payload", "The body must be a JSON object with at least \"role\".");
        var request = CredentialRequests.Parse(
            Text(body, "role"), Types(body), Text(body, "name"), Text(body, "expiresIn"), Text(body, "expiresAt"), RateLimit(body),
            http.RequestServices.GetRequiredService<TimeProvider>());
        var (credential, secret) = kind == CredentialKind.ApiKey ? credentials.CreateApiKey(tenant, request) : credentials.CreateClient(tenant, request);
        await audit.WriteAsync(http, tenant, Caller.Of(http.User)?.CredentialId, AuditLog.Changed,
            $"created {Noun(kind)} {credential.Id} with role {Roles.Name(credential.Role)}");
        var view = View(credential, http);
        // The secret is in this answer and nowhere else, ever: only its hash is kept.
        if (kind == CredentialKind.ApiKey)
        {
            view["key"] = secret;
        }
        else
        {
            view["clientSecret"] = secret;
        }
        http.Response.Headers.Location = $"{AccessRules.AdminBase}/{path}/{credential.Id}";
        return Results.Json(view, statusCode: 201);
    }

    private static async Task AuditAsync(HttpContext http, SecurityStore store, AuditLog audit, string? from, string? to, string? actor,
        string? decision, string? limit, string? after, string? format)
    {
        var tenant = TenantOf(http);
        var lines = format == "jsonl" || http.Request.Headers.Accept.ToString().Contains(JsonLines, StringComparison.OrdinalIgnoreCase);
        if (format is not (null or "json" or "jsonl"))
        {
            throw NgsiLdException.BadRequest("Invalid format", "format must be json or jsonl.");
        }
        // Parsed here rather than bound, so that a bad value is an NGSI-LD error like any other.
        var count = limit is null ? (lines ? int.MaxValue : 1000)
            : int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
            : throw NgsiLdException.BadRequest("Invalid limit", "limit must be a positive integer.");
        var since = after is null ? 0
            : long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) ? seq
            : throw NgsiLdException.BadRequest("Invalid after", "after must be the seq of an audit entry.");
        var query = new AuditQuery(Instant(from, "from"), Instant(to, "to"), actor, decision, count, since);
        await audit.FlushAsync(http.RequestAborted);
        var response = http.Response;
        response.ContentType = lines ? JsonLines : "application/json";
        var first = true;
        await response.WriteAsync(lines ? "" : "[", http.RequestAborted);
        foreach (var entry in store.Audit(tenant, query))
        {
            var json = JsonSerializer.Serialize(new JsonObject
            {
                ["seq"] = entry.Seq,
                ["time"] = entry.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                ["tenant"] = entry.Tenant,
                ["actor"] = entry.Actor,
                ["action"] = entry.Action,
                ["decision"] = entry.Decision,
                ["reason"] = entry.Reason,
                ["client"] = entry.Client,
            });
            await response.WriteAsync(lines ? json + "\n" : (first ? "" : ",") + json, http.RequestAborted);
            first = false;
        }
        await response.WriteAsync(lines ? "" : "]", http.RequestAborted);
    }

    /// The tenant an admin request acts on: the credential's in Secured mode (the gate has checked NGSILD-Tenant
    /// against it), the NGSILD-Tenant header in Open mode.
    private static string TenantOf(HttpContext http) =>
        Caller.Of(http.User)?.Tenant ?? http.Request.Headers[NgsiLdRequest.TenantHeader].ToString().Trim();

    private static Credential Own(SecurityStore store, HttpContext http, CredentialKind kind, string id) =>
        store.Find(kind, id) is { } found && found.Credential.Tenant == TenantOf(http) ? found.Credential : throw UnknownCredential(id);

    private static NgsiLdException UnknownCredential(string id) =>
        NgsiLdException.NotFound("Credential not found", $"This tenant has no active credential '{id}'.");

    private static string Noun(CredentialKind kind) => kind == CredentialKind.ApiKey ? "API key" : "OAuth2 client";

    private static JsonObject View(Credential c, HttpContext http)
    {
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var view = new JsonObject
        {
            ["id"] = c.Id,
            ["tenant"] = c.Tenant,
            ["role"] = Roles.Name(c.Role),
            ["entityTypes"] = c.Types is null ? null : new JsonArray([.. c.Types.Select(t => JsonValue.Create(t))]),
            ["name"] = c.Name,
            ["createdAt"] = c.CreatedAt,
            ["expiresAt"] = c.ExpiresAt,
            ["revokedAt"] = c.RevokedAt,
            ["rateLimit"] = c.RateLimit,
            ["active"] = c.IsActive(now),
        };
        if (c.Kind == CredentialKind.Client)
        {
            view["clientId"] = c.Id;
            view["tokenEndpoint"] = TokenIssuer.TokenPath;
            var options = http.RequestServices.GetRequiredService<IOptions<SecurityOptions>>().Value;
            view["audience"] = options.Issuer.Audience;
        }
        return view;
    }

    private static List<string>? Types(JsonObject body) => body["entityTypes"] switch
    {
        null => null,
        JsonArray a when a.All(t => t is JsonValue v && v.TryGetValue<string>(out _)) => [.. a.Select(t => t!.GetValue<string>())],
        _ => throw NgsiLdException.BadRequest("Invalid payload", "\"entityTypes\" must be an array of strings."),
    };

    private static int? RateLimit(JsonObject body) => body["rateLimit"] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<int>(out var n) => n,
        _ => throw NgsiLdException.BadRequest("Invalid payload", "\"rateLimit\" must be an integer."),
    };

    private static string? Text(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw NgsiLdException.BadRequest("Invalid payload", $"\"{name}\" must be a string."),
    };

    private static DateTimeOffset? Instant(string? value, string name) =>
        value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t
        : throw NgsiLdException.BadRequest("Invalid " + name, $"{name} must be a date-time such as 2026-01-31T00:00:00Z.");
}
