using System.Text.Json;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.Errors;
using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using NetTopologySuite.Operation.RelateNG;

namespace Agora.Geo;

/// A geo-query (clause 4.10): an entity matches when the GeoJSON value of its GeoProperty relates to the query
/// geometry as the georel says. Parse once per request; <see cref="Matches"/> is then cheap per candidate.
///
/// Topological relations follow OGC Simple Features on plain lon/lat coordinates, as PostGIS `geometry` does
/// (what Scorpio and Stellio evaluate); `near` measures metres on the sphere. An instance may be shared across
/// threads: NTS's prepared structures are built lazily, so their use is serialised by a lock, uncontended in
/// the usual one-query-per-request case.
internal sealed record GeoQuery
{
    public const string DefaultGeoProperty = "location";

    private static readonly HashSet<string> QueryGeometryTypes =
        ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"];

    private readonly Geometry _shape;
    private readonly RelateNG _prepared;
    private readonly IndexedPointInAreaLocator? _areaLocator;
    private readonly Coordinate _scratch = new();
    // A `with` copy shares these with its original, lock included, so the sharing stays guarded.
    private readonly Lock _gate = new();

    private GeoQuery(GeoRel georel, string geometryType, JsonNode coordinates, Geometry shape, string geoProperty)
    {
        Georel = georel;
        GeometryType = geometryType;
        Coordinates = coordinates.ToJsonString();
        GeoProperty = geoProperty;
        _shape = shape;
        _prepared = RelateNG.Prepare(shape);
        _areaLocator = shape is IPolygonal ? new IndexedPointInAreaLocator(shape) : null;
        SearchBox = georel.Relation switch
        {
            GeoRelation.Near when georel.MaxDistance is { } max => Sphere.CapBounds(shape.Coordinate.X, shape.Coordinate.Y, max),
            GeoRelation.Near or GeoRelation.Disjoint => null,
            _ => Box(shape.EnvelopeInternal),
        };
    }

    public GeoRel Georel { get; }
    public GeoRelation Relation => Georel.Relation;
    public double? MaxDistance => Georel.MaxDistance;
    public double? MinDistance => Georel.MinDistance;

    /// The query geometry's (first) point: near's centre.
    public (double Lon, double Lat) Point => (_shape.Coordinate.X, _shape.Coordinate.Y);

    /// Point, MultiPoint, LineString, MultiLineString, Polygon or MultiPolygon.
    public string GeometryType { get; }

    /// The query geometry's coordinates as compact JSON text.
    public string Coordinates { get; }

    /// The GeoProperty to test, as the client named it; the caller expands it against the @context, and may
    /// replace it with `with { GeoProperty = … }`.
    public string GeoProperty { get; init; }

    /// The box every matching geometry's bounds intersect, for an R*Tree prefilter; null when none exists
    /// (disjoint, or near with only a minDistance).
    public Box? SearchBox { get; }

    /// GET form: the georel, geometry, coordinates and geoproperty query parameters. Null when none of the first
    /// three is given (a lone geoproperty has nothing to act on and is ignored).
    public static GeoQuery? Parse(string? georel, string? geometry, string? coordinates, string? geoproperty)
    {
        if (georel is null && geometry is null && coordinates is null)
        {
            return null;
        }
        var missing = new[] { ("georel", georel), ("geometry", geometry), ("coordinates", coordinates) }
            .Where(p => p.Item2 is null).Select(p => p.Item1).ToArray();
        if (missing.Length > 0)
        {
            throw NgsiLdException.BadRequest("Invalid geo-query",
                $"A geo-query needs georel, geometry and coordinates together; '{string.Join("', '", missing)}' {(missing.Length == 1 ? "is" : "are")} missing.");
        }
        return Create(georel!, geometry!, ParseCoordinates(coordinates!, "coordinates"), geoproperty, "");
    }

    /// POST /entityOperations/query form: the `geoQ` member, {"geometry", "coordinates", "georel", "geoproperty"}.
    /// Coordinates may be the array itself or, as in the GET form, its JSON text.
    public static GeoQuery FromJson(JsonObject geoQ)
    {
        var georel = Text(geoQ, "georel", required: true)!;
        var geometry = Text(geoQ, "geometry", required: true)!;
        var geoproperty = Text(geoQ, "geoproperty", required: false);
        var coordinates = geoQ["coordinates"];
        if (coordinates is JsonValue v && v.TryGetValue<string>(out var text))
        {
            coordinates = ParseCoordinates(text, "geoQ.coordinates");
        }
        else if (coordinates is null)
        {
            throw GeoRel.Invalid("geoQ.coordinates", "it is missing; a geoQ needs geometry, coordinates and georel.");
        }
        return Create(georel, geometry, coordinates, geoproperty, "geoQ.");
    }

