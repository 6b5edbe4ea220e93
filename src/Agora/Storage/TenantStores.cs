using System.Collections.Concurrent;
using System.Text;
using Agora.Errors;
using Agora.Hosting;
using Microsoft.Extensions.Options;

namespace Agora.Storage;

/// The tenants of this node, each its own SQLite database under the data folder. A tenant is created by
/// its first write; a read of a tenant that was never written to is NonexistentTenant.
internal sealed class TenantStores(IOptions<AgoraOptions> options) : IHostedService, IAsyncDisposable
{
    public const string DefaultTenant = "";
    private readonly ConcurrentDictionary<string, Lazy<SqliteTenantStore>> _open = new(StringComparer.Ordinal);
    private readonly AgoraOptions _options = options.Value;

    /// Raised once for every tenant store as it opens (on the thread that opened it).
    public event Action<SqliteTenantStore>? Opened;

    /// The stores open now.
    public IEnumerable<SqliteTenantStore> Open => _open.Values.Where(s => s.IsValueCreated).Select(s => s.Value);

    /// Calls attach for every store: each open now and each opened later. A store that opens meanwhile may be
    /// reported twice, so attach must be idempotent.
    public void Attach(Action<SqliteTenantStore> attach)
    {
        Opened += attach;
        foreach (var store in Open)
        {
            attach(store);
        }
    }

    /// The store of a tenant that exists, or NonexistentTenant.
    public SqliteTenantStore Existing(string tenant)
    {
        if (_open.TryGetValue(tenant, out var store))
        {
            return store.Value;
        }
        Validate(tenant);
        if (tenant != DefaultTenant && !File.Exists(PathOf(tenant)))
        {
            throw new NgsiLdException(ErrorTypes.NonexistentTenant, "Tenant not found", $"The tenant '{tenant}' does not exist.");
        }
        return GetOrCreate(tenant);
    }

    /// The store of a tenant, created if it does not exist yet.
    public SqliteTenantStore GetOrCreate(string tenant)
    {
        Validate(tenant);
        return _open.GetOrAdd(tenant, t => new Lazy<SqliteTenantStore>(() =>
        {
            var path = PathOf(t);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var store = SqliteTenantStore.Open(t, path, _options.Synchronous);
            // Inside the Lazy, so exactly once per store; handlers must not open stores themselves.
            Opened?.Invoke(store);
            return store;
        })).Value;
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

    private static void Validate(string tenant)
    {
        if (tenant.Length > 128 || tenant.Any(char.IsControl))
        {
            throw NgsiLdException.BadRequest("Invalid tenant", "NGSILD-Tenant must be at most 128 characters without control characters.");
        }
    }

    // Every tenant found on disk is opened at start, so that what it left pending (notifications, periodic
    // subscriptions) resumes without waiting for a request to that tenant.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        GetOrCreate(DefaultTenant);
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _open.Values.Where(s => s.IsValueCreated))
        {
            await store.Value.DisposeAsync();
        }
        _open.Clear();
    }
}
