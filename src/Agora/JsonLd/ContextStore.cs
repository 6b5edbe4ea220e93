using Agora.NgsiLd;
using Agora.Storage;
using System.Data.Common;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;

namespace Agora.JsonLd;

internal enum ContextKind
{
    Hosted,
    Cached,
    ImplicitlyCreated,
}

/// A context Agora keeps: posted by a client (Hosted), fetched from its URL (Cached) or made from an inline
/// context (ImplicitlyCreated). Context is the document's "@context" value and is never mutated.
/// A Hosted or ImplicitlyCreated context is made of what a client of one tenant sent, so it belongs to that tenant
/// (Tenant, "" for the default one) and no other sees it (clause 5.5.10: the tenant bounds every operation). A
/// Cached context is a copy of a public document, kept once for every tenant; its Tenant means nothing.
internal sealed class StoredContext(string localId, string? url, ContextKind kind, string tenant, JsonNode context, DateTimeOffset createdAt, DateTimeOffset? expiresAt, long hits = 0)
{
    private long hits = hits;
    private long lastUsageTicks;
    private long retryAfterTicks;
    private volatile bool superseded;

    public string LocalId { get; } = localId;
    /// The remote URL of a Cached context; null for the kinds Agora serves itself.
    public string? Url { get; } = url;
    public ContextKind Kind { get; } = kind;
    public string Tenant { get; } = kind == ContextKind.Cached ? "" : tenant;
    public JsonNode Context { get; } = context;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public DateTimeOffset? ExpiresAt { get; } = expiresAt;
    public long Hits => Interlocked.Read(ref hits);
    public DateTimeOffset? LastUsage => Interlocked.Read(ref lastUsageTicks) is var t and > 0 ? new DateTimeOffset(t, TimeSpan.Zero) : null;
    public bool Superseded => superseded;

    /// Whether a client of this tenant may see it: the tenant's own contexts and the shared Cached ones.
    public bool VisibleTo(string tenant) => Kind == ContextKind.Cached || Tenant == tenant;

    /// When this node's store came to know it (ContextStore's own counter).
    public long Known { get; set; }

    public void Hit()
    {
        Interlocked.Increment(ref hits);
        Interlocked.Exchange(ref lastUsageTicks, DateTime.UtcNow.Ticks);
    }

    public void Supersede() => superseded = true;

    /// Fresh: not expired, or a refresh failed recently and the stale copy is kept for a while.
    public bool IsFresh(DateTimeOffset now) =>
        ExpiresAt is not { } expires || now < expires || now.UtcTicks < Interlocked.Read(ref retryAfterTicks);

    public bool IsCurrent(DateTimeOffset now) => !superseded && IsFresh(now);

    // After a failed refresh the stale copy serves on, and the next attempt waits, so an unreachable server does not
    // cost every request a fetch timeout.
    public void DeferRefresh(DateTimeOffset until) => Interlocked.Exchange(ref retryAfterTicks, until.UtcTicks);
}

/// The contexts Agora keeps, in memory and in &lt;Data&gt;/contexts.db so they survive a restart. Reads are
/// lock-free dictionary lookups; writes (rare: a POST, a fetch, a delete) go to SQLite synchronously.
internal sealed class ContextStore
{
    private readonly ConcurrentDictionary<string, StoredContext> byId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, StoredContext> cachedByUrl = new(StringComparer.Ordinal);
    private readonly Func<DbConnection> open;
    private readonly PostgresCatalog? shared;
    private readonly Lock writeLock = new();
    private long known;

