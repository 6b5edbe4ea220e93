using System.Text.Json;
using System.Text.Json.Nodes;
using NetTopologySuite.Geometries;

namespace Agora.Geo;

/// Reads GeoJSON (RFC 7946) geometries into NetTopologySuite shapes on plain lon/lat coordinates, the way
/// PostGIS `geometry` treats them: edges are straight lines in the lon/lat plane and Z is ignored.
internal static class GeoJson
{
    // SRID 4326 documents intent only; NTS computes on the plane whatever the SRID.
    public static readonly GeometryFactory Factory = new(new PrecisionModel(), 4326);

    private const int MaxCollectionDepth = 32;

    /// The shape of a stored geometry, or null when it is not one (stored values were validated on write, so
    /// null only means something unexpected reached the store; it then matches nothing rather than failing).
    public static Geometry? TryRead(JsonObject geometry)
    {
        string? error = null;
        return Read(geometry, ref error);
    }

    public static Geometry? Read(JsonObject geometry, ref string? error) => Read(geometry, ref error, 0);

    private static Geometry? Read(JsonObject geometry, ref string? error, int depth)
    {
        var type = TypeOf(geometry);
        if (type == "GeometryCollection")
        {
            // The JSON parser bounds nesting, but a hand-built JsonObject is not, so collections are capped here too.
            if (depth > MaxCollectionDepth)
            {
                return Fail(ref error, "GeometryCollections are nested too deeply");
            }
            if (geometry["geometries"] is not JsonArray parts)
            {
                return Fail(ref error, "a GeometryCollection needs a 'geometries' array");
            }
            var shapes = new Geometry[parts.Count];
            for (var i = 0; i < shapes.Length; i++)
            {
                if (parts[i] is not JsonObject part || Read(part, ref error, depth + 1) is not { } shape)
                {
                    return Fail(ref error, $"member {i} of the GeometryCollection is not a geometry");
                }
                shapes[i] = shape;
            }
            return Factory.CreateGeometryCollection(shapes);
        }
        return type is null ? Fail(ref error, "the geometry has no known GeoJSON 'type'") : Read(type, geometry["coordinates"], ref error);
    }

    public static Geometry? Read(string type, JsonNode? coordinates, ref string? error)
    {
        switch (type)
        {
            case "Point":
                return ReadPosition(coordinates, ref error) is { } p ? Factory.CreatePoint(p) : null;
            case "MultiPoint":
                return ReadPositions(coordinates, 0, ref error) is { } ps ? Factory.CreateMultiPointFromCoords(ps) : null;
            case "LineString":
                return ReadPositions(coordinates, 2, ref error) is { } line ? Factory.CreateLineString(line) : null;
            case "MultiLineString":
                {
                    if (coordinates is not JsonArray a)
                    {
                        return Fail(ref error, "a MultiLineString's coordinates must be an array of lines");
                    }
                    var lines = new LineString[a.Count];
                    for (var i = 0; i < lines.Length; i++)
                    {
                        if (ReadPositions(a[i], 2, ref error) is not { } l)
                        {
                            return null;
                        }
                        lines[i] = Factory.CreateLineString(l);
                    }
                    return Factory.CreateMultiLineString(lines);
                }
            case "Polygon":
                return ReadPolygon(coordinates, ref error);
            case "MultiPolygon":
                {
                    if (coordinates is not JsonArray a)
                    {
                        return Fail(ref error, "a MultiPolygon's coordinates must be an array of polygons");
                    }
                    var polygons = new Polygon[a.Count];
                    for (var i = 0; i < polygons.Length; i++)
                    {
                        if (ReadPolygon(a[i], ref error) is not { } polygon)
                        {
                            return null;
                        }
                        polygons[i] = polygon;
                    }
                    return Factory.CreateMultiPolygon(polygons);
                }
            default:
                return Fail(ref error, $"'{type}' is not a GeoJSON geometry type");
        }
    }

    private static readonly string[] TypeNames =
        ["Point", "Polygon", "MultiPolygon", "LineString", "MultiPoint", "MultiLineString", "GeometryCollection"];

    /// The geometry's GeoJSON type, as one of the interned names; null if it has none or an unknown one.
    public static string? TypeOf(JsonObject geometry)
    {
        if (geometry["type"] is not JsonValue t)
        {
            return null;
        }
        // Parsed JSON holds a JsonElement: comparing its UTF-8 in place avoids a string per candidate.
        if (t.TryGetValue<JsonElement>(out var e))
        {
            if (e.ValueKind == JsonValueKind.String)
            {
                foreach (var name in TypeNames)
                {
                    if (e.ValueEquals(name))
                    {
                        return name;
                    }
                }
            }
            return null;
        }
        return t.TryGetValue<string>(out var s) ? Array.Find(TypeNames, n => n == s) : null;
    }

    /// Min/max lon/lat over every position; null for an empty or malformed geometry.
    public static Box? BoundsOf(JsonObject geometry)
    {
        var (minLon, minLat, maxLon, maxLat) = (double.PositiveInfinity, double.PositiveInfinity, double.NegativeInfinity, double.NegativeInfinity);
        if (!Accumulate(geometry, ref minLon, ref minLat, ref maxLon, ref maxLat, 0) || minLon > maxLon)
        {
            return null;
        }
        return new Box(minLon, minLat, maxLon, maxLat);
    }

