using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.JsonLd;

namespace Agora.Temporal;

/// Renders an entity's history (clause 4.5.7 and following): normalized (each attribute an array of its
/// instances), the simplified temporalValues form ([value, time] pairs), or aggregated ([value, start, end]).
internal static class TemporalOutput
{
    public static JsonObject Entity(TemporalEntity e, Representation r, JsonLdContext context)
    {
        var entity = new JsonObject();
        if (Shown("id", r))
        {
            entity["id"] = e.Id;
        }
        if (Shown("type", r))
        {
            entity["type"] = EntityOutput.Types(e.Types, context);
        }
        if (e.Scope is { Count: > 0 } scope && Shown("scope", r))
        {
            entity["scope"] = scope.Count == 1 ? scope[0]!.DeepClone() : scope.DeepClone();
        }
        if (r.SysAttrs)
        {
            entity["createdAt"] = e.CreatedAt;
            entity["modifiedAt"] = e.ModifiedAt;
            if (e.DeletedAt is not null)
            {
                entity["deletedAt"] = e.DeletedAt;
            }
        }
        return entity;
    }

    private static bool Shown(string member, Representation r) =>
        (r.Pick is null || r.Pick.Contains(member)) && (r.Omit is null || !r.Omit.Contains(member));

    /// The normalized form: the instances as they were, oldest first, each with its instanceId.
    public static JsonArray Normalized(string iri, List<JsonObject> instances, Representation r, JsonLdContext context) =>
        [.. instances.Select(i => EntityOutput.Instance(iri, i, r, context))];

    /// The simplified form (clause 4.5.9): per datasetId, the attribute type and a list of [value, time].
    public static JsonNode TemporalValues(string iri, List<JsonObject> instances, string timeProperty, Representation r, JsonLdContext context)
    {
        var groups = new List<JsonObject>();
        foreach (var group in instances.GroupBy(i => (string?)i["datasetId"]))
        {
            var type = (string?)group.Last()["type"] ?? "Property";
            var pairs = new JsonArray();
            foreach (var instance in group)
            {
                var rendered = EntityOutput.Instance(iri, instance, r with { Format = Format.KeyValues }, context);
                // Values that are not plain (languageMaps, vocabs, jsons, lists) keep their member's name.
                var member = Members.ValueMember((string?)instance["type"] ?? "Property");
                if (member is not ("value" or "object") && !(member == "languageMap" && r.Lang is not null))
                {
                    rendered = new JsonObject { [member] = rendered?.DeepClone() };
                }
                pairs.Add(new JsonArray(rendered?.DeepClone(), instance[timeProperty]?.DeepClone() ?? instance["observedAt"]?.DeepClone() ?? instance["createdAt"]?.DeepClone()));
            }
            // A LanguageProperty seen through lang is a Property of texts.
            var shown = type == "LanguageProperty" && r.Lang is not null ? "Property" : type;
            var attribute = new JsonObject { ["type"] = shown, [ValuesMember(shown)] = pairs };
            if (group.Key is { } datasetId)
            {
                attribute["datasetId"] = datasetId;
            }
            groups.Add(attribute);
        }
        return groups.Count switch
        {
            0 => new JsonObject { ["type"] = "Property", ["values"] = new JsonArray() },
            1 => groups[0],
            _ => new JsonArray([.. groups]),
        };
    }

    /// The aggregated form (clause 4.5.19): per method, a list of [value, start, end].
    public static JsonObject Aggregated(string type, Dictionary<string, List<Aggregate>> results)
    {
        var attribute = new JsonObject { ["type"] = type };
        foreach (var (method, periods) in results)
        {
            attribute[method] = new JsonArray([.. periods.Select(p => (JsonNode)new JsonArray(p.Value?.DeepClone(), TemporalReader.Timestamp(p.Start), TemporalReader.Timestamp(p.End)))]);
        }
        return attribute;
    }

    /// The member holding the [value, time] pairs of each attribute type (clause 4.5.9).
    public static string ValuesMember(string type) => type switch
    {
        "Relationship" => "objects",
        "LanguageProperty" => "languageMaps",
        "VocabProperty" => "vocabs",
        "JsonProperty" => "jsons",
        "ListProperty" => "valueLists",
        "ListRelationship" => "objectLists",
        _ => "values",
    };
}
