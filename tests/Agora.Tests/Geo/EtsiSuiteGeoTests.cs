using System.Text.Json.Nodes;
using Agora.Geo;
using static Agora.Tests.Geo.GeoTestData;

namespace Agora.Tests.Geo;

/// The ETSI NGSI-LD test suite's geo-queries (019_10 and 019_11) over its own data, with its expected counts.
public sealed class EtsiSuiteGeoTests
{
    private static readonly JsonObject[] Buildings = [Point(13.3986, 52.5547), Point(13.509818, 52.363457), Point(13.215983, 52.470441)];

    private static readonly JsonObject[] Polygons =
    [
        G("""{"type": "Polygon", "coordinates": [[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]}"""),
        G("""{"type": "Polygon", "coordinates": [[[13.315773,52.4757209],[13.339119,52.4443421],[13.3892441,52.4669371],[13.315773,52.4757209]]]}"""),
    ];

    private const string Berlin = "[[[13.1616211,52.5438124],[13.597641,52.4840224],[13.5948944,52.3402782],[13.142395,52.386428],[13.1616211,52.5438124]]]";

    [Theory]
    [InlineData("equals", "Point", "[13.3986, 52.5547]", 1)]
    [InlineData("near;maxDistance==15000", "Point", "[13.388930, 52.534473]", 2)]
    [InlineData("near;minDistance==15000", "Point", "[13.388930, 52.534473]", 1)]
    [InlineData("within", "Polygon", Berlin, 2)]
    [InlineData("disjoint", "Polygon", Berlin, 1)]
    [InlineData("disjoint", "Point", "[13.3986, 52.5547]", 2)]
    [InlineData("contains", "Point", "[13.3986, 52.5547]", 1)]
    [InlineData("intersects", "Point", "[13.3986, 52.5547]", 1)]
    public void PointTargetsMatchAsTheSuiteExpects(string georel, string geometry, string coordinates, int expected) =>
        Assert.Equal(expected, Count(Buildings, georel, geometry, coordinates));

    [Theory]
    [InlineData("equals", "Polygon", "[[[13.2865906,52.5648645],[13.2879639,52.5648645],[13.2797241,52.4988679],[13.477478,52.4712703],[13.5049438,52.5373084],[13.2865906,52.5648645]]]", 1)]
    [InlineData("intersects", "Polygon", "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],[13.3456421,52.4794848]]]", 1)]
    [InlineData("contains", "Polygon", "[[[13.3844376,52.5356966],[13.3844376,52.5356966],[13.381691,52.5123012],[13.4235764,52.5100027],[13.4331894,52.5273425],[13.3844376,52.5356966]]]", 1)]
    [InlineData("contains", "Polygon", "[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],[13.1832504,52.5026887],[13.1369019,52.5198225]]]", 0)]
    [InlineData("disjoint", "Polygon", "[[[13.1369019,52.5198225],[13.1365585,52.5200314],[13.131752,52.4980907],[13.1832504,52.5026887],[13.1369019,52.5198225]]]", 2)]
    [InlineData("within", "Polygon", "[[[13.3023834,52.4903066],[13.3027267,52.4905156],[13.2745743,52.465632],[13.3343124,52.4185447],[13.4311295,52.47107],[13.3023834,52.4903066]]]", 1)]
    [InlineData("overlaps", "Polygon", "[[[13.3456421,52.4794848],[13.3641815,52.4428773],[13.4177399,52.4730023],[13.3459854,52.479903],[13.3456421,52.4794848]]]", 1)]
    [InlineData("contains", "Point", "[13.3442688,52.4650045]", 1)]
    public void PolygonTargetsMatchAsTheSuiteExpects(string georel, string geometry, string coordinates, int expected) =>
        Assert.Equal(expected, Count(Polygons, georel, geometry, coordinates));

    private static int Count(JsonObject[] stored, string georel, string geometry, string coordinates)
    {
        var q = GeoQuery.Parse(georel, geometry, coordinates, null)!;
        var matches = stored.Where(q.Matches).ToList();
        // Whatever matches must survive the R*Tree prefilter.
        Assert.All(matches, g => Assert.True(q.SearchBox is not { } box || box.Intersects(GeoQuery.BoundsOf(g)!.Value)));
        return matches.Count;
    }
}
