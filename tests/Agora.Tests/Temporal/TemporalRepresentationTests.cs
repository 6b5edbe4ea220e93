using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// The normalized and simplified (temporalValues, clause 4.5.9) representations of a history.
public sealed class TemporalRepresentationTests
{
    private const string Id = "urn:ngsi-ld:Vehicle:A";

    private const string Parked = $$"""
        {
          "id": "{{Id}}", "type": "Vehicle",
          "speed": [
            {"type": "Property", "value": 120, "observedAt": "2020-08-01T12:03:00Z"},
            {"type": "Property", "value": 80, "observedAt": "2020-08-01T12:05:00Z"}
          ],
          "isParkedIn": [
            {"type": "Relationship", "object": "urn:ngsi-ld:Parking:north", "observedAt": "2020-08-01T12:10:00Z"},
            {"type": "Relationship", "object": "urn:ngsi-ld:Parking:south", "observedAt": "2020-08-01T18:00:00Z"}
          ]
        }
        """;

    [Fact]
    public async Task NormalizedShowsEachInstanceWithAnInstanceId()
    {
        await using var app = new AgoraApplication();
        await app.CreateHistoryAsync(Parked);

        var history = await app.HistoryAsync(Id);

        var ids = history["speed"]!.AsArray().Concat(history["isParkedIn"]!.AsArray()).Select(i => (string)i!["instanceId"]!).ToList();
        Assert.Equal(4, ids.Distinct().Count());
        HistoryEqual($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": [{{P(120, "2020-08-01T12:03:00Z")}}, {{P(80, "2020-08-01T12:05:00Z")}}],
              "isParkedIn": [
                {"type": "Relationship", "object": "urn:ngsi-ld:Parking:north", "observedAt": "2020-08-01T12:10:00Z"},
                {"type": "Relationship", "object": "urn:ngsi-ld:Parking:south", "observedAt": "2020-08-01T18:00:00Z"}
              ]
            }
            """, history);
    }

    [Theory]
    [InlineData("?options=temporalValues")]
    [InlineData("?format=temporalValues")]
    public async Task TemporalValuesPairsEachValueWithItsInstant(string query)
    {
        await using var app = new AgoraApplication();
        await app.CreateHistoryAsync(Parked);

        var history = await app.HistoryAsync(Id, query);

        NgsiLdAssert.JsonEqual($$"""
            {
              "id": "{{Id}}", "type": "Vehicle",
              "speed": {"type": "Property", "values": [[120, "2020-08-01T12:03:00Z"], [80, "2020-08-01T12:05:00Z"]]},
              "isParkedIn": {"type": "Relationship", "objects": [
                ["urn:ngsi-ld:Parking:north", "2020-08-01T12:10:00Z"], ["urn:ngsi-ld:Parking:south", "2020-08-01T18:00:00Z"]
              ]}
            }
            """, history);
    }

    [Fact]
    public async Task TemporalValuesFollowTheWindow()
    {
        await using var app = new AgoraApplication();
        await app.CreateHistoryAsync(Vehicle(Id));

        var history = await app.HistoryAsync(Id, "?options=temporalValues&timerel=after&timeAt=2020-08-01T12:05:00Z&attrs=speed");

        NgsiLdAssert.JsonEqual($$"""
            {"id": "{{Id}}", "type": "Vehicle", "speed": {"type": "Property", "values": [[80, "2020-08-01T12:05:00Z"], [100, "2020-08-01T12:07:00Z"]]} }
            """, history);
    }
}
