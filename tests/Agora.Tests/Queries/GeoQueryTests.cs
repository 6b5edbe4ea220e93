using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// Every georel over HTTP, against a hand-made town whose answers can be worked out on paper. The points lie on
/// one meridian, so their distances are plain: 0.001° of latitude is about 111 m.
public sealed class GeoQueryTests
{
    private const string Fountain = "urn:ngsi-ld:PointOfInterest:fountain"; // 13.400, 52.500
    private const string Cafe = "urn:ngsi-ld:PointOfInterest:cafe"; // 111 m north of the fountain
    private const string Museum = "urn:ngsi-ld:PointOfInterest:museum"; // 556 m north
    private const string Station = "urn:ngsi-ld:PointOfInterest:station"; // 1112 m north
    private const string Park = "urn:ngsi-ld:Area:park"; // around the fountain and the cafe
    private const string Lake = "urn:ngsi-ld:Area:lake"; // far north-east, touching nothing
    private const string Avenue = "urn:ngsi-ld:Road:avenue"; // east-west through the park, 111 m south of the fountain

    private const string ParkPolygon = "[[[13.395,52.495],[13.405,52.495],[13.405,52.503],[13.395,52.503],[13.395,52.495]]]";

    private const string Town = $$$$"""
        [
          {"id": "{{{{Fountain}}}}", "type": "PointOfInterest", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.500]}}},
          {"id": "{{{{Cafe}}}}", "type": "PointOfInterest", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.501]}}},
          {"id": "{{{{Museum}}}}", "type": "PointOfInterest", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.505]}},
           "entrance": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.401, 52.500]}}},
          {"id": "{{{{Station}}}}", "type": "PointOfInterest", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.510]}},
           "entrance": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.511]}}},
          {"id": "{{{{Park}}}}", "type": "Area", "location": {"type": "GeoProperty", "value": {"type": "Polygon", "coordinates": {{{{ParkPolygon}}}}}}},
          {"id": "{{{{Lake}}}}", "type": "Area", "location": {"type": "GeoProperty", "value": {"type": "Polygon",
            "coordinates": [[[13.42,52.52],[13.43,52.52],[13.43,52.53],[13.42,52.53],[13.42,52.52]]]}}},
          {"id": "{{{{Avenue}}}}", "type": "Road", "location": {"type": "GeoProperty", "value": {"type": "LineString",
            "coordinates": [[13.390,52.499],[13.410,52.499]]}}}
        ]
        """;

    private const string Everything = "type=PointOfInterest,Area,Road";

    private static async Task<AgoraApplication> TownAsync()
    {
        var app = new AgoraApplication();
        await app.SeedAsync(Town);
        return app;
    }

    private static string Geo(string georel, string geometry, string coordinates) =>
        $"georel={Escape(georel)}&geometry={geometry}&coordinates={Escape(coordinates)}";

    [Fact]
    public async Task NearReturnsPointsWithinTheDistances()
    {
        await using var app = await TownAsync();

        await app.AssertIdsAsync("type=PointOfInterest&geometry=Point&coordinates=" + Escape("[13.400,52.500]") + "&", "georel",
            ("near;maxDistance==200", [Cafe, Fountain]),
            ("near;maxDistance==600", [Cafe, Fountain, Museum]),
            ("near;maxDistance==2000", [Cafe, Fountain, Museum, Station]),
            ("near;maxDistance==100", [Fountain]),
            ("near;minDistance==1000", [Station]),
            ("near;minDistance==100;maxDistance==600", [Cafe, Museum]));
    }

    // Nearest first, as Orion's near does: the order a client wants for "the closest ten", kept across pages.
    [Fact]
    public async Task NearAnswersNearestFirstAcrossPages()
    {
        await using var app = await TownAsync();
        var near = "type=PointOfInterest&" + Geo("near;maxDistance==2000", "Point", "[13.400,52.5052]");

        var all = await app.QueryAsync(near);
        var first = await app.QueryAsync(near + "&limit=2");
        using var client = app.CreateClient();
        using var response = await client.GetAsync("/ngsi-ld/v1/entities?" + near + "&limit=2&offset=2&count=true");
        var second = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        // From a point 22 m north of the museum: the museum, the cafe (467 m), the station (534 m), the fountain (578 m).
        string[] expected = [Museum, Cafe, Station, Fountain];
        Assert.Equal(expected, all.Select(e => (string)e!["id"]!));
        Assert.Equal(expected[..2], first.Select(e => (string)e!["id"]!));
        Assert.Equal(expected[2..], second.Select(e => (string)e!["id"]!));
        Assert.Equal("4", response.Headers.GetValues("NGSILD-Results-Count").Single());
    }

