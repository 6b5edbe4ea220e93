using System.Data;
using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using Agora.JsonLd;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Temporal;

/// The temporal provision operations (clauses 5.6.11–5.6.16; HTTP binding 6.18–6.21): write instances into
/// an entity's history directly, and delete history. They change the history only, never the entity's
/// current state; changes made through the entity API reach the history by HistoryRecorder.
internal static class TemporalApi
{
    public static RouteGroupBuilder MapTemporal(this RouteGroupBuilder group)
    {
        group.MapPost("/temporal/entities", CreateOrAdd);
        group.MapGet("/temporal/entities", TemporalQueryApi.Query);
        group.MapPost("/temporal/entityOperations/query", TemporalQueryApi.QueryPost);
        group.MapGet("/temporal/entities/{id}", TemporalQueryApi.Retrieve);
        group.MapDelete("/temporal/entities/{id}", Delete);
        group.MapPost("/temporal/entities/{id}/attrs", AddAttributes);
        group.MapDelete("/temporal/entities/{id}/attrs/{attrId}", DeleteAttribute);
        group.MapPatch("/temporal/entities/{id}/attrs/{attrId}/{instanceId}", ModifyInstance);
        group.MapDelete("/temporal/entities/{id}/attrs/{attrId}/{instanceId}", DeleteInstance);
        return group;
    }

    /// Create or Update Temporal Representation of an Entity (5.6.11): 201 when the history is new, 204
    /// when the instances were added to an existing one.
    private static async Task<IResult> CreateOrAdd(HttpContext http, TenantStores tenants)
    {
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var input = Input(context);
        var head = new JsonObject();
        foreach (var key in (string[])["id", "@id", "type", "@type", "scope"])
        {
            if (body[key] is { } v)
            {
                head[key] = v.DeepClone();
            }
        }
        var entity = input.Entity(head);
        var id = (string)entity["id"]!;
        var instances = Instances(body, input);
        var created = await tenants.GetOrCreate(tenant).WriteAsync(c =>
        {
            var existed = TemporalRows.EntityId(c, id) is not null;
            var eid = TemporalRows.Merge(c, id, entity["type"]!.AsArray(), entity["scope"], input.Now);
            if (!existed && !EntityRows.Exists(c, id))
            {
                // A history for an entity the broker does not know creates the entity too, holding the latest
                // instance of each attribute: history and current state describe one entity. Those latest
                // instances reach the history through the entity's creation, the older ones directly.
                var (current, used) = Latest(entity, instances);
                EntityRows.Insert(c, current);
                if (EntityChanges.Of(c)?.Has(EntityChanges.History) == true)
                {
                    instances = [.. instances.Where(i => !used.Contains(i.Instance))];
                }
            }
            Append(c, eid, instances);
            return !existed;
        });
        return created
            ? TypedResults.Created($"/ngsi-ld/v1/temporal/entities/{EntitiesApi.PathSegment(id)}")
            : TypedResults.NoContent();
    }

    // The entity as its latest instances (by observedAt, else the last given) make it, one per datasetId, and
    // which of the given instances those are.
    private static (JsonObject Doc, HashSet<JsonObject> Used) Latest(JsonObject entity, List<(string Attr, JsonObject Instance)> instances)
    {
        var doc = entity.DeepClone().AsObject();
        var used = new HashSet<JsonObject>(ReferenceEqualityComparer.Instance);
        foreach (var group in instances.GroupBy(i => (i.Attr, (string?)i.Instance["datasetId"])))
        {
            var latest = group.Select((i, n) => (i.Instance, n)).MaxBy(x => (TemporalRows.Millis(x.Instance["observedAt"]) ?? double.MinValue, x.n)).Instance;
            used.Add(latest);
            if (doc[group.Key.Attr] is not JsonArray list)
            {
                doc[group.Key.Attr] = list = [];
            }
            list.Add(latest.DeepClone());
        }
        return (doc, used);
    }

    /// Add Attributes to Temporal Representation of an Entity (5.6.12).
    private static async Task<IResult> AddAttributes(HttpContext http, TenantStores tenants, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        Names.CheckUri(id, "entity id");
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var input = Input(context);
        var instances = Instances(body, input);
        await tenants.Existing(tenant).WriteAsync(c =>
        {
            var eid = TemporalRows.EntityId(c, id) ?? throw NotFound(id);
            Append(c, eid, instances);
            Touch(c, eid, input.Now);
            return true;
        });
        return TypedResults.NoContent();
    }

