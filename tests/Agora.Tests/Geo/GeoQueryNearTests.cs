using Agora.Geo;
using CsCheck;
using static Agora.Tests.Geo.GeoTestData;

namespace Agora.Tests.Geo;

public sealed class GeoQueryNearTests
{
    private static GeoQuery Near(string georel, double lon, double lat) =>
        GeoQuery.Parse(georel, "Point", FormattableString.Invariant($"[{lon},{lat}]"), null)!;

    [Fact]
    public void OneDegreeOfLatitudeIs111195Metres()
    {
        var q = Near("near;maxDistance==200000", 8, 40);
        Assert.Equal(111_195.08, q.DistanceMetres(Point(8, 41))!.Value, 0.01);
        Assert.Equal(111_195.08, q.DistanceMetres(Point(8, 39))!.Value, 0.01);
        // Along the equator a degree of longitude is the same length.
        Assert.Equal(111_195.08, Near("near;maxDistance==1", 0, 0).DistanceMetres(Point(1, 0))!.Value, 0.01);
    }

    [Fact]
    public void MaxDistanceIsInclusiveToTheMetre()
    {
        var q = Near("near;maxDistance==500", 2.35, 48.85);
        Assert.True(q.Matches(Point(2.35, 48.85 + (499.9 * MetreInDegrees))));
        Assert.False(q.Matches(Point(2.35, 48.85 + (500.1 * MetreInDegrees))));
        Assert.True(q.Matches(Point(2.35, 48.85 - (0.0044))));   // 489.3 m south
        Assert.False(q.Matches(Point(2.35, 48.85 - (0.0045))));  // 500.4 m south
        Assert.True(q.Matches(Point(2.35, 48.85)));
    }

    [Fact]
    public void MinDistanceKeepsOnlyFartherGeometries()
    {
        var q = Near("near;minDistance==500", 2.35, 48.85);
        Assert.False(q.Matches(Point(2.35, 48.85 + (499.9 * MetreInDegrees))));
        Assert.True(q.Matches(Point(2.35, 48.85 + (500.1 * MetreInDegrees))));
        Assert.Null(q.SearchBox);
        var ring = Near("near;minDistance==1000;maxDistance==2000", 2.35, 48.85);
        Assert.False(ring.Matches(Point(2.35, 48.85 + (900 * MetreInDegrees))));
        Assert.True(ring.Matches(Point(2.35, 48.85 + (1500 * MetreInDegrees))));
        Assert.False(ring.Matches(Point(2.35, 48.85 + (2100 * MetreInDegrees))));
    }

    [Fact]
    public void NearALineMeasuresToItsClosestPointNotItsVertices()
    {
        // An east-west line 0.01° north of the query point, its vertices a degree away on either side.
        var line = G("""{"type": "LineString", "coordinates": [[-1, 0.01], [1, 0.01]]}""");
        var q = Near("near;maxDistance==1200", 0, 0);
        Assert.Equal(1_111.95, q.DistanceMetres(line)!.Value, 0.01);
        Assert.True(q.Matches(line));
        Assert.False(Near("near;maxDistance==1100", 0, 0).Matches(line));
    }

    [Fact]
    public void InsideAPolygonTheDistanceIsZeroButInItsHoleItIsTheDistanceToTheHole()
    {
        var square = G("""{"type": "Polygon", "coordinates": [[[-1,-1],[1,-1],[1,1],[-1,1],[-1,-1]], [[-0.01,-0.01],[0.01,-0.01],[0.01,0.01],[-0.01,0.01],[-0.01,-0.01]]]}""");
        Assert.Equal(0, Near("near;maxDistance==1", 0.5, 0.5).DistanceMetres(square));
        Assert.Equal(1_111.95, Near("near;maxDistance==1", 0, 0).DistanceMetres(square)!.Value, 0.01);
        var collection = G("""{"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 3]}, {"type": "MultiPoint", "coordinates": [[0, 2], [5, 5]]}]}""");
        Assert.Equal(111_195.08, Near("near;maxDistance==1", 0, 1).DistanceMetres(collection)!.Value, 0.01);
    }

    [Fact]
    public void DistancesWrapAcrossTheAntimeridian()
    {
        var q = Near("near;maxDistance==500", 179.999, 0);
        Assert.Equal(222.39, q.DistanceMetres(Point(-179.999, 0))!.Value, 0.01);
        Assert.True(q.Matches(Point(-179.999, 0)));
        Assert.Equal((-180.0, 180.0), (q.SearchBox!.Value.MinLon, q.SearchBox.Value.MaxLon));
        // A segment just across the antimeridian, measured at its nearest point, not its far vertex.
        var line = G("""{"type": "LineString", "coordinates": [[-179.999, -1], [-179.999, 1]]}""");
        Assert.Equal(222.39, q.DistanceMetres(line)!.Value, 0.01);
    }

