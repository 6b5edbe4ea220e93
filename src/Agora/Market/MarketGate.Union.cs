using System.Text;
using System.Text.Json.Nodes;
using Agora.Discovery;
using Agora.Errors;
using Agora.NgsiLd;
using Agora.Security;
using Microsoft.AspNetCore.Http.Features;

namespace Agora.Market;

/// The reads of a consumer organisation's credential, held to the union of the consumer's active agreements in
/// its tenant. The request is narrowed once per agreement, exactly as that agreement's own key would be; an
/// agreement whose narrowing refuses it does not cover it and drops out, and so does one whose quota is spent.
/// When one agreement is left the request is simply that agreement's read. When several are, each runs its
/// narrowed read as a sub-request of the same endpoint, and the answers are merged by entity id, each entity
/// with the attributes any of them shows, ordered by id, then paged. Discovery shows the names any of them
/// covers. Each covering agreement counts the call; each counts the entities of the answer it covered.
internal sealed partial class MarketGate
{
    // Set on a sub-request that only tries a narrowing: a subscription is then not linked to the agreement.
    private const string DryRunKey = "agora:market:dry-run";

    // Set on a sub-request about a subscription the consumer organisation's credential made: each of its
    // agreements narrows a change of it.
    private const string ConsumerSubscriptionKey = "agora:market:consumer-subscription";

    /// One agreement's narrowing of the request: the query string and body it runs with, or why it is refused.
    private sealed record Part(Agreement Agreement, Read Read, string Query, byte[]? Body, NgsiLdException? Refused);

    /// What a sub-request answered.
    private sealed record Answer(int Status, IHeaderDictionary Headers, byte[] Body);

