using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.Entities;

/// Writes stored (expanded) entities in a client's @context and representation straight from their stored text
/// into the response, as EntityOutput.Render and serialisation do together, byte for byte (EntityWriterTests hold
/// the two to it), without building either tree: the stored document is read as a JsonDocument (pooled buffers,
/// no node per member) and written member by member. On GET of one entity, building and serialising the two
/// trees was about a quarter of Agora's CPU, and the garbage they left a good part of the collector's.
///
/// It covers the representations reads use most; Handles says which. Joins, a language choice, a datasetId
/// filter and projections that may leave an entity empty go through EntityOutput.
internal static class EntityWriter
{
    public static bool Handles(Representation r) =>
        (r.Join == Join.None || r.JoinLevel <= 0) && r.Lang is null && r.DatasetIds is null
        && (r.Pick is null || r.Pick.Contains("id")) && (r.Omit is null || !r.Omit.Contains("id"));

    /// One entity; with atContext (application/ld+json), its @context last, as NgsiLdResult attaches it.
    public static void Write(Utf8JsonWriter w, string stored, Representation r, JsonLdContext context, JsonNode? atContext)
    {
        using var document = JsonDocument.Parse(stored);
        w.WriteStartObject();
        foreach (var member in document.RootElement.EnumerateObject())
        {
            var key = member.Name;
            if (!EntityOutput.Selected(key, r))
            {
                continue;
            }
            switch (key)
            {
                case "id":
                    member.WriteTo(w);
                    break;
                case "type":
                    w.WritePropertyName("type");
                    Types(w, member.Value, context);
                    break;
                case "scope":
                    w.WritePropertyName("scope");
                    (member.Value.GetArrayLength() == 1 ? member.Value[0] : member.Value).WriteTo(w);
                    break;
                case "createdAt" or "modifiedAt":
                    if (r.SysAttrs && r.Format != Format.KeyValues)
                    {
                        member.WriteTo(w);
                    }
                    break;
                default:
                    w.WritePropertyName(context.CompactIri(key));
                    Attribute(w, key, member.Value, r, context);
                    break;
            }
        }
        if (atContext is not null)
        {
            w.WritePropertyName("@context");
            atContext.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void Types(Utf8JsonWriter w, JsonElement types, JsonLdContext context)
    {
        if (types.GetArrayLength() == 1)
        {
            w.WriteStringValue(context.CompactIri(types[0].GetString()!));
            return;
        }
        w.WriteStartArray();
        foreach (var type in types.EnumerateArray())
        {
            w.WriteStringValue(context.CompactIri(type.GetString()!));
        }
        w.WriteEndArray();
    }

    private static void Attribute(Utf8JsonWriter w, string iri, JsonElement instances, Representation r, JsonLdContext context)
    {
        if (instances.GetArrayLength() == 1)
        {
            Instance(w, iri, instances[0], r, context);
            return;
        }
        if (r.Format == Format.KeyValues)
        {
            // The simplified form of a multi-attribute keys each value by its datasetId (clause 4.5.4).
            w.WriteStartObject();
            w.WriteStartObject("dataset");
            foreach (var instance in instances.EnumerateArray())
            {
                w.WritePropertyName(instance.TryGetProperty("datasetId", out var dataset) ? dataset.GetString()! : Representation.DefaultInstance);
                Instance(w, iri, instance, r, context);
            }
            w.WriteEndObject();
            w.WriteEndObject();
            return;
        }
        w.WriteStartArray();
        foreach (var instance in instances.EnumerateArray())
        {
            Instance(w, iri, instance, r, context);
        }
        w.WriteEndArray();
    }

    private static void Instance(Utf8JsonWriter w, string iri, JsonElement stored, Representation r, JsonLdContext context)
    {
        var type = stored.GetProperty("type").GetString()!;
        var valueMember = Members.ValueMember(type);
        var value = stored.GetProperty(valueMember);
        if (r.Format == Format.KeyValues)
        {
            if (type == "ListRelationship" && value.ValueKind == JsonValueKind.Array)
            {
                w.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    Write(w, item.ValueKind == JsonValueKind.Object && item.TryGetProperty("object", out var target) ? target : null);
                }
                w.WriteEndArray();
                return;
            }
            Value(w, iri, type, value, context);
            return;
        }
        // Concise (clause 4.5.3): a Property or GeoProperty with nothing but its value is that value.
        if (r.Format == Format.Concise && type is "Property" or "GeoProperty" && (type == "GeoProperty" || value.ValueKind != JsonValueKind.Object)
            && !stored.EnumerateObject().Any(m => Shown(m, valueMember, r)))
        {
            Value(w, iri, type, value, context);
            return;
        }
        w.WriteStartObject();
        if (r.Format == Format.Normalized)
        {
            w.WriteString("type", type);
        }
        w.WritePropertyName(valueMember);
        Value(w, iri, type, value, context);
        foreach (var member in stored.EnumerateObject())
        {
            if (!Shown(member, valueMember, r))
            {
                continue;
            }
            var key = member.Name;
            if (key.Contains(':'))
            {
                w.WritePropertyName(context.CompactIri(key));
                if (member.Value.ValueKind == JsonValueKind.Array)
                {
                    w.WriteStartArray();
                    foreach (var sub in member.Value.EnumerateArray())
                    {
                        Instance(w, key, sub, r, context);
                    }
                    w.WriteEndArray();
                }
                else
                {
                    Instance(w, key, member.Value, r, context);
                }
            }
            else if (key == "objectType")
            {
                w.WriteString(key, context.CompactIri(member.Value.GetString()!));
            }
            else
            {
                member.WriteTo(w);
            }
        }
        w.WriteEndObject();
    }

    // The members of an instance written after its type and value: sub-attributes and metadata, system
    // attributes when asked for, never a null.
    private static bool Shown(JsonProperty member, string valueMember, Representation r) =>
        member.Name != "type" && member.Name != valueMember && member.Value.ValueKind != JsonValueKind.Null
        && (r.SysAttrs || member.Name is not ("createdAt" or "modifiedAt"));

    // As EntityOutput.OutputValue: vocabulary and @id-coerced values compacted, everything else as stored.
    private static void Value(Utf8JsonWriter w, string iri, string type, JsonElement value, JsonLdContext context)
    {
        var coercion = type switch
        {
            "VocabProperty" => "@vocab",
            "Property" => context.DefinitionOf(iri)?.TypeCoercion,
            _ => null,
        };
        switch (coercion)
        {
            case "@vocab":
                MapStrings(w, value, context.CompactIri);
                break;
            case "@id":
                MapStrings(w, value, context.CompactId);
                break;
            default:
                value.WriteTo(w);
                break;
        }
    }

    private static void MapStrings(Utf8JsonWriter w, JsonElement value, Func<string, string> map)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                w.WriteStringValue(map(value.GetString()!));
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in value.EnumerateArray())
                {
                    MapStrings(w, item, map);
                }
                w.WriteEndArray();
                break;
            default:
                value.WriteTo(w);
                break;
        }
    }

    private static void Write(Utf8JsonWriter w, JsonElement? value)
    {
        if (value is { } v)
        {
            v.WriteTo(w);
        }
        else
        {
            w.WriteNullValue();
        }
    }
}
