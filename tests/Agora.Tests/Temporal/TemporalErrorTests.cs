using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// The temporal API's NGSI-LD errors: their status, their type, and a title or detail naming what was wrong.
public sealed class TemporalErrorTests
{
    private const string Id = "urn:ngsi-ld:Vehicle:A";

    private static async Task<AgoraApplication> VehicleAsync()
    {
        var app = new AgoraApplication();
        await app.CreateHistoryAsync(Vehicle(Id));
        return app;
    }

    // A bad temporal parameter of a retrieval, and the parameter the error must name.
    public static TheoryData<string, string> BadTimeQueries => new()
    {
        { "timerel=after", "timeAt" },
        { "timerel=before", "timeAt" },
        { "timerel=between&timeAt=2020-08-01T12:00:00Z", "endTimeAt" },
        { "timerel=between&timeAt=2020-08-01T12:00:00Z&endTimeAt=2020-08-01T11:00:00Z", "endTimeAt" },
        { "timerel=around&timeAt=2020-08-01T12:00:00Z", "timerel" },
        { "timerel=after&timeAt=yesterday", "timeAt" },
        { "timerel=after&timeAt=2020-13-45T12:00:00Z", "timeAt" },
        { "lastN=0", "lastN" },
        { "lastN=-2", "lastN" },
        { "lastN=three", "lastN" },
        { "timeproperty=seenAt", "timeproperty" },
        { "options=aggregatedValues&aggrMethods=median&aggrPeriodDuration=PT1H", "aggrMethods" },
        { "options=aggregatedValues&aggrPeriodDuration=PT1H", "aggrMethods" },
        { "options=aggregatedValues&aggrMethods=sum&aggrPeriodDuration=1 hour", "aggrPeriodDuration" },
        { "options=aggregatedValues&aggrMethods=sum&aggrPeriodDuration=PT", "aggrPeriodDuration" },
    };

