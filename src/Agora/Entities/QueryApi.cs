using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Agora.Errors;
using Agora.Federation;
using Agora.Geo;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Query;
using Agora.Storage;

namespace Agora.Entities;

/// Query Entities (clause 5.7.2; HTTP binding 6.4.3.2 and 6.23): by id, idPattern, type selection, attrs, q,
/// scopeQ and geo-query, paged with limit/offset (count in NGSILD-Results-Count), in any representation.
internal static class QueryApi
{
    private static readonly TimeSpan PatternTimeout = TimeSpan.FromMilliseconds(50);

    private static readonly string[] GetParameters =
    [
        "id", "idPattern", "type", "attrs", "pick", "omit", "q", "scopeQ", "georel", "geometry", "coordinates",
        "geoproperty", "geometryProperty", "lang", "limit", "offset", "count", "options", "format", "local", "csf",
        "join", "joinLevel", "datasetId", "containedBy", "via", "orderBy",
    ];

    private static readonly string[] PostParameters =
        ["limit", "offset", "count", "options", "format", "local", "lang", "join", "joinLevel", "datasetId", "geometryProperty", "pick", "omit", "orderBy"];

    // Members of a POST Query object that shape the answer like the GET parameters of the same names (attrs both
    // selects and projects, as it does in a GET).
    private static readonly string[] BodyParameters = ["attrs", "join", "joinLevel", "geometryProperty", "lang", "pick", "omit", "datasetId", "orderBy", "options"];

    public static RouteGroupBuilder MapQueries(this RouteGroupBuilder group)
    {
        group.MapGet("/entities", Get);
        group.MapPost("/entityOperations/query", Post);
        group.MapDelete("/entities", Purge);
        return group;
    }

    /// What a query asks, however it was asked (GET parameters or a POST Query object).
    internal sealed record Selection(
        IReadOnlyList<EntitySelector> Entities,
        IReadOnlyList<string> Attrs,
        QExpression? Q,
        ScopeQuery? ScopeQ,
        GeoQuery? Geo);

    internal sealed record EntitySelector(IReadOnlyList<string>? Ids, Regex? IdPattern, TypeSelection? Type);

