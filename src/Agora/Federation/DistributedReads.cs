using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.JsonLd;
using Agora.Storage;

namespace Agora.Federation;

/// Retrieve Entity and Query Entities across context sources (clauses 5.7.1.4 and 5.7.2.4): the matching
/// sources are asked in parallel, each for what it is registered to hold; what exclusive and redirect sources
/// hold is taken from them and not from the local store; the answers are merged per entity, auxiliary sources
/// only filling attributes nobody else has. A source that fails adds a warning and never fails the answer.
internal static class DistributedReads
{
    // Parameters of a query that shape the local answer only; the rest selects entities and is passed on.
    private static readonly HashSet<string> LocalParameters = new(StringComparer.Ordinal)
        { "local", "limit", "offset", "count", "options", "format", "orderBy", "attrs", "pick", "omit", "join", "joinLevel", "lang", "geometryProperty", "via" };

    private sealed record Target(ContextSource Source, Claim Claim, Forward Forward);

    /// The entity merged from the local store and the sources; null when nobody holds it.
    public static async Task<JsonObject?> RetrieveAsync(HttpContext http, Distributed distributed, TenantStore store, IReadOnlyList<ContextSource> sources, string id, JsonLdContext context)
    {
        var local = store.Read(c => EntityRows.Find(c, id));
        var types = local?["type"]?.AsArray().Select(t => (string)t!).ToList();
        var asked = RepresentationQuery.List(http.Request.Query, "attrs");
        var targets = new List<Target>();
        foreach (var source in sources)
        {
            if (source.ClaimOf(id, types) is not { } claim)
            {
                continue;
            }
            // The attributes a source holds are not asked for by name: what it answers beyond them is dropped here.
            if ((asked.Count == 0 ? "" : Attrs(asked, claim, context)) is not { } attrs)
            {
                continue;
            }
            targets.Add(new Target(source, claim, RetrieveForward(http, source, id, types, attrs, context)));
        }
        var doc = (JsonObject?)local?.DeepClone();
        if (doc is not null && !targets.Where(t => t.Source.Proxied).All(t => EntityMerge.Strip(doc, t.Claim)))
        {
            doc = null;
        }
        if (targets.Count == 0)
        {
            return doc;
        }
        var replies = await Task.WhenAll(targets.Select(t => distributed.Client.SendAsync(http, store, t.Source, t.Forward)));
        foreach (var reply in replies.OrderBy(r => r.Source.Auxiliary))
        {
            if (!reply.Succeeded)
            {
                if (reply.Status != 404)
                {
                    distributed.Warn(http, reply);
                }
                continue;
            }
            if (await distributed.ExpandAsync(http, reply, Single(reply.Body, id), context, targets.First(t => t.Source == reply.Source).Claim) is not { } remote)
            {
                continue;
            }
            if (doc is null)
            {
                doc = remote;
            }
            else
            {
                EntityMerge.Merge(doc, remote, reply.Source.Auxiliary);
            }
        }
        return doc;
    }

    /// Retrieve Entity as the source supports it (clause 5.7.1.4): retrieveEntity, else a query by id
    /// (queryEntity), else a POST query (queryBatch). Parameters are only added when needed: a plain GET of the
    /// entity is what every source understands.
    private static Forward RetrieveForward(HttpContext http, ContextSource source, string id, IReadOnlyCollection<string>? types, string attrs, JsonLdContext context)
    {
        var parameters = new List<KeyValuePair<string, string?>>();
        if (attrs.Length > 0)
        {
            parameters.Add(KeyValuePair.Create("attrs", (string?)attrs));
        }
        if (source.LocalOnly)
        {
            parameters.Add(KeyValuePair.Create("local", (string?)"true"));
        }
        var type = http.Request.Query["type"] is { Count: > 0 } t ? t.ToString() : source.TypeOf(id, types) is { } registered ? context.CompactIri(registered) : null;
        if (source.Supports("retrieveEntity"))
        {
            if (http.Request.Query["type"] is { Count: > 0 })
            {
                parameters.Add(KeyValuePair.Create("type", (string?)type));
            }
            var path = "/entities/" + EntitiesApi.PathSegment(id);
            return new Forward(HttpMethod.Get, parameters.Count == 0 ? path : Query(path, parameters));
        }
        if (source.Supports("queryEntity"))
        {
            parameters.Insert(0, KeyValuePair.Create("id", (string?)id));
            if (type is not null)
            {
                parameters.Insert(1, KeyValuePair.Create("type", (string?)type));
            }
            return new Forward(HttpMethod.Get, Query("/entities", parameters));
        }
        var selector = new JsonObject { ["id"] = id };
        if (type is not null)
        {
            selector["type"] = type;
        }
        var body = new JsonObject { ["type"] = "Query", ["entities"] = new JsonArray(selector) };
        if (attrs.Length > 0)
        {
            body["attrs"] = new JsonArray([.. attrs.Split(',').Select(a => (JsonNode?)a)]);
        }
        parameters.RemoveAll(p => p.Key == "attrs");
        return new Forward(HttpMethod.Post, parameters.Count == 0 ? "/entityOperations/query" : Query("/entityOperations/query", parameters), body);
    }

