using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.Federation;
using Agora.Hosting;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Entities;

/// Batch entity operations (clauses 5.6.7–5.6.10 and 5.6.20; HTTP binding 6.14–6.17, 6.31): each entity of a
/// batch succeeds or fails on its own and completely; the whole batch is one transaction of the writer, so a
/// batch costs one commit however many entities it holds.
internal static class BatchApi
{
    public static RouteGroupBuilder MapBatchOperations(this RouteGroupBuilder group)
    {
        group.MapPost("/entityOperations/create", Create);
        group.MapPost("/entityOperations/upsert", Upsert);
        group.MapPost("/entityOperations/update", Update);
        group.MapPost("/entityOperations/merge", Merge);
        group.MapPost("/entityOperations/delete", Delete);
        return group;
    }

    /// One entity of a batch, expanded, or the reason it could not be.
    private sealed record Item(string? Id, JsonObject? Doc, JsonLdContext? Context, NgsiLdException? Error, JsonObject? Body = null)
    {
        /// The entity as it will be inserted, made before the batch is queued (Prepared), off the writer.
        public EntityRows.NewEntity? New { get; init; }
    }

    // What an entity of the batch would insert, made while the writer serves others; what the forwarding left
    // of each entity is final by then.
    private static List<Item> Prepared(List<Item> items) =>
        [.. items.Select(i => i.Error is null && i.Doc is { } doc ? i with { New = EntityRows.Prepare(doc) } : i)];

    private sealed class Outcome
    {
        public List<string> Success { get; } = [];
        public List<string> Created { get; } = [];
        public List<(string? Id, NgsiLdException Error)> Errors { get; } = [];

        /// Entities whose write succeeded only in part; moved to Errors once the batch has run.
        public List<(string Id, NgsiLdException Error)> Partial { get; } = [];
    }

    private static async Task<IResult> Create(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        var items = await ReadEntitiesAsync(http, full: true);
        var store = tenants.GetOrCreate(tenant);
        var remote = await ForwardAsync(http, distributed, store, "createBatch", "/entityOperations/create", items);
        var outcome = await RunAsync(store, Prepared(remote.Local), remote, (c, item, o) =>
        {
            EntityRows.Insert(c, item.New!);
            o.Created.Add(item.Id!);
        });
        return outcome.Errors.Count == 0
            ? TypedResults.Json(new JsonArray([.. outcome.Success.Select(id => (JsonNode?)JsonValue.Create(id))]), statusCode: 201)
            : MultiStatus(outcome);
    }

