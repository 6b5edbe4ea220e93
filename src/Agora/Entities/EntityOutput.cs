using System.Text.Json.Nodes;
using Agora.JsonLd;

namespace Agora.Entities;

internal enum Format { Normalized, Concise, KeyValues }

internal enum Join { None, Inline, Flat }

/// How an entity is to be shown: the representation, the projection (attrs, pick, omit, all as expanded
/// names, id/type/scope kept as is), the language, whether system attributes are included, and how entities
/// linked by Relationships are joined in (clause 4.5.23), each with the projection nested under its name.
internal sealed record Representation(
    Format Format = Format.Normalized,
    bool SysAttrs = false,
    IReadOnlySet<string>? Pick = null,
    IReadOnlySet<string>? Omit = null,
    LanguagePreference? Lang = null,
    Join Join = Join.None,
    int JoinLevel = 1,
    IReadOnlySet<string>? DatasetIds = null)
{
    /// The datasetId of the default instance in a datasetId filter.
    public const string DefaultInstance = "@none";

    public IReadOnlyDictionary<string, Representation> Linked { get; init; } = new Dictionary<string, Representation>();

    /// How the entity linked through a relationship is shown, one level down.
    public Representation ForLinked(string relationshipIri) =>
        (Linked.TryGetValue(relationshipIri, out var nested) ? nested : this with { Pick = null, Omit = null, Linked = new Dictionary<string, Representation>() })
        with { JoinLevel = JoinLevel - 1 };
}

/// Renders stored (expanded) entities in a client's @context and requested representation.
internal static class EntityOutput
{
    /// The entity alone, or with its linked entities (join): inline inside the relationships, or flat as an
    /// array that starts with the entity. <paramref name="find"/> looks a linked entity up by id.
    public static JsonNode RenderJoined(JsonObject doc, Representation r, JsonLdContext context, Func<string, JsonObject?> find)
    {
        switch (r.Join)
        {
            case Join.Inline when r.JoinLevel > 0:
                return Render(doc, r, context, (iri, id) => find(id) is { } linked
                    ? RenderJoined(linked, r.ForLinked(iri), context, find)
                    : null);
            case Join.Flat when r.JoinLevel > 0:
                var all = new JsonArray();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var level = new List<(JsonObject Doc, Representation R)> { (doc, r) };
                seen.Add((string)doc["id"]!);
                while (level.Count > 0)
                {
                    var next = new List<(JsonObject, Representation)>();
                    foreach (var (d, rep) in level)
                    {
                        all.Add(Render(d, rep, context));
                        if (rep.JoinLevel <= 0)
                        {
                            continue;
                        }
                        foreach (var (iri, id) in Relationships(d, rep))
                        {
                            if (seen.Add(id) && find(id) is { } linked)
                            {
                                next.Add((linked, rep.ForLinked(iri)));
                            }
                        }
                    }
                    level = next;
                }
                // With nothing linked found, the flat form is the entity itself (ETSI 018_14_02).
                return all.Count == 1 ? all[0]!.DeepClone() : all;
            default:
                return Render(doc, r, context);
        }
    }

    private static IEnumerable<(string Iri, string Id)> Relationships(JsonObject doc, Representation r)
    {
        foreach (var (key, value) in doc)
        {
            if (!key.Contains(':') || !Selected(key, r) || value is not JsonArray instances)
            {
                continue;
            }
            foreach (var instance in instances.OfType<JsonObject>())
            {
                if ((string?)instance["type"] == "Relationship" && instance["object"] is JsonValue o && o.TryGetValue<string>(out var id))
                {
                    yield return (key, id);
                }
                else if ((string?)instance["type"] == "ListRelationship" && instance["objectList"] is JsonArray list)
                {
                    foreach (var item in list.OfType<JsonObject>())
                    {
                        if ((string?)item["object"] is { } listed)
                        {
                            yield return (key, listed);
                        }
                    }
                }
            }
        }
    }

    public static JsonObject Render(JsonObject doc, Representation r, JsonLdContext context, Func<string, string, JsonNode?>? link = null)
    {
        var entity = new JsonObject();
        foreach (var (key, value) in doc)
        {
            if (!Selected(key, r))
            {
                continue;
            }
            switch (key)
            {
                case "id":
                    entity["id"] = value!.DeepClone();
                    break;
                case "type":
                    entity["type"] = Types(value!.AsArray(), context);
                    break;
                case "scope":
                    var scopes = value!.AsArray();
                    entity["scope"] = scopes.Count == 1 ? scopes[0]!.DeepClone() : scopes.DeepClone();
                    break;
                case "createdAt" or "modifiedAt":
                    if (r.SysAttrs && r.Format != Format.KeyValues)
                    {
                        entity[key] = value!.DeepClone();
                    }
                    break;
                default:
                    var instances = value!.AsArray();
                    if (r.DatasetIds is { } wanted)
                    {
                        instances = [.. instances.Where(i => wanted.Contains((string?)i!["datasetId"] ?? Representation.DefaultInstance)).Select(i => i!.DeepClone())];
                        if (instances.Count == 0)
                        {
                            break;
                        }
                    }
                    entity[context.CompactIri(key)] = Attribute(key, instances, r, context, link);
                    break;
            }
        }
        return entity;
    }