    /// Delete Temporal Representation of an Entity (5.6.16): the whole history.
    private static async Task<IResult> Delete(HttpContext http, TenantStores tenants, string id)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        Names.CheckUri(id, "entity id");
        // The entity goes with its history: history and current state describe one entity.
        await tenants.Existing(tenant).WriteAsync(c =>
        {
            if (!TemporalRows.Delete(c, id))
            {
                throw NotFound(id);
            }
            EntityRows.Delete(c, id);
            return true;
        });
        return TypedResults.NoContent();
    }

    /// Delete Attribute from Temporal Representation of an Entity (5.6.13): every instance of the default
    /// instance (no datasetId), of one datasetId, or with deleteAll of every datasetId.
    private static async Task<IResult> DeleteAttribute(HttpContext http, TenantStores tenants, string id, string attrId)
    {
        id = NgsiLdRequest.PathValue(id);
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "datasetId", "deleteAll", "local");
        Names.CheckUri(id, "entity id");
        var context = await NgsiLdRequest.ContextAsync(http);
        var attr = Input(context).ExpandName(NgsiLdRequest.PathValue(attrId));
        var deleteAll = http.Request.Query["deleteAll"].ToString() switch
        {
            "" or "false" => false,
            "true" => true,
            var other => throw NgsiLdException.BadRequest("Invalid deleteAll", $"deleteAll must be true or false, not '{Names.Shorten(other)}'."),
        };
        var datasetId = http.Request.Query["datasetId"].ToString();
        if (datasetId.Length > 0)
        {
            Names.CheckUri(datasetId, "datasetId");
        }
        await tenants.Existing(tenant).WriteAsync(c =>
        {
            var eid = TemporalRows.EntityId(c, id) ?? throw NotFound(id);
            using var command = Statements.For(c, deleteAll
                ? "DELETE FROM attr_instances WHERE eid = @eid AND attr = @attr"
                : "DELETE FROM attr_instances WHERE eid = @eid AND attr = @attr AND dataset = @dataset");
            command.Parameters.AddWithValue("@eid", eid);
            command.Parameters.AddWithValue("@attr", attr);
            command.Parameters.AddWithValue("@dataset", datasetId);
            if (command.ExecuteNonQuery() == 0)
            {
                throw NgsiLdException.NotFound("Attribute not found", $"The history of {id} has no attribute {Names.Shorten(NgsiLdRequest.PathValue(attrId))}{(deleteAll || datasetId.Length == 0 ? "" : $" with datasetId {datasetId}")}.");
            }
            TemporalRows.RebuildHours(c, eid, attr);
            Touch(c, eid, EntityInput.Timestamp(DateTimeOffset.UtcNow));
            return true;
        });
        return TypedResults.NoContent();
    }

    /// Modify Attribute Instance in Temporal Representation of an Entity (5.6.14): the members given replace
    /// those of the instance; its instanceId, observedAt unless given, and createdAt are kept.
    private static async Task<IResult> ModifyInstance(HttpContext http, TenantStores tenants, string id, string attrId, string instanceId)
    {
        id = NgsiLdRequest.PathValue(id);
        instanceId = NgsiLdRequest.PathValue(instanceId);
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        Names.CheckUri(id, "entity id");
        Names.CheckUri(instanceId, "instanceId");
        var (body, context) = await NgsiLdRequest.BodyAsync(http);
        var input = Input(context);
        var name = NgsiLdRequest.PathValue(attrId);
        var attr = input.ExpandName(name);
        // The body is the attribute as a fragment ({"speed": {...}} or {"speed": [{...}]}) or the instance itself.
        var given = body.Where(p => p.Key != "@context").ToList() switch
        {
            [var only] when only.Key == name || input.ExpandName(only.Key) == attr => only.Value is JsonArray { Count: 1 } a ? a[0] : only.Value,
            _ => body.DeepClone(),
        };
        if (given is JsonObject o)
        {
            o.Remove("@context");
        }
        var replacement = input.Attribute(name, given?.DeepClone(), partial: true)[0]!.AsObject();
        var iid = InstanceNumber(instanceId);
        await tenants.Existing(tenant).WriteAsync(c =>
        {
            var eid = TemporalRows.EntityId(c, id) ?? throw NotFound(id);
            var stored = FindInstance(c, eid, attr, iid) ?? throw InstanceNotFound(id, name, instanceId);
            var observedBefore = TemporalRows.Millis(stored["observedAt"]);
            foreach (var (key, value) in replacement)
            {
                if (key is not ("createdAt" or "modifiedAt"))
                {
                    stored[key] = value?.DeepClone();
                }
            }
            stored["modifiedAt"] = input.Now;
            using var command = c.CreateCommand();
            var (num, val) = TemporalRows.Value(stored);
            command.CommandText = """
                UPDATE attr_instances SET doc = @doc, observed = @observed, modified = @modified, num = @num, val = @val,
                    dataset = @dataset WHERE iid = @iid
                """;
            command.Parameters.AddWithValue("@doc", stored.ToJsonString());
            command.Parameters.AddWithValue("@observed", (object?)TemporalRows.Millis(stored["observedAt"]) ?? DBNull.Value);
            command.Parameters.AddWithValue("@modified", TemporalRows.Millis(input.Now)!);
            command.Parameters.AddWithValue("@num", (object?)num ?? DBNull.Value);
            command.Parameters.AddWithValue("@val", (object?)val ?? DBNull.Value);
            command.Parameters.AddWithValue("@dataset", (string?)stored["datasetId"] ?? "");
            command.Parameters.AddWithValue("@iid", iid);
            command.ExecuteNonQuery();
            foreach (var at in new[] { observedBefore, TemporalRows.Millis(stored["observedAt"]) }.OfType<double>().Distinct())
            {
                TemporalRows.RebuildHours(c, eid, attr, TemporalRows.Hour(at), TemporalRows.Hour(at));
            }
            Touch(c, eid, input.Now);
            return true;
        });
        return TypedResults.NoContent();
    }

    /// Delete Attribute Instance from Temporal Representation of an Entity (5.6.15).
    private static async Task<IResult> DeleteInstance(HttpContext http, TenantStores tenants, string id, string attrId, string instanceId)
    {
        id = NgsiLdRequest.PathValue(id);
        instanceId = NgsiLdRequest.PathValue(instanceId);
        var tenant = NgsiLdRequest.Tenant(http);
        NgsiLdRequest.AllowParameters(http, "local");
        Names.CheckUri(id, "entity id");
        Names.CheckUri(instanceId, "instanceId");
        var context = await NgsiLdRequest.ContextAsync(http);
        var name = NgsiLdRequest.PathValue(attrId);
        var attr = Input(context).ExpandName(name);
        var iid = InstanceNumber(instanceId);
        await tenants.Existing(tenant).WriteAsync(c =>
        {
            var eid = TemporalRows.EntityId(c, id) ?? throw NotFound(id);
            using var command = Statements.For(c, "DELETE FROM attr_instances WHERE iid = @iid AND eid = @eid AND attr = @attr RETURNING observed");
            command.Parameters.AddWithValue("@iid", iid);
            command.Parameters.AddWithValue("@eid", eid);
            command.Parameters.AddWithValue("@attr", attr);
            switch (command.ExecuteScalar())
            {
                case null:
                    throw InstanceNotFound(id, name, instanceId);
                case double observed:
                    TemporalRows.RebuildHours(c, eid, attr, TemporalRows.Hour(observed), TemporalRows.Hour(observed));
                    break;
            }
            Touch(c, eid, EntityInput.Timestamp(DateTimeOffset.UtcNow));
            return true;
        });
        return TypedResults.NoContent();
    }

    /// The attribute instances of a temporal payload: each attribute an array of instances (or one instance),
    /// validated and expanded like any attribute, several instances of one datasetId allowed.
    // The instances of a request body, expanded and stamped. Of several at one instant of one attribute and
    // datasetId the last one wins, as a later request's would replace it.
    private static List<(string Attr, JsonObject Instance)> Instances(JsonObject body, EntityInput input)
    {
        var instances = new List<(string, JsonObject)>();
        foreach (var (name, value) in body)
        {
            if (Members.EntityReserved.Contains(name) || name is "@id" or "@type")
            {
                continue;
            }
            if (EntityInput.IsNull(value))
            {
                // Clause 5.2.1 and 5.5.4: "urn:ngsi-ld:null" removes a member in a partial update or merge only; in
                // a temporal evolution it may stand for a deleted value inside an instance, never for a whole member.
                throw NgsiLdException.BadRequest("Invalid attribute",
                    $"'{Names.Shorten(name)}' is urn:ngsi-ld:null, which removes a member in a partial update or merge; a temporal representation gives instances (urn:ngsi-ld:null may stand as the value of a deleted one).");
            }
            var iri = input.ExpandName(name);
            // One object is one instance, as JSON-LD reads a single value where an array may stand. (A collection
            // expression here would be built as a JsonArray, the type of the other branch, and refuse the value
            // for having a parent already.)
            IEnumerable<JsonNode?> items = value is JsonArray array && array.Count > 0 && array.All(i => i is JsonObject)
                ? array
                : new[] { value };
            foreach (var item in items)
            {
                var instance = input.Attribute(name, item?.DeepClone())[0]!.AsObject();
                instance["createdAt"] = input.Now;
                instance["modifiedAt"] = input.Now;
                instances.Add((iri, instance));
            }
        }
        var last = new Dictionary<(string, string, double), int>();
        for (var i = 0; i < instances.Count; i++)
        {
            if (InstantOf(instances[i]) is { } key)
            {
                last[key] = i;
            }
        }
        return [.. instances.Where((x, i) => InstantOf(x) is not { } key || last[key] == i)];
    }

    private static (string Attr, string Dataset, double Observed)? InstantOf((string Attr, JsonObject Instance) x) =>
        TemporalRows.Millis(x.Instance["observedAt"]) is { } at ? (x.Attr, (string?)x.Instance["datasetId"] ?? "", at) : null;

    // An instance observed at the same instant as a stored one of the same attribute and datasetId replaces
    // it: writing a history again corrects it rather than doubling it (a request's own duplicates are already
    // resolved, see Instances).
    private static void Append(DbConnection c, long eid, List<(string Attr, JsonObject Instance)> instances)
    {
        var replaced = TemporalRows.DeleteAtInstants(c, eid, [.. instances.Select(InstantOf).OfType<(string, string, double)>()]);
        using var appender = new TemporalRows.Appender(c);
        foreach (var (attr, instance) in instances)
        {
            appender.Add(eid, attr, instance);
        }
        appender.Flush();
        foreach (var (attr, hour) in replaced)
        {
            TemporalRows.RebuildHours(c, eid, attr, hour, hour);
        }
    }

    private static void Touch(DbConnection c, long eid, string at)
    {
        using var command = Statements.For(c, "UPDATE temporal_entities SET modified_at = @at WHERE eid = @eid");
        command.Parameters.AddWithValue("@at", at);
        command.Parameters.AddWithValue("@eid", eid);
        command.ExecuteNonQuery();
    }

    private static JsonObject? FindInstance(DbConnection c, long eid, string attr, long iid)
    {
        using var command = Statements.For(c, "SELECT doc FROM attr_instances WHERE iid = @iid AND eid = @eid AND attr = @attr");
        command.Parameters.AddWithValue("@iid", iid);
        command.Parameters.AddWithValue("@eid", eid);
        command.Parameters.AddWithValue("@attr", attr);
        return command.ExecuteScalar() is string doc ? JsonNode.Parse(doc)!.AsObject() : null;
    }

    // Agora's instanceIds are urn:ngsi-ld:instance:<n>; any other URI names no instance here.
    private static long InstanceNumber(string instanceId) =>
        instanceId.StartsWith(TemporalRows.InstancePrefix, StringComparison.Ordinal)
        && long.TryParse(instanceId.AsSpan(TemporalRows.InstancePrefix.Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : -1;

    internal static EntityInput Input(JsonLdContext context) => new(context, EntityInput.Timestamp(DateTimeOffset.UtcNow));

    internal static NgsiLdException NotFound(string id) =>
        NgsiLdException.NotFound("Temporal entity not found", $"There is no history of an entity with id {id}.");

    private static NgsiLdException InstanceNotFound(string id, string attr, string instanceId) =>
        NgsiLdException.NotFound("Instance not found", $"The history of {id} has no instance {Names.Shorten(instanceId)} of {Names.Shorten(attr)}.");
}
