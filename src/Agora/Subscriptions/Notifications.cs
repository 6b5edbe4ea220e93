using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Subscriptions;

/// What changed in an entity, attribute by attribute (expanded names). An attribute that keeps some of its
/// instances but loses others (one datasetId deleted) has those instances in DeletedInstances: for a subscriber
/// that is a deletion of the attribute, not an update.
internal sealed record AttributeChanges(
    IReadOnlySet<string> Created,
    IReadOnlySet<string> Updated,
    IReadOnlySet<string> Deleted,
    IReadOnlyDictionary<string, IReadOnlyList<JsonObject>> DeletedInstances)
{
    /// Every attribute that lost something: whole, or some of its instances.
    public IEnumerable<string> AnyDeleted => Deleted.Concat(DeletedInstances.Keys);

    public static AttributeChanges Of(EntityChange change)
    {
        var before = Attributes(change.Before);
        var after = Attributes(change.After);
        var created = after.Keys.Where(k => !before.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        var deleted = before.Keys.Where(k => !after.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        var updated = new HashSet<string>(StringComparer.Ordinal);
        var deletedInstances = new Dictionary<string, IReadOnlyList<JsonObject>>(StringComparer.Ordinal);
        foreach (var (name, now) in after)
        {
            if (!before.TryGetValue(name, out var old))
            {
                continue;
            }
            var was = ByDatasetId(old);
            var @is = ByDatasetId(now);
            var gone = was.Where(p => !@is.ContainsKey(p.Key)).Select(p => p.Value).ToList();
            if (gone.Count > 0)
            {
                deletedInstances[name] = gone;
            }
            if (@is.Any(p => !was.TryGetValue(p.Key, out var previous) || !JsonNode.DeepEquals(WithoutSystem(previous), WithoutSystem(p.Value))))
            {
                updated.Add(name);
            }
        }
        return new AttributeChanges(created, updated, deleted, deletedInstances);
    }

    private static Dictionary<string, JsonArray> Attributes(JsonObject? doc) =>
        doc is null
            ? []
            : doc.Where(p => p.Key.Contains(':') && p.Value is JsonArray).ToDictionary(p => p.Key, p => (JsonArray)p.Value!, StringComparer.Ordinal);

    // Instances by datasetId (the default instance under @none); an update that rewrites an instance as it was
    // (only its modifiedAt moves) changes nothing a subscriber sees.
    private static Dictionary<string, JsonObject> ByDatasetId(JsonArray instances)
    {
        var result = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var instance in instances.OfType<JsonObject>())
        {
            result[(string?)instance["datasetId"] ?? Representation.DefaultInstance] = instance;
        }
        return result;
    }

    private static JsonObject WithoutSystem(JsonObject instance)
    {
        var copy = (JsonObject)instance.DeepClone();
        copy.Remove("modifiedAt");
        copy.Remove("createdAt");
        return copy;
    }
}

/// Builds notifications (clause 5.3.1) and their outbox rows.
internal static class Notifications
{
    private const string Null = Members.Null;

    /// The entities of a notification about one change (the entity, then the entities it links to when the
    /// subscription joins flat), or none when the subscription does not care about it. <paramref name="find"/>
    /// looks up linked entities.
    public static IReadOnlyList<JsonNode> Data(Subscription s, EntityChange change, AttributeChanges changes, Func<string, JsonObject?>? find = null)
    {
        if (change.After is null)
        {
            return Deleted(s, change, changes) is { } gone ? [gone] : [];
        }
        var watched = s.Watched;
        bool Touches(IEnumerable<string> names) => watched is null ? names.Any() : names.Any(watched.Contains);
        var deleted = changes.AnyDeleted.ToList();
        bool triggered;
        if (change.Before is null)
        {
            // An entity's creation creates each of its attributes.
            triggered = s.Triggers.Contains("entityCreated") || (s.Triggers.Contains("attributeCreated") && Touches(changes.Created));
        }
        else
        {
            var any = changes.Created.Concat(changes.Updated).Concat(deleted).ToList();
            triggered = (s.Triggers.Contains("entityUpdated") && (watched is null ? any.Count > 0 || !JsonNode.DeepEquals(change.Before["type"], change.After["type"]) || !JsonNode.DeepEquals(change.Before["scope"], change.After["scope"]) : Touches(any)))
                || (s.Triggers.Contains("attributeCreated") && Touches(changes.Created))
                || (s.Triggers.Contains("attributeUpdated") && Touches(changes.Updated))
                || (s.Triggers.Contains("attributeDeleted") && Touches(deleted));
        }
        if (!triggered || !s.Selects(change.After))
        {
            return [];
        }
        var entities = Render(s, change.After, find);
        if (entities[0] is not JsonObject rendered)
        {
            return entities;
        }
        if (s.ShowChanges && change.Before is not null && s.Representation.Format != Format.KeyValues)
        {
            AddPrevious(s, rendered, change.Before, changes.Updated);
        }
        if (change.Before is not null && s.Triggers.Contains("attributeDeleted"))
        {
            foreach (var iri in changes.Deleted.Where(d => (watched is null || watched.Contains(d)) && Shown(s, d)))
            {
                rendered[s.Context.CompactIri(iri)] = NullAttribute(s, change.Before[iri]!.AsArray()[0]!.AsObject(), iri, change.At);
            }
            foreach (var (iri, instances) in changes.DeletedInstances.Where(d => (watched is null || watched.Contains(d.Key)) && Shown(s, d.Key)))
            {
                AddDeletedInstances(s, rendered, iri, instances, change.At);
            }
        }
        return entities;
    }

    // A deleted entity is shown by its id, type and deletedAt; its attributes follow (each with the null value) when
    // they are what triggered the notification (attributeDeleted) or when the subscriber asked for the changes.
    private static JsonObject? Deleted(Subscription s, EntityChange change, AttributeChanges changes)
    {
        var before = change.Before!;
        var watched = s.Watched;
        var attributes = changes.Deleted.Where(d => watched is null || watched.Contains(d)).ToList();
        var byEntity = s.Triggers.Contains("entityDeleted");
        var byAttribute = s.Triggers.Contains("attributeDeleted") && attributes.Count > 0;
        if (!(byEntity || byAttribute) || !s.Selects(before))
        {
            return null;
        }
        var entity = new JsonObject
        {
            ["id"] = before["id"]!.DeepClone(),
            ["type"] = EntityOutput.Types(before["type"]!.AsArray(), s.Context),
        };
        if (s.Representation.SysAttrs)
        {
            entity["createdAt"] = before["createdAt"]?.DeepClone();
            entity["modifiedAt"] = before["modifiedAt"]?.DeepClone();
        }
        entity["deletedAt"] = change.At;
        if (byAttribute || s.ShowChanges)
        {
            foreach (var iri in (byAttribute ? attributes : [.. changes.Deleted]).Where(a => Shown(s, a)))
            {
                entity[s.Context.CompactIri(iri)] = NullAttribute(s, before[iri]!.AsArray()[0]!.AsObject(), iri, change.At);
            }
        }
        return entity;
    }

    private static bool Shown(Subscription s, string iri) =>
        (s.Representation.Pick is null || s.Representation.Pick.Contains(iri)) && (s.Representation.Omit is null || !s.Representation.Omit.Contains(iri));

    // Instances deleted from an attribute that keeps others: the remaining instances, then each deleted one with
    // the null value (in keyValues, which has no room for instances, the attribute as it now is).
    private static void AddDeletedInstances(Subscription s, JsonObject rendered, string iri, IReadOnlyList<JsonObject> instances, string deletedAt)
    {
        if (s.Representation.Format == Format.KeyValues)
        {
            return;
        }
        var name = s.Context.CompactIri(iri);
        var all = rendered[name] switch
        {
            JsonArray many => many,
            JsonNode one => [one.DeepClone()],
            null => [],
        };
        foreach (var instance in instances)
        {
            all.Add(NullAttribute(s, instance, iri, deletedAt));
        }
        rendered[name] = all.Count == 1 ? all[0]!.DeepClone() : all;
    }

    // A deleted attribute instance: its type and the null value (clause 4.5.x's NGSI-LD Null, which for a
    // LanguageProperty is the languageMap {"@none": null}), with the previous value when changes are shown, and
    // its system attributes with deletedAt when asked.
    private static JsonNode NullAttribute(Subscription s, JsonObject instance, string iri, string deletedAt)
    {
        if (s.Representation.Format == Format.KeyValues)
        {
            return Null;
        }
        var type = (string)instance["type"]!;
        var member = Members.ValueMember(type);
        var result = new JsonObject { ["type"] = type, [member] = NullValue(type) };
        if (s.ShowChanges && Previous(s, iri, instance) is JsonObject previous && previous[member] is { } old)
        {
            result[PreviousMember(member)] = old.DeepClone();
        }
        if (instance["datasetId"] is { } datasetId)
        {
            result["datasetId"] = datasetId.DeepClone();
        }
        if (s.Representation.SysAttrs)
        {
            result["createdAt"] = instance["createdAt"]?.DeepClone();
            result["modifiedAt"] = instance["modifiedAt"]?.DeepClone();
            result["deletedAt"] = deletedAt;
        }
        return result;
    }

    /// The NGSI-LD Null in an attribute's value member, shaped as that member is.
    internal static JsonNode NullValue(string attributeType) => attributeType switch
    {
        "LanguageProperty" => new JsonObject { ["@none"] = Null },
        "ListProperty" => new JsonArray(Null),
        "ListRelationship" => new JsonArray(new JsonObject { ["object"] = Null }),
        _ => Null,
    };

    private static void AddPrevious(Subscription s, JsonObject rendered, JsonObject before, IReadOnlySet<string> updated)
    {
        foreach (var iri in updated)
        {
            var name = s.Context.CompactIri(iri);
            if (rendered[name] is not JsonObject now || before[iri] is not JsonArray { Count: > 0 } was
                || Previous(s, iri, was[0]!.AsObject()) is not JsonObject previous)
            {
                continue;
            }
            var member = Members.ValueMember((string?)previous["type"] ?? "Property");
            if (previous[member] is { } old)
            {
                now[PreviousMember(member)] = old.DeepClone();
            }
        }
    }

    // An attribute instance as it was, rendered normalized in the subscription's context (so vocab values compact alike).
    private static JsonNode? Previous(Subscription s, string iri, JsonObject instance)
    {
        var r = new Representation(Format.Normalized);
        var rendered = EntityOutput.Render(new JsonObject { [iri] = new JsonArray(instance.DeepClone()) }, r, s.Context);
        return rendered[s.Context.CompactIri(iri)];
    }

    private static string PreviousMember(string valueMember) => "previous" + char.ToUpperInvariant(valueMember[0]) + valueMember[1..];

    /// An entity as the subscription's notifications show it: alone, or with the entities it links to (the
    /// notification's join, clause 4.5.23): inside it (inline) or after it (flat), when linked entities can be
    /// found.
    public static IReadOnlyList<JsonNode> Render(Subscription s, JsonObject doc, Func<string, JsonObject?>? find = null)
    {
        var r = s.Representation;
        if (s.Accept == MediaTypes.GeoJson)
        {
            return [EntityOutput.Feature(doc, r, s.Context, s.Geo?.GeoProperty ?? Members.LocationIri)];
        }
        var rendered = find is null || r.Join == Join.None ? EntityOutput.Render(doc, r, s.Context) : EntityOutput.RenderJoined(doc, r, s.Context, find);
        List<JsonNode> entities = rendered is JsonArray flat ? [.. flat.Select(e => e!.DeepClone())] : [rendered];
        if (r.SysAttrs && r.Format == Format.KeyValues && entities[0] is JsonObject entity)
        {
            // keyValues drops the system attributes of attributes, not those of the entity (ETSI 046_17).
            entity["createdAt"] = doc["createdAt"]?.DeepClone();
            entity["modifiedAt"] = doc["modifiedAt"]?.DeepClone();
        }
        return entities;
    }

    /// The outbox row of a notification carrying these entities.
    public static OutboxRow Row(Subscription s, IEnumerable<JsonNode> data, DateTimeOffset now)
    {
        var notifiedAt = EntityInput.Timestamp(now);
        var contextUrl = s.JsonLdContextUrl;
        var entities = new JsonArray();
        foreach (var entity in data)
        {
            // In JSON-LD each entity carries its @context, as an entity in a JSON-LD response does.
            if (s.Accept == MediaTypes.JsonLd && entity is JsonObject o)
            {
                o["@context"] = contextUrl;
            }
            entities.Add(entity);
        }
        var body = new JsonObject
        {
            ["id"] = $"urn:ngsi-ld:Notification:{Guid.NewGuid()}",
            ["type"] = "Notification",
            ["subscriptionId"] = s.Id,
            ["notifiedAt"] = notifiedAt,
            ["data"] = entities,
        };
        string? link = null;
        string contentType;
        if (s.Accept == MediaTypes.JsonLd)
        {
            contentType = MediaTypes.JsonLd;
            body["@context"] = contextUrl;
        }
        else
        {
            contentType = s.Accept == MediaTypes.GeoJson ? MediaTypes.GeoJson : MediaTypes.Json;
            link = $"<{contextUrl}>; rel=\"{NgsiLdRequest.ContextRel}\"; type=\"{MediaTypes.JsonLd}\"";
        }
        var endpoint = (JsonObject)s.Endpoint.DeepClone();
        endpoint["accept"] = s.Accept;
        return new OutboxRow(s.Id, endpoint, contentType, link, body, notifiedAt);
    }
}