    // The index ranks in windows that grow from an eighth of maxDistance (EntityQuery.Nearest): whatever the
    // density, the page, its offset and the count are those of sorting every entity in the circle by distance.
    [Fact]
    public async Task NearPagesAreThoseOfSortingEveryMatchByDistance()
    {
        var random = new Random(11);
        var points = Enumerable.Range(0, 300).Select(i => (Id: $"urn:ngsi-ld:Lamp:{i:D3}", Lon: 13.4 + (random.NextDouble() - 0.5) * 0.03,
            Lat: 52.5 + (Math.Pow(random.NextDouble(), 3) - 0.5) * 0.02, Kind: i % 3 == 0 ? "Lamp" : "Bench")).ToList();
        await using var app = new AgoraApplication();
        await app.SeedAsync(new JsonArray([.. points.Select(p => (JsonNode?)new JsonObject
        {
            ["id"] = p.Id,
            ["type"] = p.Kind,
            ["location"] = new JsonObject { ["type"] = "GeoProperty", ["value"] = new JsonObject { ["type"] = "Point", ["coordinates"] = new JsonArray(p.Lon, p.Lat) } },
        })]).ToJsonString());
        using var client = app.CreateClient();

        for (var i = 0; i < 12; i++)
        {
            var (lon, lat, max) = (13.4 + (random.NextDouble() - 0.5) * 0.03, 52.5 + (random.NextDouble() - 0.5) * 0.02, 100 + random.Next(1500));
            var (offset, limit) = (random.Next(8), 1 + random.Next(12));
            var expected = points.Where(p => p.Kind == "Lamp").Select(p => (p.Id, D: Haversine(lon, lat, p.Lon, p.Lat)))
                .Where(p => p.D <= max).OrderBy(p => p.D).Select(p => p.Id).ToList();
            var query = FormattableString.Invariant($"type=Lamp&georel={Escape($"near;maxDistance=={max}")}&geometry=Point&coordinates={Escape($"[{lon},{lat}]")}");
            using var response = await client.GetAsync($"/ngsi-ld/v1/entities?{query}&offset={offset}&limit={limit}&count=true");
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(e => (string)e!["id"]!);

            Assert.Equal(expected.Skip(offset).Take(limit), page);
            Assert.Equal(expected.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValues("NGSILD-Results-Count").Single());
            // Without a count, the windows stop as soon as the page is known.
            var uncounted = await app.QueryAsync($"{query}&offset={offset}&limit={limit}");
            Assert.Equal(expected.Skip(offset).Take(limit), uncounted.Select(e => (string)e!["id"]!));
        }
    }

    private static double Haversine(double lon1, double lat1, double lon2, double lat2)
    {
        var (p1, p2) = (lat1 * Math.PI / 180, lat2 * Math.PI / 180);
        var h = Math.Pow(Math.Sin((p2 - p1) / 2), 2) + (Math.Cos(p1) * Math.Cos(p2) * Math.Pow(Math.Sin((lon2 - lon1) * Math.PI / 360), 2));
        return 2 * 6_371_008.8 * Math.Asin(Math.Sqrt(h));
    }

    [Fact]
    public async Task NearMeasuresToTheNearestPartOfLinesAndAreas()
    {
        await using var app = await TownAsync();

        // The fountain lies inside the park and 111 m from the avenue; the lake is kilometres away.
        Assert.Equal([Park], await app.IdsAsync("type=Area,Road&" + Geo("near;maxDistance==50", "Point", "[13.400,52.500]")));
        Assert.Equal([Park, Avenue], await app.IdsAsync("type=Area,Road&" + Geo("near;maxDistance==150", "Point", "[13.400,52.500]")));
    }

    [Fact]
    public async Task WithinReturnsWhatLiesInsideThePolygon()
    {
        await using var app = await TownAsync();

        // As in OGC Simple Features, a geometry lies within itself: the park is within its own outline.
        Assert.Equal([Park, Cafe, Fountain], await app.IdsAsync(Everything + "&" + Geo("within", "Polygon", ParkPolygon)));
    }

    [Fact]
    public async Task ContainsReturnsAreasHoldingThePoint()
    {
        await using var app = await TownAsync();

        Assert.Equal([Park], await app.IdsAsync("type=Area&" + Geo("contains", "Point", "[13.400,52.500]")));
        Assert.Empty(await app.IdsAsync("type=Area&" + Geo("contains", "Point", "[13.400,52.510]")));
    }

    [Fact]
    public async Task IntersectsReturnsEverythingThatMeetsThePolygon()
    {
        await using var app = await TownAsync();

        var ids = await app.IdsAsync(Everything + "&" + Geo("intersects", "Polygon", ParkPolygon));

        Assert.Equal([Park, Cafe, Fountain, Avenue], ids);
    }

    [Fact]
    public async Task DisjointReturnsEverythingThatDoesNotMeetThePolygon()
    {
        await using var app = await TownAsync();

        var ids = await app.IdsAsync(Everything + "&" + Geo("disjoint", "Polygon", ParkPolygon));

        Assert.Equal([Lake, Museum, Station], ids);
    }