    private async Task UnionAsync(HttpContext http, Caller caller, string[] segments, DateTimeOffset now)
    {
        var who = $"consumer '{caller.Consumer}'";
        var agreements = store.ActiveAgreements(caller.Tenant, caller.Consumer!).Select(d => Agreement.Of(d, now))
            .Where(a => a.State == Agreement.Active).ToList();
        byte[]? body = null;
        List<Part> covering;
        var own = false;
        try
        {
            if (agreements.Count == 0)
            {
                throw Narrowing.Denied($"The consumer '{caller.Consumer}' has no active agreement in this tenant: its credential reads nothing until one is active.");
            }
            own = segments is [var subscriptions, var subscription] && Is(subscriptions, "subscriptions")
                && store.ConsumerOfSubscription(caller.Tenant, NgsiLdRequest.PathValue(subscription)) == caller.Consumer;
            if (own && (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsDelete(http.Request.Method)))
            {
                // A subscription the consumer's credential made is its own to read and delete; it is no agreement's call.
                await next(http);
                if (HttpMethods.IsDelete(http.Request.Method) && http.Response.StatusCode == StatusCodes.Status204NoContent)
                {
                    store.UnlinkConsumerSubscription(caller.Tenant, NgsiLdRequest.PathValue(segments[1]));
                }
                return;
            }
            if (segments is [var listed] && Is(listed, "subscriptions") && HttpMethods.IsGet(http.Request.Method))
            {
                var agreementIds = store.Agreements(caller.Tenant, caller.CredentialId, null, caller.Consumer).Select(a => (string)a["id"]!).ToList();
                await ListOwnAsync(http, store.SubscriptionsOf(caller.Tenant, agreementIds, caller.Consumer));
                return;
            }
            if (HttpMethods.IsPost(http.Request.Method) || HttpMethods.IsPut(http.Request.Method) || HttpMethods.IsPatch(http.Request.Method))
            {
                body = Encoding.UTF8.GetBytes((await NgsiLdRequest.ParseAsync(http)).ToJsonString());
            }
            var parts = new List<Part>();
            foreach (var agreement in agreements)
            {
                parts.Add(await PartAsync(http, agreement, segments, body, now, own));
            }
            covering = [.. parts.Where(p => p.Refused is null)];
            if (covering.Count == 0)
            {
                throw Narrowing.Denied($"No active agreement of the consumer '{caller.Consumer}' covers this request: "
                    + string.Join(" ", parts.Select(p => $"{p.Agreement.Id}: {p.Refused!.Detail}")));
            }
        }
        catch (NgsiLdException e) when (e.Status == 403)
        {
            await DenyAsync(http, caller, who, e);
            return;
        }

        // Each covering agreement's quota is checked, and the call counted, before it contributes; one whose
        // quota is spent drops out, and the call is 429 only when every covering agreement's is.
        var day = MarketStore.Day(now);
        var spent = new List<string>();
        var counted = new List<Part>();
        foreach (var part in covering)
        {
            if (Spent(http, part.Agreement, day) is { } quota)
            {
                spent.Add($"{part.Agreement.Id} ({quota})");
            }
            else
            {
                counted.Add(part);
            }
        }
        if (counted.Count == 0)
        {
            await ThrottleAsync(http, caller, who, $"quotas of every covering agreement spent: {string.Join(", ", spent)}",
                $"Every agreement of the consumer '{caller.Consumer}' that covers this request has spent its quota: {string.Join(", ", spent)}", now);
            return;
        }
        if (spent.Count > 0)
        {
            await audit.WriteAsync(http, caller.Tenant, caller.CredentialId, AuditLog.Throttled, $"{who}: left out of the union, quota spent: {string.Join(", ", spent)}");
        }
        if (counted.Count == 1 && !own)
        {
            // One agreement left: the request is that agreement's read, as its own key would make it.
            http.Request.Body = body is null ? Stream.Null : new MemoryStream(body);
            http.Request.ContentLength = body?.Length;
            await ServeAsync(http, caller, counted[0].Agreement, segments, now, counted: true);
            return;
        }
        if (counted[0].Read is Read.Subscription)
        {
            await SubscribeAsync(http, caller, counted, body!, day);
            return;
        }
        if (counted[0].Read is Read.Discovery)
        {
            var context = await NgsiLdRequest.ContextAsync(http);
            var scopes = counted.Select(p => DiscoveryScopeOf(new Narrowing(p.Agreement.Scope, context, now), segments)).ToList();
            // An entity is seen when one of the agreements sees it; whole types when each agreement sees whole types.
            Func<JsonObject, bool>? entity = scopes.Any(s => s.Entity is not null)
                ? doc => scopes.Any(s => s.Type is var type && (doc["type"] as JsonArray ?? []).Any(t => type((string)t!)) && (s.Entity?.Invoke(doc) ?? true))
                : null;
            http.Features.Set(new DiscoveryScope(t => scopes.Any(s => s.Type(t)), a => scopes.Any(s => s.Attribute(a)), entity));
            await MeteredRunAsync(http, Read.Discovery, (_, bytes) => counted.ForEach(p => store.AddResult(p.Agreement.Id, day, 0, bytes)));
            return;
        }
        await MergedAsync(http, counted, day);
    }