    // A query answers an array; the entity asked for is the one with its id.
    private static JsonNode? Single(JsonNode? body, string id) => body switch
    {
        JsonArray many => many.FirstOrDefault(e => e is JsonObject o && Text(o["id"]) == id),
        JsonObject one when Text(one["id"]) == id => one,
        _ => null,
    };

    /// A string member of a source's answer, or null when it is missing or not a string.
    public static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// The entities of a query from the local store and the sources, merged by id, local ones first: at most
    /// offset + limit of each, so that the page asked for can be cut from the merge. The total counts local
    /// entities and those only sources hold.
    public static async Task<(List<JsonObject> Docs, int Total)> QueryAsync(
        HttpContext http, Distributed distributed, TenantStore store, IReadOnlyList<ContextSource> sources,
        IReadOnlyList<string>? types, IReadOnlyList<string> attrs, JsonObject? postBody, JsonLdContext context,
        Func<int, (List<JsonObject> Docs, int Total)> runLocal, int wanted)
    {
        var targets = new List<Target>();
        var expandedAttrs = attrs.Select(a => RepresentationQuery.Expand(a, context)).ToList();
        foreach (var source in sources)
        {
            if (source.ClaimOfQuery(types, expandedAttrs) is not { } claim || Attrs(attrs, claim, context) is not { } sourceAttrs)
            {
                continue;
            }
            var ids = source.Proxied && !http.Request.Query.ContainsKey("id") ? source.RegisteredIds(types) : null;
            // A query goes to a source in the form it supports: GET (queryEntity) or POST (queryBatch).
            var post = postBody is null ? !source.Supports("queryEntity") : source.Supports("queryBatch");
            var body = postBody ?? BodyOf(http.Request.Query);
            targets.Add(new Target(source, claim, post
                ? new Forward(HttpMethod.Post, Query("/entityOperations/query", Paging(source, wanted)), QueryBody(body, sourceAttrs, ids), body.ContainsKey("@context"))
                : new Forward(HttpMethod.Get, QueryString(postBody is null ? http.Request.Query : ParametersOf(postBody), sourceAttrs, ids, source, wanted))));
        }
        var pending = targets.Count == 0 ? [] : targets.Select(t => distributed.Client.SendAsync(http, store, t.Source, t.Forward)).ToList();
        var (local, total) = runLocal(wanted);
        var byId = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var merged = new List<JsonObject>();
        foreach (var entity in local)
        {
            var doc = (JsonObject)entity.DeepClone();
            var id = (string)doc["id"]!;
            var entityTypes = doc["type"]!.AsArray().Select(t => (string)t!).ToList();
            if (targets.Where(t => t.Source.Proxied).Select(t => t.Source.ClaimOf(id, entityTypes)).OfType<Claim>().All(claim => EntityMerge.Strip(doc, claim)))
            {
                byId[id] = doc;
                merged.Add(doc);
            }
            else
            {
                total--;
            }
        }
        foreach (var reply in (await Task.WhenAll(pending)).OrderBy(r => r.Source.Auxiliary))
        {
            if (!reply.Succeeded)
            {
                distributed.Warn(http, reply);
                continue;
            }
            if (reply.Body is not JsonArray entities)
            {
                distributed.Warn(http, 111, $"context source {reply.Source.Id} answered a query with something that is not an array of entities");
                continue;
            }
            foreach (var entity in entities)
            {
                // What a source answers beyond what it is registered for (another entity, another attribute) is dropped.
                if (entity is not JsonObject given || Text(given["id"]) is not { } givenId
                    || reply.Source.ClaimOf(givenId, types) is not { } entityClaim
                    || await distributed.ExpandAsync(http, reply, entity, context, entityClaim) is not { } remote)
                {
                    continue;
                }
                var id = (string)remote["id"]!;
                if (byId.TryGetValue(id, out var held))
                {
                    EntityMerge.Merge(held, remote, reply.Source.Auxiliary);
                }
                else
                {
                    byId[id] = remote;
                    merged.Add(remote);
                    total++;
                }
            }
        }
        return (merged, total);
    }

