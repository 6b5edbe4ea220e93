using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Npgsql;

namespace Agora.Storage;

/// Agora's place in a PostgreSQL database: a schema of its own (named by Storage:Schema, "agora" unless told)
/// that holds the list of tenants, and one schema per tenant holding that tenant's tables, so that every
/// statement of the SQLite store runs unchanged with the tenant's schema first on the search path. The tenant
/// list lives in the database, not in any node: a tenant created through one node exists at once for all.
internal sealed partial class PostgresCatalog : IAsyncDisposable
{
    private readonly NpgsqlDataSource _root;
    private readonly string _connectionString;
    private readonly ConcurrentDictionary<string, NpgsqlDataSource> _schemas = new(StringComparer.Ordinal);

    public PostgresCatalog(string connectionString, string prefix)
    {
        if (!Identifier().IsMatch(prefix))
        {
            throw new InvalidOperationException($"Storage:Schema '{prefix}' must be a lower-case SQL identifier of at most 40 characters.");
        }
        Prefix = prefix;
        _connectionString = connectionString;
        _root = Builder(connectionString, null).Build();
        using var connection = _root.OpenConnection();
        using var tx = connection.BeginTransaction();
        // PostGIS is created here when the role may (a superuser or the database's owner on PostgreSQL 13 and
        // later); otherwise the database administrator creates it once, and IF NOT EXISTS finds it.
        Execute(connection, $"""
            SELECT pg_advisory_xact_lock(hashtext('agora catalog'));
            CREATE EXTENSION IF NOT EXISTS postgis;
            CREATE SCHEMA IF NOT EXISTS {prefix};
            CREATE TABLE IF NOT EXISTS {prefix}.tenants (
                tenant text PRIMARY KEY,
                schema_name text NOT NULL UNIQUE,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE SEQUENCE IF NOT EXISTS {prefix}.tenant_numbers;
            """);
        tx.Commit();
    }

    /// The name of Agora's own schema; tenants' schemas are named after it.
    public string Prefix { get; }

    /// The schema of a tenant, or null when no node has created the tenant.
    public string? SchemaOf(string tenant)
    {
        using var connection = _root.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT schema_name FROM {Prefix}.tenants WHERE tenant = @tenant", connection);
        command.Parameters.AddWithValue("@tenant", tenant);
        return command.ExecuteScalar() as string;
    }

    /// The schema of a tenant, created with its tables when the tenant is new.
    public string Create(string tenant)
    {
        using var connection = _root.OpenConnection();
        using var tx = connection.BeginTransaction();
        Execute(connection, "SELECT pg_advisory_xact_lock(hashtext('agora catalog'))");
        using (var find = new NpgsqlCommand($"SELECT schema_name FROM {Prefix}.tenants WHERE tenant = @tenant", connection))
        {
            find.Parameters.AddWithValue("@tenant", tenant);
            if (find.ExecuteScalar() is string existing)
            {
                return existing;
            }
        }
        // Tenant names are free text up to 128 characters; schema names are numbered instead.
        var schema = tenant == TenantStores.DefaultTenant
            ? Prefix + "_default"
            : Prefix + "_t" + Convert.ToInt64(new NpgsqlCommand($"SELECT nextval('{Prefix}.tenant_numbers')", connection).ExecuteScalar());
        Execute(connection, $"CREATE SCHEMA IF NOT EXISTS {schema}");
        using (var insert = new NpgsqlCommand($"INSERT INTO {Prefix}.tenants (tenant, schema_name) VALUES (@tenant, @schema)", connection))
        {
            insert.Parameters.AddWithValue("@tenant", tenant);
            insert.Parameters.AddWithValue("@schema", schema);
            insert.ExecuteNonQuery();
        }
        // Every node opens the new tenant, so that any of them can deliver its notifications.
        Execute(connection, Generations.Announce($"'{Prefix} tenants'"));
        tx.Commit();
        return schema;
    }

    /// Every tenant any node has created.
    public List<string> Tenants()
    {
        using var connection = _root.OpenConnection();
        using var command = new NpgsqlCommand($"SELECT tenant FROM {Prefix}.tenants ORDER BY created_at", connection);
        using var reader = command.ExecuteReader();
        var tenants = new List<string>();
        while (reader.Read())
        {
            tenants.Add(reader.GetString(0));
        }
        return tenants;
    }

    /// Listens, until stopped, for the changes nodes announce (Generations), and hands each one on as the
    /// schema and the name of the table that changed; a lost connection is opened again. changed(schema, name) runs for each notification. resync runs each time listening starts (again, after a
    /// broken connection): what was announced before is lost, so everything kept in memory is read again. An
    /// idle connection is checked every 30 seconds, so that one a failover or a firewall dropped without a word
    /// is noticed and replaced.
    public async Task ListenAsync(Action<string, string> changed, Action resync, ILogger logger, CancellationToken stopping)
    {
        var first = true;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _root.OpenConnectionAsync(stopping);
                connection.Notification += (_, e) =>
                {
                    if (e.Payload.Split(' ', 2) is [var schema, var name])
                    {
                        changed(schema, name);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Generations.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping);
                }
                // What was announced before this LISTEN (while the connection was down, or between the node's
                // start-up reads and its first LISTEN) is lost: everything kept is read again, every time.
                if (!first)
                {
                    logger.LogInformation("Listening for other nodes' changes again; reading what they may have changed meanwhile.");
                }
                first = false;
                resync();
                while (true)
                {
                    if (!await connection.WaitAsync(30_000, stopping))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", connection);
                        await ping.ExecuteScalarAsync(stopping);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Listening for other nodes' changes failed; listening again in a second.");
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// Connections whose search path starts at a schema (and then public, where PostGIS lives).
    public NpgsqlDataSource DataSource(string schema) => _schemas.GetOrAdd(schema, s => Builder(_connectionString, $"{s},public").Build());

    // Agora reads and writes only built-in types (PostGIS is used through functions of numbers), so each new
    // schema's connections skip loading the database's types.
    private static NpgsqlDataSourceBuilder Builder(string connectionString, string? searchPath)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.SearchPath = searchPath;
        // Defaults for what the connection string leaves unsaid (a keyword it names, even empty, is kept):
        // - the store runs a few dozen statements over and over: prepared once per connection, each is parsed and
        //   planned once (Max Auto Prepare=0 turns it off, as a pooler without prepared statements needs);
        // - a prepared statement may switch to one generic plan after five runs, blind to its parameters, and a
        //   query driven by a rare type would then be planned as if for a common one: every run is planned for
        //   its values (a pooler that refuses startup options wants Options= and the setting on the role instead).
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 256;
        }
        if (!given.ContainsKey("Options"))
        {
            builder.ConnectionStringBuilder.Options = "-c plan_cache_mode=force_custom_plan";
        }
        builder.ConfigureTypeLoading(types => types.EnableTypeLoading(false));
        return builder;
    }

    private static void Execute(NpgsqlConnection connection, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,39}$")]
    private static partial Regex Identifier();

    public async ValueTask DisposeAsync()
    {
        foreach (var source in _schemas.Values)
        {
            await source.DisposeAsync();
        }
        await _root.DisposeAsync();
    }
}