    /// A subscription covered by several agreements: its entities are those any of them selects, its watched and
    /// notified attributes those any of them covers (all when one covers all). It is linked to the consumer, and
    /// each notification is cut when it is sent to what the agreements active then cover (MarketNotifications).
    /// A change of such a subscription (PATCH) is the union of the agreements' narrowings of the fragment, in the
    /// members the fragment has.
    private async Task SubscribeAsync(HttpContext http, Caller caller, List<Part> parts, byte[] body, string day)
    {
        var patch = HttpMethods.IsPatch(http.Request.Method);
        var union = JsonNode.Parse(body)!.AsObject();
        var narrowed = parts.Select(p => JsonNode.Parse(p.Body!)!.AsObject()).ToList();
        if (!patch || union.ContainsKey("entities"))
        {
            union["entities"] = new JsonArray([.. narrowed.SelectMany(n => n["entities"]!.AsArray()).DistinctBy(e => e!.ToJsonString()).Select(e => e!.DeepClone())]);
        }
        if (!patch || union.ContainsKey("watchedAttributes"))
        {
            union["watchedAttributes"] = UnionOf(narrowed.Select(n => n["watchedAttributes"]));
        }
        if (union["notification"] is JsonObject notification)
        {
            notification["attributes"] = UnionOf(narrowed.Select(n => n["notification"]?["attributes"]));
        }
        // The areas of the agreements are applied to each notification; a geoQ of the client's own stays as it is.
        string? id = null;
        if (!patch)
        {
            union["id"] ??= $"urn:ngsi-ld:Subscription:{Guid.NewGuid()}";
            id = union["id"] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;
            if (id is not null && !store.LinkConsumerSubscription(caller.Tenant, id, caller.Consumer!))
            {
                throw new NgsiLdException(ErrorTypes.AlreadyExists, "Subscription exists", $"A subscription with id {id} exists already.");
            }
        }
        if (union["watchedAttributes"] is null)
        {
            union.Remove("watchedAttributes");
        }
        if (union["notification"] is JsonObject n && n["attributes"] is null)
        {
            n.Remove("attributes");
        }
        Replace(http, union);
        try
        {
            await MeteredRunAsync(http, Read.Subscription, (_, bytes) => parts.ForEach(p => store.AddResult(p.Agreement.Id, day, 0, bytes)));
        }
        finally
        {
            if (id is not null && http.Response.StatusCode != StatusCodes.Status201Created)
            {
                store.UnlinkConsumerSubscription(caller.Tenant, id);
            }
        }
    }

    // The union of the attribute lists of several narrowings; null (every attribute) when one of them has none.
    private static JsonArray? UnionOf(IEnumerable<JsonNode?> lists)
    {
        var names = new List<string>();
        foreach (var list in lists)
        {
            if (list is not JsonArray items)
            {
                return null;
            }
            names.AddRange(items.Select(i => (string?)i).OfType<string>());
        }
        return Array(names.Distinct(StringComparer.Ordinal));
    }

    /// The agreement's narrowing of the request, tried on a copy of it.
    private async Task<Part> PartAsync(HttpContext http, Agreement agreement, string[] segments, byte[]? body, DateTimeOffset now, bool consumerSubscription)
    {
        var (sub, _) = SubRequest(http, http.Request.QueryString.Value ?? "", body);
        sub.Items[DryRunKey] = true;
        sub.Items[ConsumerSubscriptionKey] = consumerSubscription;
        try
        {
            var read = await NarrowAsync(sub, segments, new Narrowing(agreement.Scope, await NgsiLdRequest.ContextAsync(sub), now), agreement);
            byte[]? narrowed = null;
            if (body is not null)
            {
                using var copy = new MemoryStream();
                await sub.Request.Body.CopyToAsync(copy);
                narrowed = copy.ToArray();
            }
            return new Part(agreement, read, sub.Request.QueryString.Value ?? "", narrowed, null);
        }
        catch (NgsiLdException e) when (e.Status == 403)
        {
            return new Part(agreement, Read.Discovery, "", null, e);
        }
    }

