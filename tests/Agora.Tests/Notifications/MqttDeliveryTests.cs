using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Protocol;

namespace Agora.Tests.Notifications;

/// Notifications published through a real Mosquitto on 127.0.0.1:1883, which .ci/run starts.
public sealed class MqttDeliveryTests
{
    private const string Broker = "127.0.0.1";
    private const int Port = 1883;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(null, "1")]
    [InlineData("mqtt3.1.1", "1")]
    [InlineData("mqtt5.0", "1")]
    [InlineData("mqtt5.0", "2")]
    [InlineData(null, null)]
    public async Task NotificationIsPublishedAsMetadataAndBody(string? version, string? qos)
    {
        var topic = $"agora-tests/{Guid.NewGuid():N}";
        await using var subscriber = await MqttSubscriber.StartAsync(topic);
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app);
        const string link = "<https://example.org/context.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"";
        var notifierInfo = new List<(string, string)>();
        if (version is not null)
        {
            notifierInfo.Add(("MQTT-Version", version));
        }
        if (qos is not null)
        {
            notifierInfo.Add(("MQTT-QoS", qos));
        }

        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:mqtt",
            Outbox.MqttEndpoint($"mqtt://{Broker}:{Port}/{topic}", [("test-receiver-key", "test-receiver-info")], [.. notifierInfo]),
            Outbox.Notification("urn:ngsi-ld:Subscription:mqtt", 1), link: link);

        var message = JsonNode.Parse(await subscriber.NextAsync(Soon))!.AsObject();
        var metadata = message["metadata"]!.AsObject();
        Assert.Equal("application/json", (string?)metadata["Content-Type"]);
        Assert.Equal(link, (string?)metadata["Link"]);
        Assert.Equal("test-receiver-info", (string?)metadata["test-receiver-key"]);
        Assert.Equal("Notification", (string?)message["body"]!["type"]);
        Assert.Equal("urn:ngsi-ld:Building:1", (string?)message["body"]!["data"]![0]!["id"]);
        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, "urn:ngsi-ld:Subscription:mqtt")?.TimesSent == 1, Soon, "timesSent never reached 1");
    }

    [Fact]
    public async Task NotificationsOfATenantGoOutInOrderThroughOneConnectionWithCredentials()
    {
        var topic = $"agora-tests/{Guid.NewGuid():N}";
        await using var subscriber = await MqttSubscriber.StartAsync(topic);
        await using var app = new AgoraApplication();
        var store = Outbox.Store(app, "city-south");
        // Mosquitto here allows anonymous clients, so any user and password are accepted; the URI must still parse.
        var endpoint = Outbox.MqttEndpoint($"mqtt://agora:p%40ss@{Broker}:{Port}/{topic}", [], ("MQTT-QoS", "1"));

        for (var n = 1; n <= 20; n++)
        {
            await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:ordered", endpoint, Outbox.Notification("ordered", n));
        }
        var order = new List<int>();
        for (var n = 1; n <= 20; n++)
        {
            var message = JsonNode.Parse(await subscriber.NextAsync(Soon))!;
            Assert.Equal("city-south", (string?)message["metadata"]!["NGSILD-Tenant"]);
            order.Add((int)message["body"]!["data"]![0]!["n"]!["value"]!);
        }
        Assert.Equal(Enumerable.Range(1, 20), order);
    }

    [Fact]
    public async Task UnreachableMqttBrokerCountsAsAFailure()
    {
        await using var app = new AgoraApplication(("Agora:Notifications:MinBackoff", "00:00:10"));
        var store = Outbox.Store(app);
        await Outbox.InsertAsync(store, "urn:ngsi-ld:Subscription:nobroker",
            Outbox.MqttEndpoint($"mqtt://127.0.0.1:{HttpDeliveryTests.ClosedPort()}/t", []), Outbox.Notification("nobroker", 1));

        await Outbox.EventuallyAsync(() => Outbox.StatusOf(store, "urn:ngsi-ld:Subscription:nobroker")?.TimesFailed == 1, Soon, "the failure was not recorded");
        Assert.Equal(1, Outbox.Pending(store, "urn:ngsi-ld:Subscription:nobroker"));
    }

    /// A client subscribed to one topic with QoS 1, as a notification receiver would be.
    private sealed class MqttSubscriber : IAsyncDisposable
    {
        private readonly IMqttClient _client;
        private readonly Channel<string> _messages = Channel.CreateUnbounded<string>();

        private MqttSubscriber(IMqttClient client) => _client = client;

        public static async Task<MqttSubscriber> StartAsync(string topic)
        {
            await RequireBrokerAsync();
            var factory = new MqttClientFactory();
            var subscriber = new MqttSubscriber(factory.CreateMqttClient());
            subscriber._client.ApplicationMessageReceivedAsync += e =>
            {
                subscriber._messages.Writer.TryWrite(e.ApplicationMessage.ConvertPayloadToString());
                return Task.CompletedTask;
            };
            await subscriber._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer(Broker, Port).WithCleanSession().Build());
            await subscriber._client.SubscribeAsync(factory.CreateSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build());
            return subscriber;
        }

        public async Task<string> NextAsync(TimeSpan timeout)
        {
            using var wait = new CancellationTokenSource(timeout);
            try
            {
                return await _messages.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No MQTT message arrived within {timeout.TotalSeconds} s.");
            }
        }

        private static async Task RequireBrokerAsync()
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(Broker, Port).WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                Assert.Fail($"These tests need an MQTT broker (Mosquitto) on {Broker}:{Port}; .ci/run starts one. Locally: apt-get install -y mosquitto, then `mosquitto -d -p {Port}`. ({e.Message})");
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }
            _client.Dispose();
        }
    }
}
