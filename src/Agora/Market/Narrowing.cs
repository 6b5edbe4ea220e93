using System.Globalization;
using System.Text.Json.Nodes;
using Agora.Entities;
using Agora.JsonLd;
using Agora.Query;
using Agora.Security;
using Agora.Temporal;

namespace Agora.Market;

/// The one place where a read through an agreement is narrowed to the agreement's scope, before the query runs:
/// the entity types, the attributes (which both select and project), the id pattern, the area (a geo-query the
/// scope adds) and the history window. What it returns replaces the request's own parameters or Query object, so
/// the query code runs unchanged. A read that keeps nothing of what it asked is refused with a 403 naming what is
/// not covered.
internal sealed class Narrowing(Scope scope, JsonLdContext context, DateTimeOffset now)
{
    public const string AreaGeoProperty = "location";

    /// Whether the scope sees only some entities of its types (an area, an id pattern).
    public bool LimitsEntities => scope.Area is not null || scope.IdPattern is not null;

    /// The same narrowing for names given in another @context (that of a Query object's body).
    public Narrowing In(JsonLdContext other) => new(scope, other, now);

    /// The types to query: those asked that the scope covers (all of its types when none are asked).
    public List<string> Types(string? asked)
    {
        if (asked is null)
        {
            return [.. scope.Types];
        }
        var types = TypeSelection.Parse(asked).SimpleTypes(context)
            ?? throw Denied($"The type expression '{Names.Shorten(asked)}' cannot be narrowed to the agreement; ask for types as a comma-separated list.");
        var covered = types.Where(scope.Types.Contains).ToList();
        return covered.Count > 0 ? covered : throw Denied($"The agreement does not cover entities of type {context.CompactIri(types[0])}.");
    }

    /// The attributes to select and project: those asked that the scope covers (all of its attributes when none
    /// are asked), or null when the scope does not limit attributes and none are asked.
    public List<string>? Attributes(IReadOnlyList<string> asked)
    {
        if (asked.Count == 0)
        {
            return scope.Attributes?.ToList();
        }
        var expanded = asked.Select(a => RepresentationQuery.Expand(a, context)).ToList();
        if (scope.Attributes is null)
        {
            return expanded;
        }
        var covered = expanded.Where(scope.Attributes.Contains).ToList();
        return covered.Count > 0 ? covered : throw Denied($"The agreement does not cover the attribute {context.CompactIri(expanded[0])}.");
    }

    /// The projection: pick loses the attributes the scope does not cover (entity members stay); omit alone,
    /// under a scope that limits attributes, becomes a pick of the covered attributes it does not name.
    public (string? Pick, string? Omit) Projection(string? pick, string? omit)
    {
        if (scope.Attributes is null)
        {
            return (pick, omit);
        }
        if (pick is null)
        {
            var omitted = Items(omit ?? "").Select(context.ExpandTerm).ToHashSet(StringComparer.Ordinal);
            return (string.Join(",", [.. KeptMembers, .. scope.Attributes.Where(a => !omitted.Contains(a))]), null);
        }
        return (string.Join(",", Items(pick).Where(name => KeptMembers.Contains(name) || scope.Attributes.Contains(context.ExpandTerm(name)))), omit);
    }

    private static readonly string[] KeptMembers = ["id", "type", "scope"];

    private static IEnumerable<string> Items(string list) => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// Sorting by an attribute outside the scope would tell its order: refused.
    public void CheckOrderBy(string? orderBy)
    {
        if (orderBy is null || scope.Attributes is null)
        {
            return;
        }
        foreach (var item in Items(orderBy))
        {
            var name = item.Split(';')[0].Split('.')[0].Trim();
            if (name is not ("id" or "type" or "createdAt" or "modifiedAt") && !scope.Attributes.Contains(context.ExpandTerm(name)))
            {
                throw Denied($"The agreement does not cover the attribute {name}, so orderBy may not sort by it.");
            }
        }
    }

    /// A q that tests an attribute outside the scope would tell its values by what matches: refused.
    public void CheckQ(string? q)
    {
        if (q is null || scope.Attributes is null)
        {
            return;
        }
        foreach (var path in Paths(QExpression.Parse(q).Root))
        {
            var name = path.ExpandedNames(context).FirstOrDefault();
            if (name is not null && !scope.Attributes.Contains(name))
            {
                throw Denied($"The agreement does not cover the attribute {context.CompactIri(name)}, so q may not test it.");
            }
        }
    }

    private static IEnumerable<QPath> Paths(QNode node) => node switch
    {
        QAnd and => and.Operands.SelectMany(Paths),
        QOr or => or.Operands.SelectMany(Paths),
        QTerm term => [term.Path],
        _ => [],
    };

    /// The id pattern: the scope's and the request's must both match, searched anywhere in the id as idPattern is.
    public string? IdPattern(string? asked)
    {
        // The client's pattern must stand on its own before it is combined: an unbalanced one such as "x))|((?:"
        // would otherwise close the scope's group and match every id.
        if (asked is not null)
        {
            try
            {
                _ = new System.Text.RegularExpressions.Regex(asked, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(50));
            }
            catch (ArgumentException e)
            {
                throw Errors.NgsiLdException.BadRequest("Invalid idPattern", $"'{Names.Shorten(asked)}' is not a regular expression: {e.Message}");
            }
        }
        return (scope.IdPatternText, asked) switch
        {
            (null, _) => asked,
            (var own, null) => own,
            (var own, var theirs) => $@"^(?=[\s\S]*?(?:{own}))(?=[\s\S]*?(?:{theirs}))",
        };
    }

