using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.Batch.BatchClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Batch;

/// POST /entityOperations/create (clause 5.6.7): each entity is created or fails on its own.
public sealed class BatchCreateTests
{
    [Fact]
    public async Task CreatingEveryEntityIs201WithTheirIds()
    {
        await using var app = new AgoraApplication();

        using var response = await app.BatchAsync("create", """
            [
              {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 21},
              {"id": "urn:ngsi-ld:Room:2", "type": "Room", "temperature": 19},
              {"id": "urn:ngsi-ld:Room:3", "type": "Room"}
            ]
            """);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        JsonEqual("""["urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:2", "urn:ngsi-ld:Room:3"]""", JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Equal(19, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:2"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task SomeFailuresAre207NamingEachFailedEntityAndItsError()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Room:old", "type": "Room"}""");

        using var response = await app.BatchAsync("create", """
            [
              {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 21},
              {"id": "urn:ngsi-ld:Room:old", "type": "Room", "temperature": 5},
              {"id": "not a uri", "type": "Room"},
              {"id": "urn:ngsi-ld:Room:bad", "type": "Room", "temperature": {"type": "Property"}},
              {"id": "urn:ngsi-ld:Room:untyped"},
              {"id": "urn:ngsi-ld:Room:2", "type": "Room"}
            ]
            """);
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Equal(["urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:2"], success);
        Assert.Equal("AlreadyExists", TypeOf(errors["urn:ngsi-ld:Room:old"]));
        Assert.Equal("BadRequestData", TypeOf(errors["not a uri"]));
        Assert.Equal("BadRequestData", TypeOf(errors["urn:ngsi-ld:Room:bad"]));
        Assert.Equal("BadRequestData", TypeOf(errors["urn:ngsi-ld:Room:untyped"]));
        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public async Task AFailedEntityLeavesNoTraceWhileTheOthersCommit()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Room:old", "type": "Room", "temperature": 21}""");

        using var response = await app.BatchAsync("create", """
            [
              {"id": "urn:ngsi-ld:Room:1", "type": "Room"},
              {"id": "urn:ngsi-ld:Room:old", "type": "Hall", "temperature": 5, "extra": 1},
              {"id": "urn:ngsi-ld:Room:bad", "type": "Room", "good": 1, "bad": {"type": "Relationship"}}
            ]
            """);

        Assert.Equal(HttpStatusCode.MultiStatus, response.StatusCode);
        Assert.True(await app.ExistsAsync("urn:ngsi-ld:Room:1"));
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:bad"));
        JsonEqual("""{"id": "urn:ngsi-ld:Room:old", "type": "Room", "temperature": {"type": "Property", "value": 21}}""",
            await app.RetrieveAsync("urn:ngsi-ld:Room:old"));
    }

    [Fact]
    public async Task TheSameIdTwiceInABatchCreatesTheFirstAndRejectsTheSecond()
    {
        await using var app = new AgoraApplication();

        using var response = await app.BatchAsync("create", """
            [
              {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 21},
              {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": 99}
            ]
            """);
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Equal(["urn:ngsi-ld:Room:1"], success);
        Assert.Equal("AlreadyExists", TypeOf(Assert.Single(errors).Value));
        Assert.Equal(21, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task WhenEveryEntityFailsTheAnswerIs207WithNoSuccess()
    {
        await using var app = new AgoraApplication();

        using var response = await app.BatchAsync("create", """[{"id": "urn:ngsi-ld:Room:1"}, 42]""");
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Empty(success);
        Assert.Equal(2, errors.Count);
    }

    [Fact]
    public async Task ABatchCreateCreatesTheTenantItNames()
    {
        await using var app = new AgoraApplication();

        using var response = await app.BatchAsync("create", """[{"id": "urn:ngsi-ld:Room:1", "type": "Room"}]""", tenant: "hotel");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.True(await app.ExistsAsync("urn:ngsi-ld:Room:1", tenant: "hotel"));
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:1"));
    }

    [Fact]
    public async Task EntitiesSentAsJsonLdCarryTheirOwnContext()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(Operations + "create", AgoraApplication.Json("""
            [{"id": "urn:ngsi-ld:Room:1", "type": "Room", "temp": 21, "@context": [{"temp": "https://example.org/temperature"}, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"]}]
            """, "application/ld+json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(21, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["https://example.org/temperature"]!["value"]!);
    }
}
