using System.Text.Json.Nodes;
using static Agora.Tests.Temporal.TemporalClient;

namespace Agora.Tests.Temporal;

/// The aggregated representation (clause 4.5.19): per method, [value, periodStart, periodEnd] for each period
/// that holds instances, worked out here by hand.
public sealed class AggregationTests
{
    private const string Id = "urn:ngsi-ld:Meter:1";

    // 1, 2, 3 in the hour from 10:00 and 4, 6 in the hour from 11:00.
    private const string Readings = $$"""
        {
          "id": "{{Id}}", "type": "Meter",
          "reading": [
            {"type": "Property", "value": 1, "observedAt": "2020-08-01T10:00:00Z"},
            {"type": "Property", "value": 2, "observedAt": "2020-08-01T10:20:00Z"},
            {"type": "Property", "value": 3, "observedAt": "2020-08-01T10:40:00Z"},
            {"type": "Property", "value": 4, "observedAt": "2020-08-01T11:10:00Z"},
            {"type": "Property", "value": 6, "observedAt": "2020-08-01T11:50:00Z"}
          ]
        }
        """;

    private static async Task<AgoraApplication> MeterAsync(string history = Readings)
    {
        var app = new AgoraApplication();
        await app.CreateHistoryAsync(history);
        return app;
    }

    private static async Task<JsonObject> AggregatedAsync(AgoraApplication app, string methods, string query, string attr = "reading")
    {
        var history = await app.HistoryAsync(Id, $"?options=aggregatedValues&aggrMethods={methods}{query}");
        Assert.Null(history[attr]?["values"]);
        return history[attr]!.AsObject();
    }

