using System.Globalization;
using Agora.Notifications;
using Agora.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Agora.Tests.Notifications;

/// Writes outbox rows the way the subscription side does, straight into a tenant's store, and reads the
/// delivery status back.
internal static class Outbox
{
    public static TenantStore Store(AgoraApplication app, string tenant = TenantStores.DefaultTenant) =>
        app.Services.GetRequiredService<TenantStores>().GetOrCreate(tenant);

    public static string HttpEndpoint(string uri, params (string Key, string Value)[] receiverInfo) =>
        System.Text.Json.JsonSerializer.Serialize(new
        {
            uri,
            accept = "application/json",
            receiverInfo = receiverInfo.Select(p => new { key = p.Key, value = p.Value }).ToArray(),
        });

    public static string MqttEndpoint(string uri, (string Key, string Value)[] receiverInfo, params (string Key, string Value)[] notifierInfo) =>
        System.Text.Json.JsonSerializer.Serialize(new
        {
            uri,
            accept = "application/json",
            receiverInfo = receiverInfo.Select(p => new { key = p.Key, value = p.Value }).ToArray(),
            notifierInfo = notifierInfo.Select(p => new { key = p.Key, value = p.Value }).ToArray(),
        });

    public static string Notification(string subscription, int n) =>
        $$$"""{"id":"urn:ngsi-ld:Notification:{{{n}}}","type":"Notification","subscriptionId":"{{{subscription}}}","notifiedAt":"2026-01-01T00:00:00.000Z","data":[{"id":"urn:ngsi-ld:Building:{{{n}}}","type":"Building","n":{"type":"Property","value":{{{n}}}}}]}""";

    public static Task<long> InsertAsync(TenantStore store, string subscription, string endpoint, string body,
        string contentType = "application/json", string? link = null) =>
        store.WriteAsync(c =>
        {
            using var command = c.CreateCommand();
            command.CommandText = """
                INSERT INTO outbox (subscription_id, endpoint, content_type, link, body, created_at, attempts, next_attempt)
                VALUES (@s, @e, @ct, @link, @body, @at, 0, @next) RETURNING nid
                """;
            command.Parameters.AddWithValue("@s", subscription);
            command.Parameters.AddWithValue("@e", endpoint);
            command.Parameters.AddWithValue("@ct", contentType);
            command.Parameters.AddWithValue("@link", (object?)link ?? DBNull.Value);
            command.Parameters.AddWithValue("@body", body);
            command.Parameters.AddWithValue("@at", OutboxRows.Timestamp(DateTimeOffset.UtcNow));
            command.Parameters.AddWithValue("@next", OutboxRows.UnixSeconds(DateTimeOffset.UtcNow));
            return (long)command.ExecuteScalar()!;
        });

    public static long Pending(TenantStore store, string subscription) => store.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM outbox WHERE subscription_id = @s";
        command.Parameters.AddWithValue("@s", subscription);
        return (long)command.ExecuteScalar()!;
    });

    public static int Attempts(TenantStore store, long nid) => store.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT attempts FROM outbox WHERE nid = @nid";
        command.Parameters.AddWithValue("@nid", nid);
        return Convert.ToInt32(command.ExecuteScalar() ?? -1, CultureInfo.InvariantCulture);
    });

    public static Status? StatusOf(TenantStore store, string subscription) => store.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = """
            SELECT times_sent, times_failed, last_notification, last_success, last_failure, consecutive_failures
            FROM subscription_status WHERE subscription_id = @s
            """;
        command.Parameters.AddWithValue("@s", subscription);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new Status(reader.GetInt64(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt64(5))
            : null;
    });

    /// Polls until the condition holds, failing with the message if it does not in time.
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string message)
    {
        var until = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, message);
            await Task.Delay(20);
        }
    }
}

internal sealed record Status(long TimesSent, long TimesFailed, string? LastNotification, string? LastSuccess, string? LastFailure, long ConsecutiveFailures);
