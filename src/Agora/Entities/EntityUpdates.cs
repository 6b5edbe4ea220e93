using System.Text.Json.Nodes;
using Agora.Errors;

namespace Agora.Entities;

/// The outcome of an update that may apply to some attributes and not others (clause 5.2.18).
internal sealed class UpdateResult
{
    public List<string> Updated { get; } = [];
    public List<(string Attribute, string Reason)> NotUpdated { get; } = [];
}

/// What each NGSI-LD update operation does to a stored entity. These functions change the document in place;
/// the caller runs them inside the writer's transaction and stores the result, so each is all-or-nothing.
internal static class EntityUpdates
{
    /// Append Entity Attributes (clause 5.6.3): new attributes are added; existing ones are replaced, or kept
    /// with noOverwrite.
    public static UpdateResult Append(JsonObject doc, JsonObject fragment, bool noOverwrite, string now)
    {
        var result = new UpdateResult();
        foreach (var (iri, node) in fragment)
        {
            var existing = doc[iri] as JsonArray;
            foreach (var instance in node!.AsArray().Select(i => i!.AsObject()).ToList())
            {
                var match = existing is null ? null : FindInstance(existing, DatasetId(instance));
                if (match is not null && noOverwrite)
                {
                    result.NotUpdated.Add((iri, "The attribute exists and noOverwrite was asked."));
                    continue;
                }
                Put(doc, iri, instance, match, now);
                result.Updated.Add(iri);
            }
        }
        Touch(doc, now);
        return result;
    }

    /// Update Entity Attributes (clause 5.6.2): the attributes given replace those stored, instance by
    /// datasetId; ones the entity lacks are added (as the ETSI suite's 011_01_03 expects); "urn:ngsi-ld:null"
    /// deletes an instance.
    public static UpdateResult Update(JsonObject doc, JsonObject fragment, string now)
    {
        var result = new UpdateResult();
        foreach (var (iri, node) in fragment)
        {
            foreach (var instance in node!.AsArray().Select(i => i!.AsObject()).ToList())
            {
                var match = doc[iri] is JsonArray existing ? FindInstance(existing, DatasetId(instance)) : null;
                if (IsNullInstance(instance))
                {
                    if (match is null)
                    {
                        result.NotUpdated.Add((iri, "There is no such attribute instance to delete."));
                        continue;
                    }
                    RemoveInstance(doc, iri, match);
                }
                else
                {
                    RemoveNullSubAttributes(instance);
                    Put(doc, iri, instance, match, now);
                }
                result.Updated.Add(iri);
            }
        }
        if (result.Updated.Count > 0)
        {
            Touch(doc, now);
        }
        return result;
    }

    /// Partial Attribute Update (clause 5.6.4): the members given replace those stored; sub-attributes given
    /// are replaced one by one, the others kept.
    public static void PatchAttribute(JsonObject doc, string iri, string name, JsonArray instances, string now)
    {
        var existing = doc[iri] as JsonArray ?? throw AttributeNotFound(name);
        foreach (var instance in instances.Select(i => i!.AsObject()))
        {
            var match = FindInstance(existing, DatasetId(instance)) ?? throw AttributeNotFound(name, DatasetId(instance));
            if (IsNullInstance(instance))
            {
                RemoveInstance(doc, iri, match);
                continue;
            }
            if (instance["type"] is JsonValue type && (string?)type != (string?)match["type"])
            {
                throw NgsiLdException.BadRequest("Attribute type mismatch", $"'{name}' is a {match["type"]}; a partial update cannot make it a {type}.");
            }
            MergeInstance(match, instance, now);
        }
        Touch(doc, now);
    }

    /// Scope in Append (clause 5.6.3): replaced, or added to with noOverwrite.
    public static void AppendScope(JsonObject doc, JsonArray scope, bool noOverwrite, UpdateResult result)
    {
        if (noOverwrite && doc["scope"] is JsonArray current)
        {
            foreach (var s in scope.Select(x => (string)x!).Where(s => !current.Any(c => (string)c! == s)))
            {
                current.Add(s);
            }
        }
        else
        {
            doc["scope"] = scope.DeepClone();
        }
        result.Updated.Add("scope");
    }

    /// Scope in Update (clause 5.6.2): replaced when the entity has one, otherwise not added.
    public static void UpdateScope(JsonObject doc, JsonArray scope, UpdateResult result)
    {
        if (doc["scope"] is null)
        {
            result.NotUpdated.Add(("scope", "The entity has no scope to update."));
            return;
        }
        doc["scope"] = scope.DeepClone();
        result.Updated.Add("scope");
    }

    /// Replace Entity Attribute (clause 5.6.19).
    public static void ReplaceAttribute(JsonObject doc, string iri, string name, JsonArray instances, string now)
    {
        var existing = doc[iri] as JsonArray ?? throw AttributeNotFound(name);
        foreach (var instance in instances.Select(i => i!.AsObject()).ToList())
        {
            var match = FindInstance(existing, DatasetId(instance)) ?? throw AttributeNotFound(name, DatasetId(instance));
            Put(doc, iri, instance, match, now);
        }
        Touch(doc, now);
    }

