using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Query;
using Agora.Registrations;
using Agora.Storage;
using Agora.Subscriptions;

namespace Agora.CsourceSubscriptions;

/// The NGSI-LD context source registration subscription operations (clause 5.11; HTTP binding 6.10 and 6.11 under
/// /csourceSubscriptions). A csource subscription has the members of an entity subscription (clause 5.2.12), so it
/// is read, checked, stored and shown by the same code; what differs is what it watches: registrations.
internal static class CsourceSubscriptionsApi
{
    private const string Path = "/ngsi-ld/v1/csourceSubscriptions/";

    public static WebApplicationBuilder AddCsourceSubscriptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CsourceNotifier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CsourceNotifier>());
        return builder;
    }

    public static RouteGroupBuilder MapCsourceSubscriptions(this RouteGroupBuilder group)
    {
        group.MapPost("/csourceSubscriptions", Create);
        group.MapGet("/csourceSubscriptions", List);
        group.MapGet("/csourceSubscriptions/{id}", Retrieve);
        group.MapPatch("/csourceSubscriptions/{id}", Update);
        group.MapDelete("/csourceSubscriptions/{id}", Delete);
        return group;
    }

    private static async Task<IResult> Create(HttpContext http, TenantStores tenants, CsourceNotifier notifier)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var now = DateTimeOffset.UtcNow;
        var doc = new SubscriptionInput(context).Subscription(body, now);
        doc["id"] ??= $"urn:ngsi-ld:Subscription:{Guid.NewGuid()}";
        var subscription = await SubscriptionsApi.PrepareAsync(http, doc, context, writtenQ: true);
        CheckRegistrationMembers(subscription);
        var stamp = EntityInput.Timestamp(now);
        doc["createdAt"] = stamp;
        doc["modifiedAt"] = stamp;
        var store = tenants.GetOrCreate(tenant);
        var created = await store.WriteAsync(c =>
        {
            if (!CsourceSubscriptionRows.Insert(c, doc, stamp))
            {
                return false;
            }
            CsourceNotifier.Matching(c, subscription, now);
            return true;
        });
        if (!created)
        {
            throw new NgsiLdException(ErrorTypes.AlreadyExists, "Subscription exists", $"A context source registration subscription with id {doc["id"]} exists already.");
        }
        notifier.Schedule(store, subscription);
        return TypedResults.Created(Path + EntitiesApi.PathSegment((string)doc["id"]!));
    }

    private static Task<IResult> List(HttpContext http, TenantStores tenants) =>
        SubscriptionsApi.ListAsync(http, tenants, CsourceSubscriptionRows.Page, Render);

    private static Task<IResult> Retrieve(HttpContext http, TenantStores tenants, string id) =>
        SubscriptionsApi.RetrieveAsync(http, tenants, CheckId(NgsiLdRequest.PathValue(id)), CsourceSubscriptionRows.Find, Render, NotFound);

    private static async Task<IResult> Update(HttpContext http, TenantStores tenants, CsourceNotifier notifier, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var (doc, fragment, context, store, now) = await SubscriptionsApi.MergedAsync(http, tenants, id, CsourceSubscriptionRows.Find, NotFound);
        var subscription = await SubscriptionsApi.PrepareAsync(http, doc, context, writtenQ: fragment.ContainsKey("q") || fragment.ContainsKey("csf"));
        CheckRegistrationMembers(subscription);
        var stamp = EntityInput.Timestamp(now);
        doc["modifiedAt"] = stamp;
        var updated = await store.WriteAsync(c =>
        {
            if (!CsourceSubscriptionRows.Update(c, doc, stamp))
            {
                return false;
            }
            // An updated subscription reports what now matches it, as a new one does (ETSI 047_16).
            CsourceNotifier.Matching(c, subscription, now);
            return true;
        });
        if (!updated)
        {
            throw NotFound(id);
        }
        notifier.Schedule(store, subscription);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Delete(HttpContext http, TenantStores tenants, CsourceNotifier notifier, string id)
    {
        id = CheckId(NgsiLdRequest.PathValue(id));
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http);
        var store = tenants.Existing(tenant);
        if (!await store.WriteAsync(c => CsourceSubscriptionRows.Delete(c, id)))
        {
            throw NotFound(id);
        }
        notifier.Unschedule(store, id);
        return TypedResults.NoContent();
    }

    // What an entity subscription may say that means nothing for registrations: a geoQ over another member than
    // location, observationSpace or operationSpace, a csf that does not parse, or a temporalQ that a query of
    // registrations would refuse.
    private static void CheckRegistrationMembers(Subscription s)
    {
        if (s.Geo is { } geo && !RegistrationInput.GeoMembers.Contains(JsonLdContext.Core.CompactIri(geo.GeoProperty)))
        {
            throw SubscriptionInput.Bad("geoQ.geoproperty", $"a registration's geoproperty is location, observationSpace or operationSpace, not '{Names.Shorten(geo.GeoProperty)}'.");
        }
        if (s.Doc["csf"] is { } csf)
        {
            var text = SubscriptionInput.Text(csf, "csf");
            try
            {
                QExpression.Parse(text);
            }
            catch (NgsiLdException e) when (e.Status == 400)
            {
                throw SubscriptionInput.Bad("csf", e.Detail ?? e.Title);
            }
        }
        try
        {
            RegistrationQuery.Temporal(s.Doc);
        }
        catch (NgsiLdException e) when (e.Status == 400)
        {
            throw SubscriptionInput.Bad("temporalQ", e.Detail ?? e.Title);
        }
    }

    // notificationTrigger is about entities and attributes; a csource subscription has no such member to show.
    private static JsonObject Render(JsonObject doc, DeliveryStatus? status, JsonLdContext context, bool sysAttrs, DateTimeOffset now)
    {
        var result = SubscriptionOutput.Render(doc, status, context, sysAttrs, now);
        result.Remove("notificationTrigger");
        return result;
    }

    private static string CheckId(string id) =>
        Names.IsUri(id) ? id : throw NgsiLdException.BadRequest("Invalid subscription id", $"'{Names.Shorten(id)}' is not a URI.");

    private static NgsiLdException NotFound(string id) =>
        NgsiLdException.NotFound("Subscription not found", $"No context source registration subscription has the id {id}.");
}