    /// The contexts of this node's data folder (SQLite), or of the database every node shares (PostgreSQL, in
    /// Agora's own schema), where a context one node adds or removes is announced to the others.
    public ContextStore(string dataFolder, TenantStores stores)
    {
        shared = stores.Catalog;
        if (shared is null)
        {
            Directory.CreateDirectory(dataFolder);
            var connectionString = new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataFolder, "contexts.db"), Pooling = true }.ToString();
            open = () => new SqliteConnection(connectionString);
        }
        else
        {
            open = shared.DataSource(shared.Prefix).CreateConnection;
            stores.SharedChanged += table =>
            {
                if (table is Table or TenantStores.AnyTable)
                {
                    Reload();
                }
            };
        }
        using var connection = Open();
        if (shared is null)
        {
            Execute(connection, "PRAGMA journal_mode=WAL");
        }
        // On PostgreSQL nodes starting together create the table one at a time.
        using var tx = connection.BeginTransaction();
        Execute(connection, $"""
            {(shared is null ? "" : "SELECT pg_advisory_xact_lock(hashtext('agora contexts'));")}
            CREATE TABLE IF NOT EXISTS contexts (
                local_id   TEXT PRIMARY KEY,
                url        TEXT,
                kind       TEXT NOT NULL,
                body       TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT,
                hits       BIGINT NOT NULL DEFAULT 0,
                tenant     TEXT NOT NULL DEFAULT ''
            );
            """);
        AddTenantColumn(connection);
        foreach (var stored in Rows(connection, null))
        {
            Remember(stored);
        }
        tx.Commit();
    }

    public const string Table = "contexts";

    // Before contexts had tenants, every one was shared. Those an earlier Agora stored are the default tenant's,
    // the tenant of the city operator who alone could add them when security was on; Cached ones stay shared.
    private void AddTenantColumn(DbConnection connection)
    {
        if (shared is not null)
        {
            Execute(connection, "ALTER TABLE contexts ADD COLUMN IF NOT EXISTS tenant TEXT NOT NULL DEFAULT ''");
            return;
        }
        using var has = connection.CreateCommand();
        has.CommandText = "SELECT COUNT(*) FROM pragma_table_info('contexts') WHERE name = 'tenant'";
        if (Convert.ToInt64(has.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            Execute(connection, "ALTER TABLE contexts ADD COLUMN tenant TEXT NOT NULL DEFAULT ''");
        }
    }

    // Another node added or removed a context: this node's copy follows.
    private void Reload()
    {
        // What this node came to know after the database was read may be missing from that read (it was stored
        // meanwhile): only what was known before it can have been removed by another node.
        var before = Interlocked.Read(ref known);
        List<StoredContext> rows;
        using (var connection = Open())
        {
            rows = Rows(connection, null);
        }
        var current = rows.ToDictionary(r => r.LocalId, StringComparer.Ordinal);
        foreach (var gone in byId.Values.Where(k => !current.ContainsKey(k.LocalId) && k.Known <= before).ToList())
        {
            Forget(gone);
        }
        foreach (var row in rows.Where(r => !byId.TryGetValue(r.LocalId, out var held) || held.CreatedAt != r.CreatedAt || held.Kind != r.Kind))
        {
            Add(row, persist: false);
        }
    }

    private static List<StoredContext> Rows(DbConnection connection, string? localId)
    {
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT local_id, url, kind, body, created_at, expires_at, hits, tenant FROM contexts" + (localId is null ? "" : " WHERE local_id = @id");
        if (localId is not null)
        {
            select.Parameters.AddWithValue("@id", localId);
        }
        using var reader = select.ExecuteReader();
        var rows = new List<StoredContext>();
        while (reader.Read())
        {
            if (!Enum.TryParse<ContextKind>(reader.GetString(2), out var kind) || Body(reader.GetString(3)) is not { } body)
            {
                continue;
            }
            rows.Add(new StoredContext(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), kind, reader.GetString(7), body,
                DateTimeOffset.Parse(reader.GetString(4), CultureInfo.InvariantCulture),
                reader.IsDBNull(5) ? null : DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture),
                reader.GetInt64(6)));
        }
        return rows;
    }

    // A row an older Agora stored from a document that names a term twice is left out (a Cached one is fetched
    // again when used, and then refused with its reason): processing it would fail on every use.
    private static JsonNode? Body(string json)
    {
        try
        {
            return NgsiLdRequest.Parse(System.Text.Encoding.UTF8.GetBytes(json));
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    public IEnumerable<StoredContext> All => byId.Values;

    /// What the @context API lists to a tenant: on PostgreSQL read from the database first, so that a context
    /// another node added or removed a moment ago (its announcement not here yet) is listed as it is now.
    public IEnumerable<StoredContext> Current(string tenant)
    {
        if (shared is not null)
        {
            Reload();
        }
        return All.Where(s => s.VisibleTo(tenant));
    }

    /// Find, for the @context API: on PostgreSQL a context another node removed a moment ago is forgotten
    /// here first, instead of being served until the announcement arrives.
    public StoredContext? FindCurrent(string id, string tenant)
    {
        var found = Find(id, tenant);
        if (found is null || shared is null)
        {
            return found;
        }
        using var connection = Open();
        if (Rows(connection, found.LocalId) is [_])
        {
            return found;
        }
        Forget(found);
        return null;
    }

    /// On PostgreSQL a context another node added a moment ago may not have been announced yet: a miss asks
    /// the database before it counts as a miss.
    public StoredContext? ById(string localId) => byId.GetValueOrDefault(localId) ?? Shared(localId);

    private StoredContext? Shared(string localId)
    {
        if (shared is null)
        {
            return null;
        }
        using var connection = Open();
        if (Rows(connection, localId) is not [var row])
        {
            return null;
        }
        Add(row, persist: false);
        return row;
    }

    public StoredContext? CachedByUrl(string url) => cachedByUrl.GetValueOrDefault(url);

    /// A Hosted or ImplicitlyCreated context of this tenant named by a URL or path ending in
    /// /jsonldContexts/{localId}: Agora answers those itself instead of fetching its own URL.
    public StoredContext? Served(string url, string tenant) =>
        ContextUrls.LocalIdOf(url) is { } id && ById(id) is { } s && s.Kind != ContextKind.Cached && s.Tenant == tenant ? s : null;

    /// A context this tenant sees by what a client may call it: its localId, its URL (Cached) or its Agora URL
    /// (Hosted, Implicit).
    public StoredContext? Find(string id, string tenant) =>
        (ById(id) is { } s && s.VisibleTo(tenant) ? s : null) ?? CachedByUrl(id) ?? Served(id, tenant);

    public void Add(StoredContext context) => Add(context, persist: true);

    private void Add(StoredContext context, bool persist)
    {
        if (persist)
        {
            Persist(context);
        }
        if (context.Url is not null && cachedByUrl.TryGetValue(context.Url, out var previous) && previous != context)
        {
            previous.Supersede();
        }
        if (byId.TryGetValue(context.LocalId, out var old) && old != context)
        {
            old.Supersede();
        }
        Remember(context);
    }

    public void Remove(StoredContext context)
    {
        lock (writeLock)
        {
            using var connection = Open();
            using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM contexts WHERE local_id = @id";
            delete.Parameters.AddWithValue("@id", context.LocalId);
            delete.ExecuteNonQuery();
            Announce(connection);
        }
        Forget(context);
    }

    private void Forget(StoredContext context)
    {
        byId.TryRemove(new KeyValuePair<string, StoredContext>(context.LocalId, context));
        if (context.Url is not null)
        {
            cachedByUrl.TryRemove(new KeyValuePair<string, StoredContext>(context.Url, context));
        }
        context.Supersede();
    }

    // Tells the other nodes sharing the database that the contexts changed.
    private void Announce(DbConnection connection)
    {
        if (shared is not null)
        {
            Execute(connection, Generations.Announce($"'{shared.Prefix} {Table}'"));
        }
    }

    /// Registers an inline context as the tenant's ImplicitlyCreated one under its content-derived id, once.
    public void EnsureImplicit(string localId, string tenant, JsonNode context)
    {
        if (byId.ContainsKey(localId))
        {
            return;
        }
        // Stored before it is known here: a reload (another node's change) in between would otherwise find it in
        // memory and not in the database, and drop it.
        var stored = new StoredContext(localId, null, ContextKind.ImplicitlyCreated, tenant, context.DeepClone(), DateTimeOffset.UtcNow, null);
        Persist(stored);
        if (byId.TryAdd(localId, stored))
        {
            stored.Known = Interlocked.Increment(ref known);
        }
    }

    private void Remember(StoredContext context)
    {
        context.Known = Interlocked.Increment(ref known);
        byId[context.LocalId] = context;
        if (context.Url is not null)
        {
            cachedByUrl[context.Url] = context;
        }
    }

    private void Persist(StoredContext context)
    {
        lock (writeLock)
        {
            using var connection = Open();
            using var upsert = connection.CreateCommand();
            upsert.CommandText = """
                INSERT INTO contexts (local_id, url, kind, body, created_at, expires_at, hits, tenant)
                VALUES (@id, @url, @kind, @body, @created, @expires, @hits, @tenant)
                ON CONFLICT (local_id) DO UPDATE SET url = excluded.url, kind = excluded.kind, body = excluded.body,
                    created_at = excluded.created_at, expires_at = excluded.expires_at, hits = excluded.hits, tenant = excluded.tenant
                """;
            upsert.Parameters.AddWithValue("@id", context.LocalId);
            upsert.Parameters.AddWithValue("@url", (object?)context.Url ?? DBNull.Value);
            upsert.Parameters.AddWithValue("@kind", context.Kind.ToString());
            upsert.Parameters.AddWithValue("@body", context.Context.ToJsonString());
            upsert.Parameters.AddWithValue("@created", context.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
            upsert.Parameters.AddWithValue("@expires", context.ExpiresAt is { } e ? e.ToString("O", CultureInfo.InvariantCulture) : DBNull.Value);
            upsert.Parameters.AddWithValue("@hits", context.Hits);
            upsert.Parameters.AddWithValue("@tenant", context.Tenant);
            upsert.ExecuteNonQuery();
            Announce(connection);
        }
    }

    private DbConnection Open()
    {
        var connection = open();
        connection.Open();
        return connection;
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
