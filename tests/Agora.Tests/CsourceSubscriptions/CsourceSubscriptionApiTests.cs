using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.CsourceSubscriptions.CsourceSubscriptionClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.CsourceSubscriptions;

public sealed class CsourceSubscriptionApiTests
{
    private const string Id = "urn:ngsi-ld:Subscription:csub1";

    [Fact]
    public async Task CreatedSubscriptionReadsBackInTheRequestContext()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, CsourceSubscription(Id, """
            , "watchedAttributes": ["name"], "geoQ": {"geometry": "Point", "coordinates": [2.35, 48.85], "georel": "near;maxDistance==2000"},
            "csf": "mode==inclusive", "expiresAt": "2099-01-01T00:00:00Z", "throttling": 5, "lang": "en"
            """));

        var read = await ReadAsync(app, CsourceSubscriptionPath(Id));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/ngsi-ld/v1/csourceSubscriptions/{Id}", created.Headers.Location?.ToString());
        JsonEqual($$$"""
            {"id": "{{{Id}}}", "type": "Subscription", "entities": [{"type": "Building"}], "watchedAttributes": ["name"],
             "geoQ": {"geometry": "Point", "coordinates": [2.35, 48.85], "georel": "near;maxDistance==2000", "geoproperty": "location"},
             "csf": "mode==inclusive", "expiresAt": "2099-01-01T00:00:00Z", "throttling": 5, "lang": "en",
             "notification": {"endpoint": {"uri": "http://localhost:1234/notify", "accept": "application/json"}}, "status": "active"}
            """, read);
    }

    [Fact]
    public async Task SubscriptionWithoutIdGetsOne()
    {
        await using var app = new AgoraApplication();

        using var created = await CreateAsync(app, """
            {"type": "Subscription", "watchedAttributes": ["name"], "notification": {"endpoint": {"uri": "http://localhost:1234/notify"}}}
            """);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("/ngsi-ld/v1/csourceSubscriptions/urn:ngsi-ld:Subscription:", created.Headers.Location?.ToString());
        await ReadAsync(app, created.Headers.Location!.ToString());
    }

    [Fact]
    public async Task CreatingAnExistingIdIsAConflict()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Id));

        using var again = await CreateAsync(app, CsourceSubscription(Id));

        await ProblemAsync(again, HttpStatusCode.Conflict, "AlreadyExists");
    }

    [Fact]
    public async Task RetrievingAnUnknownSubscriptionIsNotFound()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Id));

        using var response = await GetAsync(app, CsourceSubscriptionPath("urn:ngsi-ld:Subscription:none"));

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task EntitySubscriptionsAndCsourceSubscriptionsAreApart()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Id));

        using var response = await GetAsync(app, "/ngsi-ld/v1/subscriptions/" + Uri.EscapeDataString(Id));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task ListPagesWithLimitOffsetAndCount()
    {
        await using var app = new AgoraApplication();
        foreach (var n in new[] { 1, 2, 3 })
        {
            await SubscribeAsync(app, CsourceSubscription($"urn:ngsi-ld:Subscription:{n}"));
        }

        using var response = await GetAsync(app, CsourceSubscriptionsPath + "?limit=2&offset=1&count=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("NGSILD-Results-Count").Single());
        var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
        Assert.Equal(["urn:ngsi-ld:Subscription:2", "urn:ngsi-ld:Subscription:3"], page.Select(s => (string)s!["id"]!));
    }

    [Fact]
    public async Task PatchReplacesMembersAndDeleteRemovesTheSubscription()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Id));

        using var patched = await SendAsync(app, HttpMethod.Patch, CsourceSubscriptionPath(Id), """{"isActive": false, "subscriptionName": "paused one"}""");
        var read = await ReadAsync(app, CsourceSubscriptionPath(Id));
        using var deleted = await SendAsync(app, HttpMethod.Delete, CsourceSubscriptionPath(Id));
        using var gone = await GetAsync(app, CsourceSubscriptionPath(Id));
        using var deletedAgain = await SendAsync(app, HttpMethod.Delete, CsourceSubscriptionPath(Id));

        Assert.Equal(HttpStatusCode.NoContent, patched.StatusCode);
        Assert.Equal("paused", (string?)read["status"]);
        Assert.Equal("paused one", (string?)read["subscriptionName"]);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.StatusCode);
    }

    [Fact]
    public async Task PatchOfAnUnknownSubscriptionIsNotFound()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Id));

        using var response = await SendAsync(app, HttpMethod.Patch, CsourceSubscriptionPath("urn:ngsi-ld:Subscription:none"), """{"isActive": false}""");

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Theory]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "ContextSourceRegistration", "watchedAttributes": ["name"], "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"]}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "not a uri", "type": "Subscription", "watchedAttributes": ["name"], "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"], "notification": {"endpoint": {"uri": "ftp://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"], "expiresAt": "2001-01-01T00:00:00Z", "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"], "csf": "mode==(", "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"], "geoQ": {"geometry": "Point", "coordinates": [1, 2], "georel": "near;maxDistance==10", "geoproperty": "position"}, "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"], "temporalQ": {"timerel": "before", "timeAt": "2020-01-01T00:00:00Z", "timeproperty": "deletedAt"}, "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:x", "type": "Subscription", "watchedAttributes": ["name"], "temporalQ": {"timerel": "before", "timeAt": "yesterday"}, "notification": {"endpoint": {"uri": "http://a.example.org"}}}""")]
    public async Task InvalidSubscriptionsAreBadRequestData(string json)
    {
        await using var app = new AgoraApplication();

        using var response = await CreateAsync(app, json);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task MalformedJsonAndUnknownParametersAreInvalidRequests()
    {
        await using var app = new AgoraApplication();

        using var malformed = await CreateAsync(app, "{\"type\": ");
        using var client = app.CreateClient();
        using var unknown = await client.PostAsync(CsourceSubscriptionsPath + "?foo=bar", AgoraApplication.Json(CsourceSubscription(Id)));

        await ProblemAsync(malformed, HttpStatusCode.BadRequest, "InvalidRequest");
        await ProblemAsync(unknown, HttpStatusCode.BadRequest, "InvalidRequest");
    }

    [Fact]
    public async Task ATenantSeesOnlyItsOwnSubscriptions()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Id), tenant: "north");

        using var inNorth = await GetAsync(app, CsourceSubscriptionPath(Id), tenant: "north");
        using var inDefault = await GetAsync(app, CsourceSubscriptionPath(Id));

        Assert.Equal(HttpStatusCode.OK, inNorth.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, inDefault.StatusCode);
    }
}