    /// Delete Entity Attribute (clause 5.6.5): the default instance, the one of a datasetId, or all.
    public static void DeleteAttribute(JsonObject doc, string iri, string name, string? datasetId, bool deleteAll, string now)
    {
        if (iri == "scope")
        {
            _ = doc["scope"] ?? throw AttributeNotFound(name);
            doc.Remove("scope");
            Touch(doc, now);
            return;
        }
        var existing = doc[iri] as JsonArray ?? throw AttributeNotFound(name);
        if (deleteAll)
        {
            doc.Remove(iri);
        }
        else
        {
            var match = FindInstance(existing, datasetId) ?? throw AttributeNotFound(name, datasetId);
            existing.Remove(match);
            if (existing.Count == 0)
            {
                doc.Remove(iri);
            }
        }
        Touch(doc, now);
    }

    /// Merge Entity (clause 5.6.17): attributes are added or merged; "urn:ngsi-ld:null" deletes.
    public static void Merge(JsonObject doc, JsonObject fragment, JsonArray? types, JsonArray? scope, string now)
    {
        if (types is not null)
        {
            AddTypes(doc, types);
        }
        if (scope is not null)
        {
            doc["scope"] = scope;
        }
        foreach (var (iri, node) in fragment)
        {
            if (node is null)
            {
                doc.Remove(iri);
                continue;
            }
            var existing = doc[iri] as JsonArray;
            foreach (var instance in node.AsArray().Select(i => i!.AsObject()).ToList())
            {
                var match = existing is null ? null : FindInstance(existing, DatasetId(instance));
                if (IsNullInstance(instance))
                {
                    if (match is not null)
                    {
                        RemoveInstance(doc, iri, match);
                        existing = doc[iri] as JsonArray;
                    }
                }
                else if (match is null)
                {
                    RemoveNullSubAttributes(instance);
                    Put(doc, iri, instance, null, now);
                    existing = doc[iri] as JsonArray;
                }
                else
                {
                    MergeInstance(match, instance, now);
                }
            }
        }
        Touch(doc, now);
    }

    /// Replace Entity (clause 5.6.18): everything but id and createdAt is replaced.
    public static JsonObject Replace(JsonObject stored, JsonObject replacement)
    {
        replacement["createdAt"] = stored["createdAt"]?.DeepClone();
        return replacement;
    }

    public static void AddTypes(JsonObject doc, JsonArray types)
    {
        var current = doc["type"]!.AsArray();
        foreach (var t in types)
        {
            if (!current.Any(c => (string)c! == (string)t!))
            {
                current.Add((string)t!);
            }
        }
    }

    private static void Put(JsonObject doc, string iri, JsonObject instance, JsonObject? replaced, string now)
    {
        instance = (JsonObject)instance.DeepClone();
        if (replaced is not null)
        {
            instance["createdAt"] = replaced["createdAt"]?.DeepClone();
            instance["modifiedAt"] = now;
            var array = doc[iri]!.AsArray();
            array[array.IndexOf(replaced)] = instance;
        }
        else if (doc[iri] is JsonArray array)
        {
            array.Add(instance);
        }
        else
        {
            doc[iri] = new JsonArray(instance);
        }
    }

    private static void MergeInstance(JsonObject target, JsonObject patch, string now)
    {
        var newType = (string?)patch["type"];
        if (newType is not null && newType != (string?)target["type"])
        {
            target.Remove(Members.ValueMember((string)target["type"]!));
        }
        foreach (var (key, value) in patch.ToList())
        {
            if (key is "createdAt" or "modifiedAt")
            {
                continue;
            }
            if (key.Contains(':') && value is JsonObject sub && IsNullInstance(sub))
            {
                target.Remove(key);
                continue;
            }
            target[key] = value?.DeepClone();
        }
        target["modifiedAt"] = now;
    }

    private static bool IsNullInstance(JsonObject instance)
    {
        var member = Members.ValueMember((string?)instance["type"] ?? "Property");
        return EntityInput.IsNull(instance[member]);
    }

    private static void RemoveNullSubAttributes(JsonObject instance)
    {
        foreach (var (key, value) in instance.ToList())
        {
            if (key.Contains(':') && value is JsonObject sub && IsNullInstance(sub))
            {
                instance.Remove(key);
            }
        }
    }

    private static void RemoveInstance(JsonObject doc, string iri, JsonObject instance)
    {
        var instances = doc[iri]!.AsArray();
        instances.Remove(instance);
        if (instances.Count == 0)
        {
            doc.Remove(iri);
        }
    }

    private static void Touch(JsonObject doc, string now) => doc["modifiedAt"] = now;

    private static string? DatasetId(JsonObject instance) => (string?)instance["datasetId"];

    private static JsonObject? FindInstance(JsonArray instances, string? datasetId) =>
        instances.Select(i => i!.AsObject()).FirstOrDefault(i => (string?)i["datasetId"] == datasetId);

    private static NgsiLdException AttributeNotFound(string name, string? datasetId = null) =>
        NgsiLdException.NotFound("Attribute not found", datasetId is null
            ? $"The entity has no attribute '{name}'."
            : $"The entity has no instance of attribute '{name}' with datasetId {datasetId}.");
}
