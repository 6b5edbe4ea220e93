using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Tests.Durability;
using Agora.Tests.Market;
using Agora.Tests.Security;
using Xunit.Abstractions;

namespace Agora.Tests.Federation;

/// A consumer of city A's marketplace reads through A what city B holds, and the agreement narrows that too:
/// entities outside its area and attributes outside its terms do not come back from B either.
public sealed class MarketFederationTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-federation-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task AnAgreementNarrowsWhatCityBSupplies()
    {
        using var b = AgoraProcess.Start(_data, output);
        await b.WaitUntilAnsweringAsync();
        using var clientB = new HttpClient { BaseAddress = b.BaseAddress };
        foreach (var (id, lon) in new[] { ("urn:ngsi-ld:AirQualityObserved:b-centro", -3.70), ("urn:ngsi-ld:AirQualityObserved:b-vallecas", -3.65) })
        {
            using var created = await clientB.PostAsync("/ngsi-ld/v1/entities", new StringContent($$$$"""
                {"id": "{{{{id}}}}", "type": "AirQualityObserved", "NO2": 41, "PM10": 18, "temperature": 21.5,
                 "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [{{{{lon.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}}, 40.42]}}}
                """, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var market = new MarketAgora();
        using (var registered = await market.Admin.PostAsync("/ngsi-ld/v1/csourceRegistrations", AgoraApplication.Json($$"""
            {"type": "ContextSourceRegistration", "information": [{"entities": [{"type": "AirQualityObserved"}]}], "endpoint": "{{b.BaseAddress}}"}
            """)))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }
        var (_, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);

        using var read = await consumer.GetAsync("/ngsi-ld/v1/entities?type=AirQualityObserved&options=keyValues");
        var entities = (await SecuredAgora.JsonAsync(read)).AsArray();
        var entity = Assert.Single(entities)!;
        Assert.Equal("urn:ngsi-ld:AirQualityObserved:b-centro", (string)entity["id"]!);
        Assert.Equal(["NO2", "PM10", "id", "type"], entity.AsObject().Select(p => p.Key).Order());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
