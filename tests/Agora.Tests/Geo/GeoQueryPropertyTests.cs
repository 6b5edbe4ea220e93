using System.Text.Json.Nodes;
using Agora.Geo;
using CsCheck;
using static Agora.Tests.Geo.GeoTestData;

namespace Agora.Tests.Geo;

public sealed class GeoQueryPropertyTests
{
    private static readonly string[] Topological = ["within", "contains", "intersects", "equals", "disjoint", "overlaps"];

    // Coordinates on a coarse grid, so that shared vertices, touching edges and exact equality really occur.
    private static readonly Gen<double> Coordinate = Gen.Int[-4, 4].Select(i => i * 0.5);

    private static readonly Gen<JsonArray> Position = Gen.Select(Coordinate, Coordinate).Select((x, y) => new JsonArray(x, y));

    private static readonly Gen<JsonObject> Triangle = Gen.Select(Position, Position, Position).Select((a, b, c) =>
        new JsonObject { ["type"] = "Polygon", ["coordinates"] = new JsonArray(new JsonArray(a, b, c, a.DeepClone())) });

    private static readonly Gen<JsonObject> Geometry = Gen.Frequency(
        (3, Position.Select(p => new JsonObject { ["type"] = "Point", ["coordinates"] = p })),
        (2, Gen.Select(Position, Position).Select((a, b) => new JsonObject { ["type"] = "LineString", ["coordinates"] = new JsonArray(a, b) })),
        (3, Triangle),
        (1, Gen.Select(Triangle, Position).Select((t, p) => new JsonObject
        {
            ["type"] = "GeometryCollection",
            ["geometries"] = new JsonArray(t, new JsonObject { ["type"] = "Point", ["coordinates"] = p }),
        })));

    private static readonly Gen<GeoQuery> Query = Gen.Select(Gen.OneOf(Topological), Geometry.Where(g => (string)g["type"]! != "GeometryCollection"))
        .Select((georel, g) => GeoQuery.Parse(georel, (string)g["type"]!, g["coordinates"]!.ToJsonString(), null)!);

    [Fact]
    public void EveryMatchingGeometrysBoundsIntersectTheSearchBox()
    {
        Gen.Select(Query, Geometry).Sample((q, g) =>
        {
            if (q.Matches(g) && q.SearchBox is { } box)
            {
                Assert.True(box.Intersects(GeoQuery.BoundsOf(g)!.Value), $"{q.Georel} {q.Coordinates} matches {g.ToJsonString()} outside {box}");
            }
        }, iter: 20_000);
    }

    [Fact]
    public void WithinMatchesLieInsideTheSearchBox()
    {
        Gen.Select(Query.Where(q => q.Relation is GeoRelation.Within or GeoRelation.Equals), Geometry).Sample((q, g) =>
        {
            if (q.Matches(g))
            {
                Assert.True(q.SearchBox!.Value.Contains(GeoQuery.BoundsOf(g)!.Value));
            }
        }, iter: 5_000);
    }

    [Fact]
    public void StoredPointsMatchExactlyAsTheSameSinglePointMultiPoint()
    {
        // A Point takes the fast paths; a one-point MultiPoint always goes through NTS. They must agree.
        Gen.Select(Query, Position).Sample((q, p) =>
        {
            var point = new JsonObject { ["type"] = "Point", ["coordinates"] = p };
            var multi = new JsonObject { ["type"] = "MultiPoint", ["coordinates"] = new JsonArray(p.DeepClone()) };
            Assert.Equal(q.Matches(multi), q.Matches(point));
        }, iter: 20_000);
    }

    [Fact]
    public void DisjointIsTheNegationOfIntersects()
    {
        Gen.Select(Geometry.Where(g => (string)g["type"]! != "GeometryCollection"), Geometry).Sample((query, g) =>
        {
            var (type, coordinates) = ((string)query["type"]!, query["coordinates"]!.ToJsonString());
            Assert.NotEqual(
                GeoQuery.Parse("intersects", type, coordinates, null)!.Matches(g),
                GeoQuery.Parse("disjoint", type, coordinates, null)!.Matches(g));
        }, iter: 5_000);
    }

    [Fact]
    public void AQuerySharedAcrossThreadsAnswersConsistently()
    {
        var q = GeoQuery.Parse("within", "Polygon", "[[[0,0],[10,0],[10,10],[0,10],[0,0]], [[4,4],[6,4],[6,6],[4,6],[4,4]]]", null)!;
        var points = Enumerable.Range(0, 2_000).Select(i => Point(i % 13, i / 13 % 13)).ToArray();
        var lines = points.Select(p => G($$"""{"type": "LineString", "coordinates": [{{p["coordinates"]!.ToJsonString()}}, [5, 1]]}""")).ToArray();
        var expected = points.Concat(lines).Select(q.Matches).ToArray();
        Parallel.For(0, 8, _ => Assert.Equal(expected, points.Concat(lines).Select(q.Matches).ToArray()));
    }
}
