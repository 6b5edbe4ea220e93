using System.Net;
using System.Text.Json.Nodes;
using Agora.Tests.Notifications;
using Agora.Tests.Subscriptions;
using static Agora.Tests.CsourceSubscriptions.CsourceSubscriptionClient;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Registrations.RegistrationClient;

namespace Agora.Tests.CsourceSubscriptions;

/// Registrations created, updated and deleted reach the endpoints of the csource subscriptions they match (clause 5.11.7).
public sealed class CsourceNotificationTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);
    private const string Sub = "urn:ngsi-ld:Subscription:csub1";
    private const string Reg = "urn:ngsi-ld:ContextSourceRegistration:1";
    private const string CoreLink = "<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";

    // The registration of RegistrationClient.Registration as a notification shows it, with its name spliced in.
    private static string Shown(string id, string extra = "") => $$"""
        {"id": "{{id}}", "type": "ContextSourceRegistration",
         "information": [{"entities": [{"type": "Building"}], "propertyNames": ["name"], "relationshipNames": ["owner"]}],
         "endpoint": "http://source.example.org:1026", "mode": "inclusive", "operations": ["federationOps"]{{extra}}}
        """;

    private static string Notification(string reason, params string[] registrations) => $$"""
        {"type": "ContextSourceNotification", "subscriptionId": "{{Sub}}", "triggerReason": "{{reason}}", "data": [{{string.Join(", ", registrations)}}]}
        """;

    /// The body of a notification less its generated id and notifiedAt, which are checked for form.
    private static JsonObject Body(ReceivedNotification received)
    {
        var body = JsonNode.Parse(received.Body)!.AsObject();
        Assert.StartsWith("urn:ngsi-ld:Notification:", (string?)body["id"]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", (string?)body["notifiedAt"]);
        body.Remove("id");
        body.Remove("notifiedAt");
        return body;
    }

    private static async Task PatchRegistrationAsync(AgoraApplication app, string id, string json)
    {
        using var response = await PatchAsync(app, id, json);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task RegisteringAMatchingSourceNotifiesItAsNewlyMatching()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));

        await RegisterAsync(app, Registration(Reg));

        var received = await receiver.NextAsync(Soon);
        Assert.Equal("POST", received.Method);
        Assert.Equal("application/json", received.Headers["Content-Type"]);
        Assert.Equal(CoreLink, received.Headers["Link"]);
        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(received));
    }

    [Fact]
    public async Task UpdatingAMatchingRegistrationNotifiesItAsUpdated()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));
        await RegisterAsync(app, Registration(Reg));
        await receiver.NextAsync(Soon);

        await PatchRegistrationAsync(app, Reg, """{"registrationName": "renamed"}""");

        JsonEqual(Notification("updated", Shown(Reg, """, "registrationName": "renamed" """)), Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task UpdatingARegistrationOutOfTheSubscriptionNotifiesItAsNoLongerMatching()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));
        await RegisterAsync(app, Registration(Reg));
        await receiver.NextAsync(Soon);

        await PatchRegistrationAsync(app, Reg, """{"information": [{"entities": [{"type": "Car"}]}]}""");

        JsonEqual($$"""
            {"type": "ContextSourceNotification", "subscriptionId": "{{Sub}}", "triggerReason": "noLongerMatching",
             "data": [{"id": "{{Reg}}", "type": "ContextSourceRegistration", "information": [{"entities": [{"type": "Car"}]}],
                       "endpoint": "http://source.example.org:1026", "mode": "inclusive", "operations": ["federationOps"]}]}
            """, Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task DeletingAMatchingRegistrationNotifiesItAsNoLongerMatching()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));
        await RegisterAsync(app, Registration(Reg));
        await receiver.NextAsync(Soon);

        using var client = app.CreateClient();
        using var deleted = await client.DeleteAsync(RegistrationPath(Reg));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        JsonEqual(Notification("noLongerMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task ARegistrationOfOtherEntitiesIsNotNotified()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));

        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:cars", information: """[{"entities": [{"type": "Car"}]}]"""));
        await RegisterAsync(app, Registration(Reg));

        // A subscription's notifications go out in order, so the first to arrive is the Building one.
        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task SubscribingNotifiesTheRegistrationsThatAlreadyMatch()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Reg));
        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:cars", information: """[{"entities": [{"type": "Car"}]}]"""));
        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:2"));

        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));

        JsonEqual(Notification("newlyMatching", Shown(Reg), Shown("urn:ngsi-ld:ContextSourceRegistration:2")), Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task WatchedAttributesSelectRegistrationsOfThoseAttributes()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, """, "watchedAttributes": ["height"]""", receiver.Url));

        await RegisterAsync(app, Registration(Reg));
        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:heights", information: """[{"entities": [{"type": "Building"}], "propertyNames": ["height"]}]"""));

        var body = Body(await receiver.NextAsync(Soon));
        Assert.Equal("urn:ngsi-ld:ContextSourceRegistration:heights", (string?)Assert.Single(body["data"]!.AsArray())!["id"]);
    }

    [Fact]
    public async Task ANotificationShowsOnlyTheRegistrationInfoThatMatchesTheSubscription()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));

        await RegisterAsync(app, Registration(Reg, information: """
            [{"entities": [{"type": "Bus"}], "propertyNames": ["speed"]},
             {"entities": [{"type": "Building"}], "propertyNames": ["name"], "relationshipNames": ["owner"]}]
            """));

        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task TemporalQSelectsRegistrationsByTheirObservationInterval()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, """, "temporalQ": {"timerel": "before", "timeAt": "2020-01-01T00:00:00Z"}""", receiver.Url));
        const string Interval = """, "observationInterval": {"startAt": "{0}-01-01T00:00:00Z", "endAt": "{0}-12-31T00:00:00Z"}""";

        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:2021", Interval.Replace("{0}", "2021")));
        await RegisterAsync(app, Registration(Reg, Interval.Replace("{0}", "2019")));

        var body = Body(await receiver.NextAsync(Soon));
        Assert.Equal(Reg, (string?)Assert.Single(body["data"]!.AsArray())!["id"]);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task ScopeQSelectsRegistrationsByTheirScope()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, """, "scopeQ": "/Paris/#" """, receiver.Url));

        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:lyon", """, "scope": "/Lyon" """));
        await RegisterAsync(app, Registration(Reg, """, "scope": "/Paris/Centre" """));

        var body = Body(await receiver.NextAsync(Soon));
        Assert.Equal(Reg, (string?)Assert.Single(body["data"]!.AsArray())!["id"]);
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task AThrottledSubscriptionIsNotNotifiedAgainWithinItsThrottling()
    {
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, """, "throttling": 3600"""));

        await RegisterAsync(app, Registration(Reg));
        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:2"));

        // Nothing listens at the subscription's endpoint, so what was written for it stays in the outbox.
        var row = Assert.Single(SubscriptionClient.Outbox(app));
        Assert.Equal(Reg, (string?)row.Body["data"]![0]!["id"]);
    }

    [Fact]
    public async Task APeriodicSubscriptionNotifiesTheRegistrationsThatMatchEveryInterval()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, """, "timeInterval": 1""", receiver.Url));
        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:cars", information: """[{"entities": [{"type": "Car"}]}]"""));

        await RegisterAsync(app, Registration(Reg));

        // Each interval reports what matches then; the registration itself is not notified as a change.
        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task APeriodicSubscriptionAlsoNotifiesOnSubscribing()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Reg));

        await SubscribeAsync(app, CsourceSubscription(Sub, """, "timeInterval": 3600""", receiver.Url));

        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
    }

    [Fact]
    public async Task APausedSubscriptionIsNotNotifiedUntilItIsActiveAgain()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, """, "isActive": false""", receiver.Url));
        await RegisterAsync(app, Registration(Reg));

        using var resumed = await SendAsync(app, HttpMethod.Patch, CsourceSubscriptionPath(Sub), """{"isActive": true}""");

        Assert.Equal(HttpStatusCode.NoContent, resumed.StatusCode);
        // Resuming (any update) reports what matches now, as subscribing does.
        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(await receiver.NextAsync(Soon)));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task DeliveryIsCountedInTheSubscriptionsNotificationStatus()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url));
        await RegisterAsync(app, Registration(Reg));
        await receiver.NextAsync(Soon);

        JsonNode? notification = null;
        for (var tries = 0; tries < 50 && (int?)notification?["timesSent"] != 1; tries++)
        {
            await Task.Delay(100);
            notification = (await ReadAsync(app, CsourceSubscriptionPath(Sub)))["notification"];
        }

        Assert.Equal(1, (int?)notification?["timesSent"]);
        Assert.Equal("ok", (string?)notification?["status"]);
        Assert.NotNull(notification?["lastSuccess"]);
    }

    [Fact]
    public async Task ATenantsRegistrationsNotifyOnlyThatTenantsSubscriptions()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url), tenant: "north");

        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:default"));
        await RegisterAsync(app, Registration(Reg), tenant: "north");

        var received = await receiver.NextAsync(Soon);
        Assert.Equal("north", received.Headers["NGSILD-Tenant"]);
        JsonEqual(Notification("newlyMatching", Shown(Reg)), Body(received));
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task LdJsonNotificationsCarryTheSubscriptionsContext()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        await SubscribeAsync(app, CsourceSubscription(Sub, uri: receiver.Url).Replace("\"application/json\"", "\"application/ld+json\""));

        await RegisterAsync(app, Registration(Reg));

        var received = await receiver.NextAsync(Soon);
        Assert.Equal("application/ld+json", received.Headers["Content-Type"]);
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld", (string?)body["@context"]);
        Assert.Equal("newlyMatching", (string?)body["triggerReason"]);
    }
}
