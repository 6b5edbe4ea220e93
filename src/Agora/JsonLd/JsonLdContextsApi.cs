using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.NgsiLd;
using Agora.Security;
using Agora.Storage;

namespace Agora.JsonLd;

/// @context management (ETSI GS CIM 009 V1.8.1 clause 5.13, /jsonldContexts). Where the spec leaves room, the
/// behaviour follows the ETSI test suite: the core context is listed as Cached and cannot be deleted (reload=true is
/// a no-op success, it is built in); serving a Cached or ImplicitlyCreated context counts as a use of it.
/// Each request acts in its tenant (clause 5.5.10): a Hosted or ImplicitlyCreated context of another tenant is
/// listed, served and deleted as if it did not exist. Cached ones, copies of public documents, are listed and
/// served to every tenant, and only the default tenant, the city operator's, deletes or reloads them, since that
/// changes them for all.
internal static class JsonLdContextsApi
{
    private const string CoreLocalId = "ngsi-ld-core-context";

    public static RouteGroupBuilder MapJsonLdContexts(this RouteGroupBuilder group)
    {
        group.MapGet("/jsonldContexts", List);
        group.MapPost("/jsonldContexts", AddAsync);
        group.MapGet("/jsonldContexts/{**id}", Serve);
        group.MapDelete("/jsonldContexts/{**id}", DeleteAsync);
        return group;
    }

    private static IResult List(HttpContext http, ContextResolver resolver, string? details, string? kind)
    {
        var tenant = TenantOf(http);
        var withDetails = Flag(details, "details");
        ContextKind? only = kind switch
        {
            null => null,
            _ when Enum.TryParse<ContextKind>(kind, ignoreCase: false, out var k) && Enum.IsDefined(k) && !int.TryParse(kind, out _) => k,
            _ => throw NgsiLdException.BadRequest("Invalid kind", $"kind must be Hosted, Cached or ImplicitlyCreated, not \"{kind}\"."),
        };
        var result = new JsonArray();
        if (only is null or ContextKind.Cached)
        {
            result.Add(withDetails ? CoreInfo(JsonLdContext.CoreUrl) : JsonLdContext.CoreUrl);
        }
        foreach (var stored in resolver.Store.Current(tenant).Where(s => only is null || s.Kind == only).OrderBy(s => s.CreatedAt))
        {
            result.Add(withDetails ? Info(stored, http.Request) : UrlOf(stored, http.Request));
        }
        return Json(result);
    }

    private static async Task<IResult> AddAsync(HttpContext http, ContextResolver resolver, CancellationToken ct)
    {
        var tenant = TenantOf(http);
        var body = await NgsiLdRequest.ParseAsync(http);
        if (body is not JsonObject o || !o.TryGetPropertyValue("@context", out var context) || context is null || o.Count != 1)
        {
            throw NgsiLdException.Invalid("Invalid @context", "The body must be a JSON object with a single \"@context\" member.");
        }
        // Only the posted document itself is checked; the contexts it references are fetched when it is used, so
        // adding one never waits on (or fails because of) another server.
        var processor = new ContextProcessor((_, _) => ValueTask.FromResult(new LoadedContext(new JsonObject(), null)));
        await processor.ProcessAsync(context, ct);
        var stored = new StoredContext(Guid.NewGuid().ToString("N"), null, ContextKind.Hosted, tenant, context.DeepClone(), DateTimeOffset.UtcNow, null);
        resolver.Store.Add(stored);
        return TypedResults.Created(ContextUrls.PathOf(stored.LocalId));
    }

    private static IResult Serve(string id, HttpContext http, ContextResolver resolver, string? details)
    {
        var tenant = TenantOf(http);
        var withDetails = Flag(details, "details");
        id = Uri.UnescapeDataString(id);
        var core = id == CoreLocalId ? CoreVersions.V18 : CoreContext.VersionOf(id);
        if (core is { } version)
        {
            return withDetails ? Json(CoreInfo(id == CoreLocalId ? JsonLdContext.CoreUrl : id)) : Json(CoreContext.Document(version));
        }
        var stored = resolver.Store.FindCurrent(id, tenant) ?? throw NgsiLdException.NotFound("@context not found", $"No @context is known as {id}.");
        JsonNode answer = withDetails ? Info(stored, http.Request) : new JsonObject { ["@context"] = stored.Context.DeepClone() };
        if (stored.Kind != ContextKind.Hosted)
        {
            // Serving a context Agora keeps on behalf of its users is a use of it; the count shown is the one before.
            stored.Hit();
        }
        return Json(answer);
    }

