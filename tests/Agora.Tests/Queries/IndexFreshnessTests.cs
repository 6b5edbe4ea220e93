using System.Net;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.Queries.QueryClient;

namespace Agora.Tests.Queries;

/// Queries narrow by indexes kept beside the documents: every kind of write must leave them describing the new
/// state, so a query never matches what an entity was (a stale index row) nor misses what it became.
public sealed class IndexFreshnessTests
{
    private const string Id = "urn:ngsi-ld:Sensor:1";

    private const string Sensor = """
        {"id": "urn:ngsi-ld:Sensor:1", "type": "Sensor",
         "temperature": {"type": "Property", "value": 21, "accuracy": {"type": "Property", "value": 0.5}},
         "status": "ok",
         "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [13.400, 52.500]}}}
        """;

    private const string NearOld = "georel=near%3BmaxDistance%3D%3D100&geometry=Point&coordinates=%5B13.400%2C52.500%5D";
    private const string NearNew = "georel=near%3BmaxDistance%3D%3D100&geometry=Point&coordinates=%5B2.350%2C48.850%5D";
    private const string Moved = """{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.350, 48.850]}}""";

    private static async Task<AgoraApplication> WithSensorAsync()
    {
        var app = new AgoraApplication();
        await app.CreateEntityAsync(Sensor);
        return app;
    }

    private static async Task SendAsync(AgoraApplication app, HttpMethod method, string path, string? body = null)
    {
        using var client = app.CreateClient();
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// The old values and position match nothing; the new ones match the sensor.
    private static async Task AssertMovedAndWarmerAsync(AgoraApplication app)
    {
        Assert.Empty(await app.IdsAsync("q=temperature==21"));
        Assert.Empty(await app.IdsAsync("q=temperature<25"));
        Assert.Equal([Id], await app.IdsAsync("q=temperature==30"));
        Assert.Equal([Id], await app.IdsAsync("q=temperature>25"));
        Assert.Empty(await app.IdsAsync("type=Sensor&" + NearOld));
        Assert.Equal([Id], await app.IdsAsync("type=Sensor&" + NearNew));
    }

    [Fact]
    public async Task AfterAnAttributeUpdateQueriesSeeTheNewValues()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Id), $$"""{"temperature": 30, "location": {{Moved}}}""");

        await AssertMovedAndWarmerAsync(app);
    }

    [Fact]
    public async Task AfterAPartialAttributeUpdateQueriesSeeTheNewValue()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Patch, AttrPath(Id, "temperature"), """{"value": 30}""");
        await SendAsync(app, HttpMethod.Put, AttrPath(Id, "location"), Moved);

        await AssertMovedAndWarmerAsync(app);
        Assert.Equal([Id], await app.IdsAsync("q=temperature.accuracy==0.5"));
    }

    [Fact]
    public async Task AfterAMergeQueriesSeeTheNewValues()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Patch, EntityPath(Id), $$"""{"temperature": {"value": 30}, "location": {{Moved}}}""");

        await AssertMovedAndWarmerAsync(app);
    }

    [Fact]
    public async Task AfterAMergeWithNullTheAttributeNoLongerMatches()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Patch, EntityPath(Id), """{"status": "urn:ngsi-ld:null", "location": "urn:ngsi-ld:null"}""");

        Assert.Empty(await app.IdsAsync("q=status"));
        Assert.Empty(await app.IdsAsync("q=status==\"ok\""));
        Assert.Empty(await app.IdsAsync("type=Sensor&" + NearOld));
        Assert.Equal([Id], await app.IdsAsync("q=!status"));
    }

    [Fact]
    public async Task AfterAnAttributeDeleteItNoLongerMatches()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Delete, AttrPath(Id, "temperature"));
        await SendAsync(app, HttpMethod.Delete, AttrPath(Id, "location"));

        Assert.Empty(await app.IdsAsync("q=temperature"));
        Assert.Empty(await app.IdsAsync("q=temperature==21"));
        Assert.Empty(await app.IdsAsync("q=temperature.accuracy"));
        Assert.Empty(await app.IdsAsync("attrs=temperature"));
        Assert.Empty(await app.IdsAsync("type=Sensor&" + NearOld));
        Assert.Equal([Id], await app.IdsAsync("q=status==\"ok\""));
    }

    [Fact]
    public async Task AfterAReplaceOnlyTheNewAttributesMatch()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Put, EntityPath(Id), $$"""{"temperature": 30, "location": {{Moved}}}""");

        await AssertMovedAndWarmerAsync(app);
        Assert.Empty(await app.IdsAsync("q=status"));
        Assert.Empty(await app.IdsAsync("q=temperature.accuracy"));
    }

    [Fact]
    public async Task AfterAReplaceWithAnotherTypeTheOldTypeNoLongerMatches()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Put, EntityPath(Id), """{"type": "Thermometer", "temperature": 30}""");

        Assert.Empty(await app.IdsAsync("type=Sensor"));
        Assert.Equal([Id], await app.IdsAsync("type=Thermometer"));
    }

    [Fact]
    public async Task AfterAnEntityDeleteNothingMatchesIt()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Delete, EntityPath(Id));

        Assert.Empty(await app.IdsAsync("type=Sensor"));
        Assert.Empty(await app.IdsAsync("q=temperature==21"));
        Assert.Empty(await app.IdsAsync("attrs=status"));
        Assert.Empty(await app.IdsAsync("type=Sensor&" + NearOld));
    }

    [Fact]
    public async Task ARecreatedEntityMatchesOnlyItsNewValues()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Delete, EntityPath(Id));
        await app.CreateEntityAsync($$"""{"id": "{{Id}}", "type": "Sensor", "temperature": 30, "location": {{Moved}}}""");

        await AssertMovedAndWarmerAsync(app);
    }

    [Fact]
    public async Task AfterABatchUpsertQueriesSeeTheNewState()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert",
            $$"""[{"id": "{{Id}}", "type": "Sensor", "temperature": 30, "location": {{Moved}}}]""");

        await AssertMovedAndWarmerAsync(app);
        Assert.Empty(await app.IdsAsync("q=status"));
    }

    [Fact]
    public async Task AfterABatchUpsertWithUpdateTheUntouchedAttributesStillMatch()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert?options=update",
            $$"""[{"id": "{{Id}}", "type": "Sensor", "temperature": 30, "location": {{Moved}}}]""");

        await AssertMovedAndWarmerAsync(app);
        Assert.Equal([Id], await app.IdsAsync("q=status==\"ok\""));
    }

    [Fact]
    public async Task AfterBatchUpdateMergeAndDeleteQueriesSeeTheNewState()
    {
        await using var app = await WithSensorAsync();

        await SendAsync(app, HttpMethod.Post, "/ngsi-ld/v1/entityOperations/update", $$"""[{"id": "{{Id}}", "temperature": 30}]""");
        await SendAsync(app, HttpMethod.Post, "/ngsi-ld/v1/entityOperations/merge", $$"""[{"id": "{{Id}}", "location": {{Moved}}}]""");
        await AssertMovedAndWarmerAsync(app);

        await SendAsync(app, HttpMethod.Post, "/ngsi-ld/v1/entityOperations/delete", $$"""["{{Id}}"]""");
        Assert.Empty(await app.IdsAsync("q=temperature==30"));
        Assert.Empty(await app.IdsAsync("type=Sensor&" + NearNew));
    }
}
