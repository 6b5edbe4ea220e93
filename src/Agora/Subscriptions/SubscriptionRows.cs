using System.Data.Common;
using System.Text.Json.Nodes;
using Agora.Storage;

namespace Agora.Subscriptions;

/// What DELIVERY has recorded of a subscription's notifications.
internal sealed record DeliveryStatus(long TimesSent, long TimesFailed, string? LastNotification, string? LastSuccess, string? LastFailure);

/// A notification ready for delivery: the outbox row (clause 5.3), less what the table adds itself.
internal sealed record OutboxRow(string SubscriptionId, JsonObject Endpoint, string ContentType, string? Link, JsonObject Body, string CreatedAt);

/// The subscriptions, subscription_status and outbox tables of a tenant store.
internal static class SubscriptionRows
{
    public const string Table = "subscriptions";
    private static readonly DocumentRows Documents = new(Table);

    public static JsonObject? Find(DbConnection c, string id) => Documents.Find(c, id);

    public static List<JsonObject> All(DbConnection c) => Documents.All(c);

    public static (List<JsonObject> Page, long Total) Page(DbConnection c, int offset, int limit) =>
        (Documents.Page(c, offset, limit), Documents.Count(c));

    /// False when a subscription with this id exists already.
    public static bool Insert(DbConnection c, JsonObject doc, string now) => Documents.Insert(c, doc, now);

    public static void Update(DbConnection c, JsonObject doc, string now) => Documents.Update(c, doc, now);

    /// Deletes a subscription with its delivery status and its undelivered notifications.
    public static bool Delete(DbConnection c, string id)
    {
        var deleted = Documents.Delete(c, id);
        ForgetDelivery(c, id);
        return deleted;
    }

    /// Drops what delivery keeps of a subscription (entity or context source one): its status and its undelivered notifications.
    public static void ForgetDelivery(DbConnection c, string id)
    {
        using var status = Sql.Command(c, """
            DELETE FROM subscription_status WHERE subscription_id = @id;
            DELETE FROM outbox WHERE subscription_id = @id;
            DELETE FROM delivery_leases WHERE subscription_id = @id;
            DELETE FROM periodic_runs WHERE subscription_id = @id;
            """, ("@id", id));
        status.ExecuteNonQuery();
    }

    public static Dictionary<string, DeliveryStatus> Statuses(DbConnection c, IEnumerable<string> ids)
    {
        var result = new Dictionary<string, DeliveryStatus>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            using var command = Sql.Command(c, "SELECT times_sent, times_failed, last_notification, last_success, last_failure FROM subscription_status WHERE subscription_id = @id", ("@id", id));
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                result[id] = new DeliveryStatus(reader.GetInt64(0), reader.GetInt64(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4));
            }
        }
        return result;
    }

    /// Claims this interval's firing of a periodic subscription: time is cut into slots of one interval since the
    /// epoch, and a slot fires once, whichever node's timer reaches it first (false for the others). A claim
    /// records the slot's start in seconds, which only grows whatever the interval, so that a subscription whose
    /// timeInterval changes fires again at its next slot. Run inside the write that enqueues the notification,
    /// under the tenant's lock.
    public static bool TryFire(DbConnection c, string id, DateTimeOffset now, double interval)
    {
        var slot = Slot(now, interval);
        using var command = Sql.Command(c, """
            INSERT INTO periodic_runs (subscription_id, fired) VALUES (@s, @slot)
            ON CONFLICT (subscription_id) DO UPDATE SET fired = excluded.fired WHERE periodic_runs.fired < excluded.fired
            """, ("@s", id), ("@slot", slot));
        return command.ExecuteNonQuery() == 1;
    }

    /// Whether this interval's firing is already claimed: a node whose timer comes second skips the read of the
    /// matching entities. Only a hint; TryFire decides.
    public static bool Fired(DbConnection c, string id, DateTimeOffset now, double interval)
    {
        using var command = Sql.Command(c, "SELECT 1 FROM periodic_runs WHERE subscription_id = @s AND fired >= @slot",
            ("@s", id), ("@slot", Slot(now, interval)));
        return command.ExecuteScalar() is not null;
    }

    // Before this was a slot's start it was the slot's number, which is smaller: such a claim gives way at once.
    private static double Slot(DateTimeOffset now, double interval) => Math.Floor(now.ToUnixTimeMilliseconds() / 1000.0 / interval) * interval;

    public static void Enqueue(DbConnection c, OutboxRow row)
    {
        using var command = Sql.Command(c,
            "INSERT INTO outbox(subscription_id, endpoint, content_type, link, body, created_at, attempts, next_attempt) VALUES (@s, @e, @t, @l, @b, @c, 0, @n)",
            ("@s", row.SubscriptionId), ("@e", row.Endpoint.ToJsonString()), ("@t", row.ContentType), ("@l", (object?)row.Link ?? DBNull.Value),
            ("@b", row.Body.ToJsonString()), ("@c", row.CreatedAt), ("@n", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0));
        command.ExecuteNonQuery();
    }
}