    private static async Task<IResult> DeleteAsync(string id, HttpContext http, ContextResolver resolver, string? reload, CancellationToken ct)
    {
        var tenant = TenantOf(http);
        var withReload = Flag(reload, "reload");
        id = Uri.UnescapeDataString(id);
        if (CoreContext.VersionOf(id) is not null || id == CoreLocalId)
        {
            // The core context is built in: it cannot be removed, and "reloading" it leaves it as it is.
            return withReload
                ? TypedResults.NoContent()
                : throw NgsiLdException.BadRequest("The core @context cannot be deleted", $"{id} is the NGSI-LD core @context.");
        }
        var stored = resolver.Store.FindCurrent(id, tenant);
        if (stored is null)
        {
            throw withReload
                ? NgsiLdException.BadRequest("Nothing to reload", $"No Cached @context is known as {id}.")
                : NgsiLdException.NotFound("@context not found", $"No @context is known as {id}.");
        }
        if (stored.Kind == ContextKind.Cached && tenant != TenantStores.DefaultTenant)
        {
            throw SecurityErrors.Denied($"{id} is a Cached @context, a copy of a public document shared by every tenant: only the default tenant, the city operator's, deletes or reloads it.");
        }
        if (!withReload)
        {
            resolver.Store.Remove(stored);
            return TypedResults.NoContent();
        }
        if (stored.Kind != ContextKind.Cached)
        {
            throw NgsiLdException.BadRequest("Only Cached @contexts can be reloaded", $"{id} is {stored.Kind}; reload=true applies to Cached @contexts only.");
        }
        // On failure FetchAsync throws LdContextNotAvailable and the cached copy stays.
        await resolver.FetchAsync(stored.Url!, ct);
        return TypedResults.NoContent();
    }

    // The tenant of a request, checked as a tenant's name is wherever it is stored.
    private static string TenantOf(HttpContext http)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        TenantStores.Validate(tenant);
        return tenant;
    }

    private static bool Flag(string? value, string name) => value switch
    {
        null => false,
        _ when string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) => true,
        _ when string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) => false,
        _ => throw NgsiLdException.BadRequest($"Invalid {name}", $"{name} must be true or false, not \"{value}\"."),
    };

    private static string UrlOf(StoredContext stored, HttpRequest request) =>
        stored.Url ?? ContextUrls.Absolute(ContextUrls.PathOf(stored.LocalId), request);

    private static JsonObject Info(StoredContext stored, HttpRequest request)
    {
        var info = new JsonObject
        {
            ["URL"] = UrlOf(stored, request),
            ["localId"] = stored.LocalId,
            ["kind"] = stored.Kind.ToString(),
            ["createdAt"] = Timestamp(stored.CreatedAt),
            ["numberOfHits"] = stored.Hits,
        };
        if (stored.LastUsage is { } lastUsage)
        {
            info["lastUsage"] = Timestamp(lastUsage);
        }
        if (stored.ExpiresAt is { } expiresAt)
        {
            info["expiresAt"] = Timestamp(expiresAt);
        }
        return info;
    }

    private static JsonObject CoreInfo(string url) => new()
    {
        ["URL"] = url,
        ["localId"] = CoreLocalId,
        ["kind"] = nameof(ContextKind.Cached),
        ["createdAt"] = Timestamp(StartedAt),
        ["extraInfo"] = new JsonObject { ["builtIn"] = true },
    };

    private static readonly DateTimeOffset StartedAt = DateTimeOffset.UtcNow;

    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static IResult Json(JsonNode node) => TypedResults.Text(node.ToJsonString(), "application/json");
}
