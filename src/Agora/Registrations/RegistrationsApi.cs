using System.Text.Json.Nodes;
using Agora.CsourceSubscriptions;
using Agora.Entities;
using Agora.Errors;
using Agora.Federation;
using Agora.NgsiLd;
using Agora.Storage;
using Agora.Subscriptions;

namespace Agora.Registrations;

/// The NGSI-LD context source registration operations (clauses 5.9 and 5.10; HTTP binding 6.8 and 6.9).
/// Registrations are stored and discovered here, and their changes notify context source registration subscriptions
/// (CsourceSubscriptions/); distributed operations, which act on them, are not yet.
internal static class RegistrationsApi
{
    private const string Path = "/ngsi-ld/v1/csourceRegistrations/";

    public static RouteGroupBuilder MapRegistrations(this RouteGroupBuilder group)
    {
        group.MapPost("/csourceRegistrations", Create);
        group.MapGet("/csourceRegistrations", Query);
        group.MapGet("/csourceRegistrations/{id}", Retrieve);
        group.MapPatch("/csourceRegistrations/{id}", Update);
        group.MapDelete("/csourceRegistrations/{id}", Delete);
        return group;
    }

    private static async Task<IResult> Create(HttpContext http, TenantStores tenants, CsourceNotifier notifier, SourceRegistry sources)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var now = DateTimeOffset.UtcNow;
        var doc = new RegistrationInput(context).Registration(body, now);
        doc["id"] ??= $"urn:ngsi-ld:ContextSourceRegistration:{Guid.NewGuid()}";
        var stamp = EntityInput.Timestamp(now);
        doc["createdAt"] = stamp;
        doc["modifiedAt"] = stamp;
        var store = tenants.GetOrCreate(tenant);
        await notifier.PrepareAsync(store, http.RequestAborted);
        var created = await store.WriteAsync(c =>
        {
            ExclusiveRegistrations.CheckOverlap(doc, RegistrationRows.All(c));
            if (!RegistrationRows.Insert(c, doc, stamp))
            {
                return false;
            }
            notifier.RegistrationChanged(c, store.Tenant, null, doc, now);
            return true;
        });
        sources.Changed(tenant);
        if (!created)
        {
            throw new NgsiLdException(ErrorTypes.AlreadyExists, "Registration exists", $"A context source registration with id {doc["id"]} exists already.");
        }
        return TypedResults.Created(Path + EntitiesApi.PathSegment((string)doc["id"]!));
    }

    private static async Task<IResult> Query(HttpContext http, TenantStores tenants)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, RegistrationQuery.Parameters);
        var context = await NgsiLdRequest.ContextAsync(http);
        var sysAttrs = SubscriptionsApi.SysAttrs(http);
        var paging = Paging.Parse(http.Request.Query);
        var query = RegistrationQuery.Parse(http.Request.Query, context);
        var (page, statuses, total) = tenants.Existing(tenant).Read(c =>
        {
            var matches = RegistrationRows.All(c).Where(query.Matches).ToList();
            var docs = matches.Skip(paging.Offset).Take(paging.Limit).ToList();
            return (docs, RegistrationRows.Statuses(c, docs.Select(d => (string)d["id"]!)), matches.Count);
        });
        paging.WriteCount(http.Response, total);
        foreach (var link in SubscriptionsApi.PageLinks(http.Request, paging.Offset, paging.Limit, total, mediaType))
        {
            http.Response.Headers.Append("Link", link);
        }
        var body = new JsonArray([.. page.Select(d => (JsonNode?)RegistrationOutput.Render(d, statuses.GetValueOrDefault((string)d["id"]!), context, sysAttrs))]);
        return new NgsiLdResult(body, context, mediaType);
    }

    private static async Task<IResult> Retrieve(HttpContext http, TenantStores tenants, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, "options");
        var context = await NgsiLdRequest.ContextAsync(http);
        var sysAttrs = SubscriptionsApi.SysAttrs(http);
        var (doc, status) = tenants.Existing(tenant).Read(c =>
            (RegistrationRows.Find(c, id) ?? throw NotFound(id), RegistrationRows.Statuses(c, [id]).GetValueOrDefault(id)));
        return new NgsiLdResult(RegistrationOutput.Render(doc, status, context, sysAttrs), context, mediaType);
    }

    private static async Task<IResult> Update(HttpContext http, TenantStores tenants, CsourceNotifier notifier, SourceRegistry sources, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var (fragment, context) = await NgsiLdRequest.BodyAsync(http, allowMergePatch: true);
        if (fragment.Count == 0)
        {
            throw NgsiLdException.BadRequest("Empty fragment", "The fragment names no member of the registration to change.");
        }
        var store = tenants.Existing(tenant);
        var now = DateTimeOffset.UtcNow;
        var stamp = EntityInput.Timestamp(now);
        var input = new RegistrationInput(context);
        await notifier.PrepareAsync(store, http.RequestAborted);
        // Read, merge and write in one transaction, so that two concurrent fragments cannot lose each other's members.
        var updated = await store.WriteAsync(c =>
        {
            var doc = RegistrationRows.Find(c, id);
            if (doc is null)
            {
                return false;
            }
            var before = (JsonObject)doc.DeepClone();
            input.Merge(doc, fragment, now);
            doc["modifiedAt"] = stamp;
            ExclusiveRegistrations.CheckOverlap(doc, RegistrationRows.All(c));
            if (!RegistrationRows.Update(c, doc, stamp))
            {
                return false;
            }
            notifier.RegistrationChanged(c, store.Tenant, before, doc, now);
            return true;
        });
        sources.Changed(tenant);
        return updated ? TypedResults.NoContent() : throw NotFound(id);
    }

    private static async Task<IResult> Delete(HttpContext http, TenantStores tenants, CsourceNotifier notifier, SourceRegistry sources, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var store = tenants.Existing(tenant);
        await notifier.PrepareAsync(store, http.RequestAborted);
        var deleted = await store.WriteAsync(c =>
        {
            if (RegistrationRows.Find(c, id) is not { } before || !RegistrationRows.Delete(c, id))
            {
                return false;
            }
            notifier.RegistrationChanged(c, store.Tenant, before, null, DateTimeOffset.UtcNow);
            return true;
        });
        sources.Changed(tenant);
        return deleted ? TypedResults.NoContent() : throw NotFound(id);
    }

    private static string CheckId(string id) =>
        Names.IsUri(id) ? id : throw NgsiLdException.BadRequest("Invalid registration id", $"'{Names.Shorten(id)}' is not a URI.");

    private static NgsiLdException NotFound(string id) =>
        NgsiLdException.NotFound("Registration not found", $"No context source registration has the id {id}.");
}
