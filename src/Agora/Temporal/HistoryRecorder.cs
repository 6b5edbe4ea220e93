using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Temporal;

/// Keeps the history of every tenant that keeps one: each entity change made through the NGSI-LD API adds
/// the attribute instances it wrote (and a deletion instance for each attribute it removed) to the temporal
/// tables, inside the change's own transaction, so that the history holds exactly what committed.
internal sealed class HistoryRecorder : IHostedService
{
    private readonly TenantStores _stores;
    private readonly TemporalOptions _options;

    public HistoryRecorder(TenantStores stores, IOptions<TemporalOptions> options)
    {
        _stores = stores;
        _options = options.Value;
        stores.Opened += Attach;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var store in _stores.Open)
        {
            Attach(store);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stores.Opened -= Attach;
        return Task.CompletedTask;
    }

    private readonly HashSet<TenantStore> _attached = [];

    private void Attach(TenantStore store)
    {
        lock (_attached)
        {
            if (!_options.KeepsHistory(store.Tenant) || !_attached.Add(store))
            {
                return;
            }
        }
        store.ChangesMade += Record;
        store.Changes.Listen(EntityChanges.History, on: true);
    }

    private static void Record(DbConnection connection, IReadOnlyList<EntityChange> changes)
    {
        using var writer = new HistoryWriter(connection);
        foreach (var change in changes)
        {
            if (change.After is { } after)
            {
                var eid = writer.Written((string)after["id"]!, after["type"]!.AsArray(), after["scope"],
                    (string?)change.Before?["createdAt"] ?? (string?)after["createdAt"] ?? change.At, change.At, created: change.Before is null);
                Written(writer.Appender, eid, change.Before, after, change.At);
            }
            else if (change.Before is { } before && writer.Find((string)before["id"]!) is { } eid)
            {
                Written(writer.Appender, eid, before, null, change.At);
                writer.Deleted(eid, change.At);
            }
        }
        writer.Flush();
    }

    // Instances that are new or differ from the previous state are added as they are; an instance the change
    // removed (its attribute, or its datasetId, is gone) is added as a deletion.
    private static void Written(TemporalRows.Appender appender, long eid, JsonObject? before, JsonObject? after, string at)
    {
        if (after is not null)
        {
            foreach (var (key, value) in after)
            {
                if (Members.EntityReserved.Contains(key) || value is not JsonArray instances)
                {
                    continue;
                }
                var previous = before?[key] as JsonArray;
                foreach (var instance in instances.OfType<JsonObject>())
                {
                    var old = Same(previous, (string?)instance["datasetId"]);
                    if (old is null || !JsonNode.DeepEquals(old, instance))
                    {
                        appender.Add(eid, key, Stamped(instance, (string?)instance["modifiedAt"] ?? at));
                    }
                }
            }
        }
        if (before is null)
        {
            return;
        }
        foreach (var (key, value) in before)
        {
            if (Members.EntityReserved.Contains(key) || value is not JsonArray instances)
            {
                continue;
            }
            var now = after?[key] as JsonArray;
            foreach (var instance in instances.OfType<JsonObject>())
            {
                if (now is null || Same(now, (string?)instance["datasetId"]) is null)
                {
                    appender.Add(eid, key, Deletion(instance, at));
                }
            }
        }
    }

    private static JsonObject? Same(JsonArray? instances, string? datasetId) =>
        instances?.OfType<JsonObject>().FirstOrDefault(i => (string?)i["datasetId"] == datasetId);

    // The instance as the history keeps it: its own createdAt and modifiedAt are the moment it was recorded.
    private static JsonObject Stamped(JsonObject instance, string at)
    {
        // A new attribute's instance carries these stamps already: it is recorded as it is, uncopied.
        if ((string?)instance["createdAt"] == at && (string?)instance["modifiedAt"] == at)
        {
            return instance;
        }
        var copy = instance.DeepClone().AsObject();
        copy["createdAt"] = at;
        copy["modifiedAt"] = at;
        return copy;
    }

    /// The instance that records a deletion (clause 4.5.x): the attribute's type and datasetId, the null
    /// value, and deletedAt.
    public static JsonObject Deletion(JsonObject instance, string at)
    {
        var type = (string?)instance["type"] ?? "Property";
        var member = Members.ValueMember(type);
        var deletion = new JsonObject
        {
            ["type"] = type,
            [member] = member == "languageMap" ? new JsonObject { ["@none"] = Members.Null } : Members.Null,
        };
        if (instance["datasetId"] is { } datasetId)
        {
            deletion["datasetId"] = datasetId.DeepClone();
        }
        deletion["createdAt"] = at;
        deletion["modifiedAt"] = at;
        deletion["deletedAt"] = at;
        return deletion;
    }
}