    // Per method, the value for the 10:00 hour (1, 2, 3) and the 11:00 hour (4, 6).
    public static TheoryData<string, double, double> Methods => new()
    {
        { "totalCount", 3, 2 },
        { "distinctCount", 3, 2 },
        { "sum", 1 + 2 + 3, 4 + 6 },
        { "avg", (1 + 2 + 3) / 3.0, (4 + 6) / 2.0 },
        { "min", 1, 4 },
        { "max", 3, 6 },
        // Sample standard deviation: squared deviations from the mean 2 are 1, 0, 1, over n - 1 = 2; from the
        // mean 5 they are 1, 1, over n - 1 = 1.
        { "stddev", Math.Sqrt((1 + 0 + 1) / 2.0), Math.Sqrt((1 + 1) / 1.0) },
        { "sumsq", 1 + 4 + 9, 16 + 36 },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task EachMethodAggregatesEachPeriod(string method, double first, double second)
    {
        await using var app = await MeterAsync();

        var reading = await AggregatedAsync(app, method, "&aggrPeriodDuration=PT1H");

        Assert.Equal(new[] { "type", method }.Order(StringComparer.Ordinal), reading.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("Property", (string?)reading["type"]);
        var periods = reading[method]!.AsArray();
        Assert.Equal(2, periods.Count);
        AssertPeriod(periods[0]!, first, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z");
        AssertPeriod(periods[1]!, second, "2020-08-01T11:00:00Z", "2020-08-01T12:00:00Z");
    }

    private static void AssertPeriod(JsonNode period, double value, string start, string end)
    {
        var triple = period.AsArray();
        Assert.Equal(3, triple.Count);
        Assert.Equal(value, triple[0]!.GetValue<double>(), 9);
        Assert.Equal(start, (string?)triple[1]);
        Assert.Equal(end, (string?)triple[2]);
    }

    [Fact]
    public async Task SeveralMethodsAreAnsweredTogether()
    {
        await using var app = await MeterAsync();

        var reading = await AggregatedAsync(app, "min,max", "&aggrPeriodDuration=P1D");

        NumbersEqual("""
            {
              "type": "Property",
              "min": [[1, "2020-08-01T10:00:00Z", "2020-08-02T10:00:00Z"]],
              "max": [[6, "2020-08-01T10:00:00Z", "2020-08-02T10:00:00Z"]]
            }
            """, reading);
    }

    [Fact]
    public async Task PeriodsStartAtTimeAtWhenAfterGivesOne()
    {
        await using var app = await MeterAsync();

        var reading = await AggregatedAsync(app, "sum", "&aggrPeriodDuration=PT1H&timerel=after&timeAt=2020-08-01T09:30:00Z");

        // 09:30–10:30 holds 1 and 2, 10:30–11:30 holds 3 and 4, 11:30–12:30 holds 6.
        NumbersEqual("""
            {"type": "Property", "sum": [
              [3, "2020-08-01T09:30:00Z", "2020-08-01T10:30:00Z"],
              [7, "2020-08-01T10:30:00Z", "2020-08-01T11:30:00Z"],
              [6, "2020-08-01T11:30:00Z", "2020-08-01T12:30:00Z"]
            ]}
            """, reading);
    }

    [Fact]
    public async Task PeriodsStartAtTimeAtAndStopAtEndTimeAtWhenBetween()
    {
        await using var app = await MeterAsync();

        var reading = await AggregatedAsync(app, "sum", "&aggrPeriodDuration=PT1H&timerel=between&timeAt=2020-08-01T09:30:00Z&endTimeAt=2020-08-01T11:30:00Z");

        // 6 at 11:50 lies beyond the end.
        NumbersEqual("""
            {"type": "Property", "sum": [
              [3, "2020-08-01T09:30:00Z", "2020-08-01T10:30:00Z"],
              [7, "2020-08-01T10:30:00Z", "2020-08-01T11:30:00Z"]
            ]}
            """, reading);
    }

    [Fact]
    public async Task WithoutAPeriodTheWholeWindowIsOnePeriod()
    {
        await using var app = await MeterAsync();

        var reading = await AggregatedAsync(app, "sum,totalCount", "&timerel=between&timeAt=2020-08-01T09:00:00Z&endTimeAt=2020-08-01T12:00:00Z");

        NumbersEqual("""
            {"type": "Property",
             "sum": [[16, "2020-08-01T09:00:00Z", "2020-08-01T12:00:00Z"]],
             "totalCount": [[5, "2020-08-01T09:00:00Z", "2020-08-01T12:00:00Z"]]}
            """, reading);
    }

    [Fact]
    public async Task WithoutAPeriodOrWindowOnePeriodSpansTheInstances()
    {
        await using var app = await MeterAsync();

        var reading = await AggregatedAsync(app, "sum", "");

        // One period from the first instance (10:00) to at least the last (11:50), its bounds whole-second
        // DateTimes like every other period's.
        var period = Assert.Single(reading["sum"]!.AsArray())!.AsArray();
        Assert.Equal(16, period[0]!.GetValue<double>());
        Assert.Equal("2020-08-01T10:00:00Z", (string?)period[1]);
        var end = (string)period[2]!;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", end);
        Assert.True(string.CompareOrdinal(end, "2020-08-01T11:50:00Z") >= 0, end);
    }

    [Fact]
    public async Task EmptyPeriodsAreLeftOut()
    {
        await using var app = await MeterAsync($$"""
            {"id": "{{Id}}", "type": "Meter", "reading": [{{P(5, "2020-08-01T10:00:00Z")}}, {{P(7, "2020-08-01T12:30:00Z")}}]}
            """);

        var reading = await AggregatedAsync(app, "totalCount", "&aggrPeriodDuration=PT1H");

        NumbersEqual("""
            {"type": "Property", "totalCount": [
              [1, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z"],
              [1, "2020-08-01T12:00:00Z", "2020-08-01T13:00:00Z"]
            ]}
            """, reading);
    }

    // A calendar month: February has 29 days in 2024 and 28 in 2023. The reading on the last day of February
    // and the one on the first of March fall in different months; a 30-day period would put both in February.
    [Theory]
    [InlineData(2024, 29)]
    [InlineData(2023, 28)]
    public async Task AMonthPeriodFollowsTheCalendarAcrossFebruary(int year, int lastOfFebruary)
    {
        await using var app = await MeterAsync($$"""
            {"id": "{{Id}}", "type": "Meter", "reading": [
              {{P(1, $"{year}-02-10T12:00:00Z")}}, {{P(2, $"{year}-02-{lastOfFebruary}T12:00:00Z")}}, {{P(4, $"{year}-03-01T12:00:00Z")}}
            ]}
            """);

        var reading = await AggregatedAsync(app, "sum", $"&aggrPeriodDuration=P1M&timerel=after&timeAt={year}-02-01T00:00:00Z");

        NumbersEqual($$"""
            {"type": "Property", "sum": [
              [3, "{{year}}-02-01T00:00:00Z", "{{year}}-03-01T00:00:00Z"],
              [4, "{{year}}-03-01T00:00:00Z", "{{year}}-04-01T00:00:00Z"]
            ]}
            """, reading);
    }

    [Fact]
    public async Task BooleansCountAsOneAndZero()
    {
        await using var app = await MeterAsync($$"""
            {"id": "{{Id}}", "type": "Meter", "open": [
              {"type": "Property", "value": true, "observedAt": "2020-08-01T10:00:00Z"},
              {"type": "Property", "value": false, "observedAt": "2020-08-01T10:20:00Z"},
              {"type": "Property", "value": true, "observedAt": "2020-08-01T10:40:00Z"}
            ]}
            """);

        var open = await AggregatedAsync(app, "sum,avg", "&aggrPeriodDuration=PT1H", "open");

        AssertPeriod(Assert.Single(open["sum"]!.AsArray())!, 2, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z");
        AssertPeriod(Assert.Single(open["avg"]!.AsArray())!, 2 / 3.0, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z");
    }

    [Fact]
    public async Task StringsCompareAsText()
    {
        await using var app = await MeterAsync($$"""
            {"id": "{{Id}}", "type": "Meter", "fruit": [
              {{P("pear", "2020-08-01T10:00:00Z")}}, {{P("apple", "2020-08-01T10:10:00Z")}},
              {{P("pear", "2020-08-01T10:20:00Z")}}, {{P("fig", "2020-08-01T10:30:00Z")}}
            ]}
            """);

        var fruit = await AggregatedAsync(app, "min,max,totalCount,distinctCount", "&aggrPeriodDuration=PT1H", "fruit");

        NumbersEqual("""
            {"type": "Property",
             "min": [["apple", "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z"]],
             "max": [["pear", "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z"]],
             "totalCount": [[4, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z"]],
             "distinctCount": [[3, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z"]]}
            """, fruit);
    }

    [Fact]
    public async Task AQueryAggregatesEachEntity()
    {
        await using var app = await MeterAsync();

        var entities = await app.TemporalQueryAsync("type=Meter&timerel=after&timeAt=2020-08-01T10:00:00Z&options=aggregatedValues&aggrMethods=max&aggrPeriodDuration=PT1H");

        NumbersEqual($$"""
            [{"id": "{{Id}}", "type": "Meter", "reading": {"type": "Property", "max": [
              [3, "2020-08-01T10:00:00Z", "2020-08-01T11:00:00Z"], [6, "2020-08-01T11:00:00Z", "2020-08-01T12:00:00Z"]
            ]} }]
            """, entities);
    }

    // Equal JSON, numbers compared as doubles so that 6 and 6.0 are one value.
    private static void NumbersEqual(string expected, JsonNode actual)
    {
        var want = Numbers(JsonNode.Parse(expected)!);
        var got = Numbers(actual);
        Assert.True(JsonNode.DeepEquals(want, got), $"Expected {want.ToJsonString()}\nbut got  {got.ToJsonString()}");
    }

    // The same JSON with every number as a double.
    private static JsonNode Numbers(JsonNode node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)Numbers(p.Value!)))),
        JsonArray a => new JsonArray([.. a.Select(i => (JsonNode?)Numbers(i!))]),
        JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => JsonValue.Create(v.GetValue<double>()),
        _ => node.DeepClone(),
    };
}
