using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.JsonLd;

namespace Agora.Entities;

/// Turns an NGSI-LD payload (normalized or concise, any @context) into Agora's expanded form: attribute
/// names and types as full IRIs, every top-level attribute an array of instances (one per datasetId),
/// system timestamps set. Everything a client can get wrong is rejected here, before any store is touched,
/// so that no failed request leaves a partial write.
internal sealed class EntityInput(JsonLdContext context, string now)
{
    public string Now { get; } = now;

    public static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// A complete entity: id and type required.
    public JsonObject Entity(JsonObject body)
    {
        var doc = new JsonObject
        {
            ["id"] = Id(body["id"] ?? body["@id"]),
            ["type"] = Types(body["type"] ?? body["@type"] ?? throw NgsiLdException.BadRequest("Missing type", "An entity must have a type.")),
        };
        if (body["scope"] is { } scope)
        {
            doc["scope"] = Scope(scope);
        }
        doc["createdAt"] = Now;
        doc["modifiedAt"] = Now;
        foreach (var (name, iri, value) in Attributes(body))
        {
            doc[iri] = Instances(name, iri, value, topLevel: true);
        }
        return doc;
    }

    /// The attributes of a fragment (an update), in expanded form, keyed by IRI. With allowNull, an attribute
    /// whose value is "urn:ngsi-ld:null" comes back as a JSON null (merge-patch deletion).
    public JsonObject Fragment(JsonObject body, bool allowNull = false)
    {
        var attrs = new JsonObject();
        foreach (var (name, iri, value) in Attributes(body))
        {
            attrs[iri] = Instances(name, iri, value, topLevel: true, allowNull);
        }
        return attrs;
    }

    /// One attribute given on its own (the body of PATCH or PUT /attrs/{attrId}).
    /// With partial, the value member may be missing: a partial update changes only the members it names.
    public JsonArray Attribute(string name, JsonNode? value, bool partial = false) =>
        Instances(name, ExpandName(name), value, topLevel: true, allowNull: partial, partial);

    /// "urn:ngsi-ld:null" as a value, or as the only text of a languageMap ({"@none": "urn:ngsi-ld:null"}).
    public static bool IsNull(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) && s == Members.Null
        || value is JsonObject { Count: 1 } map && map["@none"] is JsonValue n && n.TryGetValue<string>(out var ns) && ns == Members.Null;

    public string ExpandName(string name)
    {
        Names.CheckAttributeName(name);
        var iri = context.ExpandTerm(name);
        if (!Names.IsUri(iri))
        {
            throw NgsiLdException.BadRequest("Invalid attribute name", $"'{Names.Shorten(name)}' expands to '{Names.Shorten(iri)}', which is not an IRI; it cannot name an attribute.");
        }
        return iri;
    }

    public JsonArray Types(JsonNode type)
    {
        var types = new JsonArray();
        foreach (var t in type is JsonArray a ? a : [type.DeepClone()])
        {
            if (t is not JsonValue v || !v.TryGetValue<string>(out var name))
            {
                throw NgsiLdException.BadRequest("Invalid type", "An entity type must be a string or an array of strings.");
            }
            Names.CheckTypeName(name);
            var iri = context.ExpandTerm(name);
            if (!Names.IsUri(iri))
            {
                throw NgsiLdException.BadRequest("Invalid type", $"Type '{Names.Shorten(name)}' expands to '{Names.Shorten(iri)}', which is not an IRI.");
            }
            if (!types.Any(x => (string)x! == iri))
            {
                types.Add(iri);
            }
        }
        if (types.Count == 0)
        {
            throw NgsiLdException.BadRequest("Invalid type", "An entity must have at least one type.");
        }
        return types;
    }

