using System.Text.Json.Nodes;
using Agora.Errors;
using Agora.Geo;
using CsCheck;
using static Agora.Tests.Geo.GeoTestData;

namespace Agora.Tests.Geo;

public sealed class GeoQueryParseTests
{
    [Theory]
    [InlineData("within")]
    [InlineData("contains")]
    [InlineData("intersects")]
    [InlineData("equals")]
    [InlineData("disjoint")]
    [InlineData("overlaps")]
    public void EachTopologicalGeorelParses(string georel)
    {
        var q = GeoQuery.Parse(georel, "Polygon", "[[[0,0],[1,0],[1,1],[0,0]]]", null)!;
        Assert.Equal(georel, q.Relation.ToString(), ignoreCase: true);
        Assert.Null(q.MaxDistance);
        Assert.Equal("location", q.GeoProperty);
        Assert.Equal(georel, q.Georel.ToString());
    }

    [Fact]
    public void NearTakesMaxDistanceMinDistanceOrBoth()
    {
        var max = GeoQuery.Parse("near;maxDistance==1500", "Point", "[8.0, 40.0]", "position")!;
        Assert.Equal((GeoRelation.Near, 1500.0, (double?)null), (max.Relation, max.MaxDistance!.Value, max.MinDistance));
        Assert.Equal("position", max.GeoProperty);
        var min = GeoQuery.Parse("near;minDistance==2.5e3", "Point", "[8,40]", null)!;
        Assert.Equal(2500, min.MinDistance);
        var both = GeoQuery.Parse("near;minDistance==10;maxDistance==20", "Point", "[8,40]", null)!;
        Assert.Equal((20.0, 10.0), (both.MaxDistance!.Value, both.MinDistance!.Value));
        Assert.Equal("near;maxDistance==20;minDistance==10", both.Georel.ToString());
    }

    [Fact]
    public void NoGeoParametersMeanNoGeoQuery()
    {
        Assert.Null(GeoQuery.Parse(null, null, null, null));
        Assert.Null(GeoQuery.Parse(null, null, null, "location"));
    }

    [Theory]
    [InlineData("within", null, null, "'geometry', 'coordinates' are missing")]
    [InlineData(null, "Point", "[1,2]", "'georel' is missing")]
    [InlineData("within", "Point", null, "'coordinates' is missing")]
    [InlineData(null, null, "[1,2]", "'georel', 'geometry' are missing")]
    public void PartialParametersAreRejectedNamingWhatIsMissing(string? georel, string? geometry, string? coordinates, string expected)
    {
        var e = AssertBadRequest(() => GeoQuery.Parse(georel, geometry, coordinates, null));
        Assert.Contains(expected, e.Detail);
    }

    [Theory]
    [InlineData("invalid")]
    [InlineData("")]
    [InlineData("near")]
    [InlineData("near;")]
    [InlineData("near;maxDistance")]
    [InlineData("near;maxDistance==")]
    [InlineData("near;maxDistance=100")]
    [InlineData("near;maxDistance==-1")]
    [InlineData("near;maxDistance==+1")]
    [InlineData("near;maxDistance== 1")]
    [InlineData("near;maxDistance==abc")]
    [InlineData("near;maxDistance==NaN")]
    [InlineData("near;maxDistance==Infinity")]
    [InlineData("near;maxDistance==1e999")]
    [InlineData("near;maxDistance==1,000")]
    [InlineData("near;distance==3")]
    [InlineData("near;maxDistance==1;maxDistance==2")]
    [InlineData("Near;maxDistance==1")]
    [InlineData("within;maxDistance==3")]
    [InlineData("within;")]
    [InlineData("coveredBy")]
    public void MalformedGeorelIsRejectedNamingGeorel(string georel)
    {
        var e = AssertBadRequest(() => GeoQuery.Parse(georel, "Point", "[1,2]", null));
        Assert.Contains("'georel'", e.Detail);
    }

    [Theory]
    [InlineData("point")]
    [InlineData("Circle")]
    [InlineData("GeometryCollection")]
    [InlineData("")]
    public void UnknownGeometryIsRejectedNamingGeometry(string geometry)
    {
        var e = AssertBadRequest(() => GeoQuery.Parse("intersects", geometry, "[1,2]", null));
        Assert.Contains("'geometry'", e.Detail);
    }

