using System.Text.Json.Nodes;
using Agora.Geo;
using static Agora.Tests.Geo.GeoTestData;

namespace Agora.Tests.Geo;

public sealed class GeoQueryTopologyTests
{
    // A 10×10 square with a 2×2 hole in its middle.
    private const string SquareWithHole = """{"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]], [[4,4],[6,4],[6,6],[4,6],[4,4]]]}""";
    private const string Square = "[[[0,0],[10,0],[10,10],[0,10],[0,0]]]";

    private static GeoQuery Q(string georel, string geometry, string coordinates) => GeoQuery.Parse(georel, geometry, coordinates, null)!;

    [Fact]
    public void WithinMeansTheEntityLiesInsideTheQueryPolygon()
    {
        var q = Q("within", "Polygon", Square);
        Assert.True(q.Matches(Point(5, 5)));
        Assert.False(q.Matches(Point(11, 5)));
        // Simple Features: a point on the boundary is not within.
        Assert.False(q.Matches(Point(0, 5)));
        Assert.True(q.Matches(G("""{"type": "LineString", "coordinates": [[1,1],[9,9]]}""")));
        Assert.False(q.Matches(G("""{"type": "LineString", "coordinates": [[1,1],[19,9]]}""")));
        Assert.True(q.Matches(G("""{"type": "Polygon", "coordinates": [[[1,1],[2,1],[2,2],[1,1]]]}""")));
        // The entity's geometry must be within the query, not the other way round.
        Assert.False(q.Matches(G("""{"type": "Polygon", "coordinates": [[[-1,-1],[11,-1],[11,11],[-1,11],[-1,-1]]]}""")));
    }

    [Fact]
    public void APolygonsHoleIsOutsideIt()
    {
        var inHole = Q("within", "Polygon", "[[[0,0],[10,0],[10,10],[0,10],[0,0]], [[4,4],[6,4],[6,6],[4,6],[4,4]]]");
        Assert.False(inHole.Matches(Point(5, 5)));
        Assert.True(inHole.Matches(Point(2, 2)));
        Assert.False(inHole.Matches(Point(4, 5)));
        Assert.True(Q("disjoint", "Point", "[5,5]").Matches(G(SquareWithHole)));
        Assert.False(Q("contains", "Point", "[5,5]").Matches(G(SquareWithHole)));
        Assert.True(Q("contains", "Point", "[2,2]").Matches(G(SquareWithHole)));
        Assert.True(Q("intersects", "Point", "[4,5]").Matches(G(SquareWithHole)));
    }

    [Fact]
    public void ContainsMeansTheEntityContainsTheQueryGeometry()
    {
        var polygon = G("""{"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]]]}""");
        Assert.True(Q("contains", "Point", "[5,5]").Matches(polygon));
        Assert.True(Q("contains", "LineString", "[[1,1],[9,9]]").Matches(polygon));
        Assert.False(Q("contains", "LineString", "[[1,1],[19,9]]").Matches(polygon));
        Assert.False(Q("contains", "Point", "[0,5]").Matches(polygon));
        Assert.False(Q("contains", "Polygon", "[[[-1,-1],[11,-1],[11,11],[-1,11],[-1,-1]]]").Matches(polygon));
        Assert.False(Q("contains", "Polygon", Square).Matches(Point(5, 5)));
    }

    [Fact]
    public void ALineCrossingAPolygonIntersectsButIsNeitherWithinNorOverlapping()
    {
        var line = G("""{"type": "LineString", "coordinates": [[-5,5],[15,5]]}""");
        Assert.True(Q("intersects", "Polygon", Square).Matches(line));
        Assert.False(Q("disjoint", "Polygon", Square).Matches(line));
        Assert.False(Q("within", "Polygon", Square).Matches(line));
        // Overlaps needs equal dimensions: a line and a polygon cross, they do not overlap.
        Assert.False(Q("overlaps", "Polygon", Square).Matches(line));
        var away = G("""{"type": "LineString", "coordinates": [[-5,15],[15,15]]}""");
        Assert.False(Q("intersects", "Polygon", Square).Matches(away));
        Assert.True(Q("disjoint", "Polygon", Square).Matches(away));
    }