    [Fact]
    public async Task EqualsReturnsTheSameGeometryOnly()
    {
        await using var app = await TownAsync();

        Assert.Equal([Museum], await app.IdsAsync(Everything + "&" + Geo("equals", "Point", "[13.400,52.505]")));
        Assert.Equal([Park], await app.IdsAsync(Everything + "&" + Geo("equals", "Polygon", ParkPolygon)));
    }

    [Fact]
    public async Task OverlapsReturnsAreasThatShareSomeButNotAllOfThePolygon()
    {
        await using var app = await TownAsync();
        const string SouthEast = "[[[13.400,52.490],[13.410,52.490],[13.410,52.500],[13.400,52.500],[13.400,52.490]]]";

        Assert.Equal([Park], await app.IdsAsync("type=Area&" + Geo("overlaps", "Polygon", SouthEast)));
        // The park lies wholly inside this one: containment is not overlap.
        Assert.Empty(await app.IdsAsync("type=Area&" + Geo("overlaps", "Polygon", "[[[13.3,52.4],[13.5,52.4],[13.5,52.51],[13.3,52.51],[13.3,52.4]]]")));
    }

    [Fact]
    public async Task AGeoPropertyOtherThanLocationIsQueriedWhenNamed()
    {
        await using var app = await TownAsync();

        // The museum's entrance is 68 m east of the fountain although the museum itself is 556 m away.
        var ids = await app.IdsAsync("type=PointOfInterest&geoproperty=entrance&" + Geo("near;maxDistance==100", "Point", "[13.400,52.500]"));

        Assert.Equal([Museum], ids);
    }

    [Fact]
    public async Task AGeoQueryCombinesWithQ()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync("""
            [
              {"id": "urn:ngsi-ld:Shop:1", "type": "Shop", "open": true, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.500]}}},
              {"id": "urn:ngsi-ld:Shop:2", "type": "Shop", "open": false, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.5005]}}},
              {"id": "urn:ngsi-ld:Shop:3", "type": "Shop", "open": true, "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.500, 52.500]}}}
            ]
            """);

        Assert.Equal(["urn:ngsi-ld:Shop:1"], await app.IdsAsync("q=open==true&" + Geo("near;maxDistance==500", "Point", "[13.400,52.500]")));
    }

    [Fact]
    public async Task AnIncompleteOrInvalidGeoQueryIsBadRequestData()
    {
        await using var app = await TownAsync();
        var point = Escape("[13.4,52.5]");

        await app.AssertEachRejectedAsync(HttpStatusCode.BadRequest, "BadRequestData",
            $"{EntitiesPath}?type=Area&georel={Escape("near;maxDistance==100")}&geometry=Point",
            $"{EntitiesPath}?type=Area&geometry=Point&coordinates={point}",
            $"{EntitiesPath}?type=Area&georel=near&geometry=Point&coordinates={point}",
            $"{EntitiesPath}?type=Area&georel=sideways&geometry=Point&coordinates={point}",
            $"{EntitiesPath}?type=Area&georel=within&geometry=Circle&coordinates={point}",
            $"{EntitiesPath}?type=Area&georel=within&geometry=Polygon&coordinates=not-json",
            $"{EntitiesPath}?type=Area&georel=within&geometry=Polygon&coordinates={point}");
    }

    [Fact]
    public async Task GeoJsonIsAskedForWithAcceptAndAnswersAFeatureCollection()
    {
        await using var app = await TownAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntitiesPath + "?type=PointOfInterest&" + Geo("near;maxDistance==50", "Point", "[13.400,52.500]"));
        request.Headers.Accept.ParseAdd("application/geo+json");

        using var response = await client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/geo+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("FeatureCollection", (string?)body["type"]);
        var feature = Assert.Single(body["features"]!.AsArray())!;
        Assert.Equal("Feature", (string?)feature["type"]);
        Assert.Equal(Fountain, (string?)feature["id"]);
        JsonEqual("""{"type": "Point", "coordinates": [13.400, 52.500]}""", feature["geometry"]);
    }

    [Fact]
    public async Task GeoJsonTakesTheGeometryFromTheNamedGeometryProperty()
    {
        await using var app = await TownAsync();
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, EntitiesPath + "?type=PointOfInterest&attrs=entrance&geometryProperty=entrance");
        request.Headers.Accept.ParseAdd("application/geo+json");

        using var response = await client.SendAsync(request);
        var features = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["features"]!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var museum = features.Single(f => (string?)f!["id"] == Museum)!;
        JsonEqual("""{"type": "Point", "coordinates": [13.401, 52.500]}""", museum["geometry"]);
        Assert.Equal(2, features.Count);
    }
}
