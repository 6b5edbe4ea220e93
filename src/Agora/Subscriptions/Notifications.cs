using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.NgsiLd;
using Agora.Storage;

namespace Agora.Subscriptions;

/// What changed in an entity, attribute by attribute (expanded names).
internal sealed record AttributeChanges(IReadOnlySet<string> Created, IReadOnlySet<string> Updated, IReadOnlySet<string> Deleted)
{
    public static AttributeChanges Of(EntityChange change)
    {
        var before = Attributes(change.Before);
        var after = Attributes(change.After);
        var created = after.Keys.Where(k => !before.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        var deleted = before.Keys.Where(k => !after.ContainsKey(k)).ToHashSet(StringComparer.Ordinal);
        var updated = after.Keys.Where(k => before.TryGetValue(k, out var old) && !SameInstances(old, after[k])).ToHashSet(StringComparer.Ordinal);
        return new AttributeChanges(created, updated, deleted);
    }

    private static Dictionary<string, JsonArray> Attributes(JsonObject? doc) =>
        doc is null
            ? []
            : doc.Where(p => p.Key.Contains(':') && p.Value is JsonArray).ToDictionary(p => p.Key, p => (JsonArray)p.Value!, StringComparer.Ordinal);

    // An update that rewrites an attribute as it was (only its modifiedAt moves) changes nothing a subscriber sees.
    private static bool SameInstances(JsonArray a, JsonArray b) =>
        a.Count == b.Count && a.Zip(b).All(p => JsonNode.DeepEquals(WithoutSystem(p.First), WithoutSystem(p.Second)));

    private static JsonNode? WithoutSystem(JsonNode? instance)
    {
        if (instance is not JsonObject o)
        {
            return instance;
        }
        var copy = (JsonObject)o.DeepClone();
        copy.Remove("modifiedAt");
        copy.Remove("createdAt");
        return copy;
    }
}

/// Builds notifications (clause 5.3.1) and their outbox rows.
internal static class Notifications
{
    private const string Null = Members.Null;

    /// The entity of a notification about one change, or null when the subscription does not care about it.
    public static JsonNode? Data(Subscription s, EntityChange change, AttributeChanges changes)
    {
        if (change.After is null)
        {
            return Deleted(s, change, changes);
        }
        var watched = s.Watched;
        bool Touches(IReadOnlySet<string> names) => names.Count > 0 && (watched is null || names.Overlaps(watched));
        bool triggered;
        if (change.Before is null)
        {
            // An entity's creation creates each of its attributes.
            triggered = s.Triggers.Contains("entityCreated") || (s.Triggers.Contains("attributeCreated") && Touches(changes.Created));
        }
        else
        {
            var any = changes.Created.Concat(changes.Updated).Concat(changes.Deleted).ToHashSet(StringComparer.Ordinal);
            triggered = (s.Triggers.Contains("entityUpdated") && (watched is null ? any.Count > 0 || !JsonNode.DeepEquals(change.Before["type"], change.After["type"]) || !JsonNode.DeepEquals(change.Before["scope"], change.After["scope"]) : Touches(any)))
                || (s.Triggers.Contains("attributeCreated") && Touches(changes.Created))
                || (s.Triggers.Contains("attributeUpdated") && Touches(changes.Updated))
                || (s.Triggers.Contains("attributeDeleted") && Touches(changes.Deleted));
        }
        if (!triggered || !s.Selects(change.After))
        {
            return null;
        }
        var entity = Render(s, change.After);
        if (entity is not JsonObject rendered)
        {
            return entity;
        }
        if (s.ShowChanges && change.Before is not null && s.Representation.Format != Format.KeyValues)
        {
            AddPrevious(s, rendered, change.Before, changes.Updated);
        }
        if (change.Before is not null && s.Triggers.Contains("attributeDeleted"))
        {
            foreach (var iri in changes.Deleted.Where(d => (watched is null || watched.Contains(d)) && Shown(s, d)))
            {
                rendered[s.Context.CompactIri(iri)] = NullAttribute(s, change.Before, iri, change.At);
            }
        }
        return rendered;
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
                entity[s.Context.CompactIri(iri)] = NullAttribute(s, before, iri, change.At);
            }
        }
        return entity;
    }

    private static bool Shown(Subscription s, string iri) =>
        (s.Representation.Pick is null || s.Representation.Pick.Contains(iri)) && (s.Representation.Omit is null || !s.Representation.Omit.Contains(iri));

    // A deleted attribute: its type and the null value (clause 4.5.x's NGSI-LD Null), with the previous value when
    // changes are shown, and its system attributes with deletedAt when asked.
    private static JsonNode NullAttribute(Subscription s, JsonObject before, string iri, string deletedAt)
    {
        if (s.Representation.Format == Format.KeyValues)
        {
            return Null;
        }
        var instance = before[iri]!.AsArray()[0]!.AsObject();
        var type = (string)instance["type"]!;
        var member = Members.ValueMember(type);
        var result = new JsonObject { ["type"] = type, [member] = Null };
        if (s.ShowChanges && Previous(s, before, iri) is JsonObject previous && previous[member] is { } old)
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

    private static void AddPrevious(Subscription s, JsonObject rendered, JsonObject before, IReadOnlySet<string> updated)
    {
        foreach (var iri in updated)
        {
            var name = s.Context.CompactIri(iri);
            if (rendered[name] is not JsonObject now || Previous(s, before, iri) is not JsonObject previous)
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

    // The attribute as it was, rendered normalized in the subscription's context (so vocab values compact alike).
    private static JsonNode? Previous(Subscription s, JsonObject before, string iri)
    {
        var r = new Representation(Format.Normalized, Pick: new HashSet<string>(StringComparer.Ordinal) { iri });
        var rendered = EntityOutput.Render(before, r, s.Context);
        return rendered[s.Context.CompactIri(iri)] switch
        {
            JsonArray many => many.FirstOrDefault(),
            var one => one,
        };
    }

    private static string PreviousMember(string valueMember) => "previous" + char.ToUpperInvariant(valueMember[0]) + valueMember[1..];

    /// An entity as the subscription's notifications show it.
    public static JsonNode Render(Subscription s, JsonObject doc) =>
        s.Accept == MediaTypes.GeoJson
            ? EntityOutput.Feature(doc, s.Representation, s.Context, s.Geo?.GeoProperty ?? Members.LocationIri)
            : EntityOutput.Render(doc, s.Representation, s.Context);

    /// The outbox row of a notification carrying these entities.
    public static OutboxRow Row(Subscription s, IEnumerable<JsonNode> data, DateTimeOffset now)
    {
        var notifiedAt = EntityInput.Timestamp(now);
        var body = new JsonObject
        {
            ["id"] = $"urn:ngsi-ld:Notification:{Guid.NewGuid()}",
            ["type"] = "Notification",
            ["subscriptionId"] = s.Id,
            ["notifiedAt"] = notifiedAt,
            ["data"] = new JsonArray([.. data]),
        };
        var contextUrl = s.JsonLdContextUrl;
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