    [Fact]
    public void EqualsIsTopologicalNotTextual()
    {
        var q = Q("equals", "Polygon", Square);
        // Same ring from another start vertex and in the other orientation.
        Assert.True(q.Matches(G("""{"type": "Polygon", "coordinates": [[[10,10],[10,0],[0,0],[0,10],[10,10]]]}""")));
        Assert.True(q.Matches(G("""{"type": "Polygon", "coordinates": [[[0,0],[5,0],[10,0],[10,10],[0,10],[0,0]]]}""")));
        Assert.False(q.Matches(G("""{"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,11],[0,10],[0,0]]]}""")));
        Assert.True(Q("equals", "Point", "[1.5,2.5]").Matches(Point(1.5, 2.5)));
        Assert.True(Q("equals", "Point", "[1.5,2.5]").Matches(G("""{"type": "Point", "coordinates": [1.5,2.5,100]}""")));
        Assert.False(Q("equals", "Point", "[1.5,2.5]").Matches(Point(1.5, 2.5000001)));
        Assert.True(Q("equals", "Point", "[1.5,2.5]").Matches(G("""{"type": "MultiPoint", "coordinates": [[1.5,2.5],[1.5,2.5]]}""")));
    }

    [Fact]
    public void TwoPolygonsOverlapWhenEachHasPartOutsideTheOther()
    {
        var q = Q("overlaps", "Polygon", Square);
        Assert.True(q.Matches(G("""{"type": "Polygon", "coordinates": [[[5,5],[15,5],[15,15],[5,15],[5,5]]]}""")));
        Assert.False(q.Matches(G("""{"type": "Polygon", "coordinates": [[[1,1],[2,1],[2,2],[1,1]]]}""")));
        Assert.False(q.Matches(G("""{"type": "Polygon", "coordinates": [[[20,20],[25,20],[25,25],[20,20]]]}""")));
        // Touching along an edge shares no interior.
        Assert.False(q.Matches(G("""{"type": "Polygon", "coordinates": [[[10,0],[20,0],[20,10],[10,10],[10,0]]]}""")));
        Assert.False(q.Matches(Point(5, 5)));
    }

    [Fact]
    public void MultiPolygonsActAsTheUnionOfTheirParts()
    {
        var q = Q("within", "MultiPolygon", "[[[[0,0],[1,0],[1,1],[0,1],[0,0]]], [[[10,10],[11,10],[11,11],[10,11],[10,10]]]]");
        Assert.True(q.Matches(Point(10.5, 10.5)));
        Assert.True(q.Matches(Point(0.5, 0.5)));
        Assert.False(q.Matches(Point(5, 5)));
        Assert.False(q.Matches(G("""{"type": "LineString", "coordinates": [[0.5,0.5],[10.5,10.5]]}""")));
        Assert.True(q.Matches(G("""{"type": "MultiPoint", "coordinates": [[0.5,0.5],[10.5,10.5]]}""")));
        var stored = G("""{"type": "MultiPolygon", "coordinates": [[[[0,0],[1,0],[1,1],[0,1],[0,0]]], [[[10,10],[11,10],[11,11],[10,11],[10,10]]]]}""");
        Assert.True(Q("contains", "Point", "[10.5,10.5]").Matches(stored));
        Assert.True(Q("intersects", "LineString", "[[5,5],[10.5,10.5]]").Matches(stored));
    }

    [Fact]
    public void StoredGeometryCollectionsAreEvaluatedAsAWhole()
    {
        var collection = G("""
            {"type": "GeometryCollection", "geometries": [
                {"type": "Point", "coordinates": [2,2]},
                {"type": "LineString", "coordinates": [[3,3],[4,4]]},
                {"type": "Polygon", "coordinates": [[[20,20],[21,20],[21,21],[20,20]]]}]}
            """);
        Assert.True(Q("intersects", "Point", "[20.9,20.1]").Matches(collection));
        Assert.True(Q("contains", "Point", "[20.9,20.1]").Matches(collection));
        Assert.False(Q("within", "Polygon", Square).Matches(collection));
        Assert.True(Q("within", "Polygon", "[[[0,0],[30,0],[30,30],[0,30],[0,0]]]").Matches(collection));
        Assert.True(Q("disjoint", "Point", "[50,50]").Matches(collection));
        Assert.Equal(new Box(2, 2, 21, 21), GeoQuery.BoundsOf(collection));
    }

