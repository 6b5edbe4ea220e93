using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Agora.Tests.Security;
using Xunit.Abstractions;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// A benchmark, not a test: it runs only with AGORA_BENCH=1 and asserts nothing about time.
public sealed class BenchFactAttribute : FactAttribute
{
    public BenchFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("AGORA_BENCH") != "1")
        {
            Skip = "A benchmark: run it with AGORA_BENCH=1 dotnet test tests/Agora.Tests --filter Category=Bench";
        }
    }
}

/// What enforcing an agreement costs a type query: the same query (10,000 entities, limit=20) as the city's admin
/// and through agreements, in-process over the test server, one request at a time.
public sealed class EnforcementBench(ITestOutputHelper output)
{
    private const int Entities = 10_000;
    private const int Requests = 2_000;
    private const string Query = EntitiesPath + "?type=AirQualityObserved&limit=20";

    [BenchFact]
    [Trait("Category", "Bench")]
    public async Task ATypeQueryThroughAnAgreementAgainstTheSameQueryAsAdmin()
    {
        await using var market = await StationsAsync();
        var (_, typesOnly) = await market.AgreementAsync("""{"name": "All stations", "entityTypes": ["AirQualityObserved"]}""");
        var (_, full) = await market.AgreementAsync($$$"""
            {"name": "Centro", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2", "PM10"], "area": {{{MarketAgora.District}}}}
            """);
        using var typesClient = market.Consumer(typesOnly);
        using var fullClient = market.Consumer(full);

        var admin = await MeasureAsync(market.Admin, Query);
        var types = await MeasureAsync(typesClient, Query);
        var scoped = await MeasureAsync(fullClient, Query);
        // The query the full agreement rewrites to, asked by the admin: what the scope's filters cost by themselves.
        var coordinates = Uri.EscapeDataString(System.Text.Json.Nodes.JsonNode.Parse(MarketAgora.District)!["coordinates"]!.ToJsonString());
        var equivalent = await MeasureAsync(market.Admin, $"{Query}&attrs=NO2,PM10&georel=intersects&geometry=Polygon&coordinates={coordinates}");

        output.WriteLine($"{"caller",-40} {"median ms",10} {"req/s",8}");
        foreach (var (name, (median, rate)) in new[] { ("admin key", admin), ("agreement: type only", types), ("agreement: type, 2 attributes, area", scoped), ("admin key, same narrowed query", equivalent) })
        {
            output.WriteLine($"{name,-40} {median,10:F3} {rate,8:F0}");
        }
    }

    /// The same type query through a consumer organisation whose two agreements (all stations; Centro with two
    /// attributes) are merged, against one of them alone; fewer requests, as a union read costs more.
    [BenchFact]
    [Trait("Category", "Bench")]
    public async Task ATypeQueryThroughTheUnionOfTwoAgreements()
    {
        await using var market = await StationsAsync();
        var (_, typesOnly) = await market.AgreementAsync("""{"name": "All stations", "entityTypes": ["AirQualityObserved"]}""");
        await market.AgreementAsync($$$"""
            {"name": "Centro", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2", "PM10"], "area": {{{MarketAgora.District}}}}
            """);
        using var single = market.Consumer(typesOnly);
        using var union = market.Consumer((string)(await market.ConsumerOrganisationAsync())["key"]!);

        var one = await MeasureAsync(single, Query, 200);
        var both = await MeasureAsync(union, Query, 200);
        var counted = await MeasureAsync(union, Query + "&count=true", 20);

        output.WriteLine($"{"caller",-48} {"median ms",10} {"req/s",8}");
        foreach (var (name, (median, rate)) in new[] { ("agreement: type only", one), ("consumer: union of both", both), ("consumer: union of both, count=true", counted) })
        {
            output.WriteLine($"{name,-48} {median,10:F3} {rate,8:F0}");
        }
    }

    // 10,000 air quality stations on a grid over the district, with three attributes, written by the city's admin.
    private static async Task<MarketAgora> StationsAsync()
    {
        var market = new MarketAgora();
        for (var batch = 0; batch < Entities / 1000; batch++)
        {
            var body = new StringBuilder("[");
            for (var i = 0; i < 1000; i++)
            {
                var n = batch * 1000 + i;
                var lon = (-3.709 + (n % 100) * 0.00018).ToString("F5", CultureInfo.InvariantCulture);
                var lat = (40.411 + (n / 100) * 0.00018).ToString("F5", CultureInfo.InvariantCulture);
                body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $$"""
                    {"id": "urn:ngsi-ld:AirQualityObserved:{{n}}", "type": "AirQualityObserved", "NO2": {{n % 90}}, "PM10": 12, "temperature": 20,
                     "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [{{lon}}, {{lat}}]} } }
                    """);
            }
            using var upsert = await market.Admin.PostAsync("/ngsi-ld/v1/entityOperations/upsert", Json(body.Append(']').ToString()));
            Assert.True(upsert.IsSuccessStatusCode);
        }
        return market;
    }

    private static async Task<(double MedianMs, double PerSecond)> MeasureAsync(HttpClient client, string query, int requests = Requests)
    {
        for (var i = 0; i < requests / 10; i++)
        {
            using var warm = await client.GetAsync(query);
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        var times = new double[requests];
        var total = Stopwatch.StartNew();
        for (var i = 0; i < requests; i++)
        {
            var one = Stopwatch.StartNew();
            using var response = await client.GetAsync(query);
            await response.Content.ReadAsByteArrayAsync();
            times[i] = one.Elapsed.TotalMilliseconds;
        }
        var seconds = total.Elapsed.TotalSeconds;
        Array.Sort(times);
        return (times[requests / 2], requests / seconds);
    }
}