    /// Runs each agreement's narrowed read and answers their merge: one entity per id with every attribute any
    /// of them shows, ordered by id, paged as the client asked, counted over the whole union.
    private async Task MergedAsync(HttpContext http, List<Part> parts, string day)
    {
        var collection = parts[0].Read is Read.Entities;
        var paging = collection ? Paging.Parse(http.Request.Query) : default;
        if (collection && OrderOf(http, parts[0]) is { } order && order.Trim() != "id")
        {
            throw new NgsiLdException(ErrorTypes.OperationNotSupported, "Order not supported",
                $"A read across several agreements is ordered by entity id; orderBy={Entities.Names.Shorten(order)} needs one agreement's key.", 400);
        }
        var merged = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var covered = parts.ToDictionary(p => p.Agreement.Id, _ => new HashSet<string>(StringComparer.Ordinal));
        Answer? first = null;
        var geoJson = false;
        foreach (var part in parts)
        {
            var wanted = !collection ? 1 : paging.Count ? int.MaxValue : paging.Offset + paging.Limit;
            var (answer, items, features) = await FetchAsync(http, part.Query, part.Body, collection ? wanted : null, orderById: true);
            first = first is { Status: 200 or 206 } ? first : answer;
            geoJson |= features;
            foreach (var item in items)
            {
                var id = (string)item["id"]!;
                covered[part.Agreement.Id].Add(id);
                if (merged.TryGetValue(id, out var held))
                {
                    Unite(held, item);
                }
                else
                {
                    merged[id] = item;
                }
            }
        }
        if (merged.Count == 0 && !collection)
        {
            // No agreement's read found the entity: the first answer (a 404) stands.
            await WriteAsync(http, first!, first!.Body);
            parts.ForEach(p => store.AddResult(p.Agreement.Id, day, 0, first.Body.Length));
            return;
        }
        var ordered = merged.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Value).ToList();
        var page = collection ? ordered.Skip(paging.Offset).Take(paging.Limit).ToList() : ordered;
        JsonNode result = !collection ? page[0]
            : geoJson ? new JsonObject { ["type"] = "FeatureCollection", ["features"] = new JsonArray([.. page]) }
            : new JsonArray([.. page]);
        var bytes = Encoding.UTF8.GetBytes(result.ToJsonString());
        if (collection && paging.Count)
        {
            http.Response.Headers[Paging.CountHeader] = merged.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        await WriteAsync(http, first! with { Status = 200 }, bytes);
        foreach (var part in parts)
        {
            store.AddResult(part.Agreement.Id, day, page.Count(e => covered[part.Agreement.Id].Contains((string)e["id"]!)), bytes.Length);
        }
    }

    /// Runs a read (in pages of the largest size when wanted is given, until that many or the last page) and
    /// returns its last answer, the items with an id it held (a query's entities, a GeoJSON collection's
    /// features, or the one entity retrieved) and whether it answered GeoJSON.
    private static async Task<(Answer Last, List<JsonObject> Items, bool GeoJson)> FetchAsync(HttpContext http, string query, byte[]? body, int? wanted, bool orderById)
    {
        var items = new List<JsonObject>();
        var geoJson = false;
        for (var offset = 0; ;)
        {
            var limit = Math.Min(Paging.MaxLimit, (wanted ?? 1) - offset);
            var answer = await RunAsync(http, wanted is null ? query : WithPaging(query, offset, limit, orderById), body);
            if (answer.Status is not (200 or 206))
            {
                return (answer, items, geoJson);
            }
            var parsed = JsonNode.Parse(answer.Body);
            geoJson |= parsed is JsonObject o && (string?)o["type"] is "FeatureCollection" or "Feature";
            var got = parsed switch
            {
                JsonArray array => Detached(array),
                JsonObject { } fc when fc["features"] is JsonArray features => Detached(features),
                JsonObject one => [one],
                _ => [],
            };
            items.AddRange(got.Where(i => (string?)i["id"] is not null));
            offset += limit;
            if (wanted is null || got.Count < limit || offset >= wanted)
            {
                return (answer, items, geoJson);
            }
        }
    }

    // The objects of an array, taken out of it so that they can join another.
    private static List<JsonObject> Detached(JsonArray array)
    {
        var items = array.OfType<JsonObject>().ToList();
        array.Clear();
        return items;
    }

    /// A list of subscriptions cut to those the caller made, then paged as the client asked. The bytes written.
    private static async Task<long> ListOwnAsync(HttpContext http, HashSet<string> own)
    {
        var paging = Paging.Parse(http.Request.Query);
        var (answer, items, _) = await FetchAsync(http, http.Request.QueryString.Value ?? "", null, int.MaxValue, orderById: false);
        if (answer.Status != 200)
        {
            await WriteAsync(http, answer, answer.Body);
            return answer.Body.Length;
        }
        var mine = items.Where(i => own.Contains((string)i["id"]!)).ToList();
        paging.WriteCount(http.Response, mine.Count);
        var bytes = Encoding.UTF8.GetBytes(new JsonArray([.. mine.Skip(paging.Offset).Take(paging.Limit)]).ToJsonString());
        await WriteAsync(http, answer, bytes);
        return bytes.Length;
    }

