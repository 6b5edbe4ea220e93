using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// How a query's answer is shaped (options, join), and the same query asked as a POST Query object.
public sealed class QueryRepresentationTests
{
    private const string Parking = """
        [
          {"id": "urn:ngsi-ld:OffStreetParking:1", "type": "OffStreetParking",
           "availableSpots": {"type": "Property", "value": 12, "unitCode": "C62"},
           "operator": {"type": "Relationship", "object": "urn:ngsi-ld:Company:1"},
           "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.500]}}},
          {"id": "urn:ngsi-ld:OffStreetParking:2", "type": "OffStreetParking",
           "availableSpots": {"type": "Property", "value": 0},
           "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.500, 52.500]}}},
          {"id": "urn:ngsi-ld:Company:1", "type": "Company", "name": "Parkhaus GmbH"}
        ]
        """;

    private static async Task<AgoraApplication> ParkingAsync()
    {
        var app = new AgoraApplication();
        await app.SeedAsync(Parking);
        return app;
    }

    private static async Task<HttpResponseMessage> PostQueryAsync(AgoraApplication app, string body, string query = "")
    {
        using var client = app.CreateClient();
        return await client.PostAsync(QueryPath + query, Json(body));
    }

    private static async Task<JsonArray> PostQueryOkAsync(AgoraApplication app, string body, string query = "")
    {
        using var response = await PostQueryAsync(app, body, query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsArray();
    }

    [Fact]
    public async Task KeyValuesGivesEachAttributeAsItsValue()
    {
        await using var app = await ParkingAsync();

        var entities = await app.QueryAsync("type=OffStreetParking&q=availableSpots>0&options=keyValues");

        JsonEqual("""
            [{"id": "urn:ngsi-ld:OffStreetParking:1", "type": "OffStreetParking", "availableSpots": 12,
              "operator": "urn:ngsi-ld:Company:1", "location": {"type": "Point", "coordinates": [13.400, 52.500]}}]
            """, entities);
    }

    [Fact]
    public async Task ConciseLeavesOutWhatTheTypeImplies()
    {
        await using var app = await ParkingAsync();

        var entities = await app.QueryAsync("type=OffStreetParking&q=availableSpots>0&options=concise");

        JsonEqual("""
            [{"id": "urn:ngsi-ld:OffStreetParking:1", "type": "OffStreetParking",
              "availableSpots": {"value": 12, "unitCode": "C62"},
              "operator": {"object": "urn:ngsi-ld:Company:1"},
              "location": {"type": "Point", "coordinates": [13.400, 52.500]}}]
            """, entities);
    }

    [Fact]
    public async Task AnUnknownOptionIsRejected()
    {
        await using var app = await ParkingAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(EntitiesPath + "?type=Company&options=fancy");

        await ProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task APostQuerySelectsByEntitySelectorsAttrsAndQ()
    {
        await using var app = await ParkingAsync();

        var entities = await PostQueryOkAsync(app, """
            {"type": "Query",
             "entities": [{"type": "OffStreetParking"}, {"id": "urn:ngsi-ld:Company:1", "type": "Company"}],
             "attrs": ["availableSpots", "name"],
             "q": "availableSpots>0|name==\"Parkhaus GmbH\""}
            """);

        JsonEqual("""
            [{"id": "urn:ngsi-ld:OffStreetParking:1", "type": "OffStreetParking", "availableSpots": {"type": "Property", "value": 12, "unitCode": "C62"}},
             {"id": "urn:ngsi-ld:Company:1", "type": "Company", "name": {"type": "Property", "value": "Parkhaus GmbH"}}]
            """, entities);
    }

    [Fact]
    public async Task APostQuerySelectorMayUseAnIdPattern()
    {
        await using var app = await ParkingAsync();

        var entities = await PostQueryOkAsync(app, """
            {"type": "Query", "entities": [{"idPattern": "Parking:2$", "type": "OffStreetParking"}]}
            """);

        Assert.Equal(["urn:ngsi-ld:OffStreetParking:2"], IdsOf(entities));
    }

    [Fact]
    public async Task APostQueryTakesAGeoQ()
    {
        await using var app = await ParkingAsync();

        var entities = await PostQueryOkAsync(app, """
            {"type": "Query", "entities": [{"type": "OffStreetParking"}],
             "geoQ": {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [13.401, 52.500]}}
            """);

        Assert.Equal(["urn:ngsi-ld:OffStreetParking:1"], IdsOf(entities));
    }

    [Fact]
    public async Task APostQueryJoinsLinkedEntitiesInline()
    {
        await using var app = await ParkingAsync();

        var entities = await PostQueryOkAsync(app, """
            {"type": "Query", "entities": [{"type": "OffStreetParking"}], "q": "operator", "join": "inline", "attrs": ["operator"]}
            """);

        var parking = Assert.Single(entities)!;
        Assert.Equal("urn:ngsi-ld:OffStreetParking:1", (string?)parking["id"]);
        JsonEqual("""
            {"type": "Relationship", "object": "urn:ngsi-ld:Company:1",
             "entity": {"id": "urn:ngsi-ld:Company:1", "type": "Company", "name": {"type": "Property", "value": "Parkhaus GmbH"}}}
            """, parking["operator"]);
    }

    [Fact]
    public async Task APostQueryJoinedFlatListsLinkedEntitiesOnce()
    {
        await using var app = await ParkingAsync();

        var entities = await PostQueryOkAsync(app, """
            {"type": "Query", "entities": [{"type": "OffStreetParking"}], "join": "flat"}
            """);

        Assert.Equal(["urn:ngsi-ld:Company:1", "urn:ngsi-ld:OffStreetParking:1", "urn:ngsi-ld:OffStreetParking:2"], IdsOf(entities));
    }

    [Fact]
    public async Task APostQueryHonoursPagingAndOptionsInTheUrl()
    {
        await using var app = await ParkingAsync();
        using var response = await PostQueryAsync(app, """{"type": "Query", "entities": [{"type": "OffStreetParking"}]}""", "?limit=1&count=true&options=keyValues");

        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", response.Headers.GetValues("NGSILD-Results-Count").Single());
        Assert.Equal(12, (int)Assert.Single(entities)!["availableSpots"]!);
    }

    [Fact]
    public async Task AnInvalidPostQueryIsBadRequestData()
    {
        await using var app = await ParkingAsync();
        var failures = new List<string>();

        foreach (var body in new[]
        {
            """{"entities": [{"type": "Company"}]}""",
            """{"type": "Subscription", "entities": [{"type": "Company"}]}""",
            """{"type": "Query", "entities": {"type": "Company"}}""",
            """{"type": "Query", "entities": [{"type": "Company"}], "attrs": "name"}""",
            """{"type": "Query", "entities": [{"id": "not a uri", "type": "Company"}]}""",
            """{"type": "Query", "q": "name=="}""",
            """{"type": "Query", "geoQ": {"georel": "near", "geometry": "Point", "coordinates": [0, 0]}}""",
            """{"type": "Query"}""",
        })
        {
            using var response = await PostQueryAsync(app, body);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync());
            if (response.StatusCode != HttpStatusCode.BadRequest || (string?)problem?["type"] != ErrorTypes + "BadRequestData")
            {
                failures.Add($"{body}: {(int)response.StatusCode} {problem?.ToJsonString()}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
