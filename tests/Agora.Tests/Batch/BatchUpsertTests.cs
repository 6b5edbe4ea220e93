using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.Batch.BatchClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Batch;

/// POST /entityOperations/upsert (clause 5.6.8): creates what is new, replaces (or with options=update, updates)
/// what exists.
public sealed class BatchUpsertTests
{
    private const string Existing = """
        {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 21, "humidity": 40, "scope": "/Floor1"}
        """;

    private static async Task<AgoraApplication> WithRoomAsync()
    {
        var app = new AgoraApplication();
        await app.CreateEntityAsync(Existing);
        return app;
    }

    [Fact]
    public async Task UpsertIs201NamingOnlyTheCreatedEntities()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """
            [
              {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 22},
              {"id": "urn:ngsi-ld:Room:2", "type": "Room", "temperature": 18}
            ]
            """);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        JsonEqual("""["urn:ngsi-ld:Room:2"]""", JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Equal(18, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:2"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task UpsertOfEntitiesThatAllExistIs204()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """[{"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 22}]""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(22, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task UpsertByDefaultReplacesTheEntityDroppingAttributesItDoesNotName()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """[{"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 22}]""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 22}}""",
            await app.RetrieveAsync("urn:ngsi-ld:Room:1"));
    }

    [Fact]
    public async Task UpsertWithOptionsUpdateKeepsAttributesItDoesNotName()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """
            [{"id": "urn:ngsi-ld:Room:1", "type": "Office", "temperature": 22, "pressure": 1013}]
            """, "?options=update");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""
            {"id": "urn:ngsi-ld:Room:1", "type": ["Room", "Office"], "scope": "/Floor1",
             "temperature": {"type": "Property", "value": 22}, "humidity": {"type": "Property", "value": 40},
             "pressure": {"type": "Property", "value": 1013}}
            """, await app.RetrieveAsync("urn:ngsi-ld:Room:1"));
    }

    [Fact]
    public async Task UpsertWithOptionsUpdateStillCreatesNewEntities()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """[{"id": "urn:ngsi-ld:Room:2", "type": "Room"}]""", "?options=update");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(await app.ExistsAsync("urn:ngsi-ld:Room:2"));
    }

    [Fact]
    public async Task AnInvalidEntityInAnUpsertIs207AndTheOthersAreWritten()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """
            [
              {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 22},
              {"id": "urn:ngsi-ld:Room:2", "type": "Room", "broken": {"type": "GeoProperty", "value": {"type": "Point"}}},
              {"id": "urn:ngsi-ld:Room:3", "type": "Room"}
            ]
            """);
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Equal(["urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:3"], success);
        Assert.Equal("BadRequestData", TypeOf(errors["urn:ngsi-ld:Room:2"]));
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:2"));
        Assert.Equal(22, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task AnUnknownUpsertOptionIsBadRequestData()
    {
        await using var app = await WithRoomAsync();

        using var response = await app.BatchAsync("upsert", """[{"id": "urn:ngsi-ld:Room:1", "type": "Room"}]""", "?options=merge");

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Equal(40, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["humidity"]!["value"]!);
    }
}