    private static JsonNode? ParseCoordinates(string text, string parameter)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            // ArgumentException: text that is not valid UTF-16 (a lone surrogate) cannot even be read as JSON.
            throw GeoRel.Invalid(parameter, $"'{GeoRel.Shown(text)}' is not a JSON array of coordinates ({e.Message}).");
        }
    }

    private static string? Text(JsonObject geoQ, string name, bool required)
    {
        var node = geoQ[name];
        if (node is null)
        {
            return required ? throw GeoRel.Invalid("geoQ." + name, "it is missing; a geoQ needs geometry, coordinates and georel.") : null;
        }
        return node is JsonValue v && v.TryGetValue<string>(out var s)
            ? s
            : throw GeoRel.Invalid("geoQ." + name, $"{GeoRel.Shown(node)} is not a string.");
    }

    private static GeoQuery Create(string georel, string geometry, JsonNode? coordinates, string? geoproperty, string prefix)
    {
        var rel = GeoRel.Parse(georel, prefix + "georel");
        if (!QueryGeometryTypes.Contains(geometry))
        {
            throw GeoRel.Invalid(prefix + "geometry", $"'{GeoRel.Shown(geometry)}' is not one of Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon.");
        }
        if (rel.Relation == GeoRelation.Near && geometry != "Point")
        {
            // Distances are measured from a reference point (clause 4.10's near); other shapes have no single origin.
            throw GeoRel.Invalid(prefix + "geometry", $"near needs a Point, not a {geometry}.");
        }
        if (coordinates is not JsonArray { Count: > 0 })
        {
            throw GeoRel.Invalid(prefix + "coordinates", $"{GeoRel.Shown(coordinates)} is not a non-empty JSON array of coordinates.");
        }
        string? error = null;
        var shape = GeoJson.Read(geometry, coordinates, ref error);
        if (shape is null || shape.IsEmpty)
        {
            throw GeoRel.Invalid(prefix + "coordinates", $"they are not the coordinates of a {geometry}: {error ?? "the geometry is empty"}.");
        }
        if (geoproperty is not null && !Names.IsName(geoproperty) && !Names.IsUri(geoproperty))
        {
            throw GeoRel.Invalid(prefix + "geoproperty", $"'{GeoRel.Shown(geoproperty)}' is not an attribute name.");
        }
        return new GeoQuery(rel, geometry, coordinates, shape, geoproperty ?? DefaultGeoProperty);
    }

    /// The geoQ object of this query, as POST /entityOperations/query and subscriptions carry it.
    public JsonObject ToJson() => new()
    {
        ["geometry"] = GeometryType,
        ["coordinates"] = JsonNode.Parse(Coordinates),
        ["georel"] = Georel.ToString(),
        ["geoproperty"] = GeoProperty,
    };

    /// Whether a stored geometry (a GeoProperty's GeoJSON value) satisfies the query. A malformed stored value
    /// matches nothing.
    public bool Matches(JsonObject storedGeometry)
    {
        if (Relation == GeoRelation.Near)
        {
            var d = Sphere.DistanceTo(storedGeometry, _shape.Coordinate.X, _shape.Coordinate.Y);
            return !double.IsNaN(d) && (MaxDistance is not { } max || d <= max) && (MinDistance is not { } min || d >= min);
        }
        if (GeoJson.TypeOf(storedGeometry) == "Point" && GeoJson.TryPosition(storedGeometry["coordinates"], out var lon, out var lat)
            && PointMatches(lon, lat) is { } fast)
        {
            return fast;
        }
        if (GeoJson.TryRead(storedGeometry) is not { } stored)
        {
            return false;
        }
        // The query geometry is A (prepared once), the stored one B: "entity within query" is "query contains
        // entity", and "entity contains query" is "query within entity".
        var predicate = Relation switch
        {
            GeoRelation.Within => RelatePredicate.Contains(),
            GeoRelation.Contains => RelatePredicate.Within(),
            GeoRelation.Equals => RelatePredicate.EqualsTopologically(),
            GeoRelation.Overlaps => RelatePredicate.Overlaps(),
            _ => RelatePredicate.Intersects(),
        };
        bool holds;
        lock (_gate)
        {
            holds = _prepared.Evaluate(stored, predicate);
        }
        return Relation == GeoRelation.Disjoint ? !holds : holds;
    }

    // Stored points are the common case; these answers need no NTS shape for the candidate. Null means "ask NTS".
    private bool? PointMatches(double lon, double lat)
    {
        if (_shape is Point p)
        {
            var same = p.X == lon && p.Y == lat;
            return Relation switch
            {
                GeoRelation.Disjoint => !same,
                // Two points never overlap: overlaps needs an intersection that differs from both.
                GeoRelation.Overlaps => false,
                _ => same,
            };
        }
        if (_areaLocator is null || Relation is not (GeoRelation.Within or GeoRelation.Intersects or GeoRelation.Disjoint))
        {
            return null;
        }
        Location location;
        lock (_gate)
        {
            _scratch.X = lon;
            _scratch.Y = lat;
            location = _areaLocator.Locate(_scratch);
        }
        return Relation switch
        {
            // Simple Features: a point on a polygon's boundary is not within it, but does intersect it.
            GeoRelation.Within => location == Location.Interior,
            GeoRelation.Intersects => location != Location.Exterior,
            _ => location == Location.Exterior,
        };
    }

    /// Metres from the near query's point to the nearest point of a stored geometry, for ordering results; null
    /// for other georels or a malformed stored value.
    public double? DistanceMetres(JsonObject storedGeometry)
    {
        if (Relation != GeoRelation.Near)
        {
            return null;
        }
        var d = Sphere.DistanceTo(storedGeometry, _shape.Coordinate.X, _shape.Coordinate.Y);
        return double.IsNaN(d) ? null : d;
    }

    /// The lon/lat bounds of any GeoJSON geometry, GeometryCollection included; null if empty or malformed.
    public static Box? BoundsOf(JsonObject geometry) => GeoJson.BoundsOf(geometry);

    private static Box Box(Envelope e) => new(e.MinX, e.MinY, e.MaxX, e.MaxY);

    // Two queries are equal when they ask the same thing; the compiled NTS state follows from that.
    public bool Equals(GeoQuery? other) =>
        other is not null && Georel == other.Georel && GeometryType == other.GeometryType
        && Coordinates == other.Coordinates && GeoProperty == other.GeoProperty;

    public override int GetHashCode() => HashCode.Combine(Georel, GeometryType, Coordinates, GeoProperty);
}
