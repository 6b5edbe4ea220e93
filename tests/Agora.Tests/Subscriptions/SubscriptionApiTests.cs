using System.Net;
using System.Text.Json.Nodes;
using Agora.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Subscriptions.SubscriptionClient;

namespace Agora.Tests.Subscriptions;

public sealed class SubscriptionApiTests
{
    private const string Id = "urn:ngsi-ld:Subscription:1";

    [Fact]
    public async Task CreatedSubscriptionReadsBackActiveWithDefaultTriggers()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, Subscription(Id, notification: """, "format": "keyValues" """));

        var subscription = await RetrieveAsync(app, Id);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/ngsi-ld/v1/subscriptions/{Id}", created.Headers.Location?.ToString());
        Assert.Equal("active", (string?)subscription["status"]);
        JsonEqual("""["attributeCreated", "attributeUpdated"]""", subscription["notificationTrigger"]);
        JsonEqual("""[{"type": "Building"}]""", subscription["entities"]);
        Assert.Equal("keyValues", (string?)subscription["notification"]!["format"]);
        Assert.False(subscription.ContainsKey("jsonldContext"));
        Assert.False(subscription.ContainsKey("isActive"));
        Assert.False(subscription.ContainsKey("createdAt"));
        Assert.True((await RetrieveAsync(app, Id, "?options=sysAttrs")).ContainsKey("createdAt"));
    }

    [Fact]
    public async Task SubscriptionWithoutIdGetsOne()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, """
            {"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "http://localhost:1234/n"}}}
            """);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.StartsWith("/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:", created.Headers.Location?.ToString());
    }

    [Fact]
    public async Task CreatingTheSameIdTwiceIsAlreadyExists()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Id));

        using var again = await CreateAsync(app, Subscription(Id));

        await ProblemAsync(again, HttpStatusCode.Conflict, "AlreadyExists");
    }

    [Theory]
    [InlineData("""{"id": "urn:ngsi-ld:Subscription:1", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "http://a/b"}}}""", "type")]
    [InlineData("""{"id": "invalidId", "type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "http://a/b"}}}""", "id")]
    [InlineData("""{"type": "Subscription", "notification": {"endpoint": {"uri": "http://a/b"}}}""", "entities")]
    [InlineData("""{"type": "Subscription", "entities": [{"id": "urn:a:b"}], "notification": {"endpoint": {"uri": "http://a/b"}}}""", "entities.type")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}]}""", "notification")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {}}""", "notification.endpoint")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "ftp://a/b"}}}""", "notification.endpoint.uri")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"endpoint": {"uri": "http://a/b", "accept": "text/plain"}}}""", "notification.endpoint.accept")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"format": "fancy", "endpoint": {"uri": "http://a/b"}}}""", "notification.format")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "throttling": -1, "notification": {"endpoint": {"uri": "http://a/b"}}}""", "throttling")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "throttling": 5, "timeInterval": 5, "notification": {"endpoint": {"uri": "http://a/b"}}}""", "timeInterval")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "watchedAttributes": ["a"], "timeInterval": 5, "notification": {"endpoint": {"uri": "http://a/b"}}}""", "timeInterval")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "expiresAt": "2001-01-01T00:00:00Z", "notification": {"endpoint": {"uri": "http://a/b"}}}""", "expiresAt")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "q": "a==", "notification": {"endpoint": {"uri": "http://a/b"}}}""", "q")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "geoQ": {"georel": "near", "geometry": "Point"}, "notification": {"endpoint": {"uri": "http://a/b"}}}""", "geoQ")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notificationTrigger": ["whenever"], "notification": {"endpoint": {"uri": "http://a/b"}}}""", "notificationTrigger")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "isActive": "yes", "notification": {"endpoint": {"uri": "http://a/b"}}}""", "isActive")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "jsonldContext": "unknownContext", "notification": {"endpoint": {"uri": "http://a/b"}}}""", "jsonldContext")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"pick": ["id"], "omit": ["id"], "endpoint": {"uri": "http://a/b"}}}""", "notification.pick")]
    [InlineData("""{"type": "Subscription", "entities": [{"type": "Building"}], "notification": {"attributes": ["a"], "pick": ["id"], "endpoint": {"uri": "http://a/b"}}}""", "notification.attributes")]
    public async Task AnInvalidSubscriptionIsBadRequestDataNamingTheField(string json, string field)
    {
        await using var app = new AgoraApplication();

        using var response = await CreateAsync(app, json);

        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
        Assert.StartsWith(field + ":", (string?)problem["detail"]);
    }

    [Fact]
    public async Task ListingPagesAndCounts()
    {
        await using var app = new AgoraApplication();
        for (var i = 0; i < 3; i++)
        {
            await SubscribeAsync(app, Subscription($"urn:ngsi-ld:Subscription:{i}"));
        }
        using var client = app.CreateClient();

        using var response = await client.GetAsync(SubscriptionsPath + "?limit=2&offset=1&count=true");
        var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("NGSILD-Results-Count").Single());
        Assert.Equal(["urn:ngsi-ld:Subscription:1", "urn:ngsi-ld:Subscription:2"], page.Select(s => (string?)s!["id"]));
    }

    [Fact]
    public async Task NamesAreStoredExpandedAndReadInTheReadersContext()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, """
            {"@context": {"Bldg": "https://example.org/Building", "temp": "https://example.org/temperature"},
             "id": "urn:ngsi-ld:Subscription:1", "type": "Subscription", "entities": [{"type": "Bldg"}], "watchedAttributes": ["temp"],
             "notification": {"attributes": ["temp"], "endpoint": {"uri": "http://a/b"}}}
            """, "application/ld+json");

        var read = await RetrieveAsync(app, Id);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        JsonEqual("""[{"type": "https://example.org/Building"}]""", read["entities"]);
        JsonEqual("""["https://example.org/temperature"]""", read["watchedAttributes"]);
        JsonEqual("""["https://example.org/temperature"]""", read["notification"]!["attributes"]);
        // An inline @context becomes an ImplicitlyCreated context, the one notifications use, and is shown.
        Assert.Contains("/ngsi-ld/v1/jsonldContexts/", (string?)read["jsonldContext"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AJsonldContextTheClientGaveReadsBack()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Id, """, "jsonldContext": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld" """));

        var read = await RetrieveAsync(app, Id);

        Assert.Equal("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", (string?)read["jsonldContext"]);
    }

    [Fact]
    public async Task PagesLinkToThePreviousAndNextPages()
    {
        await using var app = new AgoraApplication();
        foreach (var n in new[] { 1, 2, 3 })
        {
            await SubscribeAsync(app, Subscription($"urn:ngsi-ld:Subscription:{n}"));
        }
        using var client = app.CreateClient();

        using var middle = await client.GetAsync(SubscriptionsPath + "?limit=1&offset=1");
        using var last = await client.GetAsync(SubscriptionsPath + "?limit=1&offset=2");
        using var all = await client.GetAsync(SubscriptionsPath + "?limit=15");

        var links = middle.Headers.GetValues("Link").ToList();
        Assert.Contains("</ngsi-ld/v1/subscriptions?limit=1&offset=0>;rel=\"prev\";type=\"application/json\"", links);
        Assert.Contains("</ngsi-ld/v1/subscriptions?limit=1&offset=2>;rel=\"next\";type=\"application/json\"", links);
        Assert.Contains(links, l => l.Contains("rel=\"http://www.w3.org/ns/json-ld#context\""));
        Assert.Contains("</ngsi-ld/v1/subscriptions?limit=1&offset=1>;rel=\"prev\";type=\"application/json\"", last.Headers.GetValues("Link"));
        Assert.DoesNotContain(last.Headers.GetValues("Link"), l => l.Contains("rel=\"next\""));
        Assert.DoesNotContain(all.Headers.GetValues("Link"), l => l.Contains("rel=\"prev\"") || l.Contains("rel=\"next\""));
    }

    [Fact]
    public async Task PatchReplacesEachMemberAndRevalidates()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Id));

        using var paused = await PatchAsync(app, Id, """
            {"isActive": false, "notification": {"format": "keyValues", "endpoint": {"uri": "http://localhost:4321/n"}}}
            """);
        var read = await RetrieveAsync(app, Id);
        using var invalid = await PatchAsync(app, Id, """{"throttling": 0}""");
        using var removed = await PatchAsync(app, Id, """{"notification": null}""");
        using var partial = await PatchAsync(app, Id, """{"notification": {"format": "normalized"}}""");

        Assert.Equal(HttpStatusCode.NoContent, paused.StatusCode);
        Assert.Equal("paused", (string?)read["status"]);
        Assert.Equal("keyValues", (string?)read["notification"]!["format"]);
        Assert.Equal("http://localhost:4321/n", (string?)read["notification"]!["endpoint"]!["uri"]);
        Assert.StartsWith("throttling:", (string?)(await ProblemAsync(invalid, HttpStatusCode.BadRequest, "BadRequestData"))["detail"]);
        await ProblemAsync(removed, HttpStatusCode.BadRequest, "BadRequestData");
        // A notification member replaces the stored one whole: without an endpoint it is incomplete.
        await ProblemAsync(partial, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task DeletedSubscriptionIsGone()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Id));
        using var client = app.CreateClient();

        using var deleted = await client.DeleteAsync(SubscriptionPath(Id));
        using var read = await client.GetAsync(SubscriptionPath(Id));
        using var again = await client.DeleteAsync(SubscriptionPath(Id));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await ProblemAsync(read, HttpStatusCode.NotFound, "ResourceNotFound");
        await ProblemAsync(again, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ReadingSubscriptionsOfAnUnknownTenantIsNonexistentTenant()
    {
        await using var app = new AgoraApplication();
        using var client = app.CreateClient("nowhere");

        using var response = await client.GetAsync(SubscriptionsPath);

        await ProblemAsync(response, HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task AnUnsupportedContentTypeIs415()
    {
        await using var app = new AgoraApplication();

        using var response = await CreateAsync(app, Subscription(Id), "text/plain");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task DeliveryStatusShowsInTheNotificationParameters()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Id));
        await app.Services.GetRequiredService<TenantStores>().Existing(TenantStores.DefaultTenant).WriteAsync(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = """
                INSERT INTO subscription_status(subscription_id, times_sent, times_failed, last_notification, last_success)
                VALUES ('urn:ngsi-ld:Subscription:1', 2, 0, '2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z')
                """;
            return command.ExecuteNonQuery();
        });

        var notification = (await RetrieveAsync(app, Id))["notification"]!;

        Assert.Equal(2, (int?)notification["timesSent"]);
        Assert.Null(notification["timesFailed"]);
        Assert.Equal("ok", (string?)notification["status"]);
        Assert.Equal("2030-01-01T00:00:00Z", (string?)notification["lastSuccess"]);
    }
}
