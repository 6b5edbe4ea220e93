using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Entities;

namespace Agora.Storage;

/// What the indexes hold for one entity, derived from its stored document: every attribute value a query
/// can compare (by path), every geometry's bounding box, every scope. Paths name a value inside the entity:
/// the attribute's IRI, then sub-attribute IRIs, "@metadata" names and "[key]" steps into JSON values or
/// languageMaps, joined by <see cref="Separator"/> (a character no IRI or key contains).
internal static class IndexRows
{
    public const char Separator = '\u001F';
    private const int MaxJsonDepth = 4;

    internal readonly record struct ValueRow(string Path, double? Num, string? Str);

    internal readonly record struct GeoRow(string Attribute, double MinX, double MaxX, double MinY, double MaxY);

    public static string Join(string parent, string step) => parent + Separator + step;

    public static void Values(JsonObject doc, List<ValueRow> rows)
    {
        foreach (var (key, value) in doc)
        {
            if (key.Contains(':') && value is JsonArray instances)
            {
                Values(key, instances, rows);
            }
        }
    }

    /// The rows of one attribute (all its instances): every path they hold starts with the attribute's IRI.
    public static void Values(string attribute, JsonArray instances, List<ValueRow> rows)
    {
        foreach (var instance in instances.OfType<JsonObject>())
        {
            Attribute(attribute, instance, rows, depth: 0);
        }
    }

    /// Each attribute instance's name and NGSI-LD type (entity_attrs, which /attributes and /types read).
    public static IEnumerable<(string Attr, string Type)> Attributes(JsonObject doc)
    {
        foreach (var (key, value) in doc)
        {
            if (key.Contains(':') && value is JsonArray instances)
            {
                foreach (var instance in instances.OfType<JsonObject>())
                {
                    yield return (key, (string?)instance["type"] ?? "Property");
                }
            }
        }
    }

    public static void Geometries(JsonObject doc, List<GeoRow> rows)
    {
        foreach (var (key, value) in doc)
        {
            if (!key.Contains(':') || value is not JsonArray instances)
            {
                continue;
            }
            foreach (var instance in instances.OfType<JsonObject>())
            {
                if ((string?)instance["type"] == "GeoProperty" && instance["value"] is JsonObject geometry && Bounds(geometry) is { } b)
                {
                    rows.Add(new GeoRow(key, b.MinX, b.MaxX, b.MinY, b.MaxY));
                }
            }
        }
    }

    private static void Attribute(string path, JsonObject instance, List<ValueRow> rows, int depth)
    {
        var first = rows.Count;
        var type = (string?)instance["type"];
        switch (type)
        {
            case "LanguageProperty" when instance["languageMap"] is JsonObject map:
                foreach (var (lang, text) in map)
                {
                    Leaf(path, text, rows, 1);
                    Leaf(Join(path, "[" + lang + "]"), text, rows, 1);
                }
                break;
            case "ListRelationship" when instance["objectList"] is JsonArray list:
                foreach (var item in list)
                {
                    Leaf(path, item?["object"], rows, 1);
                }
                break;
            case "GeoProperty":
                break;
            default:
                Leaf(path, instance[Members.ValueMember(type ?? "Property")], rows, 0);
                break;
        }
        // Any row at the attribute's own path says that it exists; one with no value says so where its value
        // left none there (a GeoProperty, a JSON object, an empty list).
        var marked = false;
        for (var i = first; i < rows.Count && !marked; i++)
        {
            marked = rows[i].Path.Length == path.Length;
        }
        if (!marked)
        {
            rows.Add(new ValueRow(path, null, null));
        }
        foreach (var (member, value) in instance)
        {
            // An attribute's own createdAt and modifiedAt are not indexed: two rows (four index entries) per
            // attribute, rewritten by every update of it, for queries that hardly anyone makes; a q on them is
            // decided on the documents the other conditions select (EntityQuery).
            if (member is "observedAt" or "unitCode" or "datasetId")
            {
                Leaf(Join(path, "@" + member), value, rows, MaxJsonDepth);
            }
            else if (member.Contains(':') && depth < 2)
            {
                foreach (var sub in value is JsonArray many ? many.OfType<JsonObject>() : value is JsonObject one ? [one] : [])
                {
                    Attribute(Join(path, member), sub, rows, depth + 1);
                }
            }
        }
    }

    private static void Leaf(string path, JsonNode? value, List<ValueRow> rows, int depth)
    {
        switch (value)
        {
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.Number:
                        rows.Add(new ValueRow(path, v.GetValue<double>(), null));
                        break;
                    case JsonValueKind.True or JsonValueKind.False:
                        rows.Add(new ValueRow(path, null, v.GetValueKind() == JsonValueKind.True ? "true" : "false"));
                        break;
                    case JsonValueKind.String:
                        var s = v.GetValue<string>();
                        rows.Add(new ValueRow(path, Instant(s), s));
                        break;
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    Leaf(path, item, rows, depth);
                }
                break;
            case JsonObject o when depth < MaxJsonDepth:
                foreach (var (key, item) in o)
                {
                    Leaf(Join(path, "[" + key + "]"), item, rows, depth + 1);
                }
                break;
        }
    }

    /// A date-time or date string as seconds since the epoch, so that temporal comparisons use the index.
    public static double? Instant(string s)
    {
        if (s.Length < 10 || s.Length > 40 || !char.IsAsciiDigit(s[0]) || s[4] != '-')
        {
            return null;
        }
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUnixTimeMilliseconds() / 1000.0
            : null;
    }

    internal readonly record struct Box(double MinX, double MaxX, double MinY, double MaxY);

    public static Box? Bounds(JsonObject geometry)
    {
        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        void Visit(JsonNode? n)
        {
            if (n is not JsonArray a || a.Count == 0)
            {
                return;
            }
            if (a[0] is JsonValue && a.Count >= 2 && a[0]!.GetValueKind() == JsonValueKind.Number && a[1]!.GetValueKind() == JsonValueKind.Number)
            {
                var x = a[0]!.GetValue<double>();
                var y = a[1]!.GetValue<double>();
                (minX, maxX, minY, maxY) = (Math.Min(minX, x), Math.Max(maxX, x), Math.Min(minY, y), Math.Max(maxY, y));
                return;
            }
            foreach (var item in a)
            {
                Visit(item);
            }
        }
        Visit(geometry["coordinates"]);
        if (geometry["geometries"] is JsonArray parts)
        {
            foreach (var part in parts.OfType<JsonObject>())
            {
                if (Bounds(part) is { } b)
                {
                    (minX, maxX, minY, maxY) = (Math.Min(minX, b.MinX), Math.Max(maxX, b.MaxX), Math.Min(minY, b.MinY), Math.Max(maxY, b.MaxY));
                }
            }
        }
        return minX <= maxX ? new Box(minX, maxX, minY, maxY) : null;
    }
}
