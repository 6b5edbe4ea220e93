using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// A history longer than one answer may hold (Agora:Temporal:MaxInstances) is answered 206 Partial Content,
/// cut at one instant across all attributes, with the range it covers in Content-Range.
public sealed class TemporalPagingTests
{
    private const string Id = "urn:ngsi-ld:Vehicle:A";

    // speed at 10:00, 10:02, 10:04, 10:06 (values 0, 2, 4, 6) and fuelLevel at 10:01, 10:03, 10:05, 10:07 (1, 3, 5, 7):
    // each value is its minute, so the instances interleave in time.
    private const string Interleaved = $$"""
        {
          "id": "{{Id}}", "type": "Vehicle",
          "speed": [{"type": "Property", "value": 0, "observedAt": "2020-01-01T10:00:00Z"},
                    {"type": "Property", "value": 2, "observedAt": "2020-01-01T10:02:00Z"},
                    {"type": "Property", "value": 4, "observedAt": "2020-01-01T10:04:00Z"},
                    {"type": "Property", "value": 6, "observedAt": "2020-01-01T10:06:00Z"}],
          "fuelLevel": [{"type": "Property", "value": 1, "observedAt": "2020-01-01T10:01:00Z"},
                        {"type": "Property", "value": 3, "observedAt": "2020-01-01T10:03:00Z"},
                        {"type": "Property", "value": 5, "observedAt": "2020-01-01T10:05:00Z"},
                        {"type": "Property", "value": 7, "observedAt": "2020-01-01T10:07:00Z"}]
        }
        """;

    private static async Task<AgoraApplication> PagedAsync(string history)
    {
        var app = new AgoraApplication(("Agora:Temporal:MaxInstances", "5"));
        await app.CreateHistoryAsync(history);
        return app;
    }

