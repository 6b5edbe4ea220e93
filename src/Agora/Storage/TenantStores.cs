using System.Collections.Concurrent;
using System.Text;
using Agora.Errors;
using Agora.Hosting;
using Microsoft.Extensions.Options;

namespace Agora.Storage;

/// The tenants: each its own SQLite database under the data folder, or its own schema of the PostgreSQL
/// database (Agora:Storage). A tenant is created by its first write; a read of a tenant that was never
/// written to is NonexistentTenant. On PostgreSQL a tenant created through another node is found in the
/// database's tenant list at its first request here.
internal sealed class TenantStores : IHostedService, IAsyncDisposable
{
    public const string DefaultTenant = "";
    private const string WriterLock = "SELECT pg_advisory_xact_lock(hashtext('agora write ' || current_schema()))";
    private readonly ConcurrentDictionary<string, Lazy<TenantStore>> _open = new(StringComparer.Ordinal);
    private readonly AgoraOptions _options;
    private readonly PostgresCatalog? _postgres;
    private readonly ConcurrentDictionary<string, TenantStore> _bySchema = new(StringComparer.Ordinal);
    private readonly ILogger<TenantStores> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _listening = Task.CompletedTask;

    /// This process among the nodes sharing the database (its notification deliveries are leased under it).
    public string Node { get; } = Environment.MachineName + "/" + Environment.ProcessId + "/" + Guid.NewGuid().ToString("N")[..8];

    /// Whether other nodes may share the tenants' data (the PostgreSQL provider).
    public bool Shared => _postgres is not null;

    /// Agora's place in the shared database, for what is kept there beside the tenants (null on SQLite).
    public PostgresCatalog? Catalog => _postgres;

    /// Raised when a node announces a change of a table in Agora's own schema (other than the tenant list), with
    /// AnyTable after the listener was cut off, when any of them may have changed unannounced.
    public event Action<string>? SharedChanged;

    public const string AnyTable = "*";

    public TenantStores(IOptions<AgoraOptions> options, ILogger<TenantStores> logger)
    {
        _options = options.Value;
        _logger = logger;
        if (_options.Storage.IsPostgres)
        {
            _postgres = new PostgresCatalog(
                _options.Storage.ConnectionString ?? throw new InvalidOperationException("Agora:Storage:ConnectionString is required with the Postgres provider."),
                _options.Storage.Schema);
        }
    }

    /// Raised once for every tenant store as it opens (on the thread that opened it).
    public event Action<TenantStore>? Opened;

    /// The stores open now.
    public IEnumerable<TenantStore> Open => _open.Values.Where(s => s.IsValueCreated).Select(s => s.Value);

    /// Calls attach for every store: each open now and each opened later. A store that opens meanwhile may be
    /// reported twice, so attach must be idempotent.
    public void Attach(Action<TenantStore> attach)
    {
        Opened += attach;
        foreach (var store in Open)
        {
            attach(store);
        }
    }

    /// The store of a tenant that exists, or NonexistentTenant.
    public TenantStore Existing(string tenant)
    {
        if (_open.TryGetValue(tenant, out var store))
        {
            return store.Value;
        }
        Validate(tenant);
        if (tenant != DefaultTenant && (_postgres is null ? !File.Exists(PathOf(tenant)) : _postgres.SchemaOf(tenant) is null))
        {
            throw new NgsiLdException(ErrorTypes.NonexistentTenant, "Tenant not found", $"The tenant '{tenant}' does not exist.");
        }
        return GetOrCreate(tenant);
    }

    /// The store of a tenant, created if it does not exist yet.
    public TenantStore GetOrCreate(string tenant)
    {
        Validate(tenant);
        var lazy = _open.GetOrAdd(tenant, t => new Lazy<TenantStore>(() =>
        {
            var store = _postgres is null ? OpenSqlite(t) : OpenPostgres(t, _postgres);
            // Inside the Lazy, so exactly once per store; handlers must not open stores themselves.
            Opened?.Invoke(store);
            return store;
        }));
        try
        {
            return lazy.Value;
        }
        catch
        {
            // A database that was briefly unreachable must not keep the tenant closed on this node.
            _open.TryRemove(new KeyValuePair<string, Lazy<TenantStore>>(tenant, lazy));
            throw;
        }
    }

