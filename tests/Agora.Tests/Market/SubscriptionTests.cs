using System.Net;
using System.Text.Json.Nodes;
using Agora.Tests.Notifications;
using Agora.Tests.Security;
using Agora.Tests.Subscriptions;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// A key of an agreement subscribes within the agreement; its notifications carry only what the agreement
/// covers, stop while it is not active, and count toward its notification quota.
public sealed class SubscriptionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static string Subscription(string endpoint, string entities = """[{"type": "AirQualityObserved"}]""", string extra = "") => $$"""
        {"type": "Subscription", "entities": {{entities}}{{extra}}, "notification": {"endpoint": {"uri": "{{endpoint}}", "accept": "application/json"} } }
        """;

    private static async Task<string> SubscribeAsync(HttpClient consumer, string json)
    {
        using var response = await consumer.PostAsync(SubscriptionClient.SubscriptionsPath, Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return Uri.UnescapeDataString(response.Headers.Location!.OriginalString.Split('/')[^1]);
    }

    private static async Task SetNo2Async(MarketAgora market, string id, int value)
    {
        using var response = await market.Admin.PatchAsync(AttrsPath(id), Json($$"""{"NO2": {"type": "Property", "value": {{value}}} }"""));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task DrainedAsync(MarketAgora market)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (SubscriptionClient.Outbox(market.App).Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "The outbox was not drained in time.");
            await Task.Delay(20);
        }
    }

    private static JsonObject Entity(ReceivedNotification notification) => JsonNode.Parse(notification.Body)!["data"]![0]!.AsObject();

    [Fact]
    public async Task ASubscriptionReceivesOnlyTheCoveredEntitiesAndAttributes()
    {
        await using var market = await EnforcementTests.CityAsync();
        await using var receiver = await NotificationReceiver.StartAsync();
        var (_, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);
        await SubscribeAsync(consumer, Subscription(receiver.Url));

        await SetNo2Async(market, EnforcementTests.Outside, 77);
        await SetNo2Async(market, EnforcementTests.Inside, 55);
        var first = Entity(await receiver.NextAsync(Patience));
        await DrainedAsync(market);

        Assert.Equal(EnforcementTests.Inside, (string?)first["id"]);
        Assert.Equal(55, (int)first["NO2"]!["value"]!);
        Assert.Null(first["temperature"]);
        Assert.Single(receiver.Received);
    }

    [Theory]
    [InlineData("""[{"type": "WeatherObserved"}]""", "", "WeatherObserved")]
    [InlineData("""[{"type": "AirQualityObserved"}]""", ""","watchedAttributes": ["temperature"]""", "temperature")]
    [InlineData("""[{"type": "AirQualityObserved"}]""", ""","q": "temperature>3" """, "temperature")]
    [InlineData("""[{"type": "AirQualityObserved"}]""", ""","geoQ": {"georel": "near;maxDistance==10", "geometry": "Point", "coordinates": [-3.7, 40.42]}""", "area")]
    public async Task ASubscriptionOutsideTheAgreementIsForbidden(string entities, string extra, string named)
    {
        await using var market = await EnforcementTests.CityAsync();
        var (_, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);

        using var response = await consumer.PostAsync(SubscriptionClient.SubscriptionsPath, Json(Subscription("http://127.0.0.1:9/notify", entities, extra)));

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains(named, (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASuspendedAgreementsNotificationsAreWithheldAndNotCounted()
    {
        await using var market = await EnforcementTests.CityAsync();
        await using var receiver = await NotificationReceiver.StartAsync();
        var (agreement, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);
        await SubscribeAsync(consumer, Subscription(receiver.Url));

        await market.ActAsync(agreement, "suspend");
        await SetNo2Async(market, EnforcementTests.Inside, 60);
        await DrainedAsync(market);
        await market.ActAsync(agreement, "resume");
        await SetNo2Async(market, EnforcementTests.Inside, 61);
        var first = Entity(await receiver.NextAsync(Patience));
        using var usage = await market.Admin.GetAsync($"{MarketAgora.Base}/agreements/{agreement}/usage");
        using var audit = await market.Admin.GetAsync("/admin/v1/audit?decision=denied");

        Assert.Equal(61, (int)first["NO2"]!["value"]!);
        Assert.Equal(1, (int)(await SecuredAgora.JsonAsync(usage))["days"]![0]!["notifications"]!);
        Assert.Contains("withheld", await audit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ANotificationOverTheQuotaIsNotSentAndIsRecorded()
    {
        await using var market = await EnforcementTests.CityAsync();
        await using var receiver = await NotificationReceiver.StartAsync();
        var (agreement, key) = await market.AgreementAsync(EnforcementTests.Source, "\"quotas\": {\"notificationsPerDay\": 1}");
        using var consumer = market.Consumer(key);
        await SubscribeAsync(consumer, Subscription(receiver.Url));

        await SetNo2Async(market, EnforcementTests.Inside, 70);
        await receiver.NextAsync(Patience);
        await SetNo2Async(market, EnforcementTests.Inside, 71);
        await DrainedAsync(market);
        using var usage = await market.Admin.GetAsync($"{MarketAgora.Base}/agreements/{agreement}/usage");
        var today = (await SecuredAgora.JsonAsync(usage))["days"]![0]!;

        Assert.Single(receiver.Received);
        Assert.Equal(1, (int)today["notifications"]!);
        Assert.Equal(1, (int)today["notificationsDropped"]!);
    }

    [Fact]
    public async Task AnAgreementsKeyManagesOnlyTheSubscriptionsItMade()
    {
        await using var market = await EnforcementTests.CityAsync();
        var (_, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);
        var mine = await SubscribeAsync(consumer, Subscription("http://127.0.0.1:9/notify"));
        using var other = market.Consumer();
        var theirs = await SubscribeAsync(other, Subscription("http://127.0.0.1:9/notify"));

        using var readMine = await consumer.GetAsync(SubscriptionClient.SubscriptionPath(mine));
        using var readTheirs = await consumer.GetAsync(SubscriptionClient.SubscriptionPath(theirs));
        using var list = await consumer.GetAsync(SubscriptionClient.SubscriptionsPath);
        using var patch = await consumer.PatchAsync(SubscriptionClient.SubscriptionPath(mine), Json("""{"q": "NO2>1"}"""));
        using var taken = await consumer.PostAsync(SubscriptionClient.SubscriptionsPath, Json(Subscription("http://127.0.0.1:9/notify").Replace("{\"type\": \"Subscription\"", $"{{\"id\": \"{theirs}\", \"type\": \"Subscription\"", StringComparison.Ordinal)));
        using var readTheirsAgain = await consumer.GetAsync(SubscriptionClient.SubscriptionPath(theirs));
        using var delete = await consumer.DeleteAsync(SubscriptionClient.SubscriptionPath(mine));

        Assert.Equal(HttpStatusCode.OK, readMine.StatusCode);
        await NgsiLdAssert.ProblemAsync(readTheirs, HttpStatusCode.Forbidden);
        Assert.Equal([mine], (await EnforcementTests.OkAsync(list)).AsArray().Select(s => (string)s!["id"]!));
        Assert.Equal(HttpStatusCode.NoContent, patch.StatusCode);
        await NgsiLdAssert.ProblemAsync(taken, HttpStatusCode.Conflict);
        await NgsiLdAssert.ProblemAsync(readTheirsAgain, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }

    [Fact]
    public async Task APatchedSubscriptionIsNarrowedAsAtCreation()
    {
        await using var market = await EnforcementTests.CityAsync();
        var (_, key) = await market.AgreementAsync(EnforcementTests.Source);
        using var consumer = market.Consumer(key);
        var mine = await SubscribeAsync(consumer, Subscription("http://127.0.0.1:9/notify"));
        var path = SubscriptionClient.SubscriptionPath(mine);

        using var uncovered = await consumer.PatchAsync(path, Json("""{"watchedAttributes": ["temperature"]}"""));
        using var uncoveredQ = await consumer.PatchAsync(path, Json("""{"q": "temperature>20"}"""));
        using var projected = await consumer.PatchAsync(path, Json("""
            {"notification": {"attributes": ["NO2", "temperature"], "endpoint": {"uri": "http://127.0.0.1:9/other", "accept": "application/json"}},
             "watchedAttributes": null, "geoQ": null, "entities": [{"type": "AirQualityObserved"}, {"type": "WeatherObserved"}]}
            """));
        var stored = await EnforcementTests.OkAsync(await consumer.GetAsync(path + "?options=sysAttrs"));

        await NgsiLdAssert.ProblemAsync(uncovered, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(uncoveredQ, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, projected.StatusCode);
        Assert.Equal(["NO2"], stored["notification"]!["attributes"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("http://127.0.0.1:9/other", (string?)stored["notification"]!["endpoint"]!["uri"]);
        Assert.Equal(["NO2", "PM10"], stored["watchedAttributes"]!.AsArray().Select(a => (string)a!).Order());
        Assert.Equal("intersects", (string?)stored["geoQ"]!["georel"]);
        Assert.Equal(["AirQualityObserved"], stored["entities"]!.AsArray().Select(e => (string)e!["type"]!));
    }

    [Fact]
    public async Task AConsumerOrganisationListsAndChangesOnlyItsOwnSubscriptions()
    {
        await using var market = await EnforcementTests.CityAsync();
        var organisation = await market.ConsumerOrganisationAsync();
        await market.AgreementOfAsync("Acme Mobility", UnionTests.AirInCentro);
        await market.AgreementOfAsync("Acme Mobility", UnionTests.AirTemperature);
        using var consumer = market.Consumer((string)organisation["key"]!);
        var mine = await SubscribeAsync(consumer, Subscription("http://127.0.0.1:9/notify"));
        using var other = market.Consumer();
        await SubscribeAsync(other, Subscription("http://127.0.0.1:9/notify"));

        using var listResponse = await consumer.GetAsync(SubscriptionClient.SubscriptionsPath + "?count=true");
        var listed = await EnforcementTests.OkAsync(listResponse);
        using var uncovered = await consumer.PatchAsync(SubscriptionClient.SubscriptionPath(mine), Json("""{"q": "humidity>20"}"""));
        using var covered = await consumer.PatchAsync(SubscriptionClient.SubscriptionPath(mine), Json("""{"watchedAttributes": ["temperature", "NO2", "humidity"]}"""));
        var stored = await EnforcementTests.OkAsync(await consumer.GetAsync(SubscriptionClient.SubscriptionPath(mine)));

        using var deleted = await consumer.DeleteAsync(SubscriptionClient.SubscriptionPath(mine));
        var afterDelete = await EnforcementTests.OkAsync(await consumer.GetAsync(SubscriptionClient.SubscriptionsPath));

        Assert.Equal([mine], listed.AsArray().Select(s => (string)s!["id"]!));
        Assert.Equal("1", listResponse.Headers.GetValues("NGSILD-Results-Count").Single());
        await NgsiLdAssert.ProblemAsync(uncovered, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, covered.StatusCode);
        Assert.Equal(["NO2", "temperature"], stored["watchedAttributes"]!.AsArray().Select(a => (string)a!).Order());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(afterDelete.AsArray());
    }
}