    // Walks the JSON directly: bounds are computed on every write for the index, so no NTS shape is built.
    private static bool Accumulate(JsonObject geometry, ref double minLon, ref double minLat, ref double maxLon, ref double maxLat, int depth)
    {
        if (TypeOf(geometry) == "GeometryCollection")
        {
            if (depth > MaxCollectionDepth || geometry["geometries"] is not JsonArray parts)
            {
                return false;
            }
            foreach (var part in parts)
            {
                if (part is not JsonObject o || !Accumulate(o, ref minLon, ref minLat, ref maxLon, ref maxLat, depth + 1))
                {
                    return false;
                }
            }
            return true;
        }
        var nesting = TypeOf(geometry) switch
        {
            "Point" => 0,
            "MultiPoint" or "LineString" => 1,
            "MultiLineString" or "Polygon" => 2,
            "MultiPolygon" => 3,
            _ => -1,
        };
        return nesting >= 0 && AccumulatePositions(geometry["coordinates"], nesting, ref minLon, ref minLat, ref maxLon, ref maxLat);
    }

    private static bool AccumulatePositions(JsonNode? node, int nesting, ref double minLon, ref double minLat, ref double maxLon, ref double maxLat)
    {
        if (nesting == 0)
        {
            if (!TryPosition(node, out var lon, out var lat))
            {
                return false;
            }
            (minLon, minLat, maxLon, maxLat) = (Math.Min(minLon, lon), Math.Min(minLat, lat), Math.Max(maxLon, lon), Math.Max(maxLat, lat));
            return true;
        }
        if (node is not JsonArray a)
        {
            return false;
        }
        foreach (var child in a)
        {
            if (!AccumulatePositions(child, nesting - 1, ref minLon, ref minLat, ref maxLon, ref maxLat))
            {
                return false;
            }
        }
        return true;
    }

    /// A GeoJSON position: [lon, lat] or [lon, lat, altitude], finite numbers within WGS84 ranges.
    public static bool TryPosition(JsonNode? node, out double lon, out double lat)
    {
        lon = lat = 0;
        return node is JsonArray { Count: 2 or 3 } a
            && TryNumber(a[0], out lon) && TryNumber(a[1], out lat)
            && (a.Count == 2 || TryNumber(a[2], out _))
            && Math.Abs(lon) <= 180 && Math.Abs(lat) <= 90;
    }

    private static bool TryNumber(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }
        // Parsed JSON holds a JsonElement; hand-built nodes hold whatever CLR number they were made from.
        if (v.TryGetValue(out value) || (v.TryGetValue(out long l) && (value = l) == l) || (v.TryGetValue(out int i) && (value = i) == i)
            || (v.TryGetValue(out decimal m) && (value = (double)m) == value) || (v.TryGetValue(out float f) && (value = f) == f))
        {
            return double.IsFinite(value);
        }
        return false;
    }

    private static Coordinate? ReadPosition(JsonNode? node, ref string? error) =>
        TryPosition(node, out var lon, out var lat)
            ? new Coordinate(lon, lat)
            : Fail<Coordinate>(ref error, $"{Show(node)} is not a position [longitude, latitude] with longitude in [-180, 180] and latitude in [-90, 90]");

    private static Coordinate[]? ReadPositions(JsonNode? node, int minimum, ref string? error)
    {
        if (node is not JsonArray a)
        {
            return Fail<Coordinate[]>(ref error, $"{Show(node)} is not an array of positions");
        }
        if (a.Count < minimum)
        {
            return Fail<Coordinate[]>(ref error, $"a line needs at least {minimum} positions, {Show(node)} has {a.Count}");
        }
        var positions = new Coordinate[a.Count];
        for (var i = 0; i < positions.Length; i++)
        {
            if (ReadPosition(a[i], ref error) is not { } p)
            {
                return null;
            }
            positions[i] = p;
        }
        return positions;
    }

    private static Polygon? ReadPolygon(JsonNode? node, ref string? error)
    {
        if (node is not JsonArray { Count: > 0 } a)
        {
            return Fail<Polygon>(ref error, $"{Show(node)} is not a polygon: an array of one exterior ring and optional holes");
        }
        var rings = new LinearRing[a.Count];
        for (var i = 0; i < rings.Length; i++)
        {
            if (ReadPositions(a[i], 4, ref error) is not { } ring)
            {
                return null;
            }
            if (!ring[0].Equals2D(ring[^1]))
            {
                return Fail<Polygon>(ref error, $"the linear ring {Show(a[i])} is not closed: its first and last positions differ");
            }
            rings[i] = Factory.CreateLinearRing(ring);
        }
        return Factory.CreatePolygon(rings[0], rings[1..]);
    }

    private static Geometry? Fail(ref string? error, string message) => Fail<Geometry>(ref error, message);

    private static T? Fail<T>(ref string? error, string message) where T : class
    {
        // The innermost failure is the most precise, so an outer caller never overwrites it.
        error ??= message;
        return null;
    }

    private static string Show(JsonNode? node) => GeoRel.Shown(node);
}
