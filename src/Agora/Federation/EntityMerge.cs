using System.Text.Json.Nodes;

namespace Agora.Federation;

/// Merges what several sources hold of one entity, in Agora's stored (expanded) form (clause 4.5.5): types and
/// scopes are united; attribute instances of different datasetIds are kept side by side; of two instances of
/// the same datasetId the one with the later observedAt wins, else the later modifiedAt, else the one held first.
internal static class EntityMerge
{
    public static bool IsAttribute(string key) => key.Contains(':', StringComparison.Ordinal);

    /// Adds what <paramref name="from"/> holds to <paramref name="into"/>. An auxiliary source only adds
    /// attributes the entity does not have (clause 4.3.6.2).
    public static void Merge(JsonObject into, JsonObject from, bool auxiliary)
    {
        Unite(into, from, "type");
        Unite(into, from, "scope");
        foreach (var (key, value) in from.ToList())
        {
            if (!IsAttribute(key) || value is not JsonArray instances)
            {
                continue;
            }
            if (into[key] is not JsonArray held)
            {
                into[key] = instances.DeepClone();
                continue;
            }
            if (auxiliary)
            {
                continue;
            }
            foreach (var instance in instances.OfType<JsonObject>())
            {
                var datasetId = (string?)instance["datasetId"];
                var index = held.Select((h, i) => (h, i)).FirstOrDefault(p => (string?)p.h?["datasetId"] == datasetId, (null, -1)).Item2;
                if (index < 0)
                {
                    held.Add(instance.DeepClone());
                }
                else if (Newer(instance, held[index]!.AsObject()))
                {
                    held[index] = instance.DeepClone();
                }
            }
        }
        if (At(from["modifiedAt"]) > At(into["modifiedAt"]))
        {
            into["modifiedAt"] = from["modifiedAt"]!.DeepClone();
        }
    }

    /// Removes the attributes a proxied source holds instead of this broker; false when it holds them all.
    public static bool Strip(JsonObject doc, Claim claim)
    {
        if (claim.All)
        {
            return false;
        }
        foreach (var attribute in claim.Attributes)
        {
            doc.Remove(attribute);
        }
        return true;
    }

    private static bool Newer(JsonObject candidate, JsonObject held)
    {
        var (seen, had) = (At(candidate["observedAt"]), At(held["observedAt"]));
        if (seen is not null || had is not null)
        {
            return seen > had || had is null;
        }
        return At(candidate["modifiedAt"]) > At(held["modifiedAt"]);
    }

    /// A copy of an entity or fragment without the attributes named (itself when there are none).
    public static JsonObject Without(JsonObject doc, IReadOnlySet<string> attributes)
    {
        if (attributes.Count == 0)
        {
            return doc;
        }
        var copy = (JsonObject)doc.DeepClone();
        foreach (var attribute in attributes)
        {
            copy.Remove(attribute);
        }
        return copy;
    }

    private static DateTimeOffset? At(JsonNode? time) =>
        time is JsonValue v && v.TryGetValue<string>(out var text)
        && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static void Unite(JsonObject into, JsonObject from, string member)
    {
        if (from[member] is not JsonArray added)
        {
            return;
        }
        if (into[member] is not JsonArray held)
        {
            into[member] = added.DeepClone();
            return;
        }
        foreach (var item in added.Select(a => (string?)a).Where(a => a is not null && !held.Any(h => (string?)h == a)))
        {
            held.Add(item);
        }
    }
}