    /// The geo-query to run, as a geoQ object: the scope's area when none is asked; the asked one cut to the area
    /// when it is `within` or `intersects` a (Multi)Polygon (for either relation, matching the intersection implies
    /// matching both); null when the scope has no area, and the asked geo-query stands.
    public JsonObject? Area(string? georel, string? geometry, JsonNode? coordinates, string? geoproperty)
    {
        if (scope.Area is null)
        {
            return null;
        }
        var area = new JsonObject
        {
            ["georel"] = "intersects",
            ["geometry"] = (string)scope.Area["type"]!,
            ["coordinates"] = scope.Area["coordinates"]!.DeepClone(),
            ["geoproperty"] = AreaGeoProperty,
        };
        if (georel is null)
        {
            return area;
        }
        string? error = null;
        var asked = georel is "within" or "intersects" && geometry is "Polygon" or "MultiPolygon"
            && (geoproperty ?? AreaGeoProperty) == AreaGeoProperty
            ? Geo.GeoJson.Read(geometry, coordinates, ref error)
            : null;
        if (asked is null)
        {
            throw Denied("The agreement limits reads to an area on location; a geo-query of your own is combined with it when it is within or intersects a Polygon or MultiPolygon on location.");
        }
        if (!asked.IsValid)
        {
            throw Errors.NgsiLdException.BadRequest("Invalid geometry", "The geo-query's polygon is not valid (it crosses itself or is not closed).");
        }
        var cut = asked.Intersection(Geo.GeoJson.TryRead(scope.Area)!);
        if (cut.IsEmpty || cut is not (NetTopologySuite.Geometries.Polygon or NetTopologySuite.Geometries.MultiPolygon))
        {
            throw Denied("The geo-query's geometry lies outside the agreement's area.");
        }
        area["georel"] = georel;
        area["geometry"] = cut.GeometryType;
        area["coordinates"] = Coordinates(cut);
        return area;
    }

    private static JsonArray Coordinates(NetTopologySuite.Geometries.Geometry shape) => shape switch
    {
        NetTopologySuite.Geometries.MultiPolygon many => new([.. many.Geometries.Select(g => (JsonNode?)Coordinates(g))]),
        NetTopologySuite.Geometries.Polygon polygon => new([.. new[] { polygon.ExteriorRing }.Concat(polygon.InteriorRings)
            .Select(ring => (JsonNode?)new JsonArray([.. ring.Coordinates.Select(c => (JsonNode?)new JsonArray(c.X, c.Y))]))]),
        _ => throw new ArgumentException("Only polygons have these coordinates.", nameof(shape)),
    };

    /// The temporal window: the request's, cut to start no earlier than the scope's history allows.
    public TimeQuery Time(TimeQuery asked)
    {
        if (!scope.HistoryAllowed)
        {
            throw Denied("The agreement does not cover the history of entities.");
        }
        if (scope.HistoryStart(now) is not { } start)
        {
            return asked;
        }
        double floor = start.ToUnixTimeMilliseconds();
        if (asked.To is { } to && to <= floor)
        {
            throw Denied($"The agreement covers history from {Instant(floor)} only.");
        }
        return asked with { Rel = asked.To is null ? "after" : "between", From = Math.Max(asked.From ?? floor, floor) };
    }

    /// The time parameters of a narrowed TimeQuery, as the GET form and a temporalQ name them.
    public static IEnumerable<(string Name, string? Value)> TimeParameters(TimeQuery time) =>
    [
        ("timerel", time.Rel),
        ("timeAt", time.From is { } from ? Instant(from) : time.To is { } before ? Instant(before) : null),
        ("endTimeAt", time.Rel == "between" ? Instant(time.To!.Value) : null),
    ];

    /// Whether a stored entity is inside the scope: a covered type, a matching id, inside the area. Null when it
    /// is, else what a 403 says.
    public string? Outside(IReadOnlyList<string> types, string id, JsonObject? entity)
    {
        if (!types.Any(scope.Types.Contains))
        {
            return $"The agreement does not cover entities of type {string.Join(", ", types.Select(context.CompactIri))}.";
        }
        if (scope.IdPattern is { } pattern && !Matches(pattern, id))
        {
            return $"The agreement does not cover the entity {id}: its id is outside the agreement's id pattern.";
        }
        if (Area(null, null, null, null) is { } area && (entity is null || !Within(Geo.GeoQuery.FromJson(area), entity)))
        {
            return $"The agreement does not cover the entity {id}: it is outside the agreement's area.";
        }
        return null;
    }

    // A pattern too costly for this id is the city's mistake; the entity is then not covered rather than a 500.
    private static bool Matches(System.Text.RegularExpressions.Regex pattern, string id)
    {
        try
        {
            return pattern.IsMatch(id);
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException)
        {
            return false;
        }
    }

    private static bool Within(Geo.GeoQuery area, JsonObject entity) =>
        entity[Members.LocationIri] is JsonArray instances
        && instances.OfType<JsonObject>().Any(i => (string?)i["type"] == "GeoProperty" && i["value"] is JsonObject geometry && area.Matches(geometry));

    private static string Instant(double epochMilliseconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)epochMilliseconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static Errors.NgsiLdException Denied(string detail) => SecurityErrors.Denied(detail);
}
