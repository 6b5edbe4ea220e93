using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Agora.Tests.Notifications;
using Xunit.Abstractions;

namespace Agora.Tests.Durability;

/// A notification committed with its change but not yet delivered when the process dies (SIGKILL) is
/// delivered after the restart: the outbox is part of the database.
public sealed class NotificationKillTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "agora-kill-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task ANotificationPendingAtAKillIsDeliveredAfterTheRestart()
    {
        // The endpoint refuses until the server has been killed, so the notification can only be pending then.
        var accepting = false;
        await using var receiver = await NotificationReceiver.StartAsync((_, _) => Task.FromResult(Volatile.Read(ref accepting) ? 204 : 503));
        using (var agora = AgoraProcess.Start(_data, output))
        {
            await agora.WaitUntilAnsweringAsync();
            using var client = new HttpClient { BaseAddress = agora.BaseAddress };
            var subscription = new JsonObject
            {
                ["type"] = "Subscription",
                ["entities"] = new JsonArray(new JsonObject { ["type"] = "Streetlight" }),
                ["notification"] = new JsonObject { ["endpoint"] = new JsonObject { ["uri"] = receiver.Url } },
            };
            using var subscribe = await client.PostAsync("/ngsi-ld/v1/subscriptions", Json(subscription.ToJsonString()));
            Assert.Equal(HttpStatusCode.Created, subscribe.StatusCode);
            using var create = await client.PostAsync("/ngsi-ld/v1/entities", Json("""
                {"id": "urn:ngsi-ld:Streetlight:1", "type": "Streetlight", "status": {"type": "Property", "value": "defective"}}
                """));
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);

            // The first attempt fails: the notification is committed and waiting for its retry.
            await receiver.NextAsync(TimeSpan.FromSeconds(10));
            agora.Kill();
        }

        var acceptingSince = DateTimeOffset.UtcNow;
        Volatile.Write(ref accepting, true);
        using var restarted = AgoraProcess.Start(_data, output);
        await restarted.WaitUntilAnsweringAsync();
        // Refused attempts made before the kill may still be queued in the receiver: skip to the delivery.
        ReceivedNotification delivered;
        do
        {
            delivered = await receiver.NextAsync(TimeSpan.FromSeconds(30));
        }
        while (delivered.At < acceptingSince);

        var notification = JsonNode.Parse(delivered.Body)!;
        Assert.Equal("Notification", (string?)notification["type"]);
        Assert.Equal("urn:ngsi-ld:Streetlight:1", (string?)notification["data"]![0]!["id"]);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

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
