using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// Writing history directly: create or add (5.6.11), add attributes (5.6.12), delete an attribute (5.6.13),
/// modify and delete one instance (5.6.14, 5.6.15), delete the whole history (5.6.16).
public sealed class TemporalProvisionTests
{
    private const string Id = "urn:ngsi-ld:Vehicle:A";
    private const string Fuel = "urn:ngsi-ld:Dataset:fuel";

    private static async Task<AgoraApplication> VehicleAsync()
    {
        var app = new AgoraApplication();
        await app.CreateHistoryAsync(Vehicle(Id));
        return app;
    }

    [Fact]
    public async Task ANewHistoryIsCreatedWithLocation()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(TemporalPath, Json(Vehicle(Id)));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var location = response.Headers.Location!.ToString();
        Assert.Equal($"{TemporalPath}/{Id}", Uri.UnescapeDataString(location));
        using var retrieved = await client.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        HistoryEqual($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(120, "2020-08-01T12:03:00Z")}}, {{P(80, "2020-08-01T12:05:00Z")}}, {{P(100, "2020-08-01T12:07:00Z")}}],
              "fuelLevel": [{{P(67, "2020-08-01T12:03:00Z")}}, {{P(53, "2020-08-01T13:05:00Z")}}, {{P(40, "2020-08-01T14:07:00Z")}}]
            }
            """, JsonNode.Parse(await retrieved.Content.ReadAsStringAsync())!);
    }

    /// Clause 5.6.11 takes each attribute as an array of instances; one object where the array belongs is one
    /// instance, as JSON-LD reads a single value (ETSI fork 459_01 sends GeoProperty, ListProperty and
    /// ListRelationship so). It used to fail with a server error ("The node already has a parent").
    [Fact]
    public async Task AnAttributeGivenAsOneObjectIsOneInstance()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        using var created = await client.PostAsync(TemporalPath, Json($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": {{P(120, "2020-08-01T12:03:00Z")}},
              "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.0, 2.0]}, "observedAt": "2020-08-01T12:03:00Z"},
              "tyreTreadDepths": {"type": "ListProperty", "valueList": [1.2, 3.4], "observedAt": "2020-08-01T12:03:00Z"},
              "route": {"type": "ListRelationship", "objectList": ["urn:ngsi-ld:Road:1", "urn:ngsi-ld:Road:2"], "observedAt": "2020-08-01T12:03:00Z"}
            }
            """));
        using var added = await client.PostAsync(HistoryPath(Id) + "/attrs", Json($$"""{"speed": {{P(80, "2020-08-01T12:05:00Z")}}}"""));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, added.StatusCode);
        var history = await app.HistoryAsync(Id);
        Assert.Equal([120, 80], ValuesOf(history, "speed").Select(v => (int)v!));
        Assert.Single(history["location"]!.AsArray());
        Assert.Equal("[1.2,3.4]", history["tyreTreadDepths"]!.AsArray().Single()!["valueList"]!.ToJsonString());
        Assert.Equal(2, history["route"]!.AsArray().Single()!["objectList"]!.AsArray().Count);
    }

    [Fact]
    public async Task PostingToAnExistingHistoryAddsAndReplacesSameInstant()
    {
        await using var app = new AgoraApplication();
        await app.CreateHistoryAsync($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(120, "2020-08-01T12:03:00Z")}}, {{P(80, "2020-08-01T12:05:00Z")}}],
              "fuelLevel": [{"type": "Property", "value": 40, "observedAt": "2020-08-01T14:07:00Z", "datasetId": "{{Fuel}}"}]
            }
            """);
        using var client = app.CreateClient();

        // 121 and 81 have the attribute, datasetId (none) and observedAt of 120 and 80, so they replace them (80, the
        // latest, also became the entity's current value); 100 is new; the fuelLevel
        // 41 shares the instant of 40 but not its datasetId, so both stay.
        using var response = await client.PostAsync(TemporalPath, Json($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(121, "2020-08-01T12:03:00Z")}}, {{P(81, "2020-08-01T12:05:00Z")}}, {{P(100, "2020-08-01T12:07:00Z")}}],
              "fuelLevel": [{{P(41, "2020-08-01T14:07:00Z")}}]
            }
            """));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        var history = await app.HistoryAsync(Id);
        Assert.Equal([121, 81, 100], ValuesOf(history, "speed").Select(v => (int)v!));
        var fuel = WithoutInstanceIds(new JsonObject { ["id"] = "x", ["f"] = history["fuelLevel"]!.DeepClone() })["f"]!.AsArray();
        Assert.Equal(2, fuel.Count);
        Assert.Contains(fuel, i => JsonNode.DeepEquals(i, JsonNode.Parse($$"""{"type": "Property", "value": 40, "observedAt": "2020-08-01T14:07:00Z", "datasetId": "{{Fuel}}"}""")));
        Assert.Contains(fuel, i => JsonNode.DeepEquals(i, JsonNode.Parse(P(41, "2020-08-01T14:07:00Z"))));
    }

    [Fact]
    public async Task WithinOneRequestTheLastInstanceAtAnInstantWins()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient();

        // 70 and 90 share an instant, attribute and datasetId: 90, written after 70, replaces it, in the history,
        // in the hourly roll-up that aggregations read (their average with 110 is 100, not 90), and as the
        // entity's current value (the latest instant).
        using var response = await client.PostAsync(TemporalPath, Json($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(110, "2020-08-01T12:00:00Z")}}, {{P(70, "2020-08-01T12:30:00Z")}}, {{P(90, "2020-08-01T12:30:00Z")}}]
            }
            """));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal([110, 90], ValuesOf(await app.HistoryAsync(Id), "speed").Select(v => (int)v!));
        var current = JsonNode.Parse(await client.GetStringAsync($"/ngsi-ld/v1/entities/{Id}?options=keyValues"))!;
        Assert.Equal(90, (int)current["speed"]!);
        var hourly = await app.HistoryAsync(Id, "?options=aggregatedValues&aggrMethods=avg,totalCount&aggrPeriodDuration=PT1H"
            + "&timerel=between&timeAt=2020-08-01T12:00:00Z&endTimeAt=2020-08-01T13:00:00Z");
        Assert.Equal(100, (double)hourly["speed"]!["avg"]![0]![0]!);
        Assert.Equal(2, (int)hourly["speed"]!["totalCount"]![0]![0]!);
    }

    [Fact]
    public async Task TemporalWritesAreStoredEvenWithoutKeepHistory()
    {
        await using var app = new AgoraApplication(("Agora:Temporal:KeepHistory", "false"));

        await app.CreateHistoryAsync(Vehicle(Id));

        var history = await app.HistoryAsync(Id);
        Assert.Equal([120, 80, 100], ValuesOf(history, "speed").Select(v => (int)v!));
        Assert.Equal([67, 53, 40], ValuesOf(history, "fuelLevel").Select(v => (int)v!));
    }

    [Fact]
    public async Task AddedAttributesJoinTheHistory()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(HistoryPath(Id) + "/attrs", Json($$"""
            {"oilTemperature": [{{P(90, "2020-08-01T12:10:00Z")}}, {{P(95, "2020-08-01T12:20:00Z")}}]}
            """));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var history = await app.HistoryAsync(Id);
        Assert.Equal([90, 95], ValuesOf(history, "oilTemperature").Select(v => (int)v!));
        Assert.Equal([120, 80, 100], ValuesOf(history, "speed").Select(v => (int)v!));
    }

    [Fact]
    public async Task AddingAttributesToAnUnknownHistoryIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.PostAsync(HistoryPath("urn:ngsi-ld:Vehicle:none") + "/attrs", Json($$"""{"speed": [{{P(1, "2020-08-01T12:10:00Z")}}]}"""));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    private static async Task<AgoraApplication> TwoDatasetsAsync()
    {
        var app = new AgoraApplication();
        await app.CreateHistoryAsync($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(120, "2020-08-01T12:03:00Z")}}],
              "fuelLevel": [
                {{P(67, "2020-08-01T12:03:00Z")}}, {{P(53, "2020-08-01T13:05:00Z")}},
                {"type": "Property", "value": 40, "observedAt": "2020-08-01T14:07:00Z", "datasetId": "{{Fuel}}"}
              ]
            }
            """);
        return app;
    }

    public static TheoryData<string, int[]> AttributeDeletions => new()
    {
        { "", [40] },
        { $"?datasetId={Uri.EscapeDataString(Fuel)}", [67, 53] },
        { "?datasetId=" + Uri.EscapeDataString(Fuel) + "&deleteAll=false", [67, 53] },
    };

    [Theory]
    [MemberData(nameof(AttributeDeletions))]
    public async Task DeletingAnAttributeRemovesTheDefaultOrNamedDataset(string query, int[] left)
    {
        await using var app = await TwoDatasetsAsync();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(HistoryAttrPath(Id, "fuelLevel") + query);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var history = await app.HistoryAsync(Id);
        Assert.Equal(left, ValuesOf(history, "fuelLevel").Select(v => (int)v!));
        Assert.Equal([120], ValuesOf(history, "speed").Select(v => (int)v!));
    }

    [Fact]
    public async Task DeletingAnAttributeWithDeleteAllRemovesEveryDataset()
    {
        await using var app = await TwoDatasetsAsync();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(HistoryAttrPath(Id, "fuelLevel") + "?deleteAll=true");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var history = await app.HistoryAsync(Id);
        Assert.Null(history["fuelLevel"]);
        Assert.Equal([120], ValuesOf(history, "speed").Select(v => (int)v!));
    }

    [Fact]
    public async Task DeletingAnAttributeTheHistoryLacksIsNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(HistoryAttrPath(Id, "altitude"));

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ModifyingAnInstanceKeepsItsInstanceId()
    {
        await using var app = await VehicleAsync();
        var first = (string)(await app.HistoryAsync(Id))["speed"]![0]!["instanceId"]!;
        using var client = app.CreateClient();

        using var response = await client.PatchAsync($"{HistoryAttrPath(Id, "speed")}/{Uri.EscapeDataString(first)}",
            Json("""{"type": "Property", "value": 129, "observedAt": "2020-08-01T12:03:00Z"}"""));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var speed = (await app.HistoryAsync(Id))["speed"]!.AsArray();
        Assert.Equal(first, (string?)speed[0]!["instanceId"]);
        Assert.Equal([129, 80, 100], speed.Select(i => (int)i!["value"]!));
        Assert.Equal("2020-08-01T12:03:00Z", (string?)speed[0]!["observedAt"]);
    }

    [Fact]
    public async Task DeletingAnInstanceRemovesOnlyIt()
    {
        await using var app = await VehicleAsync();
        var first = (string)(await app.HistoryAsync(Id))["speed"]![0]!["instanceId"]!;
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{HistoryAttrPath(Id, "speed")}/{Uri.EscapeDataString(first)}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var history = await app.HistoryAsync(Id);
        Assert.Equal([80, 100], ValuesOf(history, "speed").Select(v => (int)v!));
        Assert.Equal([67, 53, 40], ValuesOf(history, "fuelLevel").Select(v => (int)v!));
    }

    [Fact]
    public async Task AnInstanceOfAnotherAttributeIsNotFound()
    {
        await using var app = await VehicleAsync();
        var fuelInstance = (string)(await app.HistoryAsync(Id))["fuelLevel"]![0]!["instanceId"]!;
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync($"{HistoryAttrPath(Id, "speed")}/{Uri.EscapeDataString(fuelInstance)}");

        await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
        Assert.Equal([67, 53, 40], ValuesOf(await app.HistoryAsync(Id), "fuelLevel").Select(v => (int)v!));
    }

    [Fact]
    public async Task DeletingTheHistoryMakesItNotFound()
    {
        await using var app = await VehicleAsync();
        using var client = app.CreateClient();

        using var response = await client.DeleteAsync(HistoryPath(Id));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        using var retrieved = await client.GetAsync(HistoryPath(Id));
        await NgsiLdAssert.ProblemAsync(retrieved, HttpStatusCode.NotFound, "ResourceNotFound");
    }
}