    [Fact]
    public void NearNeedsAPoint()
    {
        var e = AssertBadRequest(() => GeoQuery.Parse("near;maxDistance==10", "Polygon", "[[[0,0],[1,0],[1,1],[0,0]]]", null));
        Assert.Contains("'geometry'", e.Detail);
    }

    [Theory]
    [InlineData("Point", "8,40")]
    [InlineData("Point", "")]
    [InlineData("Point", "[8]")]
    [InlineData("Point", "[8,40,1,2]")]
    [InlineData("Point", "[181,0]")]
    [InlineData("Point", "[0,-90.5]")]
    [InlineData("Point", "[\"8\",40]")]
    [InlineData("Point", "[null,40]")]
    [InlineData("Point", "[1e999,0]")]
    [InlineData("Point", "[[8,40]]")]
    [InlineData("Point", "{\"a\":1}")]
    [InlineData("Point", "[]")]
    [InlineData("Point", "[8,40")]
    [InlineData("MultiPoint", "[[8,40],[8]]")]
    [InlineData("LineString", "[[8,40]]")]
    [InlineData("MultiLineString", "[[8,40],[9,41]]")]
    [InlineData("Polygon", "[[[0,0],[1,0],[1,1]]]")]
    [InlineData("Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]")]
    [InlineData("Polygon", "[[0,0],[1,0],[1,1],[0,0]]")]
    [InlineData("Polygon", "[[]]")]
    [InlineData("MultiPolygon", "[[[0,0],[1,0],[1,1],[0,0]]]")]
    [InlineData("MultiPolygon", "[[]]")]
    [InlineData("LineString", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]")]
    public void MalformedCoordinatesAreRejectedNamingCoordinates(string geometry, string coordinates)
    {
        var e = AssertBadRequest(() => GeoQuery.Parse("intersects", geometry, coordinates, null));
        Assert.Contains("'coordinates'", e.Detail);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("loc;ation")]
    [InlineData("@id")]
    public void InvalidGeopropertyIsRejectedNamingGeoproperty(string geoproperty)
    {
        var e = AssertBadRequest(() => GeoQuery.Parse("intersects", "Point", "[1,2]", geoproperty));
        Assert.Contains("'geoproperty'", e.Detail);
    }

    [Fact]
    public void TheEtsiSuiteInvalidGeorelIsBadRequestData()
    {
        // 019_03_04: georel=invalid with otherwise valid parameters.
        AssertBadRequest(() => GeoQuery.Parse("invalid", "Point", "[-8.503,41.202]", "location"));
    }

    [Fact]
    public void GeoQObjectParsesLikeTheQueryParameters()
    {
        var fromPost = GeoQuery.FromJson(G("""{"geometry": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]], "georel": "within", "geoproperty": "location"}"""));
        var fromGet = GeoQuery.Parse("within", "Polygon", "[[[0, 0], [1, 0], [1, 1], [0, 0]]]", null);
        Assert.Equal(fromGet, fromPost);
        Assert.Equal(fromGet!.GetHashCode(), fromPost.GetHashCode());
        var asText = GeoQuery.FromJson(G("""{"geometry": "Point", "coordinates": "[8,40]", "georel": "near;maxDistance==10"}"""));
        Assert.Equal(10, asText.MaxDistance);
        Assert.Equal("location", asText.GeoProperty);
    }

    [Fact]
    public void GeoQRoundTripsThroughToJson()
    {
        var q = GeoQuery.Parse("near;maxDistance==12.5", "Point", "[8.5,40.25]", "where")!;
        Assert.Equal(q, GeoQuery.FromJson(q.ToJson()));
        Assert.NotEqual(q, q with { GeoProperty = "elsewhere" });
    }

    [Theory]
    [InlineData("""{"coordinates": [1,2], "georel": "within"}""", "'geoQ.geometry'")]
    [InlineData("""{"geometry": "Point", "georel": "within"}""", "'geoQ.coordinates'")]
    [InlineData("""{"geometry": "Point", "coordinates": [1,2]}""", "'geoQ.georel'")]
    [InlineData("""{"geometry": 7, "coordinates": [1,2], "georel": "within"}""", "'geoQ.geometry'")]
    [InlineData("""{"geometry": "Point", "coordinates": [1,2], "georel": ["within"]}""", "'geoQ.georel'")]
    [InlineData("""{"geometry": "Point", "coordinates": {"x": 1}, "georel": "within"}""", "'geoQ.coordinates'")]
    [InlineData("""{"geometry": "Point", "coordinates": "[1,", "georel": "within"}""", "'geoQ.coordinates'")]
    [InlineData("""{"geometry": "Point", "coordinates": [1,2], "georel": "within", "geoproperty": 3}""", "'geoQ.geoproperty'")]
    [InlineData("""{"geometry": "Point", "coordinates": [1,2], "georel": "near"}""", "'geoQ.georel'")]
    public void MalformedGeoQIsRejectedNamingTheMember(string geoQ, string expected)
    {
        var e = AssertBadRequest(() => GeoQuery.FromJson(G(geoQ)));
        Assert.Contains(expected, e.Detail);
    }

    private static readonly string[] Nasty =
    [
        "", " ", ";", ";;", "==", "near;", "near;maxDistance==", "near;maxDistance==1e308", "near;maxDistance==0.", "near;maxDistance==.5e-400",
        "[", "]", "[]", "[[", "[[]]", "[[[]]]", "null", "{}", "\"x\"", "1e999", "-0", "[1e999]", "[-0,-0]", "[0,0,0]", "[0,0,\"z\"]",
        "[[0,0],[0,0]]", "[[[0,0],[0,0],[0,0],[0,0]]]", "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]", "\0", "\uD800", "[\"\uD800\"]",
        "Point", "Polygon", "MultiPolygon", "GeometryCollection", "within", "near;maxDistance==10", "location", "@context",
        new string('[', 5000), "[" + string.Join(",", Enumerable.Repeat("0", 10_000)) + "]",
    ];

    private static readonly Gen<string?> Text = Gen.Frequency(
        (1, Gen.Const((string?)null)),
        (4, Gen.OneOf(Nasty).Select(s => (string?)s)),
        (3, Gen.String[0, 30].Select(s => (string?)s)),
        (3, Gen.Char["[],.0123456789-e;=naerxDistcPoly \""].Array[0, 40].Select(c => (string?)new string(c))));

    private static readonly string[] Georels = ["within", "contains", "intersects", "equals", "disjoint", "overlaps", "near;maxDistance==100", "near;minDistance==5"];
    private static readonly string[] Geometries = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"];

    [Fact]
    public void HostileParametersOnlyEverThrowBadRequestData()
    {
        var georel = Gen.Frequency((1, Text), (1, Gen.OneOf(Georels).Select(s => (string?)s)));
        var geometry = Gen.Frequency((1, Text), (2, Gen.OneOf(Geometries).Select(s => (string?)s)));
        Gen.Select(georel, geometry, Text, Text).Sample((r, g, c, p) =>
        {
            try
            {
                var q = GeoQuery.Parse(r, g, c, p);
                if (q is not null)
                {
                    // Whatever parses must also evaluate without throwing.
                    q.Matches(Point(0, 0));
                    q.Matches(G("""{"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}"""));
                    _ = q.SearchBox;
                }
            }
            catch (NgsiLdException e) when (e.Type == ErrorTypes.BadRequestData)
            {
                Assert.False(string.IsNullOrEmpty(e.Detail));
            }
        }, iter: 3000);
    }

    [Fact]
    public void HostileGeoQObjectsOnlyEverThrowBadRequestData()
    {
        var member = Gen.Frequency(
            (2, Text.Select(s => s is null ? null : (JsonNode?)JsonValue.Create(s))),
            (2, Text.Select(s => { try { return s is null ? null : JsonNode.Parse(s); } catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException) { return null; } })),
            (1, Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i))));
        Gen.Select(member, member, member, member).Sample((a, b, c, d) =>
        {
            var geoQ = new JsonObject { ["georel"] = a, ["geometry"] = b, ["coordinates"] = c, ["geoproperty"] = d };
            try
            {
                GeoQuery.FromJson(geoQ);
            }
            catch (NgsiLdException e) when (e.Type == ErrorTypes.BadRequestData)
            {
            }
        }, iter: 2000);
    }

    internal static NgsiLdException AssertBadRequest(Func<object?> parse)
    {
        var e = Assert.Throws<NgsiLdException>(parse);
        Assert.Equal(ErrorTypes.BadRequestData, e.Type);
        Assert.Equal(400, e.Status);
        Assert.NotNull(e.Detail);
        return e;
    }
}