    [Fact]
    public void PointAgainstPointUsesExactEquality()
    {
        var p = Q("intersects", "Point", "[13.3986, 52.5547]");
        Assert.True(p.Matches(Point(13.3986, 52.5547)));
        Assert.False(p.Matches(Point(13.3986, 52.5548)));
        Assert.True(Q("within", "Point", "[1,1]").Matches(Point(1, 1)));
        Assert.True(Q("contains", "Point", "[1,1]").Matches(Point(1, 1)));
        Assert.False(Q("overlaps", "Point", "[1,1]").Matches(Point(1, 1)));
        Assert.True(Q("disjoint", "Point", "[1,1]").Matches(Point(1, 2)));
    }

    [Theory]
    [InlineData("""{"type": "Point"}""")]
    [InlineData("""{"type": "Point", "coordinates": [500, 0]}""")]
    [InlineData("""{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1]]]}""")]
    [InlineData("""{"type": "Circle", "coordinates": [0, 0]}""")]
    [InlineData("""{"coordinates": [0, 0]}""")]
    [InlineData("""{"type": "GeometryCollection"}""")]
    [InlineData("""{"type": "MultiPoint", "coordinates": []}""")]
    public void MalformedStoredGeometriesMatchNothing(string stored)
    {
        foreach (var georel in new[] { "within", "contains", "intersects", "equals", "overlaps", "near;maxDistance==1e9", "near;minDistance==0" })
        {
            var geometry = georel.StartsWith("near", StringComparison.Ordinal) ? "Point" : "Polygon";
            var coordinates = geometry == "Point" ? "[0,0]" : "[[[-10,-10],[10,-10],[10,10],[-10,10],[-10,-10]]]";
            Assert.False(Q(georel, geometry, coordinates).Matches(G(stored)), georel);
        }
    }

    [Fact]
    public void InvalidSelfIntersectingPolygonsDoNotThrow()
    {
        var bowtie = G("""{"type": "Polygon", "coordinates": [[[0,0],[2,2],[2,0],[0,2],[0,0]]]}""");
        foreach (var georel in new[] { "within", "contains", "intersects", "equals", "overlaps", "disjoint" })
        {
            Q(georel, "Polygon", "[[[0,0],[2,2],[2,0],[0,2],[0,0]]]").Matches(bowtie);
            Q(georel, "Point", "[1,1]").Matches(bowtie);
        }
    }

    [Fact]
    public void BoundsCoverEveryPosition()
    {
        Assert.Equal(new Box(8, 40, 8, 40), GeoQuery.BoundsOf(Point(8, 40)));
        Assert.Equal(new Box(-1, -2, 3, 4), GeoQuery.BoundsOf(G("""{"type": "MultiPolygon", "coordinates": [[[[-1,0],[3,0],[3,4],[-1,0]]], [[[0,-2],[1,-2],[1,-1],[0,-2]]]]}""")));
        Assert.Equal(new Box(0, 0, 5, 1), GeoQuery.BoundsOf(G("""{"type": "MultiLineString", "coordinates": [[[0,0],[1,1]], [[5,0],[4,1,300]]]}""")));
        Assert.Null(GeoQuery.BoundsOf(G("""{"type": "MultiPoint", "coordinates": []}""")));
        Assert.Null(GeoQuery.BoundsOf(G("""{"type": "LineString", "coordinates": [[0,0],["x",1]]}""")));
        Assert.Null(GeoQuery.BoundsOf(new JsonObject { ["type"] = "GeometryCollection", ["geometries"] = new JsonArray() }));
    }

    [Fact]
    public void SearchBoxIsTheQueryGeometrysBoundsExceptForDisjoint()
    {
        Assert.Equal(new Box(0, 0, 10, 10), Q("within", "Polygon", Square).SearchBox);
        Assert.Equal(new Box(0, 0, 10, 10), Q("overlaps", "Polygon", Square).SearchBox);
        Assert.Equal(new Box(1, 2, 1, 2), Q("contains", "Point", "[1,2]").SearchBox);
        Assert.Equal(new Box(-1, 0, 3, 5), Q("intersects", "LineString", "[[-1,5],[3,0]]").SearchBox);
        Assert.Null(Q("disjoint", "Polygon", Square).SearchBox);
    }
}
