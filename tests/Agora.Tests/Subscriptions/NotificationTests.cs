using System.Text.Json.Nodes;
using static Agora.Tests.AgoraApplication;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Subscriptions.SubscriptionClient;

namespace Agora.Tests.Subscriptions;

/// Entity changes that match a subscription leave a notification in the outbox, in the write's own transaction.
public sealed class NotificationTests
{
    private const string Sub = "urn:ngsi-ld:Subscription:1";
    private const string Entity = "urn:ngsi-ld:Building:1";
    private const string Building = """
        {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": "Tower", "height": 30,
         "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.35, 48.85]}}}
        """;

    [Fact]
    public async Task CreatingAMatchingEntityWritesANotification()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub));

        await app.CreateEntityAsync(Building);

        var row = Assert.Single(Outbox(app));
        Assert.Equal(Sub, row.SubscriptionId);
        Assert.Equal("application/json", row.ContentType);
        Assert.Equal("<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"", row.Link);
        Assert.Equal("http://localhost:1234/notify", (string?)row.Endpoint["uri"]);
        Assert.Equal("Notification", (string?)row.Body["type"]);
        Assert.StartsWith("urn:ngsi-ld:Notification:", (string?)row.Body["id"]);
        Assert.Equal(Sub, (string?)row.Body["subscriptionId"]);
        JsonEqual("""{"type": "Property", "value": 30}""", row.Body["data"]![0]!["height"]);
    }

    [Fact]
    public async Task AnEntityOfAnotherTypeIsNotNotified()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub));

        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Car:1", "type": "Car", "speed": 3}""");

        Assert.Empty(Outbox(app));
    }

    [Fact]
    public async Task LdJsonNotificationsCarryTheirContext()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub).Replace("\"application/json\"", "\"application/ld+json\""));

        await app.CreateEntityAsync(Building);

        var row = Assert.Single(Outbox(app));
        Assert.Equal("application/ld+json", row.ContentType);
        Assert.Null(row.Link);
        Assert.Equal("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", (string?)row.Body["@context"]);
    }

    [Fact]
    public async Task EntityCreatedTriggerIgnoresUpdates()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, """, "notificationTrigger": ["entityCreated"]"""));
        await app.CreateEntityAsync(Building);

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 31}""");

        Assert.Single(Outbox(app));
    }

    [Fact]
    public async Task EntityDeletedShowsIdTypeAndDeletedAt()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub, """, "notificationTrigger": ["entityDeleted"]""", """, "format": "keyValues" """));

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 31}""");
        await SendAsync(app, HttpMethod.Delete, EntityPath(Entity));

        var data = SingleData(app);
        Assert.Equal(["id", "type", "deletedAt"], data.Select(p => p.Key));
        Assert.Equal("Building", (string?)data["type"]);
    }

    [Fact]
    public async Task AttributeDeletedShowsTheAttributeAsNull()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub, """, "watchedAttributes": ["name"], "notificationTrigger": ["attributeDeleted"]"""));

        await SendAsync(app, HttpMethod.Delete, AttrPath(Entity, "height"));
        await SendAsync(app, HttpMethod.Delete, AttrPath(Entity, "name"));

        var data = SingleData(app);
        JsonEqual("""{"type": "Property", "value": "urn:ngsi-ld:null"}""", data["name"]);
        Assert.False(data.ContainsKey("height"));
    }

    [Fact]
    public async Task WatchedAttributesLimitWhatNotifies()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, """
            {"id": "urn:ngsi-ld:Subscription:1", "type": "Subscription", "watchedAttributes": ["name"],
             "notification": {"endpoint": {"uri": "http://localhost:1234/notify"}}}
            """);

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 31}""");
        Assert.Empty(Outbox(app));
        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"name": "Spire"}""");

        Assert.Equal("Spire", (string?)SingleData(app)["name"]!["value"]);
    }

    [Fact]
    public async Task AnUpdateThatChangesNothingDoesNotNotify()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub));

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 30}""");

        Assert.Empty(Outbox(app));
    }

    [Theory]
    [InlineData(""", "q": "height>50" """, false)]
    [InlineData(""", "q": "height<50" """, true)]
    [InlineData(""", "geoQ": {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [2.35, 48.85]}""", true)]
    [InlineData(""", "geoQ": {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [0, 0]}""", false)]
    public async Task QueriesFilterWhatNotifies(string query, bool notified)
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, query));

        await app.CreateEntityAsync(Building);

        Assert.Equal(notified ? 1 : 0, Outbox(app).Count);
    }

    [Fact]
    public async Task ScopeQFiltersWhatNotifies()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, """, "scopeQ": "/Paris" """));

        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "scope": "/Madrid", "a": 1}""");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:2", "type": "Building", "scope": "/Paris", "a": 1}""");

        Assert.Equal("urn:ngsi-ld:Building:2", (string?)SingleData(app)["id"]);
    }

    [Theory]
    [InlineData("keyValues", """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 30}""")]
    [InlineData("concise", """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 30}""")]
    [InlineData("normalized", """{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": {"type": "Property", "value": 30}}""")]
    public async Task FormatAndAttributesShapeTheEntity(string format, string expected)
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, notification: $$""", "format": "{{format}}", "attributes": ["height"]"""));

        await app.CreateEntityAsync(Building);

        JsonEqual(expected, SingleData(app));
    }

    [Fact]
    public async Task SysAttrsAddSystemAttributes()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, notification: """, "sysAttrs": true"""));

        await app.CreateEntityAsync(Building);

        var data = SingleData(app);
        Assert.NotNull(data["createdAt"]);
        Assert.NotNull(data["height"]!["modifiedAt"]);
    }

    [Fact]
    public async Task ShowChangesAddsThePreviousValue()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub, notification: """, "showChanges": true"""));

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 31}""");

        JsonEqual("""{"type": "Property", "value": 31, "previousValue": 30}""", SingleData(app)["height"]);
    }

    [Fact]
    public async Task ShowChangesOnDeletionShowsEveryPreviousValue()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 30, "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}}""");
        await SubscribeAsync(app, Subscription(Sub, """, "notificationTrigger": ["entityDeleted"]""", """, "showChanges": true"""));

        await SendAsync(app, HttpMethod.Delete, EntityPath(Entity));

        var data = SingleData(app);
        JsonEqual("""{"type": "Property", "value": "urn:ngsi-ld:null", "previousValue": 30}""", data["height"]);
        JsonEqual("""{"type": "Relationship", "object": "urn:ngsi-ld:null", "previousObject": "urn:ngsi-ld:Person:1"}""", data["owner"]);
    }

    [Fact]
    public async Task ThrottlingSkipsNotificationsWithinThePeriod()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub, """, "throttling": 60"""));

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 31}""");
        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 32}""");

        Assert.Equal(31, (int?)SingleData(app)["height"]!["value"]);
    }

    [Fact]
    public async Task APausedSubscriptionNotifiesAgainOnceResumed()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub, """, "isActive": false"""));

        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 31}""");
        Assert.Empty(Outbox(app));
        using var resumed = await PatchAsync(app, Sub, """{"isActive": true}""");
        await SendAsync(app, HttpMethod.Patch, AttrsPath(Entity), """{"height": 32}""");

        Assert.Equal(32, (int?)SingleData(app)["height"]!["value"]);
    }

    [Fact]
    public async Task AnExpiredSubscriptionDoesNotNotify()
    {
        await using var app = new AgoraApplication();
        var soon = DateTimeOffset.UtcNow.AddSeconds(3).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        await SubscribeAsync(app, Subscription(Sub, $$""", "expiresAt": "{{soon}}" """));
        await Task.Delay(3500);

        await app.CreateEntityAsync(Building);

        Assert.Empty(Outbox(app));
        Assert.Equal("expired", (string?)(await RetrieveAsync(app, Sub))["status"]);
    }

    [Fact]
    public async Task DeletingASubscriptionDropsItsPendingNotifications()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub));
        await app.CreateEntityAsync(Building);

        await SendAsync(app, HttpMethod.Delete, SubscriptionPath(Sub));

        Assert.Empty(Outbox(app));
    }

    [Fact]
    public async Task NotificationsUseTheSubscriptionsContext()
    {
        await using var app = new AgoraApplication();
        using var created = await CreateAsync(app, """
            {"@context": {"Bldg": "https://example.org/Building", "tall": "https://example.org/height"},
             "id": "urn:ngsi-ld:Subscription:1", "type": "Subscription", "entities": [{"type": "Bldg"}], "q": "tall>10",
             "notification": {"format": "keyValues", "endpoint": {"uri": "http://a/b"}}}
            """, "application/ld+json");
        using var client = app.CreateClient();
        using var entity = await client.PostAsync(EntitiesPath, Json("""
            {"@context": {"B": "https://example.org/Building", "h": "https://example.org/height"}, "id": "urn:ngsi-ld:Building:1", "type": "B", "h": 30}
            """, "application/ld+json"));

        JsonEqual("""{"id": "urn:ngsi-ld:Building:1", "type": "Bldg", "tall": 30}""", SingleData(app));
        Assert.Contains("/ngsi-ld/v1/jsonldContexts/", Assert.Single(Outbox(app)).Link);
    }

    [Fact]
    public async Task PeriodicSubscriptionsNotifyEveryInterval()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:2", "type": "Building", "height": 5}""");
        await SubscribeAsync(app, Subscription(Sub, """, "timeInterval": 1"""));

        // Rows appear once a second; a busy machine may delay a tick, never merge two.
        var rows = Outbox(app);
        for (var waited = 0; rows.Count < 2 && waited < 10_000; waited += 100)
        {
            await Task.Delay(100);
            rows = Outbox(app);
        }

        Assert.True(rows.Count >= 2, $"{rows.Count} periodic notifications after 10 s");
        Assert.All(rows, r => Assert.Equal(2, r.Body["data"]!.AsArray().Count));
    }

    [Fact]
    public async Task APeriodicSubscriptionKeepsFiringAfterItsIntervalGrows()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(Building);
        await SubscribeAsync(app, Subscription(Sub, """, "timeInterval": 1"""));
        await WaitForRowsAsync(app, 1);

        // Each firing claims its slot of time; a longer interval's slots must still come after the last claim.
        using var patched = await PatchAsync(app, Sub, """{"timeInterval": 2}""");
        Assert.Equal(System.Net.HttpStatusCode.NoContent, patched.StatusCode);
        var before = Outbox(app).Count;

        Assert.True(await WaitForRowsAsync(app, before + 1) > before, "no periodic notification within 10 s after timeInterval went from 1 to 2");
    }

    private static async Task<int> WaitForRowsAsync(AgoraApplication app, int count)
    {
        var rows = Outbox(app).Count;
        for (var waited = 0; rows < count && waited < 10_000; waited += 100)
        {
            await Task.Delay(100);
            rows = Outbox(app).Count;
        }
        return rows;
    }

    [Fact]
    public async Task LdJsonNotificationsGiveEachEntityItsContext()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub).Replace("\"application/json\"", "\"application/ld+json\""));

        await app.CreateEntityAsync(Building);

        Assert.Equal("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", (string?)SingleData(app)["@context"]);
    }

    [Fact]
    public async Task JsonNotificationsLeaveTheContextToTheLinkHeader()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub));

        await app.CreateEntityAsync(Building);

        Assert.False(SingleData(app).ContainsKey("@context"));
    }

    [Fact]
    public async Task PercentEncodingInQIsDecoded()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, """, "q": "name==\"Eiffel%20Tower\"" """));

        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": "Eiffel Tower"}""");
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:Building:2", "type": "Building", "name": "Eiffel%20Tower"}""");

        Assert.Equal(Entity, (string?)SingleData(app)["id"]);
    }

    [Fact]
    public async Task SysAttrsInKeyValuesKeepTheEntitysSystemAttributes()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, notification: """, "format": "keyValues", "sysAttrs": true"""));

        await app.CreateEntityAsync(Building);

        var data = SingleData(app);
        Assert.NotNull(data["createdAt"]);
        Assert.NotNull(data["modifiedAt"]);
        Assert.Equal(30, (int?)data["height"]);
    }

    [Fact]
    public async Task SimplifiedIsKeyValues()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, notification: """, "format": "simplified", "attributes": ["height"]"""));

        await app.CreateEntityAsync(Building);

        JsonEqual("""{"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 30}""", SingleData(app));
    }

    [Fact]
    public async Task ADeletedLanguagePropertyIsANullLanguageMap()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "street": {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}}}
            """);
        await SubscribeAsync(app, Subscription(Sub, """, "notificationTrigger": ["attributeDeleted"]""", """, "showChanges": true"""));

        await SendAsync(app, HttpMethod.Delete, AttrPath(Entity, "street"));

        JsonEqual("""
            {"type": "LanguageProperty", "languageMap": {"@none": "urn:ngsi-ld:null"}, "previousLanguageMap": {"fr": "Grand Place", "nl": "Grote Markt"}}
            """, SingleData(app)["street"]);
    }

    [Fact]
    public async Task DeletingOneInstanceIsAnAttributeDeletion()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": [
              {"type": "Property", "value": "Eiffel Tower"},
              {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}]}
            """);
        await SubscribeAsync(app, Subscription(Sub, """, "watchedAttributes": ["name"], "notificationTrigger": ["attributeDeleted"]"""));

        await SendAsync(app, HttpMethod.Delete, AttrPath(Entity, "name") + "?datasetId=urn:ngsi-ld:Dataset:fr");

        JsonEqual("""
            [{"type": "Property", "value": "Eiffel Tower"},
             {"type": "Property", "value": "urn:ngsi-ld:null", "datasetId": "urn:ngsi-ld:Dataset:fr"}]
            """, SingleData(app)["name"]);
    }

    [Fact]
    public async Task DeletingOneInstanceIsNotAnUpdate()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": [
              {"type": "Property", "value": "Eiffel Tower"},
              {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}]}
            """);
        await SubscribeAsync(app, Subscription(Sub, """, "notificationTrigger": ["attributeUpdated"]"""));

        await SendAsync(app, HttpMethod.Delete, AttrPath(Entity, "name") + "?datasetId=urn:ngsi-ld:Dataset:fr");

        Assert.Empty(Outbox(app));
    }

    [Fact]
    public async Task ADatasetIdShowsOnlyThoseInstances()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, Subscription(Sub, """, "datasetId": ["urn:ngsi-ld:Dataset:fr"]"""));

        await app.CreateEntityAsync("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "height": 30, "name": [
              {"type": "Property", "value": "Eiffel Tower"},
              {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}]}
            """);

        JsonEqual("""
            {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": {"type": "Property", "value": "Tour Eiffel", "datasetId": "urn:ngsi-ld:Dataset:fr"}}
            """, SingleData(app));
    }

    private const string Linking = """
        {"id": "urn:ngsi-ld:Building:1", "type": "Building", "locatedAt": {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris"}}
        """;

    [Fact]
    public async Task AFlatJoinAddsTheLinkedEntitiesAfterTheEntity()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:City:Paris", "type": "City", "name": "Paris"}""");
        await SubscribeAsync(app, Subscription(Sub, notification: """, "join": "flat", "joinLevel": 1, "format": "keyValues" """));

        await app.CreateEntityAsync(Linking);

        JsonEqual("""
            [{"id": "urn:ngsi-ld:Building:1", "type": "Building", "locatedAt": "urn:ngsi-ld:City:Paris"},
             {"id": "urn:ngsi-ld:City:Paris", "type": "City", "name": "Paris"}]
            """, Assert.Single(Outbox(app)).Body["data"]);
    }

    [Fact]
    public async Task AnInlineJoinPutsTheLinkedEntityInTheRelationship()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync("""{"id": "urn:ngsi-ld:City:Paris", "type": "City", "name": "Paris"}""");
        await SubscribeAsync(app, Subscription(Sub, notification: """, "join": "inline", "attributes": ["locatedAt"]"""));

        await app.CreateEntityAsync(Linking);

        JsonEqual("""
            {"type": "Relationship", "object": "urn:ngsi-ld:City:Paris",
             "entity": {"id": "urn:ngsi-ld:City:Paris", "type": "City", "name": {"type": "Property", "value": "Paris"}}}
            """, SingleData(app)["locatedAt"]);
    }
}
