using System.Net;
using static Agora.Tests.Batch.BatchClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Batch;

/// POST /entityOperations/update, merge and delete (clauses 5.6.9, 5.6.20, 5.6.10): they act on existing
/// entities only, and report the ones that do not exist.
public sealed class BatchUpdateTests
{
    private const string Rooms = """
        [
          {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 21, "unitCode": "CEL", "accuracy": 0.5}, "humidity": 40},
          {"id": "urn:ngsi-ld:Room:2", "type": "Room", "temperature": 19}
        ]
        """;

    private static async Task<AgoraApplication> WithRoomsAsync()
    {
        var app = new AgoraApplication();
        using var response = await app.BatchAsync("create", Rooms);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return app;
    }

    [Fact]
    public async Task UpdateIs204AndChangesOnlyTheAttributesItNames()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("update", """
            [
              {"id": "urn:ngsi-ld:Room:1", "temperature": 23, "pressure": 1013},
              {"id": "urn:ngsi-ld:Room:2", "type": "Room", "temperature": 20}
            ]
            """);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""
            {"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 23},
             "humidity": {"type": "Property", "value": 40}, "pressure": {"type": "Property", "value": 1013}}
            """, await app.RetrieveAsync("urn:ngsi-ld:Room:1"));
        Assert.Equal(20, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:2"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task UpdateOfAnUnknownEntityIs207AndTheOthersAreUpdated()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("update", """
            [
              {"id": "urn:ngsi-ld:Room:1", "temperature": 23},
              {"id": "urn:ngsi-ld:Room:9", "temperature": 5}
            ]
            """);
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Equal(["urn:ngsi-ld:Room:1"], success);
        Assert.Equal("ResourceNotFound", TypeOf(Assert.Single(errors, e => e.Key == "urn:ngsi-ld:Room:9").Value));
        Assert.Equal(23, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["temperature"]!["value"]!);
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:9"));
    }

    [Fact]
    public async Task UpdateWithNoOverwriteAddsNewAttributesAndKeepsExistingValues()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("update", """
            [{"id": "urn:ngsi-ld:Room:1", "temperature": 99, "pressure": 1013}]
            """, "?options=noOverwrite");

        // The kept attribute is reported, as attributes not updated are for a single entity (clause 5.6.9).
        var (success, errors) = await MultiStatusAsync(response);
        Assert.Empty(success);
        Assert.Contains("temperature", (string?)errors["urn:ngsi-ld:Room:1"]["detail"]);
        var room = await app.RetrieveAsync("urn:ngsi-ld:Room:1");
        Assert.Equal(21, (int)room["temperature"]!["value"]!);
        Assert.Equal(1013, (int)room["pressure"]!["value"]!);
    }

    [Fact]
    public async Task UpdateWithNoOverwriteOfOnlyNewAttributesIs204()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("update", """[{"id": "urn:ngsi-ld:Room:1", "pressure": 1013}]""", "?options=noOverwrite");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(1013, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["pressure"]!["value"]!);
    }

    [Fact]
    public async Task MergeIs204AndKeepsWhatItDoesNotName()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("merge", """
            [{"id": "urn:ngsi-ld:Room:1", "temperature": {"value": 24}, "pressure": 1013}]
            """);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""
            {"id": "urn:ngsi-ld:Room:1", "type": "Room",
             "temperature": {"type": "Property", "value": 24, "unitCode": "CEL", "accuracy": {"type": "Property", "value": 0.5}},
             "humidity": {"type": "Property", "value": 40}, "pressure": {"type": "Property", "value": 1013}}
            """, await app.RetrieveAsync("urn:ngsi-ld:Room:1"));
    }

    [Fact]
    public async Task MergeWithNgsiLdNullDeletesTheAttribute()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("merge", """
            [
              {"id": "urn:ngsi-ld:Room:1", "humidity": "urn:ngsi-ld:null", "temperature": {"value": 22, "accuracy": "urn:ngsi-ld:null"}},
              {"id": "urn:ngsi-ld:Room:2", "temperature": {"type": "Property", "value": "urn:ngsi-ld:null"}}
            ]
            """);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        JsonEqual("""{"id": "urn:ngsi-ld:Room:1", "type": "Room", "temperature": {"type": "Property", "value": 22, "unitCode": "CEL"}}""",
            await app.RetrieveAsync("urn:ngsi-ld:Room:1"));
        JsonEqual("""{"id": "urn:ngsi-ld:Room:2", "type": "Room"}""", await app.RetrieveAsync("urn:ngsi-ld:Room:2"));
    }

    [Fact]
    public async Task MergeOfAnUnknownEntityIs207AndTheOthersAreMerged()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("merge", """
            [{"id": "urn:ngsi-ld:Room:9", "temperature": 5}, {"id": "urn:ngsi-ld:Room:2", "temperature": 25}]
            """);
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Equal(["urn:ngsi-ld:Room:2"], success);
        Assert.Equal("ResourceNotFound", TypeOf(errors["urn:ngsi-ld:Room:9"]));
        Assert.Equal(25, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:2"))["temperature"]!["value"]!);
    }

    [Fact]
    public async Task DeleteIs204AndRemovesTheEntities()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("delete", """["urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:2"]""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:1"));
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:2"));
    }

    [Fact]
    public async Task DeleteOfAnUnknownOrInvalidIdIs207AndTheOthersAreDeleted()
    {
        await using var app = await WithRoomsAsync();

        using var response = await app.BatchAsync("delete", """["urn:ngsi-ld:Room:1", "urn:ngsi-ld:Room:9", "not a uri"]""");
        var (success, errors) = await MultiStatusAsync(response);

        Assert.Equal(["urn:ngsi-ld:Room:1"], success);
        Assert.Equal("ResourceNotFound", TypeOf(errors["urn:ngsi-ld:Room:9"]));
        Assert.Equal("BadRequestData", TypeOf(errors["not a uri"]));
        Assert.False(await app.ExistsAsync("urn:ngsi-ld:Room:1"));
        Assert.True(await app.ExistsAsync("urn:ngsi-ld:Room:2"));
    }

    [Fact]
    public async Task UpdateMergeAndDeleteInAnUnknownTenantAreNonexistentTenant()
    {
        await using var app = await WithRoomsAsync();

        using var update = await app.BatchAsync("update", """[{"id": "urn:ngsi-ld:Room:1", "temperature": 1}]""", tenant: "nowhere");
        using var merge = await app.BatchAsync("merge", """[{"id": "urn:ngsi-ld:Room:1", "temperature": 1}]""", tenant: "nowhere");
        using var delete = await app.BatchAsync("delete", """["urn:ngsi-ld:Room:1"]""", tenant: "nowhere");

        await ProblemAsync(update, HttpStatusCode.NotFound, "NonexistentTenant");
        await ProblemAsync(merge, HttpStatusCode.NotFound, "NonexistentTenant");
        await ProblemAsync(delete, HttpStatusCode.NotFound, "NonexistentTenant");
        Assert.Equal(21, (int)(await app.RetrieveAsync("urn:ngsi-ld:Room:1"))["temperature"]!["value"]!);
    }
}
