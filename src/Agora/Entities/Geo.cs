using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Errors;

namespace Agora.Entities;

/// GeoJSON geometries (RFC 7946) as NGSI-LD GeoProperty values.
internal static class Geo
{
    private static readonly HashSet<string> GeometryTypes =
        ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"];

    public static bool IsGeometry(JsonObject o) =>
        o["type"] is JsonValue t && t.TryGetValue<string>(out var type) && GeometryTypes.Contains(type)
        && (o.ContainsKey("coordinates") || o.ContainsKey("geometries"));

    public static void Validate(string name, JsonObject geometry)
    {
        if (!IsValid(geometry))
        {
            throw NgsiLdException.BadRequest("Invalid GeoProperty", $"The value of '{name}' is not a valid GeoJSON geometry: {Names.Shorten(geometry.ToJsonString())}");
        }
    }

    public static bool IsValid(JsonObject g)
    {
        var type = g["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
        if (type == "GeometryCollection")
        {
            return g["geometries"] is JsonArray parts && parts.All(p => p is JsonObject o && IsValid(o));
        }
        var c = g["coordinates"];
        return type switch
        {
            "Point" => IsPosition(c),
            "MultiPoint" => c is JsonArray a && a.All(IsPosition),
            "LineString" => IsLine(c),
            "MultiLineString" => c is JsonArray a && a.All(IsLine),
            "Polygon" => IsPolygon(c),
            "MultiPolygon" => c is JsonArray a && a.All(IsPolygon),
            _ => false,
        };
    }

    private static bool IsPosition(JsonNode? p) =>
        p is JsonArray a && a.Count is 2 or 3 && a.All(n => n is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        && Math.Abs((double)a[0]!) <= 180 && Math.Abs((double)a[1]!) <= 90;

    private static bool IsLine(JsonNode? l) => l is JsonArray a && a.Count >= 2 && a.All(IsPosition);

    private static bool IsRing(JsonNode? r) =>
        r is JsonArray a && a.Count >= 4 && a.All(IsPosition) && JsonNode.DeepEquals(a[0], a[^1]);

    private static bool IsPolygon(JsonNode? p) => p is JsonArray a && a.Count >= 1 && a.All(IsRing);
}
