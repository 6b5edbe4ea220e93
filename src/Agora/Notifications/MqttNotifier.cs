using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Agora.Notifications;

/// Publishes notifications to MQTT brokers, one connection per broker, credentials and protocol version,
/// kept open between notifications. The payload is the NGSI-LD MQTT binding's envelope: the headers an HTTP
/// notification would carry in "metadata" and the notification itself in "body".
internal sealed class MqttNotifier(ILogger<MqttNotifier> logger) : IAsyncDisposable
{
    private readonly MqttClientFactory _factory = new();
    private readonly ConcurrentDictionary<string, Connection> _connections = new(StringComparer.Ordinal);

    public async Task<string?> SendAsync(string tenant, OutboxRow row, NotificationEndpoint endpoint, CancellationToken attempt)
    {
        var uri = endpoint.Uri;
        var tls = uri.Scheme == "mqtts";
        var port = uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port;
        var version = endpoint.Notifier("MQTT-Version") switch
        {
            null or "mqtt3.1.1" => MqttProtocolVersion.V311,
            "mqtt5.0" => MqttProtocolVersion.V500,
            _ => (MqttProtocolVersion?)null,
        };
        if (version is null)
        {
            return $"MQTT-Version '{endpoint.Notifier("MQTT-Version")}' is not supported (mqtt3.1.1 or mqtt5.0).";
        }
        var qos = endpoint.Notifier("MQTT-QoS") switch
        {
            null or "0" => MqttQualityOfServiceLevel.AtMostOnce,
            "1" => MqttQualityOfServiceLevel.AtLeastOnce,
            "2" => MqttQualityOfServiceLevel.ExactlyOnce,
            _ => (MqttQualityOfServiceLevel?)null,
        };
        if (qos is null)
        {
            return $"MQTT-QoS '{endpoint.Notifier("MQTT-QoS")}' is not supported (0, 1 or 2).";
        }
        var topic = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (topic.Length == 0)
        {
            return $"{Redacted(uri)} names no topic.";
        }
        var (user, password) = Credentials(uri);

        var key = $"{uri.Scheme}|{uri.IdnHost}|{port}|{version}|{user}|{password}";
        var connection = _connections.GetOrAdd(key, _ => new Connection(_factory.CreateMqttClient(), new MqttClientOptionsBuilder()
            .WithTcpServer(uri.IdnHost, port)
            .WithProtocolVersion(version.Value)
            .WithClientId("agora-" + Guid.NewGuid().ToString("N"))
            .WithCleanSession()
            .WithCredentials(user, password)
            .WithTlsOptions(o => o.UseTls(tls))
            .Build()));

        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(Envelope(tenant, row, endpoint))
            .WithQualityOfServiceLevel(qos.Value);
        if (version == MqttProtocolVersion.V500)
        {
            // MQTT 5 can say what the payload is; MQTT 3.1.1 has no such property (the client refuses it).
            message.WithContentType("application/json").WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);
        }
        await connection.EnsureConnectedAsync(attempt);
        var result = await connection.Client.PublishAsync(message.Build(), attempt);
        // A broker with no subscriber on the topic accepted the message all the same; the receiver is not ours to wait for.
        return result.ReasonCode is MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers
            ? null
            : $"{Redacted(uri)} refused the publish: {result.ReasonCode} {result.ReasonString}";
    }

    internal static byte[] Envelope(string tenant, OutboxRow row, NotificationEndpoint endpoint)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteString("Content-Type", row.ContentType);
            if (row.Link is not null)
            {
                json.WriteString("Link", row.Link);
            }
            if (tenant.Length > 0)
            {
                json.WriteString("NGSILD-Tenant", tenant);
            }
            foreach (var (key, value) in endpoint.ReceiverInfo)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            json.WritePropertyName("body");
            json.WriteRawValue(row.Body);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static (string? User, string? Password) Credentials(Uri uri)
    {
        if (uri.UserInfo.Length == 0)
        {
            return (null, null);
        }
        var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
        return colon < 0
            ? (Uri.UnescapeDataString(uri.UserInfo), null)
            : (Uri.UnescapeDataString(uri.UserInfo[..colon]), Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]));
    }

    // Failures are logged and stored as reasons; a password in the endpoint must appear in neither.
    internal static string Redacted(Uri uri) => uri.UserInfo.Length == 0 ? uri.ToString() : uri.ToString().Replace(uri.UserInfo + "@", "***@", StringComparison.Ordinal);

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values)
        {
            try
            {
                await connection.DisposeAsync();
            }
            catch (Exception e)
            {
                logger.LogDebug(e, "Closing an MQTT connection failed.");
            }
        }
        _connections.Clear();
    }

    private sealed class Connection(IMqttClient client, MqttClientOptions options) : IAsyncDisposable
    {
        private readonly SemaphoreSlim _connecting = new(1, 1);

        public IMqttClient Client { get; } = client;

        // Many subscriptions may publish through one connection; only one of them (re)connects it.
        public async Task EnsureConnectedAsync(CancellationToken attempt)
        {
            if (Client.IsConnected)
            {
                return;
            }
            await _connecting.WaitAsync(attempt);
            try
            {
                if (!Client.IsConnected)
                {
                    await Client.ConnectAsync(options, attempt);
                }
            }
            finally
            {
                _connecting.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Client.IsConnected)
            {
                await Client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build());
            }
            Client.Dispose();
            _connecting.Dispose();
        }
    }
}
