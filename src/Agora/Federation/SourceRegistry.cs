using System.Collections.Concurrent;
using Agora.Registrations;
using Agora.Storage;

namespace Agora.Federation;

/// The context sources of each tenant, compiled from its registrations once and kept until a registration of
/// that tenant changes (through this node, or through another sharing the database: see Generations), so that
/// a request of a tenant without registrations pays one dictionary lookup.
internal sealed class SourceRegistry
{
    private readonly TimeProvider time;

    public SourceRegistry(TimeProvider time, TenantStores stores)
    {
        this.time = time;
        stores.Attach(store => store.Invalidated += (table, _) =>
        {
            if (table == RegistrationRows.Table)
            {
                Changed(store.Tenant);
            }
        });
    }

    private readonly ConcurrentDictionary<string, IReadOnlyList<ContextSource>> _sources = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _generations = new(StringComparer.Ordinal);
    private readonly Lock _caching = new();

    /// The unexpired sources of the tenant whose store this is.
    public IReadOnlyList<ContextSource> Of(TenantStore store)
    {
        if (!_sources.TryGetValue(store.Tenant, out var all))
        {
            // A list read while a registration changed is used once, not kept: only a list read in one generation is cached.
            var generation = _generations.GetValueOrDefault(store.Tenant);
            all = store.Read(c => RegistrationRows.All(c).Select(d => new ContextSource(d)).ToList());
            lock (_caching)
            {
                if (_generations.GetValueOrDefault(store.Tenant) == generation)
                {
                    _sources[store.Tenant] = all;
                }
            }
        }
        if (all.Count == 0)
        {
            return all;
        }
        var now = time.GetUtcNow();
        return all.Any(s => s.ExpiresAt <= now) ? [.. all.Where(s => !(s.ExpiresAt <= now))] : all;
    }

    /// Called after every change to a tenant's registrations.
    public void Changed(string tenant)
    {
        lock (_caching)
        {
            _generations.AddOrUpdate(tenant, 1, (_, g) => g + 1);
            _sources.TryRemove(tenant, out _);
        }
    }
}
