using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Discovery;
using Agora.Entities;
using Agora.Errors;
using Agora.NgsiLd;
using Agora.Security;
using Agora.Storage;
using Agora.Temporal;
using Microsoft.AspNetCore.Http.Features;

namespace Agora.Market;

/// Enforces agreements inside the broker. A request whose credential carries an agreement (a key the market
/// issued) is held to that agreement after the security gate has let it in: the agreement must be active, the
/// read is narrowed to its scope (Narrowing, by rewriting the request's parameters or Query object, so every
/// query path runs unchanged), the call is counted against its daily quota before it runs, and the entities
/// and bytes it returns are counted after. A credential of a consumer organisation is held to the union of that
/// consumer's active agreements (MarketGate.Union.cs). Every denial is audited. Requests without an agreement or
/// a consumer pass as before.
internal sealed partial class MarketGate(RequestDelegate next, MarketStore store, AuditLog audit, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments(AccessRules.NgsiLdBase, StringComparison.OrdinalIgnoreCase, out var rest)
            || Caller.Of(http.User) is not { } caller || caller is { Agreement: null, Consumer: null })
        {
            await next(http);
            return;
        }
        var now = time.GetUtcNow();
        var segments = (rest.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments is [var contexts, ..] && contexts.Equals("jsonldContexts", StringComparison.OrdinalIgnoreCase) && HttpMethods.IsGet(http.Request.Method))
        {
            await next(http);
            return;
        }
        // The SLA is measured on the calls an agreement counts: how long each took, and whether it failed.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var failed = false;
        try
        {
            await (caller.Agreement is { } agreementId ? AgreementAsync(http, caller, agreementId, segments, now) : UnionAsync(http, caller, segments, now));
        }
        catch (Exception e)
        {
            failed = e is not NgsiLdException { Status: < 500 };
            throw;
        }
        finally
        {
            if (http.Items[CountedKey] is List<string> counted)
            {
                var milliseconds = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                counted.ForEach(id => store.AddTiming(id, MarketStore.Day(now), milliseconds, failed || http.Response.StatusCode >= 500));
            }
        }
    }

    // The agreements whose quota counted this call.
    private const string CountedKey = "agora:market:counted";

    private async Task AgreementAsync(HttpContext http, Caller caller, string agreementId, string[] segments, DateTimeOffset now)
    {
        Agreement agreement;
        try
        {
            agreement = store.Agreement(agreementId) is { } doc && (string?)doc["tenant"] == caller.Tenant
                ? Agreement.Of(doc, now)
                : throw Narrowing.Denied($"The agreement {agreementId} of this credential does not exist.");
            if (agreement.State != Agreement.Active)
            {
                throw Narrowing.Denied($"The agreement {agreementId} is {agreement.State}: its credential reads nothing until it is active.");
            }
        }
        catch (NgsiLdException e) when (e.Status == 403)
        {
            await DenyAsync(http, caller, $"agreement {agreementId}", e);
            return;
        }
        await ServeAsync(http, caller, agreement, segments, now);
    }

    private async Task DenyAsync(HttpContext http, Caller caller, string who, NgsiLdException e)
    {
        await audit.WriteAsync(http, caller.Tenant, caller.CredentialId, AuditLog.Denied, $"{who}: {e.Detail}");
        await NgsiLdErrorHandler.WriteAsync(http, e, http.RequestAborted);
    }

    /// One agreement's read: narrowed to its scope, counted against its quota (unless the union counted it
    /// already), metered as it streams out.
    private async Task ServeAsync(HttpContext http, Caller caller, Agreement agreement, string[] segments, DateTimeOffset now, bool counted = false)
    {
        Read read;
        try
        {
            read = await NarrowAsync(http, segments, new Narrowing(agreement.Scope, await NgsiLdRequest.ContextAsync(http), now), agreement);
        }
        catch (NgsiLdException e) when (e.Status == 403)
        {
            await DenyAsync(http, caller, $"agreement {agreement.Id}", e);
            return;
        }
        var day = MarketStore.Day(now);
        var spent = counted ? null : Spent(http, agreement, day);
        if (spent is not null)
        {
            if (http.Items[SubscriptionKey] is string refused)
            {
                store.UnlinkSubscription(agreement.Tenant, refused);
            }
            await ThrottleAsync(http, caller, agreement, spent, now);
            return;
        }
        try
        {
            if (read is Read.Subscriptions)
            {
                var bytes = await ListOwnAsync(http, store.SubscriptionsOf(agreement.Tenant, [agreement.Id], null));
                store.AddResult(agreement.Id, day, 0, bytes);
                return;
            }
            await MeteredRunAsync(http, read, (entities, bytes) => store.AddResult(agreement.Id, day, entities, bytes));
        }
        finally
        {
            // A subscription that was not made (refused, or the request failed) is no agreement's, nor one deleted.
            if (http.Items[SubscriptionKey] is string subscription && http.Response.StatusCode != StatusCodes.Status201Created)
            {
                store.UnlinkSubscription(agreement.Tenant, subscription);
            }
            if (read is Read.Subscription && HttpMethods.IsDelete(http.Request.Method) && http.Response.StatusCode == StatusCodes.Status204NoContent)
            {
                store.UnlinkSubscription(agreement.Tenant, NgsiLdRequest.PathValue(segments[^1]));
            }
        }
    }

    /// Runs the rest of the pipeline with the answer streaming through a counter, as response compression wraps
    /// it: nothing is buffered. What it returned (entities, bytes) is recorded even when the request fails.
    private async Task MeteredRunAsync(HttpContext http, Read read, Action<long, long> record)
    {
        var original = http.Features.Get<IHttpResponseBodyFeature>()!;
        var metered = new MeteredStream(original.Stream);
        var counting = new StreamResponseBodyFeature(metered, original);
        http.Features.Set<IHttpResponseBodyFeature>(counting);
        try
        {
            await next(http);
            await counting.CompleteAsync();
        }
        finally
        {
            http.Features.Set(original);
            var entities = read switch
            {
                Read.Entities => metered.TopLevelItems,
                Read.Entity when http.Response.StatusCode == 200 => 1,
                _ => 0,
            };
            record(entities, metered.Bytes);
        }
    }

    /// Counts a call against the agreement's day unless a quota is spent; then the quota, else null.
    private string? Spent(HttpContext http, Agreement agreement, string day)
    {
        var spent = agreement.BytesPerDay is { } bytes && store.BytesOn(agreement.Id, day) >= bytes
            ? $"{bytes} bytes a day"
            : !store.TryCountCall(agreement.Id, day, agreement.CallsPerDay) ? $"{agreement.CallsPerDay} calls a day" : null;
        if (spent is null)
        {
            ((http.Items[CountedKey] as List<string>) ?? (List<string>)(http.Items[CountedKey] = new List<string>())).Add(agreement.Id);
        }
        return spent;
    }

    private Task ThrottleAsync(HttpContext http, Caller caller, Agreement agreement, string quota, DateTimeOffset now) =>
        ThrottleAsync(http, caller, $"agreement {agreement.Id}", $"quota of {quota} spent", $"The agreement {agreement.Id} allows {quota}, all used today", now);

    private async Task ThrottleAsync(HttpContext http, Caller caller, string who, string reason, string detail, DateTimeOffset now)
    {
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        var seconds = Math.Max(1, (int)Math.Ceiling((midnight - now).TotalSeconds));
        await audit.WriteAsync(http, caller.Tenant, caller.CredentialId, AuditLog.Throttled, $"{who}: {reason}");
        http.Response.OnStarting(() =>
        {
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        await NgsiLdErrorHandler.WriteAsync(http, SecurityErrors.Throttled(
            $"{detail}; the quota renews at 00:00 UTC, in {seconds} s."), http.RequestAborted);
    }

    private enum Read { Entities, Entity, Discovery, Subscription, Subscriptions }

    // The id of a subscription being made with an agreement's key, linked to the agreement before it exists.
    private const string SubscriptionKey = "agora:market:subscription";

    private async Task<Read> NarrowAsync(HttpContext http, string[] path, Narrowing narrowing, Agreement agreement)
    {
        var method = http.Request.Method;
        // Linked entities are not checked against the scope, so an agreement's key does not follow links.
        if (http.Request.Query.ContainsKey("join") || http.Request.Query.ContainsKey("joinLevel"))
        {
            throw Narrowing.Denied("A credential of an agreement does not join linked entities (join, joinLevel).");
        }
        var temporal = path.Length > 0 && Is(path[0], "temporal");
        var operation = temporal ? path[1..] : path;
        if (HttpMethods.IsGet(method) && operation is [var entities] && Is(entities, "entities"))
        {
            NarrowParameters(http, narrowing, temporal, query: true);
            return Read.Entities;
        }
        if (HttpMethods.IsGet(method) && operation is [var entity, var id] && Is(entity, "entities"))
        {
            CheckEntity(http, narrowing, NgsiLdRequest.PathValue(id), temporal);
            NarrowParameters(http, narrowing, temporal, query: false);
            return Read.Entity;
        }
        if (HttpMethods.IsPost(method) && operation is [var operations, var query] && Is(operations, "entityOperations") && Is(query, "query"))
        {
            // A POST query is narrowed through its Query object: the projection and the order go there, not in the URL.
            foreach (var name in new[] { "pick", "omit", "orderBy", "attrs", "datasetId", "geometryProperty" })
            {
                if (http.Request.Query.ContainsKey(name))
                {
                    throw Narrowing.Denied($"A credential of an agreement gives {name} of a POST query in its Query object, not in the URL.");
                }
            }
            await NarrowQueryObjectAsync(http, narrowing, temporal);
            return Read.Entities;
        }
        if (!temporal && HttpMethods.IsGet(method) && path is [var discovery, ..] && (Is(discovery, "types") || Is(discovery, "attributes")))
        {
            NarrowDiscovery(http, narrowing, path);
            return Read.Discovery;
        }
        if (!temporal && path is [var subscriptions, ..] && Is(subscriptions, "subscriptions"))
        {
            if (HttpMethods.IsPost(method) && path.Length == 1)
            {
                await NarrowSubscriptionAsync(http, narrowing, agreement);
                return Read.Subscription;
            }
            if (HttpMethods.IsGet(method) && path.Length == 1)
            {
                return Read.Subscriptions;
            }
            var own = path is [_, var subscription] && (http.Items[ConsumerSubscriptionKey] is true
                || store.AgreementOfSubscription(agreement.Tenant, NgsiLdRequest.PathValue(subscription)) == agreement.Id);
            if (own && HttpMethods.IsPatch(method))
            {
                await NarrowSubscriptionAsync(http, narrowing, agreement, patch: true);
                return Read.Subscription;
            }
            if (own && (HttpMethods.IsGet(method) || HttpMethods.IsDelete(method)))
            {
                return Read.Subscription;
            }
            throw Narrowing.Denied("A credential of an agreement creates subscriptions within the agreement, lists them, and reads, changes and deletes those it made; other subscriptions are not its own.");
        }
        throw Narrowing.Denied($"A credential of an agreement reads entities, their history and their types and attributes; {method} {http.Request.Path} is not covered.");
    }

    private static void NarrowParameters(HttpContext http, Narrowing narrowing, bool temporal, bool query)
    {
        var parameters = http.Request.Query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        string? Get(string name) => parameters.TryGetValue(name, out var v) && v.Count > 0 ? v.ToString() : null;
        void Set(string name, string? value)
        {
            if (value is null)
            {
                parameters.Remove(name);
            }
            else
            {
                parameters[name] = value;
            }
        }
        if (query)
        {
            Set("type", string.Join(",", narrowing.Types(Get("type"))));
            Set("idPattern", narrowing.IdPattern(Get("idPattern")));
            narrowing.CheckQ(Get("q"));
            var coordinates = Get("coordinates") is { } text ? ParseJson(text) : null;
            if (narrowing.Area(Get("georel"), Get("geometry"), coordinates, Get("geoproperty")) is { } area)
            {
                Set("georel", (string)area["georel"]!);
                Set("geometry", (string)area["geometry"]!);
                Set("coordinates", area["coordinates"]!.ToJsonString());
                Set("geoproperty", Narrowing.AreaGeoProperty);
            }
        }
        narrowing.CheckOrderBy(Get("orderBy"));
        if (Get("pick") is not null || Get("omit") is not null)
        {
            var (pick, omit) = narrowing.Projection(Get("pick"), Get("omit"));
            Set("pick", pick);
            Set("omit", omit);
        }
        else if (narrowing.Attributes(RepresentationQuery.List(http.Request.Query, "attrs")) is { } attributes)
        {
            Set("attrs", string.Join(",", attributes));
        }
        if (temporal)
        {
            foreach (var (name, value) in Narrowing.TimeParameters(narrowing.Time(TimeQuery.Parse(Get))))
            {
                Set(name, value);
            }
            Set("time", null);
            Set("endTime", null);
        }
        http.Request.QueryString = QueryString.Create(parameters);
    }

    private static void CheckEntity(HttpContext http, Narrowing narrowing, string id, bool temporal)
    {
        var store = http.RequestServices.GetRequiredService<TenantStores>().Existing(NgsiLdRequest.Tenant(http));
        var (types, entity) = store.Read(c =>
        {
            var current = EntityRows.Find(c, id);
            var known = temporal ? TemporalReader.TypesOf(c, id) : current?["type"]?.AsArray().Select(t => (string)t!).ToList() ?? [];
            return (known, current);
        });
        // An entity this broker does not hold is not found for an agreement's key: its type, place and id could
        // only be checked once a context source had answered, so it is not fetched at all.
        if (types.Count == 0)
        {
            throw NgsiLdException.NotFound("Entity not found", $"No entity with id {id} is covered by this agreement.");
        }
        if (narrowing.Outside(types, id, entity) is { } outside)
        {
            throw Narrowing.Denied(outside);
        }
    }

    private static async Task NarrowQueryObjectAsync(HttpContext http, Narrowing narrowing, bool temporal)
    {
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        NoJoin(body);
        narrowing = narrowing.In(context);
        body["entities"] = Selectors(body, narrowing);
        narrowing.CheckQ(Text(body, "q"));
        if (GeoOf(body, narrowing) is { } area)
        {
            body["geoQ"] = area;
        }
        var attrs = body["attrs"] is JsonArray a ? Strings(a) : [];
        narrowing.CheckOrderBy(body["orderBy"] is JsonArray order ? string.Join(",", Strings(order)) : Text(body, "orderBy"));
        if (body["pick"] is not null || body["omit"] is not null)
        {
            var (pick, omit) = narrowing.Projection(
                body["pick"] is JsonArray p ? string.Join(",", Strings(p)) : Text(body, "pick"),
                body["omit"] is JsonArray o ? string.Join(",", Strings(o)) : Text(body, "omit"));
            body["pick"] = pick;
            body["omit"] = omit;
        }
        else if (narrowing.Attributes(attrs) is { } attributes)
        {
            body["attrs"] = Array(attributes);
        }
        if (temporal)
        {
            var temporalQ = body["temporalQ"] as JsonObject ?? new JsonObject();
            var parameters = http.Request.Query;
            var window = narrowing.Time(TimeQuery.Parse(temporalQ, name => parameters[name] is { Count: > 0 } v ? v.ToString() : null));
            foreach (var (name, value) in Narrowing.TimeParameters(window))
            {
                temporalQ[name] = value;
            }
            body["temporalQ"] = temporalQ;
        }
        Replace(http, body);
    }

    /// The entity selectors of a Query object or a subscription, each narrowed; those wholly outside are left
    /// out, and when none is left the first refusal stands.
    private static JsonArray Selectors(JsonObject body, Narrowing narrowing)
    {
        var selectors = body["entities"] is JsonArray given && given.OfType<JsonObject>().ToList() is { Count: > 0 } objects ? objects : [new JsonObject()];
        var kept = new JsonArray();
        NgsiLdException? first = null;
        foreach (var selector in selectors)
        {
            try
            {
                var narrowed = selector.DeepClone().AsObject();
                narrowed["type"] = string.Join(",", narrowing.Types(Text(selector, "type")));
                if (narrowing.IdPattern(Text(selector, "idPattern")) is { } pattern)
                {
                    narrowed["idPattern"] = pattern;
                }
                kept.Add(narrowed);
            }
            catch (NgsiLdException e)
            {
                first ??= e;
            }
        }
        if (kept.Count == 0)
        {
            throw first!;
        }
        return kept;
    }

    private static void NoJoin(JsonObject body)
    {
        if (body.ContainsKey("join") || body.ContainsKey("joinLevel") || body["notification"] is JsonObject n && (n.ContainsKey("join") || n.ContainsKey("joinLevel")))
        {
            throw Narrowing.Denied("A credential of an agreement does not join linked entities (join, joinLevel).");
        }
    }

    /// A subscription (or, with patch, the fragment that updates one) narrowed as it is made: its entities,
    /// watched and notified attributes, q and area. A fragment is narrowed in the members it has, which replace the
    /// subscription's (clause 5.8.2); those it lacks were narrowed when they were set.
    private async Task NarrowSubscriptionAsync(HttpContext http, Narrowing narrowing, Agreement agreement, bool patch = false)
    {
        var (body, context) = await NgsiLdRequest.BodyAsync(http, allowMergePatch: patch);
        NoJoin(body);
        narrowing = narrowing.In(context);
        bool Has(string member) => !patch || body.ContainsKey(member);
        if (Has("entities"))
        {
            body["entities"] = Selectors(body, narrowing);
        }
        // Changes to attributes outside the scope notify nothing: they would tell when those attributes change.
        if (Has("watchedAttributes") && narrowing.Attributes(body["watchedAttributes"] is JsonArray watched ? Strings(watched) : []) is { } covered)
        {
            body["watchedAttributes"] = Array(covered);
        }
        narrowing.CheckQ(Text(body, "q"));
        if (Has("geoQ") && GeoOf(body, narrowing) is { } area)
        {
            body["geoQ"] = area;
        }
        if (body["notification"] is JsonObject notification
            && narrowing.Attributes(notification["attributes"] is JsonArray shown ? Strings(shown) : []) is { } attributes)
        {
            notification["attributes"] = Array(attributes);
        }
        if (patch)
        {
            Replace(http, body);
            return;
        }
        // The id is fixed here so that the subscription is the agreement's before its first notification can go.
        body["id"] ??= $"urn:ngsi-ld:Subscription:{Guid.NewGuid()}";
        if (http.Items[DryRunKey] is null && body["id"] is JsonValue v && v.TryGetValue<string>(out var id))
        {
            if (!store.LinkSubscription(agreement.Tenant, id, agreement.Id))
            {
                throw new NgsiLdException(ErrorTypes.AlreadyExists, "Subscription exists", $"A subscription with id {id} exists already.");
            }
            http.Items[SubscriptionKey] = id;
        }
        Replace(http, body);
    }

    // The geoQ of a Query object or subscription, whose coordinates may be the array or its JSON text.
    private static JsonObject? GeoOf(JsonObject body, Narrowing narrowing)
    {
        var geoQ = body["geoQ"] as JsonObject;
        if (body["geoQ"] is not null && geoQ is null)
        {
            throw NgsiLdException.BadRequest("Invalid geoQ", "geoQ must be an object.");
        }
        var coordinates = geoQ?["coordinates"] is JsonValue v && v.TryGetValue<string>(out var text) ? ParseJson(text) : geoQ?["coordinates"];
        return geoQ is null
            ? narrowing.Area(null, null, null, null)
            : narrowing.Area(Text(geoQ, "georel") ?? "", Text(geoQ, "geometry"), coordinates, Text(geoQ, "geoproperty"));
    }

    private static JsonNode? ParseJson(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException)
        {
            throw NgsiLdException.BadRequest("Invalid coordinates", "coordinates must be a JSON array of positions.");
        }
    }

    // A member the narrowing reads must be a string; anything else is the client's error, said before the endpoint would.
    private static string? Text(JsonObject body, string name) => body[name] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw NgsiLdException.BadRequest("Invalid " + name, $"{name} must be a string."),
    };

    private static List<string> Strings(JsonArray array) => [.. array.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) ? s : "")];

    private static JsonArray Array(IEnumerable<string> items) => new([.. items.Select(x => (JsonNode?)JsonValue.Create(x))]);

    // The narrowed body goes on as the client sent it: with its "@context" again when it came as JSON-LD.
    private static void Replace(HttpContext http, JsonObject body)
    {
        var bytes = Encoding.UTF8.GetBytes(NgsiLdRequest.AsSent(body).ToJsonString());
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = bytes.Length;
    }

    private static void NarrowDiscovery(HttpContext http, Narrowing narrowing, string[] path) =>
        http.Features.Set(DiscoveryScopeOf(narrowing, path));

    private static DiscoveryScope DiscoveryScopeOf(Narrowing narrowing, string[] path)
    {
        if (path is [var kind, var name])
        {
            // A named type or attribute outside the scope is refused: Types and Attributes throw the 403.
            _ = Is(kind, "types") ? narrowing.Types(NgsiLdRequest.PathValue(name)) : narrowing.Attributes([NgsiLdRequest.PathValue(name)]);
        }
        var types = narrowing.Types(null).ToHashSet(StringComparer.Ordinal);
        var attributes = narrowing.Attributes([])?.ToHashSet(StringComparer.Ordinal);
        // A scope with an area or an id pattern sees only some entities of its types: discovery counts those.
        Func<JsonObject, bool>? entity = narrowing.LimitsEntities
            ? doc => narrowing.Outside([.. doc["type"]!.AsArray().Select(t => (string)t!)], (string)doc["id"]!, doc) is null
            : null;
        return new DiscoveryScope(types.Contains, a => attributes is null || attributes.Contains(a), entity);
    }

    private static bool Is(string segment, string name) => segment.Equals(name, StringComparison.OrdinalIgnoreCase);
}
