using Agora.Storage;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;

namespace Agora.Notifications;

/// The dispatcher's SQL over the outbox and subscription_status tables.
internal static class OutboxRows
{
    /// At most this many subscriptions are picked up by one scan; the next scan takes the rest.
    private const int ScanLimit = 1000;

    /// Subscriptions with a due notification, other than those being delivered already.
    /// Those another node is delivering (it holds their lease) are left to it.
    public static List<string> DueSubscriptions(DbConnection connection, double now, IReadOnlyCollection<string> busy, string node)
    {
        using var command = connection.CreateCommand();
        var busyIds = Db.IsPostgres(connection) ? "SELECT jsonb_array_elements_text(CAST(@busy AS jsonb))" : "SELECT value FROM json_each(@busy)";
        command.CommandText = $"""
            SELECT DISTINCT subscription_id FROM outbox
            WHERE next_attempt <= @now AND subscription_id NOT IN ({busyIds})
                AND subscription_id NOT IN (SELECT subscription_id FROM delivery_leases WHERE until > @now AND node <> @node)
            LIMIT @limit
            """;
        command.Parameters.AddWithValue("@now", now);
        command.Parameters.AddWithValue("@node", node);
        command.Parameters.AddWithValue("@busy", JsonSerializer.Serialize(busy));
        command.Parameters.AddWithValue("@limit", ScanLimit);
        using var reader = command.ExecuteReader();
        var due = new List<string>();
        while (reader.Read())
        {
            due.Add(reader.GetString(0));
        }
        return due;
    }

    /// When the next notification that is not due yet becomes due, or null when none waits.
    public static double? NextAttempt(DbConnection connection, double now)
    {
        using var command = Statements.For(connection, "SELECT MIN(next_attempt) FROM outbox WHERE next_attempt > @now");
        command.Parameters.AddWithValue("@now", now);
        return command.ExecuteScalar() is double next ? next : null;
    }

    /// Takes or renews this node's lease on delivering a subscription's notifications; false while another
    /// node's lease runs. One statement, atomic on its own: the row's lock decides between nodes.
    public static bool TryLease(DbConnection connection, string subscriptionId, string node, double now, double until)
    {
        using var command = Sql.Command(connection, """
            INSERT INTO delivery_leases (subscription_id, node, until) VALUES (@s, @node, @until)
            ON CONFLICT (subscription_id) DO UPDATE SET node = excluded.node, until = excluded.until
            WHERE delivery_leases.node = excluded.node OR delivery_leases.until <= @now
            """, ("@s", subscriptionId), ("@node", node), ("@until", until), ("@now", now));
        return command.ExecuteNonQuery() == 1;
    }

    /// Gives a lease up, so that another node can take the subscription's next notifications at once.
    public static void Release(DbConnection connection, string subscriptionId, string node)
    {
        using var command = Sql.Command(connection, "DELETE FROM delivery_leases WHERE subscription_id = @s AND node = @node",
            ("@s", subscriptionId), ("@node", node));
        command.ExecuteNonQuery();
    }

