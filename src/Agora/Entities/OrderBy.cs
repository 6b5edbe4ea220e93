using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.JsonLd;

namespace Agora.Entities;

/// The `orderBy` parameter of a query (V1.9.1 clause 4.23): members and attribute paths, each ascending
/// unless followed by ";desc". A path is id, type, createdAt, modifiedAt, or an attribute with optional
/// sub-attributes and a final metadata name (name.subProperty, name.observedAt). Entities without the value
/// come last; numbers come before strings.
internal sealed class OrderBy : IComparer<JsonObject>
{
    private static readonly HashSet<string> Metadata = ["observedAt", "createdAt", "modifiedAt", "unitCode", "datasetId"];
    private readonly List<(Func<JsonObject, JsonNode?> Key, bool Descending)> _keys;

    private OrderBy(List<(Func<JsonObject, JsonNode?>, bool)> keys, bool byId = false)
    {
        _keys = keys;
        ById = byId;
    }

    /// Whether the order is by entity id ascending alone, which the store can give from its id index.
    public bool ById { get; }

    public static OrderBy Parse(string text, JsonLdContext context)
    {
        var keys = new List<(Func<JsonObject, JsonNode?>, bool)>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(';', StringSplitOptions.TrimEntries);
            var descending = parts.Length switch
            {
                1 => false,
                2 when parts[1] == "asc" => false,
                2 when parts[1] == "desc" => true,
                _ => throw NgsiLdException.BadRequest("Invalid orderBy", $"'{Names.Shorten(item)}': a direction is asc or desc."),
            };
            keys.Add((Key(parts[0], context), descending));
        }
        return new OrderBy(keys, text.Split(',', StringSplitOptions.TrimEntries) is [var only] && only.Split(';', StringSplitOptions.TrimEntries) is ["id"] or ["id", "asc"]);
    }

    private static Func<JsonObject, JsonNode?> Key(string path, JsonLdContext context)
    {
        switch (path)
        {
            case "id" or "createdAt" or "modifiedAt":
                return doc => doc[path];
            case "type":
                return doc => doc["type"]?.AsArray().FirstOrDefault() is { } t ? JsonValue.Create(context.CompactIri((string)t!)) : null;
        }
        var steps = path.Split('.');
        if (steps.Any(s => !Names.IsName(s)))
        {
            throw NgsiLdException.BadRequest("Invalid orderBy", $"'{Names.Shorten(path)}' is not an attribute path.");
        }
        var metadata = steps.Length > 1 && Metadata.Contains(steps[^1]) ? steps[^1] : null;
        var names = (metadata is null ? steps : steps[..^1]).Select(context.ExpandTerm).ToArray();
        return doc =>
        {
            JsonObject? instance = doc[names[0]] is JsonArray instances ? instances.FirstOrDefault() as JsonObject : null;
            foreach (var sub in names.Skip(1))
            {
                instance = instance?[sub] switch
                {
                    JsonObject one => one,
                    JsonArray many => many.FirstOrDefault() as JsonObject,
                    _ => null,
                };
            }
            if (instance is null)
            {
                return null;
            }
            return metadata is not null ? instance[metadata] : instance[Members.ValueMember((string?)instance["type"] ?? "Property")];
        };
    }

    public int Compare(JsonObject? x, JsonObject? y)
    {
        foreach (var (key, descending) in _keys)
        {
            var a = key(x!);
            var b = key(y!);
            if (a is null || b is null)
            {
                // Missing values sort last in either direction.
                var missing = (a is null).CompareTo(b is null);
                if (missing != 0)
                {
                    return missing;
                }
                continue;
            }
            var order = CompareValues(a, b);
            if (order != 0)
            {
                return descending ? -order : order;
            }
        }
        return 0;
    }

    private static int CompareValues(JsonNode a, JsonNode b)
    {
        var (ka, kb) = (a.GetValueKind(), b.GetValueKind());
        if (ka == JsonValueKind.Number && kb == JsonValueKind.Number)
        {
            return a.GetValue<double>().CompareTo(b.GetValue<double>());
        }
        if (ka == JsonValueKind.Number || kb == JsonValueKind.Number)
        {
            return ka == JsonValueKind.Number ? -1 : 1;
        }
        return string.CompareOrdinal(ka == JsonValueKind.String ? a.GetValue<string>() : a.ToJsonString(),
            kb == JsonValueKind.String ? b.GetValue<string>() : b.ToJsonString());
    }
}