    private static async Task<IResult> Get(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: true);
        NgsiLdRequest.AllowParameters(http, GetParameters);
        var context = await NgsiLdRequest.ContextAsync(http);
        return await RunAsync(http, http.Request.Query, tenants, distributed, tenant, Selected(http.Request.Query), context, mediaType, null);
    }

    /// Purge Entities (V1.9.1 clause 5.6.21): every entity the selection matches is deleted, or, with keep
    /// or drop, loses attributes. The selection and the change are one transaction.
    private static async Task<IResult> Purge(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "id", "idPattern", "type", "q", "scopeQ", "georel", "geometry", "coordinates", "geoproperty", "local", "keep", "drop");
        var query = http.Request.Query;
        var context = await NgsiLdRequest.ContextAsync(http);
        var selection = Selected(query);
        var local = query["local"].ToString() == "true";
        if (selection.Entities.Count == 0 && selection.Q is null && selection.Geo is null && selection.ScopeQ is null && !local)
        {
            throw NgsiLdException.BadRequest("Purge too wide", "Purging needs at least one of id, idPattern, type, q, scopeQ or a geo-query (or local=true to purge everything).");
        }
        var keep = RepresentationQuery.List(query, "keep");
        var drop = RepresentationQuery.List(query, "drop");
        if (keep.Count > 0 && drop.Count > 0)
        {
            throw NgsiLdException.BadRequest("Conflicting parameters", "keep and drop cannot be used together.");
        }
        var keptIris = keep.Select(a => RepresentationQuery.Expand(a, context)).ToHashSet(StringComparer.Ordinal);
        var droppedIris = drop.Select(a => RepresentationQuery.Expand(a, context)).ToHashSet(StringComparer.Ordinal);
        var plan = Plan(selection, context);
        var now = EntityInput.Timestamp(DateTimeOffset.UtcNow);
        var purgeSources = PurgeSources(http, distributed, tenants.Existing(tenant), selection, context);
        // A purge that came back here is refused before anything is deleted.
        distributed.CheckLoop(http, forwarding: purgeSources.Count > 0);
        await tenants.Existing(tenant).WriteAloneAsync(c =>
        {
            var (matches, _) = plan.Run(c, 0, int.MaxValue, count: false);
            foreach (var doc in matches)
            {
                if (keep.Count == 0 && drop.Count == 0)
                {
                    EntityRows.Delete(c, (string)doc["id"]!);
                    continue;
                }
                var attributes = doc.Select(p => p.Key).Where(k => k.Contains(':')).ToList();
                var removed = attributes.Where(a => keep.Count > 0 ? !keptIris.Contains(a) : droppedIris.Contains(a)).ToList();
                if (removed.Count > 0)
                {
                    removed.ForEach(a => doc.Remove(a));
                    doc["modifiedAt"] = now;
                    EntityRows.Update(c, doc);
                }
            }
            return matches.Count;
        });
        return await PurgeRemoteAsync(http, distributed, tenants.Existing(tenant), purgeSources, context);
    }

    /// The sources of a purge (V1.9.1 clause 5.6.21): registered for entities of the types purged, and supporting
    /// purgeEntity.
    private static List<ContextSource> PurgeSources(HttpContext http, Distributed distributed, Storage.TenantStore store, Selection selection, JsonLdContext context)
    {
        var types = SimpleTypes(selection, context);
        return [.. distributed.ForWrite(http, store).Where(s => s.Supports("purgeEntity") && s.ClaimOfQuery(types, []) is not null)];
    }

    /// The plain types a selection asks for, expanded; null when it asks for any type or uses a type expression.
    private static List<string>? SimpleTypes(Selection selection, JsonLdContext context) =>
        selection.Entities.Select(s => s.Type?.SimpleTypes(context)).ToList() is { Count: > 0 } simple && simple.All(t => t is not null)
            ? [.. simple.SelectMany(t => t!)] : null;

    /// Each source receives the same purge; one that fails is reported in a 207.
    private static async Task<IResult> PurgeRemoteAsync(HttpContext http, Distributed distributed, Storage.TenantStore store, List<ContextSource> sources, JsonLdContext context)
    {
        if (sources.Count == 0)
        {
            return TypedResults.NoContent();
        }
        var target = DistributedWrites.Target(http);
        var replies = await Task.WhenAll(sources.Select(s => distributed.Client.SendAsync(http, store, s, new Forward(HttpMethod.Delete, target))));
        var failed = replies.Where(r => !r.Succeeded && r.Status != 404).ToList();
        if (failed.Count == 0)
        {
            return TypedResults.NoContent();
        }
        var errors = new JsonArray([.. failed.Select(r => (JsonNode?)new JsonObject { ["registrationId"] = r.Source.Id, ["error"] = DistributedWrites.RemoteError(r).ToJson() })]);
        return new NgsiLdResult(new JsonObject { ["success"] = new JsonArray(), ["errors"] = errors }, context, MediaTypes.Json, 207);
    }

    internal static Selection Selected(IQueryCollection query)
    {
        var ids = query["id"] is { Count: > 0 } id ? RepresentationQuery.List(query, "id") : null;
        ids?.ForEach(i => Names.CheckUri(i, "id"));
        var selector = new EntitySelector(
            ids,
            query["idPattern"] is { Count: > 0 } p ? Pattern(p.ToString()) : null,
            query["type"] is { Count: > 0 } t ? TypeSelection.Parse(t.ToString()) : null);
        return new Selection(
            selector.Ids is null && selector.IdPattern is null && selector.Type is null ? [] : [selector],
            RepresentationQuery.List(query, "attrs"),
            query["q"] is { Count: > 0 } q ? QExpression.Parse(q.ToString()) : null,
            query["scopeQ"] is { Count: > 0 } s ? ScopeQuery.Parse(s.ToString()) : null,
            GeoQuery.Parse(Text(query, "georel"), Text(query, "geometry"), Text(query, "coordinates"), Text(query, "geoproperty")));
    }

    private static async Task<IResult> Post(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: true);
        NgsiLdRequest.AllowParameters(http, PostParameters);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var selection = SelectionOf(body);
        if (body.ContainsKey("temporalQ"))
        {
            // Table 5.2.23-1: temporalQ is "to be present only for Query Temporal Evolution of Entities" (5.7.4).
            throw NgsiLdException.BadRequest("Invalid query", "temporalQ belongs to a temporal query (POST /temporal/entityOperations/query); an entity query does not take it.");
        }
        var query = new QueryCollection(WithBodyParameters(http.Request.Query, body, BodyParameters));
        return await RunAsync(http, query, tenants, distributed, tenant, selection, context, mediaType, NgsiLdRequest.AsSent(body));
    }

    /// The selection of a POST Query object (clause 5.2.23): entities, attrs, q, scopeQ, geoQ. Each member is
    /// checked against the type Table 5.2.23-1 gives it, so that a number where a string belongs is the client's
    /// error (BadRequestData) for the entity and the temporal query alike.
    internal static Selection SelectionOf(JsonObject body)
    {
        if (body["type"] is not JsonValue type || !type.TryGetValue<string>(out var name) || name != "Query")
        {
            throw BadQuery("The body of a query must be a Query object: {\"type\": \"Query\", ...}.");
        }
        var selectors = new List<EntitySelector>();
        if (body["entities"] is { } entities)
        {
            foreach (var e in entities as JsonArray ?? throw BadQuery("entities must be an array of entity selectors."))
            {
                if (e is not JsonObject selector)
                {
                    throw BadQuery("Each entity selector must be an object.");
                }
                var ids = SelectorIds(selector["id"]);
                var pattern = Text(selector, "idPattern", "entities[].idPattern") is { } ip ? Pattern(ip) : null;
                // Clause 5.2.33: "id takes precedence over idPattern".
                selectors.Add(new EntitySelector(ids, ids is null ? pattern : null,
                    Text(selector, "type", "entities[].type") is { } st ? TypeSelection.Parse(st) : null));
            }
        }
        var attrs = body["attrs"] switch
        {
            null => [],
            JsonArray a => a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var name) ? name : throw BadQuery("attrs must be an array of attribute names.")).ToList(),
            _ => throw BadQuery("attrs must be an array of attribute names."),
        };
        return new Selection(
            selectors,
            attrs,
            Text(body, "q", "q") is { } q ? QExpression.Parse(q) : null,
            Text(body, "scopeQ", "scopeQ") is { } sq ? ScopeQuery.Parse(sq) : null,
            body["geoQ"] switch
            {
                null => null,
                JsonObject g => GeoQuery.FromJson(g),
                _ => throw BadQuery("geoQ must be an object."),
            });
    }

    // An entity selector's id (Table 5.2.33-1): one URI, or a list of them selecting each of those entities, as
    // the id parameter of a GET query does.
    private static List<string>? SelectorIds(JsonNode? id)
    {
        List<string>? ids = id switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var one) => [one],
            JsonArray { Count: > 0 } many when many.All(i => i is JsonValue iv && iv.TryGetValue<string>(out _)) => [.. many.Select(i => (string)i!)],
            _ => throw BadQuery($"entities[].id must be an entity id (a URI) or a non-empty array of them, not {Describe(id)}."),
        };
        ids?.ForEach(i => Names.CheckUri(i, "id"));
        return ids;
    }

    // A member that Table 5.2.23-1 or 5.2.33-1 types as a string.
    private static string? Text(JsonObject o, string member, string name) => o[member] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        var other => throw BadQuery($"{name} must be a string, not {Describe(other)}."),
    };

    private static string Describe(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.Array => node.AsArray().Count == 0 ? "an empty array" : "an array holding something other than strings",
        System.Text.Json.JsonValueKind.Object => "an object",
        System.Text.Json.JsonValueKind.Number => $"the number {node.ToJsonString()}",
        var kind => kind.ToString().ToLowerInvariant(),
    };

    private static NgsiLdException BadQuery(string detail) => NgsiLdException.BadRequest("Invalid query", detail);

    /// The query string with the members of a POST Query object that shape the answer merged in as parameters.
    internal static Dictionary<string, Microsoft.Extensions.Primitives.StringValues> WithBodyParameters(IQueryCollection query, JsonObject body, IEnumerable<string> names)
    {
        var merged = query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var name in names)
        {
            switch (body[name])
            {
                case null:
                    break;
                case JsonArray list:
                    merged[name] = string.Join(",", list.Select(i => i is JsonValue v && v.TryGetValue<string>(out var s) ? s : i?.ToJsonString()));
                    break;
                case JsonValue v when v.TryGetValue<string>(out var s):
                    merged[name] = s;
                    break;
                case var other:
                    merged[name] = other.ToJsonString();
                    break;
            }
        }
        return merged;
    }

    private static async Task<IResult> RunAsync(HttpContext http, IQueryCollection query, TenantStores tenants, Distributed distributed, string tenant,
        Selection selection, JsonLdContext context, string mediaType, JsonObject? postBody)
    {
        var local = query["local"].ToString() == "true";
        // An id or idPattern alone does not make a query (the ETSI suite's 019_03_05): a type, attrs, q,
        // scopeQ or geo-query must bound it, unless the client asks for everything local.
        var bounded = selection.Entities.Any(s => s.Type is not null) || selection.Attrs.Count > 0 || selection.Q is not null
            || selection.Geo is not null || selection.ScopeQ is not null;
        if (!bounded && !local)
        {
            throw NgsiLdException.BadRequest("Query too wide", "A query needs at least one of type, attrs, q, scopeQ or a geo-query (or local=true).");
        }
        var paging = Paging.Parse(query);
        var representation = RepresentationQuery.Parse(query, context);
        var geometryIri = query["geometryProperty"] is { Count: > 0 } g ? RepresentationQuery.Expand(g.ToString(), context) : Members.LocationIri;
        var plan = Plan(selection, context);
        if (query["orderBy"] is { Count: > 0 } orderBy)
        {
            plan.Order = OrderBy.Parse(orderBy.ToString(), context);
        }

        var store = tenants.Existing(tenant);
        var sources = distributed.ForRead(http, store, "queryEntity", "queryBatch");
        // Only a tenant with registrations works out which of them the query concerns.
        var types = sources.Count == 0 ? null : SimpleTypes(selection, context);
        if (sources.Count > 0)
        {
            var expandedAttrs = selection.Attrs.Select(a => RepresentationQuery.Expand(a, context)).ToList();
            sources = [.. sources.Where(s => s.ClaimOfQuery(types, expandedAttrs) is not null)];
        }
        JsonArray page;
        long? total;
        if (sources.Count == 0 && mediaType != MediaTypes.GeoJson && EntityWriter.Handles(representation)
            && store.Read(c => plan.RunStored(c, paging.Offset, paging.Limit, paging.Count)) is var (stored, storedCount))
        {
            // SQL decided the page alone: it is written from the stored text (EntityWriter).
            paging.WriteCount(http.Response, storedCount);
            return new StoredEntitiesResult(stored, page: true, representation, context, mediaType);
        }
        if (sources.Count == 0)
        {
            (page, total) = store.Read(c =>
            {
                var (docs, n) = plan.Run(c, paging.Offset, paging.Limit, paging.Count);
                return (Render(docs, c, representation, context, mediaType, geometryIri), n);
            });
        }
        else
        {
            if (plan.Order is not null)
            {
                throw NgsiLdException.BadRequest("orderBy needs local=true", "Entities from context sources cannot be ordered; add local=true to order the local entities (clause 5.7.2.4).");
            }
            var (docs, n) = await DistributedReads.QueryAsync(http, distributed, store, sources, types, selection.Attrs, postBody, context,
                wanted => store.Read(c =>
                {
                    var (found, count) = plan.Run(c, 0, wanted, count: true);
                    return (found, (int)(count ?? found.Count));
                }),
                (int)Math.Min((long)paging.Offset + paging.Limit, distributed.MaxRemoteEntities));
            var slice = docs.Skip(paging.Offset).Take(paging.Limit).ToList();
            page = store.Read(c => Render(slice, c, representation, context, mediaType, geometryIri));
            total = paging.Count ? n : null;
        }
        paging.WriteCount(http.Response, total);
        JsonNode body = mediaType == MediaTypes.GeoJson
            ? new JsonObject { ["type"] = "FeatureCollection", ["features"] = page }
            : Flatten(page, representation);
        return new NgsiLdResult(body, context, mediaType);
    }

    private static JsonArray Render(List<JsonObject> docs, System.Data.Common.DbConnection c, Representation representation, JsonLdContext context, string mediaType, string geometryIri)
    {
        var rendered = new JsonArray();
        foreach (var doc in docs)
        {
            JsonNode entity = mediaType == MediaTypes.GeoJson
                ? EntityOutput.Feature(doc, representation, context, geometryIri)
                : EntityOutput.RenderJoined(doc, representation, context, id => EntityRows.Find(c, id));
            // A projection that leaves nothing of an entity leaves it out of the answer.
            if (entity is not JsonObject { Count: 0 })
            {
                rendered.Add(entity);
            }
        }
        return rendered;
    }

    // A flat join renders each entity as an array of it and its linked entities; a query answers one array.
    private static JsonArray Flatten(JsonArray page, Representation representation)
    {
        if (representation.Join != Join.Flat)
        {
            return page;
        }
        var flat = new JsonArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in page.ToList())
        {
            foreach (var entity in item is JsonArray many ? many.ToList() : [item])
            {
                if (entity is JsonObject o && seen.Add((string?)o["id"] ?? ""))
                {
                    flat.Add(entity!.DeepClone());
                }
            }
        }
        return flat;
    }

    internal static EntityQuery Plan(Selection selection, JsonLdContext context)
    {
        var plan = new EntityQuery();
        var checks = new List<Func<JsonObject, bool>>();

        if (selection.Entities.Count == 1)
        {
            var s = selection.Entities[0];
            if (s.Ids is { } ids)
            {
                plan.Ids(ids);
            }
            if (s.Type is { } type)
            {
                if (type.SimpleTypes(context) is { } simple)
                {
                    plan.Types(simple);
                }
                else
                {
                    plan.Inexact();
                    checks.Add(doc => type.Matches(Types(doc), context));
                }
            }
            if (s.IdPattern is { } pattern)
            {
                plan.Inexact();
                checks.Add(doc => IsMatch(pattern, (string)doc["id"]!));
            }
        }
        else if (selection.Entities.Count > 1)
        {
            // Several selectors: any of them may match. The index narrows by the union of plain types.
            var simple = selection.Entities.Select(s => s.Type?.SimpleTypes(context)).ToList();
            if (simple.All(t => t is not null))
            {
                plan.Types([.. simple.SelectMany(t => t!).Distinct()]);
            }
            plan.Inexact();
            var selectors = selection.Entities;
            checks.Add(doc => selectors.Any(s =>
                (s.Ids is null || s.Ids.Contains((string)doc["id"]!))
                && (s.IdPattern is null || IsMatch(s.IdPattern, (string)doc["id"]!))
                && (s.Type is null || s.Type.Matches(Types(doc), context))));
        }

        if (selection.Attrs.Count > 0)
        {
            plan.AnyAttribute([.. selection.Attrs.Select(a => RepresentationQuery.Expand(a, context))]);
        }
        if (selection.Q is { } q)
        {
            plan.Q(q.Root, context);
            checks.Add(doc => q.Matches(doc, context));
        }
        if (selection.ScopeQ is { } scopeQ)
        {
            plan.Inexact();
            checks.Add(doc => doc["scope"] is JsonArray scopes && scopeQ.Matches(scopes.Select(x => (string)x!)));
        }
        if (selection.Geo is { } geo)
        {
            var geoIri = RepresentationQuery.Expand(geo.GeoProperty, context);
            switch (geo.SearchBox)
            {
                case not null when geo is { Relation: GeoRelation.Near, MaxDistance: { } maxDistance }:
                    // Near with a maxDistance: nearest first.
                    plan.Near(geoIri, geo.Point.Lon, geo.Point.Lat, maxDistance);
                    break;
                case { } box:
                    plan.GeoBox(geoIri, box.MinLon, box.MaxLon, box.MinLat, box.MaxLat);
                    break;
                default:
                    plan.Inexact();
                    break;
            }
            checks.Add(doc => doc[geoIri] is JsonArray instances
                && instances.OfType<JsonObject>().Any(i => (string?)i["type"] == "GeoProperty" && i["value"] is JsonObject geometry && geo.Matches(geometry)));
        }
        if (checks.Count > 0)
        {
            plan.Exact = doc => checks.All(check => check(doc));
        }
        return plan;
    }

    private static IEnumerable<string> Types(JsonObject doc) => doc["type"]!.AsArray().Select(t => (string)t!);

    private static Regex Pattern(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, PatternTimeout);
        }
        catch (ArgumentException e)
        {
            throw NgsiLdException.BadRequest("Invalid idPattern", $"'{Names.Shorten(pattern)}' is not a regular expression: {e.Message}");
        }
    }

    private static bool IsMatch(Regex pattern, string id)
    {
        try
        {
            return pattern.IsMatch(id);
        }
        catch (RegexMatchTimeoutException)
        {
            throw NgsiLdException.BadRequest("idPattern too costly", "The idPattern took too long to evaluate; simplify it.");
        }
    }

    private static string? Text(IQueryCollection query, string name) => query[name] is { Count: > 0 } v ? v.ToString() : null;
}
