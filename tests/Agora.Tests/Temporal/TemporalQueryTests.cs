using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// Query Temporal Evolution of Entities (clause 5.7.4), by GET and by POST. The fleet: Vehicle A drives on
/// 2020-08-01 (speed 120, 80, 100 at 12:03, 12:05, 12:07), Vehicle B on 2020-09-01 (speed 50, 60, 70 at the same
/// times), Bus C on 2020-08-01 (speed 45 at 12:03).
public sealed class TemporalQueryTests
{
    private const string A = "urn:ngsi-ld:Vehicle:A";
    private const string B = "urn:ngsi-ld:Vehicle:B";
    private const string C = "urn:ngsi-ld:Bus:C";
    private const string Always = "timerel=after&timeAt=2020-01-01T00:00:00Z";

    private static async Task<AgoraApplication> FleetAsync()
    {
        var app = new AgoraApplication();
        await app.CreateHistoryAsync(Vehicle(A));
        await app.CreateHistoryAsync($$"""
            {
              "id": "{{B}}", "type": "Vehicle",
              "speed": [{{P(50, "2020-09-01T12:03:00Z")}}, {{P(60, "2020-09-01T12:05:00Z")}}, {{P(70, "2020-09-01T12:07:00Z")}}],
              "fuelLevel": [{{P(30, "2020-09-01T12:03:00Z")}}]
            }
            """);
        await app.CreateHistoryAsync($$"""
            {"id": "{{C}}", "type": "Bus", "speed": [{{P(45, "2020-08-01T12:03:00Z")}}], "fuelLevel": [{{P(210, "2020-08-01T12:03:00Z")}}]}
            """);
        return app;
    }

    // Each query with the ids it answers, in id order.
    public static TheoryData<string, string[]> Selections => new()
    {
        { $"type=Vehicle&{Always}", [A, B] },
        { $"type=Bus&{Always}", [C] },
        { $"type=Vehicle,Bus&{Always}", [C, A, B] },
        { $"type=Vehicle&id={Escape($"{A},{C}")}&{Always}", [A] },
        { $"type=Vehicle,Bus&idPattern={Escape("urn:ngsi-ld:Vehicle:.*")}&{Always}", [A, B] },
        // An entity without instances in the window is left out.
        { "type=Vehicle,Bus&timerel=after&timeAt=2020-08-15T00:00:00Z", [B] },
        { "type=Vehicle,Bus&timerel=before&timeAt=2020-08-15T00:00:00Z", [C, A] },
        // q matches when any instance in the window does: A's 120 is in the first window but not in the second.
        { $"type=Vehicle,Bus&q={Escape("speed>110")}&{Always}", [A] },
        { $"type=Vehicle,Bus&q={Escape("speed>110")}&timerel=after&timeAt=2020-08-01T12:04:00Z", [] },
        { $"type=Vehicle,Bus&q={Escape("speed<55")}&{Always}", [C, B] },
        { $"q={Escape("speed==60")}&{Always}", [B] },
        { "type=Vehicle,Bus&attrs=speed&timerel=after&timeAt=2020-09-01T12:04:00Z", [B] },
    };

    [Theory]
    [MemberData(nameof(Selections))]
    public async Task TheQuerySelectsEntities(string query, string[] ids)
    {
        await using var app = await FleetAsync();

        var entities = await app.TemporalQueryAsync(query);

        Assert.Equal(ids, IdsOf(entities));
    }

    [Fact]
    public async Task QMatchingOneInstanceReturnsAllInstancesInTheWindow()
    {
        await using var app = await FleetAsync();

        var entities = await app.TemporalQueryAsync($"type=Vehicle&q={Escape("speed>110")}&{Always}");

        HistoryEqual($$"""
            [{
              "id": "{{A}}", "type": "Vehicle",
              "speed": [{{P(120, "2020-08-01T12:03:00Z")}}, {{P(80, "2020-08-01T12:05:00Z")}}, {{P(100, "2020-08-01T12:07:00Z")}}],
              "fuelLevel": [{{P(67, "2020-08-01T12:03:00Z")}}, {{P(53, "2020-08-01T13:05:00Z")}}, {{P(40, "2020-08-01T14:07:00Z")}}]
            }]
            """, entities);
    }

