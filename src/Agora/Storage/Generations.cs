using System.Data.Common;

namespace Agora.Storage;

/// How the nodes sharing a PostgreSQL database keep what they hold in memory (a tenant's subscriptions,
/// registrations, csource subscriptions) in step. A write that changes such a table bumps the table's
/// generation in the same transaction and, at its commit, notifies every node (NOTIFY on the catalog's
/// channel), which drops or reloads its copy. The writer of each node also compares the generations when it
/// takes the tenant's lock, before it runs a group of writes: what a write is matched against (the
/// subscriptions) is therefore never older than the last committed change, whichever node made it and
/// however late its notification arrives. On SQLite there is one node, and nothing to do.
internal static class Generations
{
    public const string Channel = "agora_changes";

    /// The tables each node keeps in memory, reloaded when their generation moves.
    public static readonly string[] Kept = [Subscriptions.SubscriptionRows.Table, Registrations.RegistrationRows.Table, CsourceSubscriptions.CsourceSubscriptionRows.Table];

    /// The statement that tells every node "schema name" changed; payload is SQL yielding that text. It is
    /// delivered when the transaction that ran it commits, and not at all when it rolls back.
    public static string Announce(string payload) => $"SELECT pg_notify('{Channel}', {payload});";

    public static void Bump(DbConnection c, string name)
    {
        if (!Db.IsPostgres(c))
        {
            return;
        }
        using var command = Statements.For(c, $"""
            INSERT INTO generations (name, value) VALUES (@name, 1)
            ON CONFLICT (name) DO UPDATE SET value = generations.value + 1;
            {Announce("current_schema() || ' ' || @name")}
            """);
        command.Parameters.AddWithValue("@name", name);
        command.ExecuteNonQuery();
    }

    /// Every generation of the tenant's schema.
    public static Dictionary<string, long> Read(DbConnection c)
    {
        using var command = Statements.For(c, "SELECT name, value FROM generations");
        using var reader = command.ExecuteReader();
        var generations = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read())
        {
            generations[reader.GetString(0)] = reader.GetInt64(1);
        }
        return generations;
    }
}