    /// The entity as a GeoJSON Feature (clause 4.5.17): the chosen GeoProperty's value is its geometry.
    public static JsonObject Feature(JsonObject doc, Representation r, JsonLdContext context, string geometryIri)
    {
        var properties = Render(doc, r, context);
        var id = properties["id"]?.DeepClone() ?? doc["id"]!.DeepClone();
        properties.Remove("id");
        var geometry = doc[geometryIri] is JsonArray instances && instances.Count > 0
            ? instances[0]!["value"]?.DeepClone()
            : null;
        return new JsonObject { ["id"] = id, ["type"] = "Feature", ["geometry"] = geometry, ["properties"] = properties };
    }

    public static JsonNode Types(JsonArray types, JsonLdContext context) =>
        types.Count == 1
            ? JsonValue.Create(context.CompactIri((string)types[0]!))
            : new JsonArray([.. types.Select(t => (JsonNode?)JsonValue.Create(context.CompactIri((string)t!)))]);

    internal static bool Selected(string key, Representation r) =>
        (r.Pick is null || r.Pick.Contains(key)) && (r.Omit is null || !r.Omit.Contains(key))
        || key is "createdAt" or "modifiedAt" && (r.Pick is null || r.Pick.Contains("id"));

    private static JsonNode? Attribute(string iri, JsonArray instances, Representation r, JsonLdContext context, Func<string, string, JsonNode?>? link)
    {
        if (instances.Count == 1)
        {
            return Instance(iri, instances[0]!.AsObject(), r, context, link);
        }
        if (r.Format == Format.KeyValues)
        {
            // The simplified form of a multi-attribute keys each value by its datasetId (clause 4.5.4).
            var dataset = new JsonObject();
            foreach (var instance in instances.Select(i => i!.AsObject()))
            {
                dataset[(string?)instance["datasetId"] ?? Representation.DefaultInstance] = Instance(iri, instance, r, context, link);
            }
            return new JsonObject { ["dataset"] = dataset };
        }
        return new JsonArray([.. instances.Select(i => Instance(iri, i!.AsObject(), r, context, link))]);
    }

    internal static JsonNode? Instance(string iri, JsonObject stored, Representation r, JsonLdContext context, Func<string, string, JsonNode?>? link = null)
    {
        var type = (string)stored["type"]!;
        var valueMember = Members.ValueMember(type);
        JsonNode? value = OutputValue(iri, type, stored[valueMember]!, context);

        if (type == "LanguageProperty" && r.Lang is { } lang)
        {
            var (text, tag) = lang.Select(stored["languageMap"]!.AsObject());
            if (r.Format == Format.KeyValues)
            {
                return text;
            }
            type = "Property";
            valueMember = "value";
            value = text;
            stored = new JsonObject(stored.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())).Where(p => p.Key != "languageMap")) { ["lang"] = tag };
        }

        var linked = link is not null && type == "Relationship" && value is JsonValue ov && ov.TryGetValue<string>(out var objectId)
            ? link(iri, objectId)
            : null;
        if (r.Format == Format.KeyValues)
        {
            if (linked is not null)
            {
                return linked;
            }
            return type == "ListRelationship" && value is JsonArray list ? new JsonArray([.. list.Select(o => o?["object"]?.DeepClone())]) : value;
        }

        var result = new JsonObject();
        if (r.Format == Format.Normalized)
        {
            result["type"] = type;
        }
        result[valueMember] = value;
        foreach (var (key, member) in stored)
        {
            if (key == "type" || key == valueMember || member is null)
            {
                continue;
            }
            if (key.Contains(':'))
            {
                var sub = member is JsonArray many
                    ? new JsonArray([.. many.Select(m => Instance(key, m!.AsObject(), r, context))])
                    : Instance(key, member.AsObject(), r, context);
                result[context.CompactIri(key)] = sub;
            }
            else if (key is "createdAt" or "modifiedAt")
            {
                if (r.SysAttrs)
                {
                    result[key] = member.DeepClone();
                }
            }
            else
            {
                result[key] = key == "objectType" ? JsonValue.Create(context.CompactIri((string)member!)) : member.DeepClone();
            }
        }

        if (linked is not null)
        {
            result["entity"] = linked;
        }

        // Concise (clause 4.5.3): a Property or GeoProperty with nothing but its value is that value.
        if (r.Format == Format.Concise && result.Count == 1 && type is "Property" or "GeoProperty"
            && (type == "GeoProperty" || value is not JsonObject))
        {
            result.Remove(valueMember);
            return value;
        }
        return result;
    }

    internal static JsonNode OutputValue(string iri, string type, JsonNode value, JsonLdContext context)
    {
        switch (type)
        {
            case "VocabProperty":
                return MapStrings(value, context.CompactIri);
            case "Property":
                var coercion = context.DefinitionOf(iri)?.TypeCoercion;
                return coercion switch
                {
                    "@vocab" => MapStrings(value, context.CompactIri),
                    "@id" => MapStrings(value, context.CompactId),
                    _ => value.DeepClone(),
                };
            default:
                return value.DeepClone();
        }
    }

    private static JsonNode MapStrings(JsonNode v, Func<string, string> map) => v switch
    {
        JsonValue s when s.TryGetValue<string>(out var text) => JsonValue.Create(map(text)),
        JsonArray a => new JsonArray([.. a.Select(i => i is null ? null : MapStrings(i, map))]),
        _ => v.DeepClone(),
    };
}
