using System.Data.Common;
using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.Federation;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Temporal;

/// Retrieve and Query Temporal Evolution of Entities (clauses 5.7.3 and 5.7.4; HTTP binding 6.19, 6.18.3.2,
/// 6.24): the entity's history in the requested time window, representation and projection.
internal static class TemporalQueryApi
{
    private static readonly string[] TemporalParameters =
        ["timerel", "timeAt", "endTimeAt", "timeproperty", "lastN", "aggrMethods", "aggrPeriodDuration", "options", "format"];

    private static readonly string[] RetrieveParameters =
        [.. TemporalParameters, "attrs", "pick", "omit", "lang", "datasetId", "local", "via", "containedBy", "type"];

    private static readonly string[] QueryParameters =
        [.. TemporalParameters, "id", "idPattern", "type", "attrs", "pick", "omit", "q", "scopeQ", "georel", "geometry", "coordinates",
            "geoproperty", "lang", "limit", "offset", "count", "local", "csf", "datasetId", "via", "containedBy", "orderBy"];

    private static readonly string[] PostParameters =
        ["limit", "offset", "count", "options", "format", "local", "lang", "datasetId", "pick", "omit", "lastN", "aggrMethods", "aggrPeriodDuration", "orderBy"];

    // Members of a POST Query object that shape the answer like the GET parameters of the same names.
    private static readonly string[] BodyParameters = ["lang", "pick", "omit", "datasetId", "options", "format", "aggrMethods", "aggrPeriodDuration", "lastN", "orderBy"];