    public static string Id(JsonNode? id)
    {
        if (id is null)
        {
            throw NgsiLdException.BadRequest("Missing id", "An entity must have an id.");
        }
        if (id is not JsonValue v || !v.TryGetValue<string>(out var s))
        {
            throw NgsiLdException.BadRequest("Invalid id", "An entity id must be a string holding a URI.");
        }
        Names.CheckUri(s, "entity id");
        return s;
    }

    public static JsonArray Scope(JsonNode scope)
    {
        var scopes = new JsonArray();
        foreach (var s in scope is JsonArray a ? a : [scope.DeepClone()])
        {
            if (s is not JsonValue v || !v.TryGetValue<string>(out var text) || !Names.IsScope(text))
            {
                throw NgsiLdException.BadRequest("Invalid scope", $"'{s?.ToJsonString()}' is not a scope: a scope is a path such as /Madrid/Gardens.");
            }
            scopes.Add(text);
        }
        return scopes;
    }

    private IEnumerable<(string Name, string Iri, JsonNode? Value)> Attributes(JsonObject body)
    {
        foreach (var (name, value) in body)
        {
            if (Members.EntityReserved.Contains(name) || name is "@id" or "@type")
            {
                continue;
            }
            yield return (name, ExpandName(name), value);
        }
    }

    private JsonArray Instances(string name, string iri, JsonNode? value, bool topLevel, bool allowNull = false, bool partial = false)
    {
        var instances = new JsonArray();
        var datasetIds = new HashSet<string>(StringComparer.Ordinal);
        // An array of attribute objects is a multi-attribute; any other array is a concise Property value.
        var items = value is JsonArray array && array.Count > 0 && array.All(i => i is JsonObject o && IsAttributeObject(o))
            ? array.Select(i => (JsonNode?)i).ToList()
            : [value];
        foreach (var item in items)
        {
            var instance = Instance(name, iri, item, topLevel, allowNull, partial);
            var datasetId = (string?)instance["datasetId"] ?? "";
            if (!datasetIds.Add(datasetId))
            {
                throw NgsiLdException.BadRequest("Duplicate datasetId",
                    $"Attribute '{name}' has two instances with the {(datasetId == "" ? "default instance (no datasetId)" : $"datasetId {datasetId}")}.");
            }
            instances.Add(instance);
        }
        return instances;
    }

    private static bool IsAttributeObject(JsonObject o) =>
        o["type"] is JsonValue t && t.TryGetValue<string>(out var s) && Members.AttributeTypes.Contains(s)
        || o.ContainsKey("value") || o.ContainsKey("object") || o.ContainsKey("languageMap") || o.ContainsKey("vocab")
        || o.ContainsKey("json") || o.ContainsKey("valueList") || o.ContainsKey("objectList");