    [Theory]
    [MemberData(nameof(BadTimeQueries))]
    public async Task ABadTemporalParameterIsBadRequestDataNamingIt(string query, string parameter)
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{HistoryPath(Id)}?{query.Replace(" ", "%20", StringComparison.Ordinal)}");

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Contains(parameter, $"{problem["title"]} {problem["detail"]}", StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadTemporalParameterOfAQueryIsBadRequestData()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{TemporalPath}?type=Vehicle&timerel=between&timeAt=2020-08-01T12:00:00Z");

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Contains("endTimeAt", $"{problem["title"]} {problem["detail"]}", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("options=everything")]
    [InlineData("options=temporalValues,everything")]
    [InlineData("format=everything")]
    public async Task AnUnknownOptionOrFormatIsInvalidRequest(string query)
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{HistoryPath(Id)}?{query}");

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task AnUnknownEntityIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(HistoryPath("urn:ngsi-ld:Vehicle:unknown"));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task AnInvalidEntityIdIsBadRequestData()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(HistoryPath("not a uri"));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task AnUnknownInstanceIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();
        var path = $"{HistoryAttrPath(Id, "speed")}/{Escape(InstancePrefix + "999999")}";

        using var patched = await client.PatchAsync(path, Json("""{"type": "Property", "value": 1}"""));
        using var deleted = await client.DeleteAsync(path);
        using var foreign = await client.DeleteAsync($"{HistoryAttrPath(Id, "speed")}/{Escape("urn:ngsi-ld:01234567890123456789")}");

        await NgsiLdAssert.ProblemAsync(patched, HttpStatusCode.NotFound, "ResourceNotFound");
        await NgsiLdAssert.ProblemAsync(deleted, HttpStatusCode.NotFound, "ResourceNotFound");
        await NgsiLdAssert.ProblemAsync(foreign, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task AnInstanceOfAnUnknownEntityIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();
        var instance = (string)(await app.HistoryAsync(Id))["speed"]![0]!["instanceId"]!;

        using var response = await client.DeleteAsync($"{HistoryAttrPath("urn:ngsi-ld:Vehicle:unknown", "speed")}/{Escape(instance)}");

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task DeletingAnUnknownHistoryIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(HistoryPath("urn:ngsi-ld:Vehicle:unknown"));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task AttrsMatchingNothingIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{HistoryPath(Id)}?attrs=altitude");

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Theory]
    [InlineData("timerel=after&timeAt=2020-01-01T00:00:00Z")]
    [InlineData("id=urn:ngsi-ld:Vehicle:A&timerel=after&timeAt=2020-01-01T00:00:00Z")]
    public async Task AQueryWithoutTypeAttrsQOrGeoIsBadRequestData(string query)
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{TemporalPath}?{query}");

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task APostQueryWithoutTypeAttrsQOrGeoIsBadRequestData()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(TemporalQueryPath, Json("""
            {"type": "Query", "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}}
            """));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Theory]
    [InlineData("""{"id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle",, "speed": []}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle", "speed": [{"type": "Property", "value": 1""")]
    [InlineData("")]
    public async Task AMalformedBodyIsInvalidRequestAndStoresNothing(string body)
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(TemporalPath, Json(body));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
        using var retrieved = await client.GetAsync(HistoryPath("urn:ngsi-ld:Vehicle:B"));
        Assert.Equal(HttpStatusCode.NotFound, retrieved.StatusCode);
    }

    /// Clauses 5.2.1 and 5.5.4: "urn:ngsi-ld:null" removes a member in a partial update or merge only; as a whole
    /// member of a temporal representation it is BadRequestData, and nothing is stored (ETSI fork 5611_01_02,
    /// which used to get a server error). As the value of an instance it stands for a deleted value and is kept.
    [Theory]
    [InlineData(TemporalPath, """{"id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle", "expiresAt": "urn:ngsi-ld:null", "speed": [{"type": "Property", "value": 1, "observedAt": "2026-01-01T00:00:00Z"}]}""")]
    [InlineData(TemporalPath, """{"id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle", "speed": "urn:ngsi-ld:null"}""")]
    [InlineData(TemporalPath + "/urn:ngsi-ld:Vehicle:A/attrs", """{"speed": "urn:ngsi-ld:null"}""")]
    public async Task AMemberThatIsNgsiLdNullIsBadRequestDataAndStoresNothing(string path, string body)
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(path, Json(body));

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.Contains("urn:ngsi-ld:null", (string?)problem["detail"]);
        using var other = await client.GetAsync(HistoryPath("urn:ngsi-ld:Vehicle:B"));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal([120, 80, 100], ValuesOf(await app.HistoryAsync(Id), "speed").Select(v => (int)v!));
    }

    [Fact]
    public async Task ADeletedValueInsideAnInstanceIsKept()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(HistoryPath(Id) + "/attrs", Json("""
            {"speed": [{"type": "Property", "value": "urn:ngsi-ld:null", "observedAt": "2020-08-01T12:09:00Z"}]}
            """));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(4, ValuesOf(await app.HistoryAsync(Id), "speed").Length);
    }

    [Fact]
    public async Task AnInvalidInstanceRejectsTheWholeBody()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        // The second speed instance is a Property without a value.
        using var response = await client.PostAsync(TemporalPath, Json("""
            {
              "id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle",
              "fuelLevel": [{"type": "Property", "value": 67, "observedAt": "2020-08-01T12:03:00Z"}],
              "speed": [{"type": "Property", "value": 1, "observedAt": "2020-08-01T12:03:00Z"}, {"type": "Property", "observedAt": "2020-08-01T12:05:00Z"}]
            }
            """));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        using var retrieved = await client.GetAsync(HistoryPath("urn:ngsi-ld:Vehicle:B"));
        Assert.Equal(HttpStatusCode.NotFound, retrieved.StatusCode);
        using var current = await client.GetAsync(EntityPath("urn:ngsi-ld:Vehicle:B"));
        Assert.Equal(HttpStatusCode.NotFound, current.StatusCode);
    }

    [Fact]
    public async Task AMalformedAddedAttributeBodyChangesNothing()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(HistoryPath(Id) + "/attrs", Json("""{"speed": [{"type": "Property", "value": 1,"""));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.BadRequest, "InvalidRequest");
        Assert.Equal([120, 80, 100], ValuesOf(await app.HistoryAsync(Id), "speed").Select(v => (int)v!));
    }
}