    private static async Task<(HttpResponseMessage Response, JsonObject Body)> GetAsync(AgoraApplication app, string query)
    {
        using var client = app.CreateClient();
        var response = await client.GetAsync(HistoryPath(Id) + query);
        return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject());
    }

    // Content-Range with a date-time unit is not one HttpClient parses, so it is read as sent.
    private static string ContentRange(HttpResponseMessage response) =>
        response.Content.Headers.NonValidated.TryGetValues("Content-Range", out var values) ? values.ToString() : "";

    private static int[] Values(JsonObject entity, string attr) => [.. ValuesOf(entity, attr).Select(v => (int)v!)];

    [Fact]
    public async Task AnswerIsCutAtOneInstantAcrossAttributes()
    {
        await using var app = await PagedAsync(Interleaved);

        var (response, body) = await GetAsync(app, "");

        // The 5 oldest are 10:00 to 10:04: speed 0, 2, 4 and fuelLevel 1, 3.
        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal("date-time 2020-01-01T10:00:00Z-2020-01-01T10:04:00Z/*", ContentRange(response));
        }
        Assert.Equal([0, 2, 4], Values(body, "speed"));
        Assert.Equal([1, 3], Values(body, "fuelLevel"));
    }

    [Fact]
    public async Task TheRangeStartsAtTimeAtWhenAfterGivesOne()
    {
        await using var app = await PagedAsync(Interleaved);

        var (response, body) = await GetAsync(app, "?timerel=after&timeAt=2020-01-01T09:00:00Z");

        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal("date-time 2020-01-01T09:00:00Z-2020-01-01T10:04:00Z/*", ContentRange(response));
        }
        Assert.Equal([0, 2, 4], Values(body, "speed"));
        Assert.Equal([1, 3], Values(body, "fuelLevel"));
    }

    [Fact]
    public async Task WithLastNTheCutRunsNewestToOldest()
    {
        await using var app = await PagedAsync(Interleaved);

        var (response, body) = await GetAsync(app, "?lastN=3");

        // lastN=3 picks speed 2, 4, 6 and fuelLevel 3, 5, 7: six, one too many. Newest first the five kept are
        // 10:07, 10:06, 10:05, 10:04, 10:03, so speed 2 at 10:02 goes.
        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal("date-time 2020-01-01T10:07:00Z-2020-01-01T10:03:00Z/3", ContentRange(response));
        }
        Assert.Equal([4, 6], Values(body, "speed"));
        Assert.Equal([3, 5, 7], Values(body, "fuelLevel"));
    }

    [Fact]
    public async Task WithLastNBeforeTheRangeStartsAtTimeAt()
    {
        await using var app = await PagedAsync(Interleaved);

        var (response, body) = await GetAsync(app, "?lastN=3&timerel=before&timeAt=2020-01-01T11:00:00Z");

        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal("date-time 2020-01-01T11:00:00Z-2020-01-01T10:03:00Z/3", ContentRange(response));
        }
        Assert.Equal([4, 6], Values(body, "speed"));
        Assert.Equal([3, 5, 7], Values(body, "fuelLevel"));
    }

    [Fact]
    public async Task AQueryIsCutAtOneInstantAcrossEntities()
    {
        await using var app = new AgoraApplication(("Agora:Temporal:MaxInstances", "5"));
        await app.CreateHistoryAsync($$"""
            {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
             "speed": [{{P(0, "2020-01-01T10:00:00Z")}}, {{P(2, "2020-01-01T10:02:00Z")}}, {{P(4, "2020-01-01T10:04:00Z")}}]}
            """);
        await app.CreateHistoryAsync($$"""
            {"id": "urn:ngsi-ld:Vehicle:2", "type": "Vehicle",
             "speed": [{{P(1, "2020-01-01T10:01:00Z")}}, {{P(3, "2020-01-01T10:03:00Z")}}, {{P(5, "2020-01-01T10:05:00Z")}}]}
            """);
        await app.CreateHistoryAsync($$"""
            {"id": "urn:ngsi-ld:Vehicle:3", "type": "Vehicle", "speed": [{{P(60, "2020-01-01T11:00:00Z")}}]}
            """);
        using var client = app.CreateClient();

        using var response = await client.GetAsync($"{TemporalPath}?type=Vehicle&timerel=after&timeAt=2020-01-01T00:00:00Z");

        // Seven instances; the five oldest run from 10:00 to 10:04. Vehicle 3 is cut entirely but stays, empty.
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("date-time 2020-01-01T00:00:00Z-2020-01-01T10:04:00Z/*", ContentRange(response));
        var entities = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(["urn:ngsi-ld:Vehicle:1", "urn:ngsi-ld:Vehicle:2", "urn:ngsi-ld:Vehicle:3"], IdsOf(entities));
        Assert.Equal([0, 2, 4], Values(entities[0]!.AsObject(), "speed"));
        Assert.Equal([1, 3], Values(entities[1]!.AsObject(), "speed"));
        Assert.Equal([], entities[2]!["speed"]!.AsArray());
    }

    [Fact]
    public async Task TheCutNeverSplitsAnInstant()
    {
        // Both attributes observed at 10:00, 10:01, 10:02 and 10:03: eight instances at four instants, five allowed.
        await using var app = await PagedAsync($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(0, "2020-01-01T10:00:00Z")}}, {{P(1, "2020-01-01T10:01:00Z")}}, {{P(2, "2020-01-01T10:02:00Z")}}, {{P(3, "2020-01-01T10:03:00Z")}}],
              "fuelLevel": [{{P(0, "2020-01-01T10:00:00Z")}}, {{P(1, "2020-01-01T10:01:00Z")}}, {{P(2, "2020-01-01T10:02:00Z")}}, {{P(3, "2020-01-01T10:03:00Z")}}]
            }
            """);

        var (response, body) = await GetAsync(app, "");

        // The answer must hold everything up to the end of its range and nothing after: ending at 10:01 it holds
        // minutes 0 and 1 of both attributes; ending at 10:02, minutes 0 to 2 of both. Holding 10:02 of speed but
        // not of fuelLevel would tell the client that it has seen all of 10:02.
        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            var range = ContentRange(response);
            int[] expected = range switch
            {
                "date-time 2020-01-01T10:00:00Z-2020-01-01T10:01:00Z/*" => [0, 1],
                "date-time 2020-01-01T10:00:00Z-2020-01-01T10:02:00Z/*" => [0, 1, 2],
                _ => throw new Xunit.Sdk.XunitException($"Unexpected Content-Range {range}"),
            };
            Assert.True(expected.SequenceEqual(Values(body, "speed")) && expected.SequenceEqual(Values(body, "fuelLevel")),
                $"{range} with {body.ToJsonString()}");
        }
    }

    [Fact]
    public async Task AnAttributeCutEntirelyIsShownEmpty()
    {
        // speed holds the five oldest instances (10:00 to 10:04); fuelLevel's all come later.
        await using var app = await PagedAsync($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(0, "2020-01-01T10:00:00Z")}}, {{P(1, "2020-01-01T10:01:00Z")}}, {{P(2, "2020-01-01T10:02:00Z")}},
                        {{P(3, "2020-01-01T10:03:00Z")}}, {{P(4, "2020-01-01T10:04:00Z")}}],
              "fuelLevel": [{{P(10, "2020-01-01T11:00:00Z")}}, {{P(11, "2020-01-01T11:01:00Z")}}]
            }
            """);

        var (response, body) = await GetAsync(app, "");

        using (response)
        {
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal("date-time 2020-01-01T10:00:00Z-2020-01-01T10:04:00Z/*", ContentRange(response));
        }
        Assert.Equal([0, 1, 2, 3, 4], Values(body, "speed"));
        Assert.Equal([], body["fuelLevel"]!.AsArray());
    }

    [Fact]
    public async Task AHistoryThatFitsIsAnsweredWhole()
    {
        await using var app = await PagedAsync(Interleaved);

        var (response, body) = await GetAsync(app, "?lastN=2");

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Content.Headers.Contains("Content-Range"));
        }
        Assert.Equal([4, 6], Values(body, "speed"));
        Assert.Equal([5, 7], Values(body, "fuelLevel"));
    }
}