    /// One attribute instance, normalized. Concise input (clause 4.5.3) is recognised by its shape.
    private JsonObject Instance(string name, string iri, JsonNode? value, bool topLevel, bool allowNull, bool partial)
    {
        if (value is null)
        {
            throw NgsiLdException.BadRequest("Invalid attribute", $"Attribute '{name}' is null; NGSI-LD has no null values (use urn:ngsi-ld:null to delete in a merge).");
        }
        var given = value as JsonObject;
        string type;
        if (given is not null && given["type"] is JsonValue tv && tv.TryGetValue<string>(out var declared) && Members.AttributeTypes.Contains(declared))
        {
            type = declared;
        }
        else if (given is not null && given.ContainsKey("type") && !Geo.IsGeometry(given))
        {
            throw NgsiLdException.BadRequest("Invalid attribute type", $"Attribute '{name}' has type {given["type"]?.ToJsonString()}, which is not an NGSI-LD attribute type.");
        }
        else if (partial && topLevel && given is not null && !IsAttributeObject(given) && !Geo.IsGeometry(given))
        {
            type = "";
        }
        else
        {
            (type, given) = Concise(value);
        }
        if (topLevel && Members.GeoAttributes.Contains(iri) && type != "GeoProperty" && !(allowNull && IsNull(given[Members.ValueMember(type)])))
        {
            if (type == "Property" && given["value"] is JsonObject g && Geo.IsGeometry(g))
            {
                type = "GeoProperty";
            }
            else
            {
                throw NgsiLdException.BadRequest("Invalid attribute", $"Attribute '{name}' must be a GeoProperty.");
            }
        }

        var instance = new JsonObject { ["type"] = type };
        var valueMember = Members.ValueMember(type);
        var v = given[valueMember];
        if (v is null && partial && topLevel && !given.ContainsKey(valueMember))
        {
            instance.Remove("type");
            type = (string?)given["type"] ?? "";
        }
        else if (v is null)
        {
            throw NgsiLdException.BadRequest("Invalid attribute", $"Attribute '{name}' of type {type} needs a '{valueMember}' member.");
        }
        else
        {
            instance[valueMember] = allowNull && IsNull(v) ? Members.Null : Value(name, iri, type, v);
        }

        foreach (var (member, memberValue) in given)
        {
            if (member == "type" || member == valueMember || Members.SystemGenerated.Contains(member))
            {
                continue;
            }
            switch (member)
            {
                case "observedAt":
                    instance[member] = DateTime(name, member, memberValue);
                    break;
                case "unitCode":
                    instance[member] = Text(name, member, memberValue);
                    break;
                case "datasetId":
                    var datasetId = Text(name, member, memberValue);
                    Names.CheckUri(datasetId, $"datasetId of '{name}'");
                    instance[member] = datasetId;
                    break;
                case "objectType" when type is "Relationship" or "ListRelationship":
                    instance[member] = memberValue is JsonValue ov && ov.TryGetValue<string>(out var ot)
                        ? context.ExpandTerm(ot)
                        : throw NgsiLdException.BadRequest("Invalid attribute", $"objectType of '{name}' must be a type name.");
                    break;
                case "lang" or "@context":
                    break;
                case var _ when Members.AttributeReserved.Contains(member):
                    throw NgsiLdException.BadRequest("Invalid attribute", $"Member '{member}' is not allowed in a {type} ('{name}').");
                default:
                    var subIri = ExpandName(member);
                    var sub = Instances(member, subIri, memberValue, topLevel: false, allowNull);
                    instance[subIri] = sub.Count == 1 ? sub[0]!.DeepClone() : sub;
                    break;
            }
        }
        instance["createdAt"] = Now;
        instance["modifiedAt"] = Now;
        return instance;
    }

    private static (string Type, JsonObject Normalized) Concise(JsonNode value)
    {
        if (value is JsonObject o)
        {
            if (Geo.IsGeometry(o))
            {
                return ("GeoProperty", new JsonObject { ["value"] = o.DeepClone() });
            }
            var type = o.ContainsKey("object") ? "Relationship"
                : o.ContainsKey("languageMap") ? "LanguageProperty"
                : o.ContainsKey("vocab") ? "VocabProperty"
                : o.ContainsKey("json") ? "JsonProperty"
                : o.ContainsKey("valueList") ? "ListProperty"
                : o.ContainsKey("objectList") ? "ListRelationship"
                : o.ContainsKey("value") ? (o["value"] is JsonObject g && Geo.IsGeometry(g) ? "GeoProperty" : "Property")
                : null;
            if (type is null)
            {
                // A bare JSON object is the value of a Property (clause 4.5.3: concise form).
                return ("Property", new JsonObject { ["value"] = o.DeepClone() });
            }
            return (type, o);
        }
        return ("Property", new JsonObject { ["value"] = value.DeepClone() });
    }

