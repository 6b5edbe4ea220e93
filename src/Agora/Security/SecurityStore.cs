using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Agora.Hosting;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Security;

/// A credential Agora keeps: an API key ("k…") or an OAuth2 client of Agora's own issuer ("c…"). Its secret is
/// never stored, only a hash of it.
internal sealed record Credential(
    string Id,
    CredentialKind Kind,
    string Tenant,
    Role Role,
    IReadOnlyList<string>? Types,
    string? Name,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    int? RateLimit,
    string? Agreement = null,
    string? Consumer = null)
{
    public bool IsActive(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

internal enum CredentialKind
{
    ApiKey,
    Client,
}

/// One line of the audit log: who (credential id, or null when none was valid), what (method and path, never
/// the query string, which may carry a secret), when, the decision and why.
internal sealed record AuditEntry(
    DateTimeOffset Time,
    string Tenant,
    string? Actor,
    string Action,
    string Decision,
    string? Reason,
    string? Client)
{
    public long Seq { get; init; }
}

internal sealed record AuditQuery(DateTimeOffset? From, DateTimeOffset? To, string? Actor, string? Decision, int Limit, long After);

/// Credentials and the audit log in their own SQLite database (security.sqlite in the data folder), apart from
/// the tenants' entity databases: a tenant's store never holds anything that authenticates. All of the SQL of
/// security lives here, so that a PostgreSQL provider (issue 6) replaces this one class.
internal sealed class SecurityStore
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS credentials (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            tenant TEXT NOT NULL,
            role TEXT NOT NULL,
            types TEXT,
            name TEXT,
            secret_hash BLOB NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT,
            revoked_at TEXT,
            rate_limit INTEGER
        );
        CREATE INDEX IF NOT EXISTS credentials_tenant ON credentials(tenant, kind);
        CREATE TABLE IF NOT EXISTS audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time TEXT NOT NULL,
            tenant TEXT NOT NULL,
            actor TEXT,
            action TEXT NOT NULL,
            decision TEXT NOT NULL,
            reason TEXT,
            client TEXT
        );
        CREATE INDEX IF NOT EXISTS audit_tenant_time ON audit(tenant, time);
        -- Append-only: rows are added, and removed only by the retention purge; nothing rewrites one.
        CREATE TRIGGER IF NOT EXISTS audit_append_only BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        """;

    private const string CredentialsTable = "credentials";
    private readonly OwnerOnlyDatabase _database;
    private readonly PostgresCatalog? _catalog;

    // The credentials found so far (never the ids that were not): every request is authenticated, and a key's
    // record only ever changes by its revocation, which drops it here and, on PostgreSQL, on every node (each is
    // told of a change of the credentials table). A read that a revocation overtook is not kept: it is kept only
    // if the generation it started in is still current.
    private readonly ConcurrentDictionary<(CredentialKind Kind, string Id), (Credential Credential, byte[] SecretHash)> _found = new();
    private long _generation;
    private const int FoundLimit = 100_000;

    public SecurityStore(IOptions<AgoraOptions> options, TenantStores stores) : this(options.Value, stores.Catalog)
    {
        stores.SharedChanged += table =>
        {
            if (table is CredentialsTable or TenantStores.AnyTable)
            {
                Forget();
            }
        };
    }

    public SecurityStore(AgoraOptions options, PostgresCatalog? catalog)
    {
        _catalog = catalog;
        // Credential hashes and the audit log (with client addresses) are for the owner only.
        _database = OwnerOnlyDatabase.Of(options, catalog, "security.sqlite", Schema);
        _database.Migrate("security.sqlite", connection =>
        {
            if (_database.IsPostgres)
            {
                OwnerOnlyDatabase.Execute(connection, """
                    CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql
                        AS 'BEGIN RAISE EXCEPTION ''the audit log is append-only''; END';
                    DROP TRIGGER IF EXISTS audit_append_only ON audit;
                    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
                    """);
            }
            // Added with the marketplace: a key issued for an agreement names it, a key of a consumer organisation
            // names that consumer. Older files gain the columns once.
            foreach (var column in new[] { "agreement", "consumer" })
            {
                _database.AddColumn(connection, "credentials", column, "TEXT");
            }
        });
    }

    /// A connection to the store, for tests that look underneath.
    internal DbConnection Connect() => Open();

    public string Path => _database.Path;

    public void Insert(Credential credential, byte[] secretHash)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO credentials (id, kind, tenant, role, types, name, secret_hash, created_at, expires_at, rate_limit, agreement, consumer)
            VALUES (@id, @kind, @tenant, @role, @types, @name, @hash, @created, @expires, @rate, @agreement, @consumer)
            """;
        command.Parameters.AddWithValue("@id", credential.Id);
        command.Parameters.AddWithValue("@kind", KindName(credential.Kind));
        command.Parameters.AddWithValue("@tenant", credential.Tenant);
        command.Parameters.AddWithValue("@role", Roles.Name(credential.Role));
        command.Parameters.AddWithValue("@types", credential.Types is null ? DBNull.Value : JsonSerializer.Serialize(credential.Types));
        command.Parameters.AddWithValue("@name", (object?)credential.Name ?? DBNull.Value);
        command.Parameters.AddWithValue("@hash", secretHash);
        command.Parameters.AddWithValue("@created", Time(credential.CreatedAt));
        command.Parameters.AddWithValue("@expires", credential.ExpiresAt is { } e ? Time(e) : DBNull.Value);
        command.Parameters.AddWithValue("@rate", (object?)credential.RateLimit ?? DBNull.Value);
        command.Parameters.AddWithValue("@agreement", (object?)credential.Agreement ?? DBNull.Value);
        command.Parameters.AddWithValue("@consumer", (object?)credential.Consumer ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    /// The credential of this kind and id with the hash of its secret, revoked or expired ones included.
    public (Credential Credential, byte[] SecretHash)? Find(CredentialKind kind, string id)
    {
        if (_found.TryGetValue((kind, id), out var known))
        {
            return known;
        }
        var generation = Interlocked.Read(ref _generation);
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT *, secret_hash FROM credentials WHERE id = @id AND kind = @kind";
        command.Parameters.AddWithValue("@id", id);
        command.Parameters.AddWithValue("@kind", KindName(kind));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        var found = (Read(reader), (byte[])reader["secret_hash"]);
        if (_found.Count >= FoundLimit)
        {
            _found.Clear();
        }
        _found[(kind, id)] = found;
        if (Interlocked.Read(ref _generation) != generation)
        {
            _found.TryRemove((kind, id), out _);
        }
        return found;
    }

    // Everything found is read again.
    private void Forget()
    {
        Interlocked.Increment(ref _generation);
        _found.Clear();
    }

    public List<Credential> List(CredentialKind kind, string tenant)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM credentials WHERE tenant = @tenant AND kind = @kind ORDER BY created_at, id";
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@kind", KindName(kind));
        using var reader = command.ExecuteReader();
        var result = new List<Credential>();
        while (reader.Read())
        {
            result.Add(Read(reader));
        }
        return result;
    }

    /// Revokes a credential of this tenant; false when the tenant has none of that id (or it was revoked before).
    public bool Revoke(CredentialKind kind, string tenant, string id, DateTimeOffset now)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE credentials SET revoked_at = @now WHERE id = @id AND kind = @kind AND tenant = @tenant AND revoked_at IS NULL";
        command.Parameters.AddWithValue("@id", id);
        command.Parameters.AddWithValue("@kind", KindName(kind));
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@now", Time(now));
        var revoked = command.ExecuteNonQuery() == 1;
        Forget();
        if (revoked && _catalog is not null)
        {
            OwnerOnlyDatabase.Execute(connection, Generations.Announce($"'{_catalog.Prefix} {CredentialsTable}'"));
        }
        return revoked;
    }

    public void Append(IReadOnlyList<AuditEntry> entries)
    {
        using var connection = Open();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO audit (time, tenant, actor, action, decision, reason, client)
            VALUES (@time, @tenant, @actor, @action, @decision, @reason, @client)
            """;
        var time = command.Parameters.Add("@time", DbType.String);
        var tenant = command.Parameters.Add("@tenant", DbType.String);
        var actor = command.Parameters.Add("@actor", DbType.String);
        var action = command.Parameters.Add("@action", DbType.String);
        var decision = command.Parameters.Add("@decision", DbType.String);
        var reason = command.Parameters.Add("@reason", DbType.String);
        var client = command.Parameters.Add("@client", DbType.String);
        foreach (var entry in entries)
        {
            time.Value = Time(entry.Time);
            // What a request carried (a path, a tenant, a name) may hold text PostgreSQL cannot store: Db.Text.
            tenant.Value = Db.Text(entry.Tenant);
            actor.Value = entry.Actor is null ? DBNull.Value : Db.Text(entry.Actor);
            action.Value = Db.Text(entry.Action);
            decision.Value = entry.Decision;
            reason.Value = entry.Reason is null ? DBNull.Value : Db.Text(entry.Reason);
            client.Value = entry.Client is null ? DBNull.Value : Db.Text(entry.Client);
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    /// A tenant's audit entries in the order they were written, after the sequence number "After".
    public IEnumerable<AuditEntry> Audit(string tenant, AuditQuery query)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT * FROM audit WHERE tenant = @tenant AND seq > @after
              AND (CAST(@from AS TEXT) IS NULL OR time >= @from) AND (CAST(@to AS TEXT) IS NULL OR time < @to)
              AND (CAST(@actor AS TEXT) IS NULL OR actor = @actor) AND (CAST(@decision AS TEXT) IS NULL OR decision = @decision)
            ORDER BY seq LIMIT @limit
            """;
        command.Parameters.AddWithValue("@tenant", tenant);
        command.Parameters.AddWithValue("@after", query.After);
        command.Parameters.AddWithValue("@from", query.From is { } f ? Time(f) : DBNull.Value);
        command.Parameters.AddWithValue("@to", query.To is { } t ? Time(t) : DBNull.Value);
        command.Parameters.AddWithValue("@actor", (object?)query.Actor ?? DBNull.Value);
        command.Parameters.AddWithValue("@decision", (object?)query.Decision ?? DBNull.Value);
        command.Parameters.AddWithValue("@limit", query.Limit);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new AuditEntry(
                DateTimeOffset.Parse(reader.GetString(reader.GetOrdinal("time")), CultureInfo.InvariantCulture),
                reader.GetString(reader.GetOrdinal("tenant")),
                Text(reader, "actor"),
                reader.GetString(reader.GetOrdinal("action")),
                reader.GetString(reader.GetOrdinal("decision")),
                Text(reader, "reason"),
                Text(reader, "client")) { Seq = reader.GetInt64(reader.GetOrdinal("seq")) };
        }
    }

    /// The retention purge: the one way audit rows leave the log.
    public int PurgeAudit(DateTimeOffset before)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM audit WHERE time < @before";
        command.Parameters.AddWithValue("@before", Time(before));
        return command.ExecuteNonQuery();
    }

    private DbConnection Open() => _database.Open();

    private static Credential Read(DbDataReader reader)
    {
        Roles.TryParse(reader.GetString(reader.GetOrdinal("role")), out var role);
        var types = Text(reader, "types");
        var rate = reader.GetOrdinal("rate_limit");
        return new Credential(
            reader.GetString(reader.GetOrdinal("id")),
            reader.GetString(reader.GetOrdinal("kind")) == "client" ? CredentialKind.Client : CredentialKind.ApiKey,
            reader.GetString(reader.GetOrdinal("tenant")),
            role,
            types is null ? null : JsonSerializer.Deserialize<string[]>(types),
            Text(reader, "name"),
            TimeOf(reader, "created_at")!.Value,
            TimeOf(reader, "expires_at"),
            TimeOf(reader, "revoked_at"),
            reader.IsDBNull(rate) ? null : reader.GetInt32(rate),
            Text(reader, "agreement"),
            Text(reader, "consumer"));
    }

    private static string? Text(DbDataReader reader, string column)
    {
        var i = reader.GetOrdinal(column);
        return reader.IsDBNull(i) ? null : reader.GetString(i);
    }

    private static DateTimeOffset? TimeOf(DbDataReader reader, string column) =>
        Text(reader, column) is { } s ? DateTimeOffset.Parse(s, CultureInfo.InvariantCulture) : null;

    // Fixed-width UTC, so that text order is time order and range conditions can use the index.
    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static string KindName(CredentialKind kind) => kind == CredentialKind.Client ? "client" : "apikey";
}