    /// The first pending notifications of a subscription, oldest first.
    public static List<OutboxRow> Pending(DbConnection connection, string subscriptionId, int limit)
    {
        using var command = Statements.For(connection, """
            SELECT nid, subscription_id, endpoint, content_type, link, body, attempts, next_attempt FROM outbox
            WHERE subscription_id = @s ORDER BY nid LIMIT @limit
            """);
        command.Parameters.AddWithValue("@s", subscriptionId);
        command.Parameters.AddWithValue("@limit", limit);
        using var reader = command.ExecuteReader();
        var rows = new List<OutboxRow>();
        while (reader.Read())
        {
            rows.Add(new OutboxRow(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), reader.GetInt32(6), reader.GetDouble(7)));
        }
        return rows;
    }

    /// Holds back every notification of a subscription until its oldest may be tried again: they go out in
    /// order, and rows that cannot be sent yet must not be found due by every scan.
    public static void Park(DbConnection connection, string subscriptionId, double until)
    {
        using var command = Statements.For(connection, "UPDATE outbox SET next_attempt = @until WHERE subscription_id = @s AND next_attempt < @until");
        command.Parameters.AddWithValue("@s", subscriptionId);
        command.Parameters.AddWithValue("@until", until);
        command.ExecuteNonQuery();
    }

    /// Records the outcomes of deliveries: a delivered row is deleted, a failed one waits for its retry, and the
    /// subscription's status counts either. A row that is gone (its subscription was deleted) leaves no status.
    public static void Record(DbConnection connection, IEnumerable<DeliveryResult> results)
    {
        using var delete = Statements.For(connection, "DELETE FROM outbox WHERE nid = @nid");
        var deleteNid = delete.Parameters.Add("@nid", DbType.Int64);

        using var retry = Statements.For(connection, "UPDATE outbox SET attempts = attempts + 1, next_attempt = @next WHERE nid = @nid");
        var retryNid = retry.Parameters.Add("@nid", DbType.Int64);
        var retryNext = retry.Parameters.Add("@next", DbType.Double);

        using var sent = Statements.For(connection, """
            INSERT INTO subscription_status (subscription_id, times_sent, last_notification, last_success, consecutive_failures)
            VALUES (@s, 1, @at, @at, 0)
            ON CONFLICT (subscription_id) DO UPDATE SET times_sent = subscription_status.times_sent + 1, last_notification = @at,
                last_success = @at, consecutive_failures = 0
            """);
        var sentSubscription = sent.Parameters.Add("@s", DbType.String);
        var sentAt = sent.Parameters.Add("@at", DbType.String);

        using var failed = Statements.For(connection, """
            INSERT INTO subscription_status (subscription_id, times_failed, last_notification, last_failure, consecutive_failures)
            VALUES (@s, 1, @at, @at, 1)
            ON CONFLICT (subscription_id) DO UPDATE SET times_failed = subscription_status.times_failed + 1, last_notification = @at,
                last_failure = @at, consecutive_failures = subscription_status.consecutive_failures + 1
            """);
        var failedSubscription = failed.Parameters.Add("@s", DbType.String);
        var failedAt = failed.Parameters.Add("@at", DbType.String);

        foreach (var result in results)
        {
            var at = Timestamp(result.At);
            if (result.Failure is null)
            {
                deleteNid.Value = result.Row.Nid;
                if (delete.ExecuteNonQuery() == 1 && !result.Withheld)
                {
                    sentSubscription.Value = result.Row.SubscriptionId;
                    sentAt.Value = at;
                    sent.ExecuteNonQuery();
                }
            }
            else
            {
                retryNid.Value = result.Row.Nid;
                retryNext.Value = result.NextAttempt;
                if (retry.ExecuteNonQuery() == 1)
                {
                    Park(connection, result.Row.SubscriptionId, result.NextAttempt);
                    failedSubscription.Value = result.Row.SubscriptionId;
                    failedAt.Value = at;
                    failed.ExecuteNonQuery();
                }
            }
        }
    }

    public static string Timestamp(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static double UnixSeconds(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / 1000.0;
}

/// The outcome of one delivery attempt: Failure is null when the notification arrived, or when it was withheld
/// (a DeliveryVeto said it must not be sent): then it leaves the outbox unsent and uncounted.
internal sealed record DeliveryResult(OutboxRow Row, string? Failure, DateTimeOffset At, double NextAttempt)
{
    public bool Withheld { get; init; }
}

/// A say over each notification before it is sent: the reason it must not be sent, or null; it may also narrow
/// what is sent by replacing the row. The market uses one to stop the notifications of an agreement that is not
/// active or has spent its notification quota, and to keep a consumer's notifications within its agreements.
internal delegate string? DeliveryVeto(string tenant, ref OutboxRow row);