    private static async Task<IResult> Upsert(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "options", "local");
        var update = Options(http, "replace", "update") == "update";
        var items = await ReadEntitiesAsync(http, full: true);
        var store = tenants.GetOrCreate(tenant);
        var remote = await ForwardAsync(http, distributed, store, "upsertBatch", "/entityOperations/upsert", items);
        var outcome = await RunAsync(store, Prepared(remote.Local), remote, (c, item, o) =>
        {
            var stored = EntityRows.Find(c, item.Id!);
            if (stored is null)
            {
                EntityRows.Insert(c, item.New!);
                o.Created.Add(item.Id!);
            }
            else if (update)
            {
                EntityUpdates.AddTypes(stored, item.Doc!["type"]!.AsArray());
                EntityUpdates.Append(stored, Attributes(item.Doc!), noOverwrite: false, (string)item.Doc!["modifiedAt"]!);
                if (item.Doc!["scope"] is JsonArray scope)
                {
                    stored["scope"] = scope.DeepClone();
                }
                EntityRows.Update(c, stored);
            }
            else
            {
                EntityRows.Update(c, EntityUpdates.Replace(stored, item.Doc!), stored);
            }
        });
        if (outcome.Errors.Count > 0)
        {
            return MultiStatus(outcome);
        }
        // Created entities are named (201); when every entity already existed there is nothing to name (204).
        return outcome.Created.Count > 0
            ? TypedResults.Json(new JsonArray([.. outcome.Created.Distinct().Select(id => (JsonNode?)JsonValue.Create(id))]), statusCode: 201)
            : TypedResults.NoContent();
    }

    private static async Task<IResult> Update(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "options", "local");
        var noOverwrite = Options(http, "", "noOverwrite") == "noOverwrite";
        var items = await ReadEntitiesAsync(http, full: false);
        var store = tenants.Existing(tenant);
        var remote = await ForwardAsync(http, distributed, store, "updateBatch", "/entityOperations/update", items);
        var outcome = await RunAsync(store, remote.Local, remote, (c, item, o) =>
        {
            var stored = EntityRows.Find(c, item.Id!) ?? throw NotFound(item.Id!);
            var now = EntityInput.Timestamp(DateTimeOffset.UtcNow);
            if (item.Body?["type"] is { } types)
            {
                EntityUpdates.AddTypes(stored, new EntityInput(item.Context!, now).Types(types));
            }
            var result = EntityUpdates.Append(stored, item.Doc!, noOverwrite, now);
            EntityRows.Update(c, stored);
            if (result.NotUpdated.Count > 0)
            {
                // The new attributes are kept; the entity is reported because some of its attributes were not
                // overwritten (clause 5.6.9 with noOverwrite: a 207 names them).
                o.Partial.Add((item.Id!, NgsiLdException.BadRequest("Attributes not overwritten",
                    $"{string.Join(", ", result.NotUpdated.Select(n => item.Context!.CompactIri(n.Attribute)))} already exist and noOverwrite was asked.")));
            }
        });
        return outcome.Errors.Count == 0 ? TypedResults.NoContent() : MultiStatus(outcome);
    }

    private static async Task<IResult> Merge(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        var items = await ReadEntitiesAsync(http, full: false, allowNull: true);
        var store = tenants.Existing(tenant);
        var remote = await ForwardAsync(http, distributed, store, "mergeBatch", "/entityOperations/merge", items);
        var outcome = await RunAsync(store, remote.Local, remote, (c, item, o) =>
        {
            var stored = EntityRows.Find(c, item.Id!) ?? throw NotFound(item.Id!);
            var input = new EntityInput(item.Context!, EntityInput.Timestamp(DateTimeOffset.UtcNow));
            var types = item.Body?["type"] is { } t ? input.Types(t) : null;
            var scope = item.Body?["scope"] is { } s ? EntityInput.Scope(s) : null;
            EntityUpdates.Merge(stored, item.Doc!, types, scope, input.Now);
            EntityRows.Update(c, stored);
        });
        return outcome.Errors.Count == 0 ? TypedResults.NoContent() : MultiStatus(outcome);
    }

    private static async Task<IResult> Delete(HttpContext http, TenantStores tenants, Distributed distributed)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        var (body, _) = await NgsiLdRequest.ArrayBodyAsync(http);
        CheckSize(http, body);
        var items = body.Select(node =>
        {
            try
            {
                return new Item(EntityInput.Id(node), null, null, null);
            }
            catch (NgsiLdException e)
            {
                return new Item(node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null, null, null, e);
            }
        }).ToList();
        var store = tenants.Existing(tenant);
        var remote = await ForwardAsync(http, distributed, store, "deleteBatch", "/entityOperations/delete", items);
        var outcome = await RunAsync(store, remote.Local, remote, (c, item, o) =>
        {
            if (!EntityRows.Delete(c, item.Id!))
            {
                throw NotFound(item.Id!);
            }
        });
        return outcome.Errors.Count == 0 ? TypedResults.NoContent() : MultiStatus(outcome);
    }

    /// Parses and validates every entity of the batch before anything is written; an invalid entity becomes an
    /// error of the batch result, not a failure of the request.
    private static async Task<List<Item>> ReadEntitiesAsync(HttpContext http, bool full, bool allowNull = false)
    {
        var (body, ldJson) = await NgsiLdRequest.ArrayBodyAsync(http);
        CheckSize(http, body);
        var items = new List<Item>(body.Count);
        foreach (var node in body)
        {
            string? id = null;
            try
            {
                if (node is not JsonObject entity)
                {
                    throw NgsiLdException.BadRequest("Invalid entity", "Each element of a batch must be an entity object.");
                }
                id = entity["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
                var context = await NgsiLdRequest.ContextOfAsync(http, entity, ldJson);
                var input = new EntityInput(context, EntityInput.Timestamp(DateTimeOffset.UtcNow));
                id = EntityInput.Id(entity["id"]);
                items.Add(new Item(id, full ? input.Entity(entity) : input.Fragment(entity, allowNull), context, null, entity));
            }
            catch (NgsiLdException e)
            {
                items.Add(new Item(id, null, null, e));
            }
        }
        return items;
    }

    private static void CheckSize(HttpContext http, JsonArray body)
    {
        var max = http.RequestServices.GetRequiredService<IOptions<AgoraOptions>>().Value.MaxBatchSize;
        if (body.Count == 0)
        {
            throw NgsiLdException.BadRequest("Empty batch", "A batch operation needs at least one entity.");
        }
        if (body.Count > max)
        {
            throw NgsiLdException.BadRequest("Batch too large", $"A batch may hold at most {max} entities (Agora:MaxBatchSize); this one holds {body.Count}.");
        }
    }

    private static async Task<Outcome> RunAsync(TenantStore store, List<Item> items, Remote remote, Action<DbConnection, Item, Outcome> apply)
    {
        var outcome = new Outcome();
        outcome.Success.AddRange(remote.Success);
        outcome.Created.AddRange(remote.Created);
        outcome.Errors.AddRange(remote.Errors.Select(e => ((string?)e.Id, e.Error)));
        foreach (var item in items.Where(i => i.Error is not null))
        {
            outcome.Errors.Add((item.Id, item.Error!));
        }
        var valid = items.Where(i => i.Error is null).ToList();
        if (valid.Count == 0)
        {
            return outcome;
        }
        // No savepoint per entity: releasing nested savepoints walks SQLite's in-memory sub-journal, which made
        // a batch quadratic (62% of its time in memjrnlTruncate at 1,000 entities). Instead every apply fails,
        // if it fails at all, before its first write: lookups and validation come first, and an INSERT that
        // meets an existing id is undone by SQLite itself. Any other failure rolls the whole request back
        // through the transaction the batch runs in alone.
        return await store.WriteAloneAsync(c =>
        {
            foreach (var item in valid)
            {
                try
                {
                    apply(c, item, outcome);
                    outcome.Success.Add(item.Id!);
                }
                catch (NgsiLdException e)
                {
                    outcome.Errors.Add((item.Id, e));
                }
            }
            foreach (var (id, error) in outcome.Partial)
            {
                outcome.Success.Remove(id);
                outcome.Errors.Add((id, error));
            }
            return outcome;
        });
    }

    private static JsonObject Attributes(JsonObject doc)
    {
        var attrs = new JsonObject();
        foreach (var (key, value) in doc)
        {
            if (key.Contains(':'))
            {
                attrs[key] = value!.DeepClone();
            }
        }
        return attrs;
    }

    private static string Options(HttpContext http, params string[] allowed)
    {
        var options = RepresentationQuery.List(http.Request.Query, "options");
        return options switch
        {
            [] => allowed[0],
            [var one] when allowed.Contains(one) => one,
            _ => throw NgsiLdException.BadRequest("Invalid options", $"options must be one of {string.Join(", ", allowed.Where(a => a.Length > 0))}."),
        };
    }

    private static IResult MultiStatus(Outcome outcome) => TypedResults.Json(new JsonObject
    {
        ["success"] = new JsonArray([.. outcome.Success.Distinct().Select(id => (JsonNode?)JsonValue.Create(id))]),
        ["errors"] = new JsonArray([.. outcome.Errors.Select(e => (JsonNode?)new JsonObject
        {
            ["entityId"] = e.Id,
            ["error"] = e.Error.ToJson(),
        })]),
    }, statusCode: 207);

    /// What context sources did with their part of a batch, and the entities (with the attributes proxied
    /// sources hold taken out) left for the local store.
    private sealed record Remote(List<Item> Local, List<string> Success, List<string> Created, List<(string Id, NgsiLdException Error)> Errors);

    /// Batch operations across context sources (clauses 5.6.7–5.6.10, 5.6.20): each matching source receives
    /// one batch of the entities, and of their attributes, it is registered for; the attributes exclusive and
    /// redirect sources hold are left out of the local write, and an entity a redirect source holds whole is not
    /// written locally at all. A proxied source that does not support the batch operation is a conflict for
    /// its entities; an inclusive one is skipped.
    private static async Task<Remote> ForwardAsync(HttpContext http, Distributed distributed, TenantStore store, string operation, string path, List<Item> items)
    {
        var sources = distributed.ForWrite(http, store);
        var none = new Remote(items, [], [], []);
        if (sources.Count == 0)
        {
            return none;
        }
        var valid = items.Where(i => i.Error is null).ToList();
        var stored = store.Read(c => valid.Select(i => EntityRows.Find(c, i.Id!)).ToList());
        var typesOf = valid.Select((item, n) => (item.Doc?["type"] as JsonArray ?? stored[n]?["type"] as JsonArray)?.Select(t => (string)t!).ToList())
            .Zip(valid, (types, item) => (item.Id!, types)).GroupBy(p => p.Item1).ToDictionary(g => g.Key, g => (IReadOnlyCollection<string>?)g.First().types, StringComparer.Ordinal);
        var left = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        // An entity all of whose attributes proxied sources hold is not written locally (clause 5.6.7).
        bool AllRemote(Item item) => item.Doc is { } doc && left.TryGetValue(item.Id!, out var taken)
            && doc.Select(p => p.Key).Where(EntityMerge.IsAttribute).ToList() is { Count: > 0 } names && names.All(taken.Contains);
        var wholeRemote = new HashSet<string>(StringComparer.Ordinal);
        var remote = new Remote([], [], [], []);
        var batches = new List<(ContextSource Source, Forward Forward, List<string> Ids)>();
        foreach (var source in sources)
        {
            var parts = new JsonArray();
            var ids = new List<string>();
            foreach (var item in valid)
            {
                if (source.ClaimOf(item.Id!, typesOf[item.Id!]) is not { } claim)
                {
                    continue;
                }
                if (source.Proxied)
                {
                    if (claim.All)
                    {
                        wholeRemote.Add(item.Id!);
                    }
                    (left.TryGetValue(item.Id!, out var set) ? set : left[item.Id!] = new HashSet<string>(StringComparer.Ordinal)).UnionWith(claim.Attributes);
                }
                JsonNode? part = item.Body is null ? item.Id : DistributedWrites.Part(item.Body, claim, item.Context!);
                if (part is not null)
                {
                    parts.Add(part);
                    ids.Add(item.Id!);
                }
            }
            if (ids.Count == 0)
            {
                continue;
            }
            if (!source.Supports(operation))
            {
                if (source.Proxied)
                {
                    remote.Errors.AddRange(ids.Select(id => (id, new NgsiLdException(ErrorTypes.Conflict, "Operation not supported by the context source",
                        $"Registration {source.Id} holds this data ({source.Mode}) but does not support {operation}."))));
                }
                continue;
            }
            var query = http.Request.QueryString.HasValue ? http.Request.QueryString.Value : "";
            var ldJson = parts.Any(p => p is JsonObject o && o.ContainsKey("@context"));
            batches.Add((source, new Forward(HttpMethod.Post, path + query, parts, ldJson), ids));
        }
        // A batch that came back here is refused before any of it is sent on again.
        distributed.CheckLoop(http, forwarding: batches.Count > 0);
        var sends = batches.Select(b => (Reply: distributed.Client.SendAsync(http, store, b.Source, b.Forward), b.Ids)).ToList();
        wholeRemote.UnionWith(valid.Where(AllRemote).Select(i => i.Id!));
        foreach (var (pending, ids) in sends)
        {
            var reply = await pending;
            var failed = reply.Succeeded && reply.Body is JsonObject result && result["errors"] is JsonArray errors
                ? errors.OfType<JsonObject>().Select(e => (DistributedReads.Text(e["entityId"]) ?? "", e["error"] as JsonObject)).Where(e => ids.Contains(e.Item1)).ToList()
                : [];
            foreach (var id in ids)
            {
                if (!reply.Succeeded)
                {
                    remote.Errors.Add((id, DistributedWrites.RemoteError(reply)));
                }
                else if (failed.FirstOrDefault(f => f.Item1 == id) is { Item1: not null } f && f.Item2 is { } problem)
                {
                    var status = problem["status"] is JsonValue s && s.TryGetValue<int>(out var code) && code is >= 400 and <= 599 ? code : 500;
                    remote.Errors.Add((id, new NgsiLdException(DistributedReads.Text(problem["type"]) ?? ErrorTypes.InternalError, DistributedReads.Text(problem["title"]) ?? "Context source failed",
                        $"Registration {reply.Source.Id}: {DistributedReads.Text(problem["detail"])}", status)));
                }
                else if (wholeRemote.Contains(id))
                {
                    remote.Success.Add(id);
                    if (operation is "createBatch")
                    {
                        remote.Created.Add(id);
                    }
                }
            }
        }
        foreach (var item in items)
        {
            if (item.Error is not null || !wholeRemote.Contains(item.Id!))
            {
                remote.Local.Add(left.TryGetValue(item.Id ?? "", out var taken) && item.Doc is not null ? item with { Doc = EntityMerge.Without(item.Doc, taken) } : item);
            }
        }
        return remote;
    }

    private static NgsiLdException NotFound(string id) => NgsiLdException.NotFound("Entity not found", $"No entity with id {id}.");
}
