using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Subscriptions;

/// The NGSI-LD subscription operations (clause 5.8; HTTP binding 6.10 and 6.11).
internal static class SubscriptionsApi
{
    /// A stored member (never shown): the context the client wrote the subscription in, which expands q.
    public const string RequestContext = "agora:requestContext";
    /// A stored member (never shown): the context notifications use when the client gave no jsonldContext, the
    /// one the subscription was created in. Kept apart from jsonldContext so that a read shows only what the
    /// client set (ETSI 028_06), and apart from requestContext so that a later update's context does not move it.
    public const string DefaultContext = "agora:defaultContext";
    private const string Path = "/ngsi-ld/v1/subscriptions/";

    public static WebApplicationBuilder AddSubscriptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SubscriptionEngine>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SubscriptionEngine>());
        return builder;
    }

    public static RouteGroupBuilder MapSubscriptions(this RouteGroupBuilder group)
    {
        group.MapPost("/subscriptions", Create);
        group.MapGet("/subscriptions", List);
        group.MapGet("/subscriptions/{id}", Retrieve);
        group.MapPatch("/subscriptions/{id}", Update);
        group.MapDelete("/subscriptions/{id}", Delete);
        return group;
    }

    private static async Task<IResult> Create(HttpContext http, TenantStores tenants, SubscriptionEngine engine)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var now = DateTimeOffset.UtcNow;
        var doc = new SubscriptionInput(context).Subscription(body, now);
        doc["id"] ??= $"urn:ngsi-ld:Subscription:{Guid.NewGuid()}";
        var subscription = await PrepareAsync(http, doc, context, writtenQ: true);
        var stamp = EntityInput.Timestamp(now);
        doc["createdAt"] = stamp;
        doc["modifiedAt"] = stamp;
        var store = tenants.GetOrCreate(tenant);
        var created = await store.WriteAsync(c => SubscriptionRows.Insert(c, doc, stamp));
        if (!created)
        {
            throw new NgsiLdException(ErrorTypes.AlreadyExists, "Subscription exists", $"A subscription with id {doc["id"]} exists already.");
        }
        engine.Put(store, subscription);
        return TypedResults.Created(Path + EntitiesApi.PathSegment((string)doc["id"]!));
    }

    private static Task<IResult> List(HttpContext http, TenantStores tenants) =>
        ListAsync(http, tenants, SubscriptionRows.Page, SubscriptionOutput.Render);

    /// A page of subscriptions (entity or context source ones, by page) with their delivery status, as render shows them.
    internal static async Task<IResult> ListAsync(HttpContext http, TenantStores tenants,
        Func<DbConnection, int, int, (List<JsonObject> Page, long Total)> page, Render render)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, "limit", "offset", "count", "options");
        var context = await NgsiLdRequest.ContextAsync(http);
        var sysAttrs = SysAttrs(http);
        var paging = Paging.Parse(http.Request.Query);
        var (docs, statuses, total) = tenants.Existing(tenant).Read(c =>
        {
            var (found, n) = page(c, paging.Offset, paging.Limit);
            return (found, SubscriptionRows.Statuses(c, found.Select(d => (string)d["id"]!)), n);
        });
        paging.WriteCount(http.Response, total);
        foreach (var link in PageLinks(http.Request, paging.Offset, paging.Limit, total, mediaType))
        {
            http.Response.Headers.Append("Link", link);
        }
        var now = DateTimeOffset.UtcNow;
        var body = new JsonArray([.. docs.Select(d => (JsonNode?)render(d, statuses.GetValueOrDefault((string)d["id"]!), context, sysAttrs, now))]);
        return new NgsiLdResult(body, context, mediaType);
    }

    internal delegate JsonObject Render(JsonObject doc, DeliveryStatus? status, JsonLdContext context, bool sysAttrs, DateTimeOffset now);

    /// The Link headers to the previous and next pages (NGSI-LD pagination: rel="prev" and rel="next"), each the
    /// same request with another offset.
    internal static IEnumerable<string> PageLinks(HttpRequest request, int offset, int limit, long total, string mediaType)
    {
        if (limit == 0)
        {
            yield break;
        }
        var others = string.Concat(request.Query
            .Where(p => p.Key is not ("limit" or "offset"))
            .SelectMany(p => p.Value.Select(v => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(v ?? "")}&")));
        // The collection's path without the trailing slash a client may have written (/subscriptions/).
        var path = $"{request.PathBase}{request.Path}".TrimEnd('/');
        string Link(int to, string rel) =>
            $"<{path}?{others}limit={limit}&offset={to}>;rel=\"{rel}\";type=\"{mediaType}\"";
        if (offset > 0)
        {
            yield return Link(Math.Max(0, offset - limit), "prev");
        }
        if (offset + limit < total)
        {
            yield return Link(offset + limit, "next");
        }
    }

    private static Task<IResult> Retrieve(HttpContext http, TenantStores tenants, string id) =>
        RetrieveAsync(http, tenants, CheckId(NgsiLdRequest.PathValue(id)), SubscriptionRows.Find, SubscriptionOutput.Render, NotFound);

    /// One subscription (entity or context source one, by find) with its delivery status, as render shows it.
    internal static async Task<IResult> RetrieveAsync(HttpContext http, TenantStores tenants, string id,
        Func<DbConnection, string, JsonObject?> find, Render render, Func<string, NgsiLdException> notFound)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, "options");
        var context = await NgsiLdRequest.ContextAsync(http);
        var sysAttrs = SysAttrs(http);
        var (doc, status) = tenants.Existing(tenant).Read(c =>
            (find(c, id) ?? throw notFound(id), SubscriptionRows.Statuses(c, [id]).GetValueOrDefault(id)));
        return new NgsiLdResult(render(doc, status, context, sysAttrs, DateTimeOffset.UtcNow), context, mediaType);
    }

    /// The stored subscription (entity or context source one, by find) with a PATCH body merged into it: the
    /// part of an update both kinds share. The caller validates and stores the result.
    internal static async Task<(JsonObject Doc, JsonObject Fragment, JsonLdContext Context, TenantStore Store, DateTimeOffset Now)> MergedAsync(
        HttpContext http, TenantStores tenants, string id, Func<DbConnection, string, JsonObject?> find, Func<string, NgsiLdException> notFound)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var (fragment, context) = await NgsiLdRequest.BodyAsync(http, allowMergePatch: true);
        if (fragment.Count == 0)
        {
            throw NgsiLdException.BadRequest("Empty fragment", "The fragment names no member of the subscription to change.");
        }
        var store = tenants.Existing(tenant);
        var now = DateTimeOffset.UtcNow;
        var doc = store.Read(c => find(c, id)) ?? throw notFound(id);
        new SubscriptionInput(context).Merge(doc, fragment, now);
        return (doc, fragment, context, store, now);
    }

    private static async Task<IResult> Update(HttpContext http, TenantStores tenants, SubscriptionEngine engine, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var (doc, fragment, context, store, now) = await MergedAsync(http, tenants, id, SubscriptionRows.Find, NotFound);
        var subscription = await PrepareAsync(http, doc, context, writtenQ: fragment.ContainsKey("q"));
        doc["modifiedAt"] = EntityInput.Timestamp(now);
        var updated = await store.WriteAsync(c =>
        {
            if (SubscriptionRows.Find(c, id) is null)
            {
                return false;
            }
            SubscriptionRows.Update(c, doc, EntityInput.Timestamp(now));
            return true;
        });
        if (!updated)
        {
            throw NotFound(id);
        }
        engine.Put(store, subscription);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Delete(HttpContext http, TenantStores tenants, SubscriptionEngine engine, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var store = tenants.Existing(tenant);
        var deleted = await store.WriteAsync(c => SubscriptionRows.Delete(c, id));
        if (!deleted)
        {
            throw NotFound(id);
        }
        engine.Remove(store, id);
        return TypedResults.NoContent();
    }

    /// Records the contexts of a created or merged subscription (entity or context source one) and parses it. The
    /// context of this request becomes q's when q was just written in it (writtenQ), as a fragment's names are in its
    /// own context; the first context a subscription was written in stays the default one of its notifications.
    internal static async ValueTask<Subscription> PrepareAsync(HttpContext http, JsonObject doc, JsonLdContext context, bool writtenQ)
    {
        var requestContext = ContextUrls.Absolute(context.LinkUrl, http.Request);
        if (writtenQ || doc[RequestContext] is null)
        {
            doc[RequestContext] = requestContext;
        }
        doc[DefaultContext] ??= requestContext;
        var queryContext = doc[RequestContext] is JsonValue stored && (string?)stored != requestContext
            ? await NgsiLdRequest.ResolveAsync(http, stored.DeepClone())
            : context;
        var notificationContext = await NotificationContextAsync(http, doc, context, requestContext);
        return Subscription.Of(doc, notificationContext, queryContext);
    }

    private static async ValueTask<JsonLdContext> NotificationContextAsync(HttpContext http, JsonObject doc, JsonLdContext requestContext, string requestUrl)
    {
        var url = Subscription.ContextUrlOf(doc);
        return url == requestUrl ? requestContext : await NgsiLdRequest.ResolveAsync(http, JsonValue.Create(url));
    }

    internal static bool SysAttrs(HttpContext http)
    {
        var sysAttrs = false;
        foreach (var option in RepresentationQuery.List(http.Request.Query, "options"))
        {
            sysAttrs = option == "sysAttrs"
                ? true
                : throw NgsiLdException.Invalid("Invalid options", $"'{Names.Shorten(option)}' is not an option of this operation; only sysAttrs is.");
        }
        return sysAttrs;
    }

    private static string CheckId(string id) =>
        Names.IsUri(id) ? id : throw NgsiLdException.BadRequest("Invalid subscription id", $"'{Names.Shorten(id)}' is not a URI.");

    private static NgsiLdException NotFound(string id) => NgsiLdException.NotFound("Subscription not found", $"No subscription has the id {id}.");
}
