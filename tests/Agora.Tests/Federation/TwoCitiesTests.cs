using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Tests.Durability;
using Xunit.Abstractions;

namespace Agora.Tests.Federation;

/// Two real Agora processes on loopback, city A and city B: A answers with B's data through context source
/// registrations (clause 4.3.6), as a consumer of A would see it.
public sealed class TwoCitiesTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Entities = "/ngsi-ld/v1/entities";
    private const string Registrations = "/ngsi-ld/v1/csourceRegistrations";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-federation-tests", Guid.NewGuid().ToString("N"));

    private AgoraProcess a = null!;
    private AgoraProcess b = null!;
    private HttpClient clientA = null!;
    private HttpClient clientB = null!;

    private async Task<(AgoraProcess Process, HttpClient Client)> StartAsync(string city)
    {
        var process = AgoraProcess.Start(Path.Combine(_data, city), output, "--Agora:Federation:Alias", "agora-" + city);
        await process.WaitUntilAnsweringAsync();
        return (process, new HttpClient { BaseAddress = process.BaseAddress, Timeout = TimeSpan.FromSeconds(30) });
    }

    public async Task InitializeAsync()
    {
        (a, clientA) = await StartAsync("a");
        (b, clientB) = await StartAsync("b");
    }

    public Task DisposeAsync()
    {
        clientA.Dispose();
        clientB.Dispose();
        a.Dispose();
        b.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        return Task.CompletedTask;
    }

    private async Task<JsonNode> RegistrationAsync(string id) => JsonNode.Parse(await clientA.GetStringAsync(Registrations + "/" + id))!;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task CreateAsync(HttpClient client, string id, double no2, string district)
    {
        using var response = await client.PostAsync(Entities, Json($$$"""
            {"id": "{{{id}}}", "type": "AirQualityObserved",
             "NO2": {"type": "Property", "value": {{{no2}}}}, "district": {"type": "Property", "value": "{{{district}}}"}}
            """));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task RegisterAsync(HttpClient client, string id, Uri endpoint, string information, string mode = "inclusive", string operations = "[\"federationOps\"]")
    {
        using var response = await client.PostAsync(Registrations, Json($$$"""
            {"id": "{{{id}}}", "type": "ContextSourceRegistration", "information": {{{information}}}, "endpoint": "{{{endpoint}}}",
             "mode": "{{{mode}}}", "operations": {{{operations}}}, "management": {"timeout": 3000}}
            """));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<JsonArray> QueryAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync(Entities + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
    }

    private static IEnumerable<string> Ids(JsonArray entities) => entities.Select(e => (string)e!["id"]!).Order();

    [Fact]
    public async Task AQueryAtCityAReturnsTheEntitiesOfBothCities()
    {
        await CreateAsync(clientA, "urn:ngsi-ld:AirQualityObserved:A1", 21, "Centro");
        await CreateAsync(clientB, "urn:ngsi-ld:AirQualityObserved:B1", 35, "Norte");
        await CreateAsync(clientB, "urn:ngsi-ld:AirQualityObserved:B2", 12, "Norte");
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:B", b.BaseAddress, """[{"entities": [{"type": "AirQualityObserved"}]}]""");

        var all = await QueryAsync(clientA, "?type=AirQualityObserved");
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:A1", "urn:ngsi-ld:AirQualityObserved:B1", "urn:ngsi-ld:AirQualityObserved:B2"], Ids(all));
        var b1 = all.Single(e => (string)e!["id"]! == "urn:ngsi-ld:AirQualityObserved:B1")!;
        Assert.Equal(35, (double)b1["NO2"]!["value"]!);

        // q is evaluated by each city on its own entities.
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:B1"], Ids(await QueryAsync(clientA, "?type=AirQualityObserved&q=NO2>30")));
        // local=true answers from A's store alone.
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:A1"], Ids(await QueryAsync(clientA, "?type=AirQualityObserved&local=true")));

        // An entity only B holds can be retrieved through A.
        using var retrieved = await clientA.GetAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:B2");
        Assert.Equal(HttpStatusCode.OK, retrieved.StatusCode);
        Assert.Equal(12, (double)JsonNode.Parse(await retrieved.Content.ReadAsStringAsync())!["NO2"]!["value"]!);

        // The registration counts the requests A sent to B.
        var registration = await RegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:B");
        Assert.True((int)registration["timesSent"]! >= 3);
        Assert.Equal("ok", (string)registration["status"]!);
    }

    [Fact]
    public async Task AnExclusiveRegistrationHidesCityAsOwnCopyOfTheAttribute()
    {
        const string Id = "urn:ngsi-ld:AirQualityObserved:Shared";
        await CreateAsync(clientA, Id, 1, "Centro");
        await CreateAsync(clientB, Id, 99, "Norte");
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:NO2", b.BaseAddress,
            $$"""[{"entities": [{"type": "AirQualityObserved", "id": "{{Id}}"}], "propertyNames": ["NO2"]}]""", mode: "exclusive",
            operations: """["retrieveOps", "updateOps"]""");

        var entity = JsonNode.Parse(await clientA.GetStringAsync(Entities + "/" + Id))!;
        Assert.Equal(99, (double)entity["NO2"]!["value"]!);
        // Only the registered attribute comes from B; the rest is A's own.
        Assert.Equal("Centro", (string)entity["district"]!["value"]!);

        // An update of the registered attribute goes to B, not to A's store.
        using var update = await clientA.PatchAsync(Entities + "/" + Id + "/attrs", Json("""{"NO2": {"type": "Property", "value": 50}}"""));
        Assert.Equal(HttpStatusCode.NoContent, update.StatusCode);
        Assert.Equal(50, (double)JsonNode.Parse(await clientB.GetStringAsync(Entities + "/" + Id))!["NO2"]!["value"]!);
        Assert.Equal(1, (double)JsonNode.Parse(await clientA.GetStringAsync(Entities + "/" + Id + "?local=true"))!["NO2"]!["value"]!);
    }

    [Fact]
    public async Task ARedirectRegistrationSendsWritesAndReadsToCityB()
    {
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:Redirect", b.BaseAddress,
            """[{"entities": [{"type": "AirQualityObserved", "idPattern": "urn:ngsi-ld:AirQualityObserved:Norte.*"}]}]""", mode: "redirect",
            operations: """["redirectionOps"]""");

        await CreateAsync(clientA, "urn:ngsi-ld:AirQualityObserved:Norte1", 40, "Norte");

        // B holds it; A does not.
        using (var atB = await clientB.GetAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:Norte1"))
        {
            Assert.Equal(HttpStatusCode.OK, atB.StatusCode);
        }
        using (var atA = await clientA.GetAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:Norte1?local=true"))
        {
            Assert.Equal(HttpStatusCode.NotFound, atA.StatusCode);
        }
        // A client of A still reads it, through A.
        var entity = JsonNode.Parse(await clientA.GetStringAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:Norte1"))!;
        Assert.Equal(40, (double)entity["NO2"]!["value"]!);
    }

    [Fact]
    public async Task CityBStoppedGivesCityAsOwnAnswerWithAWarning()
    {
        await CreateAsync(clientA, "urn:ngsi-ld:AirQualityObserved:A1", 21, "Centro");
        await CreateAsync(clientB, "urn:ngsi-ld:AirQualityObserved:B1", 35, "Norte");
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:B", b.BaseAddress, """[{"entities": [{"type": "AirQualityObserved"}]}]""");
        b.Kill();

        var clock = Stopwatch.StartNew();
        using var response = await clientA.GetAsync(Entities + "?type=AirQualityObserved");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the answer took {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:A1"], Ids(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray()));
        var warning = Assert.Single(response.Headers.GetValues("NGSILD-Warning"));
        Assert.Contains("urn:ngsi-ld:ContextSourceRegistration:B", warning);

        var registration = await RegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:B");
        Assert.Equal("failed", (string)registration["status"]!);
    }

    [Fact]
    public async Task ARegistrationLoopBetweenTheCitiesTerminates()
    {
        await CreateAsync(clientA, "urn:ngsi-ld:AirQualityObserved:A1", 21, "Centro");
        await CreateAsync(clientB, "urn:ngsi-ld:AirQualityObserved:B1", 35, "Norte");
        const string Information = """[{"entities": [{"type": "AirQualityObserved"}]}]""";
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:AtoB", b.BaseAddress, Information, operations: """["federationOps", "redirectionOps"]""");
        await RegisterAsync(clientB, "urn:ngsi-ld:ContextSourceRegistration:BtoA", a.BaseAddress, Information);

        var clock = Stopwatch.StartNew();
        using var response = await clientA.GetAsync(Entities + "?type=AirQualityObserved");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the answer took {clock.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // A's query reached B, B's forward came back to A, which answered from its own store: each entity once.
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:A1", "urn:ngsi-ld:AirQualityObserved:B1"], Ids(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray()));

        // A write that comes back is refused as a loop (508) by the city it started from.
        using var request = new HttpRequestMessage(HttpMethod.Delete, Entities + "/urn:ngsi-ld:AirQualityObserved:A1") { Headers = { { "Via", "1.1 agora-a" } } };
        using var looped = await clientA.SendAsync(request);
        Assert.Equal((HttpStatusCode)508, looped.StatusCode);
    }

    [Fact]
    public async Task AnAuxiliarySourceOnlyFillsAttributesCityALacks()
    {
        const string Id = "urn:ngsi-ld:AirQualityObserved:Shared";
        await CreateAsync(clientA, Id, 1, "Centro");
        using (var pm10 = await clientB.PostAsync(Entities, Json($$$"""
            {"id": "{{{Id}}}", "type": "AirQualityObserved", "NO2": {"type": "Property", "value": 99}, "PM10": {"type": "Property", "value": 7}}
            """)))
        {
            Assert.Equal(HttpStatusCode.Created, pm10.StatusCode);
        }
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:Aux", b.BaseAddress, """[{"entities": [{"type": "AirQualityObserved"}]}]""", mode: "auxiliary");

        var entity = JsonNode.Parse(await clientA.GetStringAsync(Entities + "/" + Id))!;
        Assert.Equal(1, (double)entity["NO2"]!["value"]!);
        Assert.Equal(7, (double)entity["PM10"]!["value"]!);
    }

    [Fact]
    public async Task ABatchUpsertAtCityAReachesCityBInOneRequest()
    {
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:Batch", b.BaseAddress, """[{"entities": [{"type": "AirQualityObserved"}]}]""",
            operations: """["redirectionOps", "upsertBatch"]""");

        using var upsert = await clientA.PostAsync("/ngsi-ld/v1/entityOperations/upsert", Json("""
            [{"id": "urn:ngsi-ld:AirQualityObserved:U1", "type": "AirQualityObserved", "NO2": {"type": "Property", "value": 5}},
             {"id": "urn:ngsi-ld:AirQualityObserved:U2", "type": "AirQualityObserved", "NO2": {"type": "Property", "value": 6}}]
            """));
        Assert.Equal(HttpStatusCode.Created, upsert.StatusCode);

        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:U1", "urn:ngsi-ld:AirQualityObserved:U2"], Ids(await QueryAsync(clientB, "?type=AirQualityObserved")));
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:U1", "urn:ngsi-ld:AirQualityObserved:U2"], Ids(await QueryAsync(clientA, "?type=AirQualityObserved&local=true")));
        Assert.Equal(1, (int)(await RegistrationAsync("urn:ngsi-ld:ContextSourceRegistration:Batch"))["timesSent"]!);
    }

    [Fact]
    public async Task AWriteWhoseSourceIsDownIsAPartialSuccessNamingTheRegistration()
    {
        await CreateAsync(clientA, "urn:ngsi-ld:AirQualityObserved:A1", 21, "Centro");
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:Down", b.BaseAddress, """[{"entities": [{"type": "AirQualityObserved"}]}]""",
            operations: """["redirectionOps"]""");
        b.Kill();

        using var update = await clientA.PatchAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:A1/attrs", Json("""{"NO2": {"type": "Property", "value": 22}}"""));
        Assert.Equal((HttpStatusCode)207, update.StatusCode);
        var result = JsonNode.Parse(await update.Content.ReadAsStringAsync())!;
        var error = Assert.Single(result["errors"]!.AsArray())!;
        Assert.Equal("urn:ngsi-ld:ContextSourceRegistration:Down", (string)error["registrationId"]!);
        Assert.Equal(504, (int)error["error"]!["status"]!);
        // The local part was done.
        Assert.Equal(22, (double)JsonNode.Parse(await clientA.GetStringAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:A1?local=true"))!["NO2"]!["value"]!);
    }

    [Fact]
    public async Task HistoryAndDiscoveryAtCityAIncludeCityB()
    {
        await CreateAsync(clientA, "urn:ngsi-ld:AirQualityObserved:A1", 21, "Centro");
        await CreateAsync(clientB, "urn:ngsi-ld:AirQualityObserved:B1", 35, "Norte");
        using (var update = await clientB.PatchAsync(Entities + "/urn:ngsi-ld:AirQualityObserved:B1/attrs", Json("""{"NO2": {"type": "Property", "value": 36}}""")))
        {
            Assert.Equal(HttpStatusCode.NoContent, update.StatusCode);
        }
        using (var water = await clientB.PostAsync(Entities, Json("""{"id": "urn:ngsi-ld:WaterQualityObserved:B9", "type": "WaterQualityObserved", "pH": {"type": "Property", "value": 7.1}}""")))
        {
            Assert.Equal(HttpStatusCode.Created, water.StatusCode);
        }
        await RegisterAsync(clientA, "urn:ngsi-ld:ContextSourceRegistration:B", b.BaseAddress,
            """[{"entities": [{"type": "AirQualityObserved"}, {"type": "WaterQualityObserved"}]}]""",
            operations: """["federationOps", "retrieveTemporal", "queryTemporal"]""");

        var history = JsonNode.Parse(await clientA.GetStringAsync("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:AirQualityObserved:B1?attrs=NO2"))!;
        Assert.Equal([35.0, 36.0], history["NO2"]!.AsArray().Select(i => (double)i!["value"]!).Order());

        var histories = JsonNode.Parse(await clientA.GetStringAsync("/ngsi-ld/v1/temporal/entities?type=AirQualityObserved&attrs=NO2"))!.AsArray();
        Assert.Equal(["urn:ngsi-ld:AirQualityObserved:A1", "urn:ngsi-ld:AirQualityObserved:B1"], Ids(histories));

        var types = JsonNode.Parse(await clientA.GetStringAsync("/ngsi-ld/v1/types"))!["typeList"]!.AsArray().Select(t => (string)t!).Order();
        Assert.Equal(["AirQualityObserved", "WaterQualityObserved"], types);
        var attributes = JsonNode.Parse(await clientA.GetStringAsync("/ngsi-ld/v1/attributes"))!["attributeList"]!.AsArray().Select(t => (string)t!);
        Assert.Contains("pH", attributes);
    }
}