    [Fact]
    public void SearchBoxGrowsByTheDistanceInDegreesAtThatLatitude()
    {
        var box = Near("near;maxDistance==111195.08", 10, 60).SearchBox!.Value;
        Assert.Equal(59, box.MinLat, 1e-5);
        Assert.Equal(61, box.MaxLat, 1e-5);
        // asin(sin 1° / cos 60°) ≈ 2.0003°.
        Assert.Equal(10 - 2.00030, box.MinLon, 1e-4);
        Assert.Equal(10 + 2.00030, box.MaxLon, 1e-4);
        var polar = Near("near;maxDistance==1000", 45, 89.995).SearchBox!.Value;
        Assert.Equal(new Box(-180, polar.MinLat, 180, 90), polar);
        Assert.Equal(Box.World, Near("near;maxDistance==1e8", 0, 0).SearchBox);
        Assert.Null(Near("intersects", 0, 0).DistanceMetres(Point(0, 0)));
    }

    private static readonly Gen<(double Lon, double Lat)> Centre = Gen.Frequency(
        (4, Gen.Select(Gen.Double[-180, 180], Gen.Double[-90, 90])),
        (1, Gen.Select(Gen.Double[178, 180], Gen.Double[-60, 60])),
        (1, Gen.Select(Gen.Double[-180, 180], Gen.Double[85, 90])));

    private static double WrapLon(double lon) => lon > 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;

    [Fact]
    public void EveryPointWithinMaxDistanceLiesInTheSearchBox()
    {
        var offset = Gen.Double[-3, 3];
        Gen.Select(Centre, Gen.Double[1, 300_000], offset.Array[40], offset.Array[40]).Sample((c, metres, dLon, dLat) =>
        {
            var q = Near(FormattableString.Invariant($"near;maxDistance=={metres}"), c.Lon, c.Lat);
            var box = q.SearchBox!.Value;
            for (var i = 0; i < dLon.Length; i++)
            {
                // Scale offsets to the radius so that a good share of the points match.
                var scale = metres / 111_195.0 / 2;
                var point = Point(WrapLon(c.Lon + (dLon[i] * scale)), Math.Clamp(c.Lat + (dLat[i] * scale), -90, 90));
                if (q.Matches(point))
                {
                    Assert.True(box.Contains(GeoQuery.BoundsOf(point)!.Value), $"{point.ToJsonString()} matches but lies outside {box}");
                }
            }
        }, iter: 2000);
    }

    [Fact]
    public void EveryLineOrPolygonWithinMaxDistanceIntersectsTheSearchBox()
    {
        var offset = Gen.Double[-0.05, 0.05];
        Gen.Select(Centre, Gen.Double[1, 5_000], offset.Array[6]).Sample((c, metres, d) =>
        {
            var q = Near(FormattableString.Invariant($"near;maxDistance=={metres}"), c.Lon, c.Lat);
            var (lon, lat) = (c.Lon, Math.Clamp(c.Lat, -89.9, 89.9));
            double X(double v) => Math.Clamp(lon + v, -180, 180);
            double Y(double v) => Math.Clamp(lat + v, -90, 90);
            var line = G(FormattableString.Invariant($$"""{"type": "LineString", "coordinates": [[{{X(d[0])}},{{Y(d[1])}}],[{{X(d[2])}},{{Y(d[3])}}]]}"""));
            var triangle = G(FormattableString.Invariant($$"""{"type": "Polygon", "coordinates": [[[{{X(d[0])}},{{Y(d[1])}}],[{{X(d[2])}},{{Y(d[3])}}],[{{X(d[4])}},{{Y(d[5])}}],[{{X(d[0])}},{{Y(d[1])}}]]]}"""));
            foreach (var g in new[] { line, triangle })
            {
                if (q.Matches(g))
                {
                    Assert.True(q.SearchBox!.Value.Intersects(GeoQuery.BoundsOf(g)!.Value), g.ToJsonString());
                }
            }
        }, iter: 3000);
    }

    [Fact]
    public void SegmentDistanceAgreesWithDenseSamplingAtCityScale()
    {
        // The nearest point is chosen in a local equirectangular projection; its distance is then exact haversine.
        // Checked here against the best of 20,001 sampled points along the segment, up to 20 km at |lat| ≤ 70°.
        var near = Gen.Double[-0.18, 0.18];
        Gen.Select(Gen.Double[-179, 179], Gen.Double[-70, 70], near.Array[4]).Sample((lon, lat, d) =>
        {
            var (ax, ay, bx, by) = (lon + d[0], lat + d[1], lon + d[2], lat + d[3]);
            var line = G(FormattableString.Invariant($$"""{"type": "LineString", "coordinates": [[{{ax}},{{ay}}],[{{bx}},{{by}}]]}"""));
            var measured = Near("near;maxDistance==1", lon, lat).DistanceMetres(line)!.Value;
            var sampled = Enumerable.Range(0, 20_001).Select(i => i / 20_000.0)
                .Min(t => Agora.Geo.Sphere.Haversine(lon, lat, ax + (t * (bx - ax)), ay + (t * (by - ay))));
            if (sampled > 20_000)
            {
                return;
            }
            // Sampling itself is off by at most half a sample step (≤ 2 m here).
            Assert.True(measured <= sampled + 0.01, $"{measured} > sampled {sampled}");
            Assert.True(measured >= sampled - (0.001 * sampled) - 2, $"{measured} < sampled {sampled}");
        }, iter: 300);
    }
}