    private TenantStore OpenSqlite(string tenant)
    {
        var path = PathOf(tenant);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return TenantStore.OpenSqlite(tenant, path, _options.Synchronous, _logger);
    }

    private void OpenNewTenants(PostgresCatalog catalog)
    {
        try
        {
            foreach (var tenant in catalog.Tenants().Where(t => !_open.ContainsKey(t)))
            {
                GetOrCreate(tenant);
            }
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "Opening the tenants another node created failed; they open at their first request here.");
        }
    }

    private TenantStore OpenPostgres(string tenant, PostgresCatalog catalog)
    {
        var name = catalog.Create(tenant);
        var schema = catalog.DataSource(name);
        using (var connection = schema.OpenConnection())
        {
            Schema.Migrate(connection);
        }
        var store = TenantStore.OpenPostgres(tenant, schema, WriterLock);
        _bySchema[name] = store;
        return store;
    }

    private string PathOf(string tenant) => tenant == DefaultTenant
        ? Path.Combine(_options.Data, "default.sqlite")
        : Path.Combine(_options.Data, "tenants", FileNameOf(tenant) + ".sqlite");

    // Names that are safe as file names are kept readable; anything else is hex-encoded whole, so that no
    // tenant name can reach outside the folder or collide with another.
    private static string FileNameOf(string tenant) =>
        tenant.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            ? "t-" + tenant
            : "x-" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(tenant));

    /// Refuses a tenant name that cannot name a database or a stored row (BadRequestData).
    public static void Validate(string tenant)
    {
        if (tenant.Length > 128 || tenant.Any(char.IsControl) || Db.Text(tenant) != tenant)
        {
            throw NgsiLdException.BadRequest("Invalid tenant", "NGSILD-Tenant must be at most 128 characters, without control characters or unpaired surrogates.");
        }
    }

    // Every tenant found on disk is opened at start, so that what it left pending (notifications, periodic
    // subscriptions) resumes without waiting for a request to that tenant.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GetOrCreate(DefaultTenant);
        if (_postgres is not null)
        {
            OpenNewTenants(_postgres);
            _listening = _postgres.ListenAsync((schema, table) =>
            {
                if (schema == _postgres.Prefix && table == "tenants")
                {
                    OpenNewTenants(_postgres);
                }
                else if (schema == _postgres.Prefix)
                {
                    SharedChanged?.Invoke(table);
                }
                else if (_bySchema.TryGetValue(schema, out var store))
                {
                    store.Invalidate(table);
                }
            }, () =>
            {
                OpenNewTenants(_postgres);
                SharedChanged?.Invoke(AnyTable);
                foreach (var store in _bySchema.Values)
                {
                    foreach (var table in Generations.Kept)
                    {
                        store.Invalidate(table);
                    }
                }
            }, _logger, _stopping.Token);
            return Task.CompletedTask;
        }
        var folder = Path.Combine(_options.Data, "tenants");
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.sqlite"))
            {
                if (TenantOf(Path.GetFileNameWithoutExtension(file)) is { } tenant)
                {
                    GetOrCreate(tenant);
                }
            }
        }
        return Task.CompletedTask;
    }

    private static string? TenantOf(string fileName)
    {
        if (fileName.StartsWith("t-", StringComparison.Ordinal))
        {
            return fileName[2..];
        }
        try
        {
            return fileName.StartsWith("x-", StringComparison.Ordinal) ? Encoding.UTF8.GetString(Convert.FromHexString(fileName[2..])) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _listening;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _open.Values.Where(s => s.IsValueCreated))
        {
            await store.Value.DisposeAsync();
        }
        _open.Clear();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