    // The orderBy a query asks, in its URL or its Query object.
    private static string? OrderOf(HttpContext http, Part part)
    {
        if (http.Request.Query["orderBy"] is { Count: > 0 } order)
        {
            return order.ToString();
        }
        return part.Body is null ? null : JsonNode.Parse(part.Body)?["orderBy"] switch
        {
            JsonArray list => string.Join(",", list.Select(i => (string?)i)),
            JsonValue v => v.ToString(),
            _ => null,
        };
    }

    /// Each entity (or GeoJSON feature) of one agreement's answer adds the members the merge lacks. Two
    /// agreements show the same attribute of an entity with the same value; only a history can differ, by
    /// their windows, and the longer one holds the shorter.
    private static void Unite(JsonObject held, JsonObject item)
    {
        foreach (var (name, value) in item)
        {
            switch (held[name], value)
            {
                case (null, _):
                    held[name] = value?.DeepClone();
                    break;
                case (JsonObject properties, JsonObject more) when name == "properties":
                    Unite(properties, more);
                    break;
                case (JsonArray had, JsonArray longer) when longer.Count > had.Count:
                    held[name] = longer.DeepClone();
                    break;
            }
        }
    }

    private static string WithPaging(string query, int offset, int limit, bool orderById)
    {
        var parameters = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        parameters.Remove("count");
        parameters["offset"] = offset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        parameters["limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (orderById)
        {
            parameters["orderBy"] = "id";
        }
        return QueryString.Create(parameters).Value!;
    }

    private static async Task WriteAsync(HttpContext http, Answer answer, byte[] body)
    {
        http.Response.StatusCode = answer.Status;
        foreach (var name in new[] { "Content-Type", "Link", "Content-Range" })
        {
            if (answer.Headers.TryGetValue(name, out var value))
            {
                http.Response.Headers[name] = value;
            }
        }
        http.Response.ContentLength = body.Length;
        await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }

    /// Runs the endpoint the request was routed to on a copy of the request with this query string and body.
    private static async Task<Answer> RunAsync(HttpContext http, string query, byte[]? body)
    {
        var (sub, buffer) = SubRequest(http, query, body);
        await http.GetEndpoint()!.RequestDelegate!(sub);
        await sub.Features.Get<IHttpResponseBodyFeature>()!.CompleteAsync();
        return new Answer(sub.Response.StatusCode, sub.Response.Headers, buffer.ToArray());
    }

    /// A copy of the request that shares the caller, the services and the route, with its own query string, body,
    /// items and a response held in memory.
    private static (HttpContext Context, MemoryStream Response) SubRequest(HttpContext http, string query, byte[]? body)
    {
        var features = new FeatureCollection(http.Features);
        var headers = new HeaderDictionary();
        foreach (var (name, value) in http.Request.Headers)
        {
            headers[name] = value;
        }
        headers.ContentLength = body?.Length;
        features.Set<IHttpRequestFeature>(new HttpRequestFeature
        {
            Protocol = http.Request.Protocol,
            Scheme = http.Request.Scheme,
            Method = http.Request.Method,
            PathBase = http.Request.PathBase,
            Path = http.Request.Path,
            RawTarget = http.Request.Path,
            QueryString = query,
            Headers = headers,
            Body = body is null ? Stream.Null : new MemoryStream(body),
        });
        features.Set<IQueryFeature>(new QueryFeature(features));
        features.Set<IItemsFeature>(new ItemsFeature());
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        var buffer = new MemoryStream();
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(buffer));
        return (new DefaultHttpContext(features), buffer);
    }
}
