using System.Data.Common;
using System.Text.Json.Nodes;

namespace Agora.Market;

/// The records of consumer accounts: whether a tenant takes sign-ups, who signed up from where, how many
/// requests a consumer has waiting, and which credential an agreement's consumer collected.
internal sealed partial class MarketStore
{
    /// Whether the tenant's admin opened (true) or closed (false) sign-up; null when it never said.
    public bool? SignupOpen(string tenant)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT is_open FROM signup_settings WHERE tenant = @tenant", [("@tenant", tenant)]);
        return command.ExecuteScalar() is { } open and not DBNull ? Convert.ToInt64(open, System.Globalization.CultureInfo.InvariantCulture) != 0 : null;
    }

    public void SetSignupOpen(string tenant, bool open) =>
        Run("INSERT INTO signup_settings (tenant, is_open) VALUES (@tenant, @open) ON CONFLICT (tenant) DO UPDATE SET is_open = @open",
            ("@tenant", tenant), ("@open", open ? 1L : 0L));

    /// Records a sign-up from this address unless the address made `limit` of them since `since`; false then.
    /// One statement counts and records (under the address's lock on PostgreSQL), so parallel sign-ups from one
    /// address cannot all pass the count.
    public bool TryReserveSignup(string consumer, string address, DateTimeOffset at, DateTimeOffset since, int limit) =>
        RunLocked("agora signup " + address, """
            INSERT INTO signups (consumer, address, at) SELECT @consumer, @address, @at
            WHERE (SELECT COUNT(*) FROM signups WHERE address = @address AND at > @since) < @limit
            """, ("@consumer", consumer), ("@address", address), ("@at", Instant(at)), ("@since", Instant(since)), ("@limit", (long)limit)) == 1;

    /// Whether this address's refusal is the first since `since`: true once per address and window, when it is
    /// recorded.
    public bool TryMarkThrottled(string address, DateTimeOffset at, DateTimeOffset since) =>
        Run("""
            INSERT INTO signup_throttles (address, at) VALUES (@address, @at)
            ON CONFLICT (address) DO UPDATE SET at = @at WHERE signup_throttles.at <= @since
            """, ("@address", address), ("@at", Instant(at)), ("@since", Instant(since))) == 1;

    /// Forgets a reserved sign-up whose account was not made after all (its name was taken).
    public void ReleaseSignup(string consumer) => Run("DELETE FROM signups WHERE consumer = @consumer", ("@consumer", consumer));

    /// When the oldest sign-up from this address since `since` was made: the count frees a place 24 hours after it.
    public DateTimeOffset? OldestSignup(string address, DateTimeOffset since) =>
        Scalar("SELECT MIN(at) FROM signups WHERE address = @address AND at > @since", ("@address", address), ("@since", Instant(since))) is { } at
            ? DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// Whether a consumer of this name (compared as ConsumerNames.Key) is registered in the tenant or named by one
    /// of its agreements: an organisation signing up by itself may take neither, or it would read through
    /// agreements made for another.
    public bool ConsumerNameTaken(string tenant, string name)
    {
        var key = ConsumerNames.Key(name);
        if (Scalar("SELECT name FROM consumers WHERE tenant = @tenant AND name_key = @key LIMIT 1", ("@tenant", tenant), ("@key", key)) is not null)
        {
            return true;
        }
        // Agreements keep their consumer as named; the tenant's few names are compared here, as SQL cannot fold them.
        using var connection = Open();
        using var command = Command(connection, "SELECT DISTINCT consumer FROM agreements WHERE tenant = @tenant AND consumer IS NOT NULL", [("@tenant", tenant)]);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (ConsumerNames.Key(reader.GetString(0)) == key)
            {
                return true;
            }
        }
        return false;
    }

    // The name keys of consumers registered before names had them.
    private static void FillNameKeys(DbConnection connection)
    {
        var names = new List<(string Id, string Name)>();
        using (var select = Command(connection, "SELECT id, name FROM consumers", []))
        using (var reader = select.ExecuteReader())
        {
            while (reader.Read())
            {
                names.Add((reader.GetString(0), reader.GetString(1)));
            }
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, name) in names)
        {
            // Two registrations that differ only in case or spacing both stay (the second keyed apart by its id),
            // so that the unique index can be made; no new one joins them.
            var key = ConsumerNames.Key(name) is var k && seen.Add(k) ? k : $"{k} #{id}";
            using var update = Command(connection, "UPDATE consumers SET name_key = @key WHERE id = @id", [("@key", key), ("@id", id)]);
            update.ExecuteNonQuery();
        }
    }

    /// Records an agreement, and, given a limit, only while its consumer has fewer requests waiting for approval:
    /// false then. One statement counts and inserts, under the consumer's lock on PostgreSQL, so parallel requests
    /// cannot all pass the count.
    public bool InsertAgreement(string tenant, JsonObject doc, string? requestedBy, long? pendingLimit = null) =>
        RunLocked($"agora pending {tenant}\n{doc["consumer"]}", """
            INSERT INTO agreements (id, tenant, offering, state, requested_by, consumer, doc)
            SELECT @id, @tenant, @offering, @state, @by, @consumer, @doc
            WHERE CAST(@limit AS BIGINT) IS NULL OR (SELECT COUNT(*) FROM agreements
                WHERE tenant = @tenant AND consumer = @consumer AND state = 'pendingApproval') < @limit
            """, ("@id", (string)doc["id"]!), ("@tenant", tenant), ("@offering", (string)doc["offering"]!), ("@state", (string)doc["state"]!),
            ("@by", requestedBy), ("@consumer", (string?)doc["consumer"]), ("@doc", doc.ToJsonString()), ("@limit", pendingLimit)) == 1;

    // Under PostgreSQL's READ COMMITTED a statement that counts and then inserts is not atomic (two transactions
    // both count before either inserts): it runs in a transaction that first takes an advisory lock on what it
    // counts. SQLite runs one writer at a time.
    private int RunLocked(string key, string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Open();
        if (!_database.IsPostgres)
        {
            using var plain = Command(connection, sql, parameters);
            return plain.ExecuteNonQuery();
        }
        using var transaction = connection.BeginTransaction();
        using (var locked = Command(connection, "SELECT pg_advisory_xact_lock(hashtext(@lock))", [("@lock", key)]))
        {
            locked.ExecuteNonQuery();
        }
        using var command = Command(connection, sql, parameters);
        var changed = command.ExecuteNonQuery();
        transaction.Commit();
        return changed;
    }

    /// Records the credential (and client) an agreement's consumer collected, if the agreement still names
    /// `previous` and is in one of `states`: false when another collection, rotation or end came first. Only the
    /// two members change, so a suspension that came between the caller's read and this write stays.
    public bool ChangeCredentials(string tenant, string id, string? credential, string? client, string? previous, params string[] states)
    {
        var parameters = new List<(string, object?)> { ("@id", id), ("@tenant", tenant), ("@credential", credential), ("@client", client), ("@previous", previous) };
        parameters.AddRange(states.Select((s, i) => ("@state" + i, (object?)s)));
        var inStates = string.Join(",", states.Select((_, i) => "@state" + i));
        return Run(_database.IsPostgres
                ? $"""
                  UPDATE agreements SET doc = CAST(CAST(doc AS jsonb)
                      || jsonb_build_object('credential', CAST(@credential AS TEXT), 'clientId', CAST(@client AS TEXT)) AS TEXT)
                  WHERE id = @id AND tenant = @tenant AND state IN ({inStates})
                    AND (CAST(doc AS jsonb) ->> 'credential') IS NOT DISTINCT FROM CAST(@previous AS TEXT)
                  """
                : $"""
                  UPDATE agreements SET doc = json_set(doc, '$.credential', @credential, '$.clientId', @client)
                  WHERE id = @id AND tenant = @tenant AND state IN ({inStates}) AND json_extract(doc, '$.credential') IS @previous
                  """,
            [.. parameters]) == 1;
    }

    // Sortable text: every instant in the same width, so that comparing the text compares the times.
    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
