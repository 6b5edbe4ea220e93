using System.Text.Json.Nodes;

namespace Agora.Storage;

/// What one write changes in an entity's index rows. A new entity writes them all; an update compares the
/// stored document with the new one attribute by attribute and rewrites only the attributes that changed:
/// an IoT agent updating one reading of a ten-attribute entity touches that reading's rows, not the other
/// nine's. Types, scopes and geometries (few rows each) are rewritten whole when any of theirs changed.
internal sealed record IndexChange(
    bool Replace,
    string[]? Types,
    List<string> Cleared,
    List<IndexRows.ValueRow> Values,
    List<(string Attr, string Type)> Attributes,
    List<IndexRows.GeoRow>? Geometries,
    string[]? Scopes)
{
    /// Every row of a new entity. Pure: it runs before the write is queued, off the writer.
    public static IndexChange Create(JsonObject doc)
    {
        var values = new List<IndexRows.ValueRow>(16);
        IndexRows.Values(doc, values);
        var geometries = new List<IndexRows.GeoRow>(1);
        IndexRows.Geometries(doc, geometries);
        return new IndexChange(false, TypesOf(doc), [], values, IndexRows.Attributes(doc).ToList(), geometries, ScopesOf(doc));
    }

    /// The rows to rewrite when before becomes after.
    public static IndexChange Update(JsonObject before, JsonObject after)
    {
        var cleared = new List<string>();
        var values = new List<IndexRows.ValueRow>();
        var attributes = new List<(string, string)>();
        var geometry = false;
        foreach (var (key, value) in after)
        {
            if (!IsAttribute(key, value) || JsonNode.DeepEquals(value, before[key]))
            {
                continue;
            }
            var instances = (JsonArray)value!;
            cleared.Add(key);
            IndexRows.Values(key, instances, values);
            foreach (var instance in instances.OfType<JsonObject>())
            {
                var type = (string?)instance["type"] ?? "Property";
                attributes.Add((key, type));
                geometry |= type == "GeoProperty";
            }
            geometry |= HasGeometry(before[key]);
        }
        foreach (var (key, value) in before)
        {
            if (IsAttribute(key, value) && !after.ContainsKey(key))
            {
                cleared.Add(key);
                geometry |= HasGeometry(value);
            }
        }
        List<IndexRows.GeoRow>? geometries = null;
        if (geometry)
        {
            geometries = [];
            IndexRows.Geometries(after, geometries);
        }
        return new IndexChange(true,
            JsonNode.DeepEquals(before["type"], after["type"]) ? null : TypesOf(after),
            cleared, values, attributes, geometries,
            JsonNode.DeepEquals(before["scope"], after["scope"]) ? null : ScopesOf(after));
    }

    private static bool IsAttribute(string key, JsonNode? value) => key.Contains(':') && value is JsonArray;

    private static bool HasGeometry(JsonNode? instances) =>
        instances is JsonArray list && list.OfType<JsonObject>().Any(i => (string?)i["type"] == "GeoProperty");

    private static string[] TypesOf(JsonObject doc) => doc["type"]!.AsArray().Select(t => (string)t!).ToArray();

    private static string[] ScopesOf(JsonObject doc) => doc["scope"] is JsonArray list ? list.Select(s => (string)s!).ToArray() : [];
}
