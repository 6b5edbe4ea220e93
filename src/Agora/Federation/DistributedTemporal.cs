using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.JsonLd;
using Agora.Storage;

namespace Agora.Federation;

/// Temporal retrieve and query across context sources (clause 5.7.3–5.7.4): sources registered for
/// retrieveTemporal or queryTemporal receive the request as the client sent it (same parameters, same @context),
/// and their temporal entities are merged with the local answer by id, attribute by attribute: instances are
/// added, an instance already present (same instanceId, or the same instance) once.
internal static class DistributedTemporal
{
    private static readonly string[] Members = ["id", "type", "scope", "@context"];

    /// The sources of a temporal read, and what to forward to them: the request's own path and query.
    public static async Task<Reply[]> AskAsync(HttpContext http, Distributed distributed, TenantStore store, IReadOnlyList<ContextSource> sources,
        string? id, JsonObject? postBody)
    {
        var matching = sources.Where(s => id is null ? s.ClaimOfQuery(null, []) is not null : s.ClaimOf(id, null) is not null).ToList();
        var target = DistributedWrites.Target(http);
        var forward = postBody is null ? new Forward(HttpMethod.Get, target) : new Forward(HttpMethod.Post, target, postBody, postBody.ContainsKey("@context"));
        var replies = await Task.WhenAll(matching.Select(s => distributed.Client.SendAsync(http, store, s, forward)));
        foreach (var reply in replies.Where(r => !r.Succeeded && r.Status != 404))
        {
            distributed.Warn(http, reply);
        }
        return replies;
    }

    /// One temporal entity merged from the local answer (null when there is none) and the sources' answers.
    public static JsonObject? Entity(JsonObject? local, IEnumerable<Reply> replies)
    {
        var merged = (JsonObject?)local?.DeepClone();
        foreach (var remote in replies.Where(r => r.Succeeded).Select(r => r.Body).OfType<JsonObject>())
        {
            merged = Merge(merged, remote);
        }
        return merged;
    }

    /// The temporal entities of a query merged by id, the local ones first.
    public static JsonArray Entities(JsonArray local, IEnumerable<Reply> replies)
    {
        var byId = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var entity in local.Concat(replies.Where(r => r.Succeeded).Select(r => r.Body).OfType<JsonArray>().SelectMany(a => a)).OfType<JsonObject>())
        {
            var id = DistributedReads.Text(entity["id"]) ?? "";
            if (byId.TryGetValue(id, out var held))
            {
                byId[id] = Merge(held, entity);
            }
            else
            {
                byId[id] = (JsonObject)entity.DeepClone();
                order.Add(id);
            }
        }
        return new JsonArray([.. order.Select(id => (JsonNode?)byId[id])]);
    }

    private static JsonObject Merge(JsonObject? into, JsonObject from)
    {
        if (into is null)
        {
            return (JsonObject)from.DeepClone();
        }
        foreach (var (name, value) in from)
        {
            if (Members.Contains(name) || value is null)
            {
                if (name == "type" && value is not null && into["type"] is { } held && held.ToJsonString() != value.ToJsonString())
                {
                    into["type"] = Union(held, value);
                }
                continue;
            }
            into[name] = into[name] switch
            {
                null => value.DeepClone(),
                JsonArray instances => Union(instances, value),
                // The temporalValues form: {"type": ..., "values": [[v, t], ...]} and its kin.
                JsonObject simplified when value is JsonObject other => Simplified(simplified, other),
                var held => held.DeepClone(),
            };
        }
        return into;
    }

    private static JsonObject Simplified(JsonObject held, JsonObject other)
    {
        var merged = (JsonObject)held.DeepClone();
        foreach (var (member, list) in other)
        {
            if (list is JsonArray values)
            {
                merged[member] = merged[member] is JsonArray mine ? Union(mine, values) : values.DeepClone();
            }
        }
        return merged;
    }

    private static JsonArray Union(JsonNode held, JsonNode added)
    {
        var result = held is JsonArray a ? (JsonArray)a.DeepClone() : new JsonArray(held.DeepClone());
        var seen = result.Select(Key).ToHashSet(StringComparer.Ordinal);
        foreach (var item in added is JsonArray many ? many : new JsonArray(added.DeepClone()))
        {
            if (seen.Add(Key(item)))
            {
                result.Add(item?.DeepClone());
            }
        }
        return result;
    }

    private static string Key(JsonNode? item) => item is JsonObject o && DistributedReads.Text(o["instanceId"]) is { } id ? id : item?.ToJsonString() ?? "null";
}