    [Fact]
    public async Task AnEntityWithoutInstancesOfTheAttrsInTheWindowIsLeftOut()
    {
        await using var app = await FleetAsync();

        // From 12:04 on 2020-09-01 B has speed (60, 70) but no fuelLevel (its only one is at 12:03); A and C have nothing.
        var entities = await app.TemporalQueryAsync("type=Vehicle,Bus&attrs=fuelLevel&timerel=after&timeAt=2020-09-01T12:04:00Z");

        NgsiLdAssert.JsonEqual("[]", entities);
    }

    [Fact]
    public async Task QIsMatchedBeforeLastNKeepsTheLatest()
    {
        await using var app = await FleetAsync();

        // A's 120 is in the window, so A matches speed>110; lastN then shows its latest speed, 100.
        var entities = await app.TemporalQueryAsync($"type=Vehicle&q={Escape("speed>110")}&lastN=1&{Always}");

        HistoryEqual($$"""
            [{"id": "{{A}}", "type": "Vehicle", "speed": [{{P(100, "2020-08-01T12:07:00Z")}}], "fuelLevel": [{{P(40, "2020-08-01T14:07:00Z")}}]}]
            """, entities);
    }

    [Fact]
    public async Task LimitOffsetAndCountPageTheEntities()
    {
        await using var app = await FleetAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{TemporalPath}?type=Vehicle,Bus&{Always}&limit=1&offset=1&count=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["3"], response.Headers.GetValues("NGSILD-Results-Count"));
        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal([A], IdsOf(entities));
    }

    [Fact]
    public async Task CountLeavesOutEntitiesWithoutInstancesInTheWindow()
    {
        await using var app = await FleetAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{TemporalPath}?type=Vehicle,Bus&timerel=after&timeAt=2020-08-15T00:00:00Z&count=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["1"], response.Headers.GetValues("NGSILD-Results-Count"));
    }

    [Fact]
    public async Task PostQueryAnswersAsTheGetQuery()
    {
        await using var app = await FleetAsync();
        using var client = app.CreateClient();

        using var posted = await client.PostAsync(TemporalQueryPath, Json("""
            {
              "type": "Query", "entities": [{"type": "Vehicle"}], "attrs": ["speed"],
              "temporalQ": {"timerel": "between", "timeAt": "2020-08-01T12:04:00Z", "endTimeAt": "2020-09-01T12:06:00Z"}
            }
            """));
        var got = await app.TemporalQueryAsync("type=Vehicle&attrs=speed&timerel=between&timeAt=2020-08-01T12:04:00Z&endTimeAt=2020-09-01T12:06:00Z");

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var post = JsonNode.Parse(await posted.Content.ReadAsStringAsync())!;
        var expected = $$"""
            [
              {"id": "{{A}}", "type": "Vehicle", "speed": [{{P(80, "2020-08-01T12:05:00Z")}}, {{P(100, "2020-08-01T12:07:00Z")}}]},
              {"id": "{{B}}", "type": "Vehicle", "speed": [{{P(50, "2020-09-01T12:03:00Z")}}, {{P(60, "2020-09-01T12:05:00Z")}}]}
            ]
            """;
        HistoryEqual(expected, got);
        HistoryEqual(expected, post);
    }

    [Fact]
    public async Task PostQueryTakesSeveralEntitySelectors()
    {
        await using var app = await FleetAsync();
        using var client = app.CreateClient();

        using var posted = await client.PostAsync(TemporalQueryPath, Json("""
            {
              "type": "Query", "entities": [{"type": "Bus"}, {"id": "urn:ngsi-ld:Vehicle:B", "type": "Vehicle"}],
              "temporalQ": {"timerel": "after", "timeAt": "2020-01-01T00:00:00Z"}
            }
            """));

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal([C, B], IdsOf(JsonNode.Parse(await posted.Content.ReadAsStringAsync())!.AsArray()));
    }
}
