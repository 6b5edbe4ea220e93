using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Agora.Tests.Notifications;

public sealed class HttpDeliveryTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);
    private const string Iso8601Millis = @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$";

    [Fact]
    public async Task NotificationIsPostedWithItsContentTypeLinkAndReceiverInfo()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app);
        const string link = "<https://example.org/context.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";

        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:s1",
            Outbox.HttpEndpoint(receiver.Url, ("X-Auth-Token", "secret"), ("test-receiver-key", "test-receiver-info")),
            Outbox.Notification("urn:ngsi-ld:Subscription:s1", 1), link: link);

        var received = await receiver.NextAsync(Soon);
        Assert.Equal("POST", received.Method);
        Assert.Equal("application/json", received.Headers["Content-Type"]);
        Assert.Equal(link, received.Headers["Link"]);
        Assert.Equal("secret", received.Headers["X-Auth-Token"]);
        Assert.Equal("test-receiver-info", received.Headers["test-receiver-key"]);
        Assert.False(received.Headers.ContainsKey("NGSILD-Tenant"), "The default tenant is not named.");
        var body = JsonNode.Parse(received.Body)!;
        Assert.Equal("Notification", (string?)body["type"]);
        Assert.Equal("urn:ngsi-ld:Building:1", (string?)body["data"]![0]!["id"]);
    }

    [Fact]
    public async Task NotificationOfATenantNamesTheTenantAndKeepsItsMediaType()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app, "city-north");

        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:t", Outbox.HttpEndpoint(receiver.Url),
            Outbox.Notification("urn:ngsi-ld:Subscription:t", 1), contentType: "application/ld+json");

        var received = await receiver.NextAsync(Soon);
        Assert.Equal("city-north", received.Headers["NGSILD-Tenant"]);
        Assert.Equal("application/ld+json", received.Headers["Content-Type"]);
        Assert.False(received.Headers.ContainsKey("Link"));
    }

    [Fact]
    public async Task DeliveredNotificationLeavesTheOutboxAndCountsAsSent()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app);
        const string subscription = "urn:ngsi-ld:Subscription:sent";

        await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, 1));
        await receiver.NextAsync(Soon);

        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, subscription)?.TimesSent == 1, Soon, "timesSent never reached 1");
        var status = Outbox.StatusOf(store, subscription)!;
        Assert.Equal(0, Outbox.Pending(store, subscription));
        Assert.Equal(0, status.TimesFailed);
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Matches(Iso8601Millis, status.LastSuccess);
        Assert.Equal(status.LastSuccess, status.LastNotification);
        Assert.Null(status.LastFailure);
    }

    [Fact]
    public async Task NotificationsOfOneSubscriptionArriveInTheOrderTheyWereWritten()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app);
        const string subscription = "urn:ngsi-ld:Subscription:ordered";

        for (var n = 1; n <= 50; n++)
        {
            await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, n));
        }
        await Outbox.EventuallyAsync(() => receiver.Received.Count >= 50, Soon, $"only {receiver.Received.Count} of 50 arrived");

        var order = receiver.Received.Select(r => (int)JsonNode.Parse(r.Body)!["data"]![0]!["n"]!["value"]!).ToList();
        Assert.Equal(Enumerable.Range(1, 50), order);
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, subscription)?.TimesSent == 50, Soon, "timesSent never reached 50");
    }

    [Fact]
    public async Task FailedNotificationIsRetriedWithGrowingBackoffUntilItArrives()
    {
        await using var receiver = await NotificationReceiver.StartAsync((n, _) => Task.FromResult(n <= 2 ? 500 : 200));
        await using var app = new AgoraApplication(("Agora:Notifications:MinBackoff", "00:00:00.2"));
        var store = Outbox.Store(app);
        const string subscription = "urn:ngsi-ld:Subscription:retried";

        await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, 1));
        var first = await receiver.NextAsync(Soon);
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, subscription)?.TimesFailed == 1, Soon, "the failure was not recorded");
        var failing = Outbox.StatusOf(store, subscription)!;
        Assert.Equal(1, failing.ConsecutiveFailures);
        Assert.Equal(0, failing.TimesSent);
        Assert.Matches(Iso8601Millis, failing.LastFailure);
        Assert.Null(failing.LastSuccess);
        Assert.Equal(1, Outbox.Pending(store, subscription));

        var second = await receiver.NextAsync(Soon);
        var third = await receiver.NextAsync(Soon);
        // 0.2 s then 0.4 s, each within a tenth either way.
        Assert.InRange((second.At - first.At).TotalSeconds, 0.17, 2);
        Assert.InRange((third.At - second.At).TotalSeconds, 0.35, 2);
        Assert.Equal(first.Body, third.Body);

        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, subscription)?.TimesSent == 1, Soon, "the success was not recorded");
        var status = Outbox.StatusOf(store, subscription)!;
        Assert.Equal(2, status.TimesFailed);
        Assert.Equal(0, status.ConsecutiveFailures);
        Assert.Matches(Iso8601Millis, status.LastSuccess);
        Assert.Equal(status.LastSuccess, status.LastNotification);
        Assert.True(string.CompareOrdinal(status.LastFailure, status.LastSuccess) < 0, "the last failure came before the success");
        Assert.Equal(0, Outbox.Pending(store, subscription));
    }

    [Fact]
    public async Task ALaterNotificationWaitsForTheRetryOfAnEarlierOne()
    {
        await using var receiver = await NotificationReceiver.StartAsync((n, _) => Task.FromResult(n == 1 ? 503 : 204));
        await using var app = new AgoraApplication(("Agora:Notifications:MinBackoff", "00:00:00.3"));
        var store = Outbox.Store(app);
        const string subscription = "urn:ngsi-ld:Subscription:blocked";

        await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, 1));
        await receiver.NextAsync(Soon);
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, subscription)?.TimesFailed == 1, Soon, "the failure was not recorded");
        await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, 2));

        var retry = await receiver.NextAsync(Soon);
        var later = await receiver.NextAsync(Soon);
        Assert.Contains("urn:ngsi-ld:Building:1\"", retry.Body, StringComparison.Ordinal);
        Assert.Contains("urn:ngsi-ld:Building:2\"", later.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadEndpointsDoNotDelayALiveOne()
    {
        await using var hanging = await NotificationReceiver.StartAsync(async (_, aborted) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), aborted);
            return 204;
        });
        await using var live = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication(("Agora:Notifications:Timeout", "00:00:03"), ("Agora:Notifications:MinBackoff", "00:00:00.1"));
        var store = Outbox.Store(app);
        var refused = $"http://127.0.0.1:{ClosedPort()}/notify";

        for (var n = 1; n <= 5; n++)
        {
            await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:hanging", Outbox.HttpEndpoint(hanging.Url), Outbox.Notification("hanging", n));
            await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:refused", Outbox.HttpEndpoint(refused), Outbox.Notification("refused", n));
        }
        await hanging.NextAsync(Soon);

        var clock = Stopwatch.StartNew();
        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:live", Outbox.HttpEndpoint(live.Url), Outbox.Notification("live", 1));
        await live.NextAsync(TimeSpan.FromSeconds(1));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 1);

        Assert.Equal(5, Outbox.Pending(store, "urn:ngsi-ld:Subscription:hanging"));
        Assert.Equal(5, Outbox.Pending(store, "urn:ngsi-ld:Subscription:refused"));
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, "urn:ngsi-ld:Subscription:refused")?.TimesFailed >= 2, Soon, "the refused endpoint was not retried");
        Assert.Single(hanging.Received);
    }

    [Fact]
    public async Task UnreadableEndpointFailsAndIsCountedWithoutStoppingTheDispatcher()
    {
        await using var receiver = await NotificationReceiver.StartAsync();
        await using var app = new AgoraApplication(("Agora:Notifications:MinBackoff", "00:00:05"));
        var store = Outbox.Store(app);

        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:bad", "{not json", "{}");
        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:ftp", Outbox.HttpEndpoint("ftp://127.0.0.1/x"), "{}");
        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:good", Outbox.HttpEndpoint(receiver.Url), Outbox.Notification("good", 1));

        await receiver.NextAsync(Soon);
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, "urn:ngsi-ld:Subscription:bad")?.TimesFailed == 1, Soon, "the unreadable endpoint was not counted as failed");
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, "urn:ngsi-ld:Subscription:ftp")?.TimesFailed == 1, Soon, "the unsupported scheme was not counted as failed");
    }

    [Fact]
    public async Task NotificationOfADeletedSubscriptionLeavesNoStatus()
    {
        await using var receiver = await NotificationReceiver.StartAsync(async (_, aborted) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), aborted);
            return 204;
        });
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app);
        const string subscription = "urn:ngsi-ld:Subscription:deleted";

        await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, 1));
        await receiver.NextAsync(Soon);
        // The subscription side deletes a subscription's rows with it, here while its notification is in flight.
        await store.WriteAsync(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = "DELETE FROM outbox";
            return command.ExecuteNonQuery();
        });
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Null(Outbox.StatusOf(store, subscription));
    }

    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
