namespace Agora.Tests.Notifications;

/// What is pending in the outbox when Agora stops goes out when it starts again on the same data.
public sealed class RestartDeliveryTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task PendingNotificationsAreDeliveredAfterARestart()
    {
        var up = false;
        await using var receiver = await NotificationReceiver.StartAsync((_, _) => Task.FromResult(Volatile.Read(ref up) ? 204 : 503));
        const string subscription = "urn:ngsi-ld:Subscription:restart";

        await using (var before = new AgoraApplication(("Agora:Data", _data), ("Agora:Notifications:MinBackoff", "00:00:00.5")))
        {
            var store = Outbox.Store(before);
            for (var n = 1; n <= 3; n++)
            {
                await Outbox.InsertAsync(store, subscription, Outbox.HttpEndpoint(receiver.Url), Outbox.Notification(subscription, n));
            }
            await receiver.NextAsync(TimeSpan.FromSeconds(5));
            await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, subscription)?.TimesFailed >= 1, TimeSpan.FromSeconds(5), "the failure was not recorded");
        }
        Volatile.Write(ref up, true);
        while (receiver.Received.TryDequeue(out _))
        {
        }

        await using var after = new AgoraApplication(("Agora:Data", _data), ("Agora:Notifications:MinBackoff", "00:00:00.5"));
        var restarted = Outbox.Store(after);
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(restarted, subscription)?.TimesSent == 3, TimeSpan.FromSeconds(10), "the pending notifications were not delivered after the restart");
        Assert.Equal(0, Outbox.Pending(restarted, subscription));
        var delivered = receiver.Received.Where(r => r.Headers.Count > 0).Select(r => r.Body).ToList();
        Assert.Contains(delivered, b => b.Contains("urn:ngsi-ld:Building:3\"", StringComparison.Ordinal));
        Assert.Equal(0, Outbox.StatusOf(restarted, subscription)!.ConsecutiveFailures);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