    /// The names a discovery list of the sources holds (typeList of /types, attributeList of /attributes),
    /// expanded: with the names this broker holds, they make the list a client sees (clauses 5.7.5, 5.7.7).
    public static async Task<List<string>> NamesAsync(HttpContext http, Distributed distributed, TenantStore store, string operation, string path, string member, JsonLdContext context)
    {
        var sources = distributed.ForRead(http, store, operation);
        if (sources.Count == 0)
        {
            return [];
        }
        var replies = await Task.WhenAll(sources.Select(s => distributed.Client.SendAsync(http, store, s, new Forward(HttpMethod.Get, s.LocalOnly ? path + "?local=true" : path))));
        var names = new List<string>();
        foreach (var reply in replies)
        {
            if (!reply.Succeeded || reply.Body is not JsonObject { } answer || answer[member] is not JsonArray list)
            {
                distributed.Warn(http, reply.Succeeded ? 111 : reply.Status == 0 ? 199 : 299, $"context source {reply.Source.Id} {(reply.Succeeded ? "answered without a " + member : reply.Failure)}");
                continue;
            }
            try
            {
                var replyContext = await distributed.ContextOfAsync(http, reply, context);
                names.AddRange(list.Select(Text).OfType<string>().Select(replyContext.ExpandTerm));
            }
            catch (Errors.NgsiLdException e)
            {
                distributed.Warn(http, 111, $"context source {reply.Source.Id} answered in an @context Agora cannot read: {e.Title}");
            }
        }
        return names;
    }

    /// The attrs to ask a source for: those asked that it holds, or all it holds when none were asked ("" for
    /// everything); null when it holds none of those asked.
    private static string? Attrs(IReadOnlyList<string> asked, Claim claim, JsonLdContext context)
    {
        if (asked.Count == 0)
        {
            return claim.All ? "" : string.Join(",", claim.Attributes.Select(context.CompactIri));
        }
        var held = asked.Where(a => claim.Covers(RepresentationQuery.Expand(a, context))).ToList();
        return held.Count == 0 ? null : string.Join(",", held);
    }

    // Values keep ':' and ',' as they are: ids are URNs, and ',' separates the items of NGSI-LD lists.
    private static string Query(string path, IEnumerable<KeyValuePair<string, string?>> parameters) =>
        path + "?" + string.Join("&", parameters.Select(p => Escape(p.Key) + "=" + Escape(p.Value ?? "")));

    private static string Escape(string text) =>
        Uri.EscapeDataString(text).Replace("%3A", ":", StringComparison.Ordinal).Replace("%2C", ",", StringComparison.Ordinal);

