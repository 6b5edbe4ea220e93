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
    /// One statement checks and records, so parallel sign-ups from one address cannot all pass the count.
    public bool TryReserveSignup(string consumer, string address, DateTimeOffset at, DateTimeOffset since, int limit) =>
        Run("""
            INSERT INTO signups (consumer, address, at) SELECT @consumer, @address, @at
            WHERE (SELECT COUNT(*) FROM signups WHERE address = @address AND at > @since) < @limit
            """, ("@consumer", consumer), ("@address", address), ("@at", Instant(at)), ("@since", Instant(since)), ("@limit", (long)limit)) == 1;

    /// Forgets a reserved sign-up whose account was not made after all (its name was taken).
    public void ReleaseSignup(string consumer) => Run("DELETE FROM signups WHERE consumer = @consumer", ("@consumer", consumer));

    /// When the oldest sign-up from this address since `since` was made: the count frees a place 24 hours after it.
    public DateTimeOffset? OldestSignup(string address, DateTimeOffset since) =>
        Scalar("SELECT MIN(at) FROM signups WHERE address = @address AND at > @since", ("@address", address), ("@since", Instant(since))) is { } at
            ? DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture)
            : null;

    /// Whether a consumer of this name is registered in the tenant or named by one of its agreements: an
    /// organisation signing up by itself may take neither, or it would read through agreements made for another.
    public bool ConsumerNameTaken(string tenant, string name) =>
        Scalar("""
            SELECT name FROM consumers WHERE tenant = @tenant AND name = @name
            UNION ALL SELECT consumer FROM agreements WHERE tenant = @tenant AND consumer = @name
            LIMIT 1
            """, ("@tenant", tenant), ("@name", name)) is not null;

    /// How many of a consumer's agreement requests wait for the city's approval.
    public long PendingRequests(string tenant, string consumer)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT COUNT(*) FROM agreements WHERE tenant = @tenant AND consumer = @consumer AND state = 'pendingApproval'",
            [("@tenant", tenant), ("@consumer", consumer)]);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
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