    private JsonNode Value(string name, string iri, string type, JsonNode v)
    {
        switch (type)
        {
            case "Property":
                CheckNoNulls(name, v);
                var coercion = context.DefinitionOf(iri)?.TypeCoercion;
                return coercion is "@vocab" or "@id" ? MapStrings(v, coercion == "@vocab" ? context.ExpandTerm : context.ExpandIri) : v.DeepClone();
            case "GeoProperty":
                if (v is not JsonObject geometry)
                {
                    throw NgsiLdException.BadRequest("Invalid GeoProperty", $"The value of '{name}' must be a GeoJSON geometry object.");
                }
                Geo.Validate(name, geometry);
                return geometry.DeepClone();
            case "Relationship":
                return MapStrings(v, o => Uri(name, o), requireString: true);
            case "ListRelationship":
                if (v is not JsonArray list)
                {
                    throw NgsiLdException.BadRequest("Invalid ListRelationship", $"The objectList of '{name}' must be an array.");
                }
                // Both the normalized [{"object": uri}] and the concise [uri] forms are stored normalized.
                return new JsonArray([.. list.Select(i => (JsonNode?)new JsonObject { ["object"] = Uri(name, i is JsonObject io ? ScalarString(name, io["object"]) : ScalarString(name, i)) })]);
            case "LanguageProperty":
                if (v is not JsonObject map || map.Any(p => !(p.Value is JsonValue s && s.TryGetValue<string>(out _) || p.Value is JsonArray sa && sa.All(x => x is JsonValue xv && xv.TryGetValue<string>(out _)))))
                {
                    throw NgsiLdException.BadRequest("Invalid LanguageProperty", $"The languageMap of '{name}' must map language tags to strings.");
                }
                return map.DeepClone();
            case "VocabProperty":
                return MapStrings(v, context.ExpandTerm, requireString: true);
            case "JsonProperty":
                return v.DeepClone();
            case "ListProperty":
                if (v is not JsonArray)
                {
                    throw NgsiLdException.BadRequest("Invalid ListProperty", $"The valueList of '{name}' must be an array.");
                }
                CheckNoNulls(name, v);
                return v.DeepClone();
            default:
                throw new InvalidOperationException(type);
        }
    }

    private static string ScalarString(string name, JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw NgsiLdException.BadRequest("Invalid attribute", $"'{name}' must hold URIs.");

    private static string Uri(string name, string? value)
    {
        if (value is null)
        {
            throw NgsiLdException.BadRequest("Invalid Relationship", $"The object of '{name}' must be a URI.");
        }
        Names.CheckUri(value, $"object of '{name}'");
        return value;
    }

    private static JsonNode MapStrings(JsonNode v, Func<string, string> map, bool requireString = false) => v switch
    {
        JsonValue s when s.TryGetValue<string>(out var text) => JsonValue.Create(map(text)),
        JsonArray a when a.Count > 0 => new JsonArray([.. a.Select(i => i is null ? throw NgsiLdException.BadRequest("Invalid attribute", "Null is not a value.") : MapStrings(i, map, requireString))]),
        _ when requireString => throw NgsiLdException.BadRequest("Invalid attribute", $"Expected a string or an array of strings, got {v.ToJsonString()}."),
        _ => v.DeepClone(),
    };

    private static void CheckNoNulls(string name, JsonNode v)
    {
        if (v is JsonArray a && a.Any(i => i is null))
        {
            throw NgsiLdException.BadRequest("Invalid attribute", $"The value of '{name}' contains a null.");
        }
    }

    private static string Text(string name, string member, JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0
            ? s
            : throw NgsiLdException.BadRequest("Invalid attribute", $"'{member}' of '{name}' must be a non-empty string.");

    private static string DateTime(string name, string member, JsonNode? value)
    {
        var text = Text(name, member, value);
        if (!IsDateTime(text))
        {
            throw NgsiLdException.BadRequest("Invalid attribute", $"'{member}' of '{name}' must be an ISO 8601 date-time, not '{text}'.");
        }
        return text;
    }

    public static bool IsDateTime(string text) =>
        text.Length >= 16 && text[10] == 'T' && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _);

    internal static JsonValueKind Kind(JsonNode? node) => node?.GetValueKind() ?? JsonValueKind.Null;
}