    private static Dictionary<string, string?> Paging(ContextSource source, int wanted)
    {
        var parameters = new Dictionary<string, string?> { ["limit"] = wanted.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (source.LocalOnly)
        {
            parameters["local"] = "true";
        }
        return parameters;
    }

    private static string QueryString(IQueryCollection query, string attrs, IReadOnlyList<string>? ids, ContextSource source, int wanted)
    {
        var parameters = new List<KeyValuePair<string, string?>>();
        foreach (var (name, value) in query)
        {
            if (!LocalParameters.Contains(name))
            {
                parameters.Add(KeyValuePair.Create(name, (string?)value.ToString()));
            }
        }
        if (ids is { Count: > 0 })
        {
            parameters.Add(KeyValuePair.Create("id", (string?)string.Join(",", ids)));
        }
        if (attrs.Length > 0)
        {
            parameters.Add(KeyValuePair.Create("attrs", (string?)attrs));
        }
        parameters.AddRange(Paging(source, wanted));
        return Query("/entities", parameters);
    }

    /// A GET query's selection as a POST Query object (clause 5.2.23).
    private static JsonObject BodyOf(IQueryCollection query)
    {
        string? Get(string name) => query[name] is { Count: > 0 } v ? v.ToString() : null;
        var body = new JsonObject { ["type"] = "Query" };
        var selector = new JsonObject();
        foreach (var name in new[] { "type", "idPattern" })
        {
            if (Get(name) is { } value)
            {
                selector[name] = value;
            }
        }
        var ids = Get("id")?.Split(',') ?? [];
        if (ids.Length > 0 || selector.Count > 0)
        {
            body["entities"] = ids.Length == 0
                ? new JsonArray(selector)
                : new JsonArray([.. ids.Select(id => (JsonNode?)new JsonObject([.. selector.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())), KeyValuePair.Create("id", (JsonNode?)id)]))]);
        }
        foreach (var name in new[] { "q", "scopeQ" })
        {
            if (Get(name) is { } value)
            {
                body[name] = value;
            }
        }
        if (Get("georel") is { } georel)
        {
            var geoQ = new JsonObject { ["georel"] = georel, ["geometry"] = Get("geometry") };
            if (Get("coordinates") is { } coordinates)
            {
                geoQ["coordinates"] = JsonNode.Parse(coordinates);
            }
            if (Get("geoproperty") is { } geoproperty)
            {
                geoQ["geoproperty"] = geoproperty;
            }
            body["geoQ"] = geoQ;
        }
        return body;
    }

    /// A POST Query object's selection as GET parameters.
    private static QueryCollection ParametersOf(JsonObject body)
    {
        var parameters = new Dictionary<string, Microsoft.Extensions.Primitives.StringValues>(StringComparer.Ordinal);
        var selectors = (body["entities"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var name in new[] { "type", "idPattern" })
        {
            if (selectors.Select(e => Text(e[name])).OfType<string>().Distinct().ToList() is { Count: > 0 } values)
            {
                parameters[name] = string.Join(name == "type" ? "," : "|", values);
            }
        }
        if (selectors.Select(e => Text(e["id"])).OfType<string>().ToList() is { Count: > 0 } ids)
        {
            parameters["id"] = string.Join(",", ids);
        }
        foreach (var name in new[] { "q", "scopeQ" })
        {
            if (Text(body[name]) is { } value)
            {
                parameters[name] = value;
            }
        }
        if (body["geoQ"] is JsonObject geoQ)
        {
            foreach (var (name, value) in geoQ)
            {
                parameters[name] = value is JsonValue text && text.TryGetValue<string>(out var t) ? t : value?.ToJsonString();
            }
        }
        return new QueryCollection(parameters);
    }

    private static JsonObject QueryBody(JsonObject body, string attrs, IReadOnlyList<string>? ids)
    {
        var copy = (JsonObject)body.DeepClone();
        // How this broker renders the answer is its own business, not the source's.
        foreach (var member in new[] { "format", "options", "pick", "omit", "join", "joinLevel", "geometryProperty", "orderBy", "lang", "attrs" })
        {
            copy.Remove(member);
        }
        if (attrs.Length > 0)
        {
            copy["attrs"] = new JsonArray([.. attrs.Split(',').Select(a => (JsonNode?)a)]);
        }
        if (ids is { Count: > 0 } && copy["entities"] is JsonArray selectors)
        {
            copy["entities"] = new JsonArray([.. ids.SelectMany(id => selectors.OfType<JsonObject>().Select(s =>
            {
                var selector = (JsonObject)s.DeepClone();
                selector["id"] = id;
                return (JsonNode?)selector;
            }))]);
        }
        return copy;
    }
}
