using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Agora.Subscriptions;

/// What DELIVERY has recorded of a subscription's notifications.
internal sealed record DeliveryStatus(long TimesSent, long TimesFailed, string? LastNotification, string? LastSuccess, string? LastFailure);

/// A notification ready for delivery: the outbox row (clause 5.3), less what the table adds itself.
internal sealed record OutboxRow(string SubscriptionId, JsonObject Endpoint, string ContentType, string? Link, JsonObject Body, string CreatedAt);

/// The subscriptions, subscription_status and outbox tables of a tenant store.
internal static class SubscriptionRows
{
    public static JsonObject? Find(SqliteConnection c, string id)
    {
        using var command = Command(c, "SELECT doc FROM subscriptions WHERE id = $id", ("$id", id));
        return command.ExecuteScalar() is string doc ? JsonNode.Parse(doc)!.AsObject() : null;
    }

    public static List<JsonObject> All(SqliteConnection c)
    {
        using var command = Command(c, "SELECT doc FROM subscriptions ORDER BY rowid");
        using var reader = command.ExecuteReader();
        var list = new List<JsonObject>();
        while (reader.Read())
        {
            list.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
        }
        return list;
    }

    public static (List<JsonObject> Page, long Total) Page(SqliteConnection c, int offset, int limit)
    {
        using var command = Command(c, "SELECT doc FROM subscriptions ORDER BY rowid LIMIT $limit OFFSET $offset", ("$limit", limit), ("$offset", offset));
        var page = new List<JsonObject>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                page.Add(JsonNode.Parse(reader.GetString(0))!.AsObject());
            }
        }
        using var count = Command(c, "SELECT COUNT(*) FROM subscriptions");
        return (page, (long)count.ExecuteScalar()!);
    }

    /// False when a subscription with this id exists already.
    public static bool Insert(SqliteConnection c, JsonObject doc, string now)
    {
        using var command = Command(c, "INSERT INTO subscriptions(id, doc, created_at, modified_at) VALUES ($id, $doc, $now, $now) ON CONFLICT(id) DO NOTHING",
            ("$id", (string)doc["id"]!), ("$doc", doc.ToJsonString()), ("$now", now));
        return command.ExecuteNonQuery() == 1;
    }

    public static void Update(SqliteConnection c, JsonObject doc, string now)
    {
        using var command = Command(c, "UPDATE subscriptions SET doc = $doc, modified_at = $now WHERE id = $id",
            ("$id", (string)doc["id"]!), ("$doc", doc.ToJsonString()), ("$now", now));
        command.ExecuteNonQuery();
    }

    /// Deletes a subscription with its delivery status and its undelivered notifications.
    public static bool Delete(SqliteConnection c, string id)
    {
        using var command = Command(c, "DELETE FROM subscriptions WHERE id = $id", ("$id", id));
        var deleted = command.ExecuteNonQuery() == 1;
        using var status = Command(c, "DELETE FROM subscription_status WHERE subscription_id = $id; DELETE FROM outbox WHERE subscription_id = $id", ("$id", id));
        status.ExecuteNonQuery();
        return deleted;
    }

    public static Dictionary<string, DeliveryStatus> Statuses(SqliteConnection c, IEnumerable<string> ids)
    {
        var result = new Dictionary<string, DeliveryStatus>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            using var command = Command(c, "SELECT times_sent, times_failed, last_notification, last_success, last_failure FROM subscription_status WHERE subscription_id = $id", ("$id", id));
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                result[id] = new DeliveryStatus(reader.GetInt64(0), reader.GetInt64(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            }
        }
        return result;
    }

    public static void Enqueue(SqliteConnection c, OutboxRow row)
    {
        using var command = Command(c,
            "INSERT INTO outbox(subscription_id, endpoint, content_type, link, body, created_at, attempts, next_attempt) VALUES ($s, $e, $t, $l, $b, $c, 0, $n)",
            ("$s", row.SubscriptionId), ("$e", row.Endpoint.ToJsonString()), ("$t", row.ContentType), ("$l", (object?)row.Link ?? DBNull.Value),
            ("$b", row.Body.ToJsonString()), ("$c", row.CreatedAt), ("$n", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0));
        command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, params (string Name, object Value)[] parameters)
    {
        var command = c.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }
}