    public static async Task<IResult> Retrieve(HttpContext http, TenantStores tenants, IOptions<TemporalOptions> options, Distributed distributed, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, RetrieveParameters);
        Names.CheckUri(id, "entity id");
        var context = await NgsiLdRequest.ContextAsync(http);
        var query = http.Request.Query;
        var request = new TemporalRequest(TimeQuery.Parse(Get(query)), TemporalView.Parse(Get(query)), Representation(query, context), options.Value.MaxInstances);
        var store = tenants.Existing(tenant);
        var sources = distributed.ForRead(http, store, "retrieveTemporal");
        var remote = sources.Count == 0 ? null : DistributedTemporal.AskAsync(http, distributed, store, sources, id, null);
        JsonObject? entity = null;
        (double, double)? range = null;
        try
        {
            (entity, range) = store.Read(c => RetrieveLocal(c, id, query, request, context));
        }
        catch (NgsiLdException e) when (remote is not null && e.Status == 404)
        {
            // The history may be held by the sources alone.
        }
        if (remote is not null)
        {
            entity = DistributedTemporal.Entity(entity, await remote) ?? throw TemporalApi.NotFound(id);
        }
        return Answer(http, entity!, context, mediaType, range, request);
    }

    private static (JsonObject, (double, double)?) RetrieveLocal(DbConnection c, string id, IQueryCollection query, TemporalRequest request, JsonLdContext context)
    {
        var e = TemporalReader.Find(c, id) ?? throw TemporalApi.NotFound(id);
        if (query["type"] is { Count: > 0 } t && !TypeSelectionMatches(t.ToString(), e, context))
        {
            throw TemporalApi.NotFound(id);
        }
        var slice = Collect(c, e, request, context);
        var projected = query.ContainsKey("attrs") || query.ContainsKey("pick") || query.ContainsKey("omit");
        if (projected && AsksForAttributes(request.Representation) && slice.Attrs.Count == 0)
        {
            throw NgsiLdException.NotFound("No matching attributes", $"The history of {id} holds none of the attributes asked for.");
        }
        var cut = Cut([slice], request);
        return (Build(slice, request, context), cut);
    }

    public static async Task<IResult> Query(HttpContext http, TenantStores tenants, IOptions<TemporalOptions> options, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, QueryParameters);
        var context = await NgsiLdRequest.ContextAsync(http);
        var query = http.Request.Query;
        var time = TimeQuery.Parse(Get(query));
        return await RunAsync(http, query, tenants, distributed, tenant, QueryApi.Selected(query), time, options.Value, context, mediaType, null);
    }

    public static async Task<IResult> QueryPost(HttpContext http, TenantStores tenants, IOptions<TemporalOptions> options, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        var mediaType = MediaTypes.Negotiate(http.Request.Headers.Accept, allowGeoJson: false);
        NgsiLdRequest.AllowParameters(http, PostParameters);
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var selection = QueryApi.SelectionOf(body);
        var query = WithBodyParameters(http.Request.Query, body);
        var time = TimeQuery.Parse(body["temporalQ"] as JsonObject, Get(query));
        return await RunAsync(http, query, tenants, distributed, tenant, selection, time, options.Value, context, mediaType, NgsiLdRequest.AsSent(body));
    }

    private static async Task<IResult> RunAsync(HttpContext http, IQueryCollection query, TenantStores tenants, Distributed distributed, string tenant,
        QueryApi.Selection selection, TimeQuery time, TemporalOptions options, JsonLdContext context, string mediaType, JsonObject? postBody)
    {
        var local = query["local"].ToString() == "true";
        var bounded = selection.Entities.Any(s => s.Type is not null) || selection.Attrs.Count > 0 || selection.Q is not null
            || selection.Geo is not null || selection.ScopeQ is not null;
        if (!bounded && !local)
        {
            throw NgsiLdException.BadRequest("Query too wide", "A temporal query needs at least one of id, type, attrs, q, scopeQ or a geo-query (or local=true).");
        }
        var paging = Paging.Parse(query);
        var representation = Representation(query, context);
        if (selection.Attrs.Count > 0 && representation.Pick is null)
        {
            representation = representation with { Pick = new HashSet<string>(["id", "type", "scope", .. selection.Attrs.Select(a => RepresentationQuery.Expand(a, context))], StringComparer.Ordinal) };
        }
        var request = new TemporalRequest(time, TemporalView.Parse(Get(query)), representation, options.MaxInstances);
        var plan = QueryApi.Plan(selection, context);
        var single = selection.Entities.Count == 1 ? selection.Entities[0] : null;
        var ids = single?.Ids;
        var types = single?.Type?.SimpleTypes(context);
        var matches = plan.Exact;
        var order = query["orderBy"] is { Count: > 0 } orderBy ? OrderBy.Parse(orderBy.ToString(), context) : null;
        var store = tenants.Existing(tenant);
        var sources = distributed.ForRead(http, store, "queryTemporal");
        var remote = sources.Count == 0 ? null : DistributedTemporal.AskAsync(http, distributed, store, sources, null, postBody);
        var (page, total, range) = store.Read(c =>
        {
            IEnumerable<TemporalEntity> candidates = TemporalReader.Scan(c, ids, types);
            if (matches is not null)
            {
                candidates = candidates.Where(e => matches(Picture(c, e, time, options.MaxInstances)));
            }
            if (order is not null)
            {
                // Entities are ordered by their current state where they have one, else by their history.
                candidates = candidates.Select(e => (Entity: e, Doc: EntityRows.Find(c, e.Id) ?? Picture(c, e, time, options.MaxInstances)))
                    .ToList().Order(Comparer<(TemporalEntity Entity, JsonObject Doc)>.Create((a, b) => order.Compare(a.Doc, b.Doc)))
                    .Select(p => p.Entity);
            }
            var slices = new List<Slice>();
            long seen = 0;
            foreach (var e in candidates)
            {
                var slice = Collect(c, e, request, context);
                // An entity without instances in the window is not part of the answer, even when the projection
                // leaves none of its attributes (pick=id still lists it).
                if (slice.Instances.Count == 0 && slice.Aggregated.Count == 0
                    && (AsksForAttributes(request.Representation) || request.Representation.DatasetIds is not null || !TemporalReader.HasInstances(c, e.Eid, time)))
                {
                    continue;
                }
                seen++;
                if (seen > paging.Offset && slices.Count < paging.Limit)
                {
                    slices.Add(slice);
                }
                else if (!paging.Count && slices.Count >= paging.Limit)
                {
                    break;
                }
            }
            var cut = Cut(slices, request);
            return (new JsonArray([.. slices.Select(s => (JsonNode)Build(s, request, context))]), paging.Count ? seen : (long?)null, cut);
        });
        if (remote is not null)
        {
            page = DistributedTemporal.Entities(page, await remote);
        }
        paging.WriteCount(http.Response, total);
        return Answer(http, page, context, mediaType, range, request);
    }

    // Whether the projection can show attributes at all (pick=id,type cannot: the answer is the entity's
    // members alone).
    private static bool AsksForAttributes(Representation r) => r.Pick is null || r.Pick.Any(k => k.Contains(':'));

    /// What a query's q, scopeQ and geo-query are evaluated against: the entity with, as the instances of
    /// each attribute, every instance in the time window, so that q matches when any of them does.
    private static JsonObject Picture(DbConnection c, TemporalEntity e, TimeQuery time, int max)
    {
        var doc = new JsonObject { ["id"] = e.Id, ["type"] = e.Types.DeepClone() };
        if (e.Scope is not null)
        {
            doc["scope"] = e.Scope.DeepClone();
        }
        foreach (var attr in TemporalReader.Attributes(c, e.Eid))
        {
            // The instances of the window, q being matched before lastN keeps the latest; at most the latest
            // MaxInstances of each attribute, so that a query over a long history cannot load it whole.
            var instances = TemporalReader.Instances(c, e.Eid, attr, time with { LastN = max }, max);
            instances.RemoveAll(i => i.ContainsKey("deletedAt"));
            if (instances.Count > 0)
            {
                doc[attr] = new JsonArray([.. instances]);
            }
        }
        return doc;
    }

    private sealed record TemporalRequest(TimeQuery Time, TemporalView View, Representation Representation, int MaxInstances);

    /// One entity's part of an answer: the attributes it shows, their instances (before the answer's cut),
    /// or their aggregations.
    private sealed record Slice(TemporalEntity Entity, List<string> Attrs, List<(string Attr, JsonObject Instance, double Time)> Instances, JsonObject Aggregated);

    private static Slice Collect(DbConnection c, TemporalEntity e, TemporalRequest request, JsonLdContext context)
    {
        var r = request.Representation;
        var time = request.Time;
        var attrs = new List<string>();
        var instances = new List<(string Attr, JsonObject Instance, double Time)>();
        var aggregated = new JsonObject();
        foreach (var attr in TemporalReader.Attributes(c, e.Eid))
        {
            if ((r.Pick is not null && !r.Pick.Contains(attr)) || (r.Omit is not null && r.Omit.Contains(attr)))
            {
                continue;
            }
            if (request.View.Format == TemporalFormat.Aggregated)
            {
                var results = TemporalReader.Aggregate(c, e.Eid, attr, time, request.View);
                if (results.Values.Any(v => v.Count > 0))
                {
                    attrs.Add(attr);
                    aggregated[context.CompactIri(attr)] = TemporalOutput.Aggregated(TemporalReader.LatestType(c, e.Eid, attr), results);
                }
                continue;
            }
            var before = instances.Count;
            foreach (var instance in TemporalReader.Instances(c, e.Eid, attr, time, request.MaxInstances))
            {
                if (r.DatasetIds is not { } wanted || wanted.Contains((string?)instance["datasetId"] ?? Entities.Representation.DefaultInstance))
                {
                    instances.Add((attr, instance, Time(instance, time)));
                }
            }
            if (instances.Count > before)
            {
                attrs.Add(attr);
            }
        }
        return new Slice(e, attrs, instances, aggregated);
    }

    // When the entities of an answer together hold more instances than one answer may, the answer is cut at
    // one instant across all of them (oldest first, or with lastN newest first), so that it holds everything
    // on one side of that instant and the client can go on from there. Returns the range (low, high) the
    // answer then covers, or null when nothing was cut.
    private static (double, double)? Cut(List<Slice> slices, TemporalRequest request)
    {
        var all = slices.SelectMany(s => s.Instances).ToList();
        if (all.Count <= request.MaxInstances)
        {
            return null;
        }
        var time = request.Time;
        var newestFirst = time.LastN is not null;
        var ordered = (newestFirst ? all.OrderByDescending(i => i.Time) : all.OrderBy(i => i.Time)).ToList();
        var kept = ordered.Take(request.MaxInstances).ToList();
        // The cut never splits an instant: when instances of the last instant kept are left beyond the cap,
        // that instant goes to the next answer whole (unless it is all this answer holds).
        var edge = kept[^1].Time;
        if (ordered[request.MaxInstances].Time == edge && kept.Any(i => i.Time != edge))
        {
            kept.RemoveAll(i => i.Time == edge);
        }
        var low = kept.Min(i => i.Time);
        var high = kept.Max(i => i.Time);
        var keep = kept.Select(i => i.Instance).ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var slice in slices)
        {
            slice.Instances.RemoveAll(i => !keep.Contains(i.Instance));
        }
        return newestFirst ? (low, time.To ?? high) : (time.From ?? low, high);
    }

    // An attribute whose instances the cut took entirely stays in the answer, empty, so that the client sees
    // it exists beyond the range.
    private static JsonObject Build(Slice slice, TemporalRequest request, JsonLdContext context)
    {
        var r = request.Representation;
        var entity = TemporalOutput.Entity(slice.Entity, r, context);
        if (request.View.Format == TemporalFormat.Aggregated)
        {
            foreach (var (name, value) in slice.Aggregated)
            {
                entity[name] = value!.DeepClone();
            }
            return entity;
        }
        foreach (var attr in slice.Attrs)
        {
            var list = slice.Instances.Where(i => i.Attr == attr).Select(i => i.Instance).ToList();
            entity[context.CompactIri(attr)] = request.View.Format == TemporalFormat.TemporalValues
                ? TemporalOutput.TemporalValues(attr, list, request.Time.Property, r, context)
                : TemporalOutput.Normalized(attr, list, r, context);
        }
        return entity;
    }

    private static double Time(JsonObject instance, TimeQuery time) =>
        TemporalRows.Millis(instance[time.Property]) ?? TemporalRows.Millis(instance["createdAt"]) ?? 0;

    // A history longer than one answer holds is answered 206 Partial Content, with the time range the answer
    // covers in Content-Range (clause 6.3.10).
    private static IResult Answer(HttpContext http, JsonNode body, JsonLdContext context, string mediaType, (double, double)? truncated, TemporalRequest request)
    {
        if (truncated is not { } range)
        {
            return new NgsiLdResult(body, context, mediaType);
        }
        // Oldest first the range runs from low to high; newest first (lastN) from high to low.
        var (from, to) = request.Time.LastN is null ? range : (range.Item2, range.Item1);
        http.Response.Headers.ContentRange = $"date-time {TemporalReader.Timestamp(from)}-{TemporalReader.Timestamp(to)}/{(request.Time.LastN is { } n ? n.ToString(CultureInfo.InvariantCulture) : "*")}";
        return new NgsiLdResult(body, context, mediaType, StatusCodes.Status206PartialContent);
    }

    private static bool TypeSelectionMatches(string type, TemporalEntity e, JsonLdContext context) =>
        Agora.Query.TypeSelection.Parse(type).Matches(e.Types.Select(t => (string)t!), context);

    // The projection and language of the answer, read like those of an entity retrieval; the temporal
    // representation options are read by TemporalView.
    private static Representation Representation(IQueryCollection query, JsonLdContext context)
    {
        var plain = new QueryCollection(query
            .Where(p => p.Key is "attrs" or "pick" or "omit" or "lang" or "datasetId")
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
        var sysAttrs = query["options"].ToString().Split(',').Contains("sysAttrs");
        return RepresentationQuery.Parse(plain, context) with { SysAttrs = sysAttrs };
    }

    private static IQueryCollection WithBodyParameters(IQueryCollection query, JsonObject body)
    {
        var merged = QueryApi.WithBodyParameters(query, body, BodyParameters);
        if (body["attrs"] is JsonArray attrs && !merged.ContainsKey("pick"))
        {
            merged["attrs"] = string.Join(",", attrs.Select(a => (string?)a));
        }
        return new QueryCollection(merged);
    }

    private static Func<string, string?> Get(IQueryCollection query) => name => query[name] is { Count: > 0 } v ? v.ToString() : null;
}
