using System.Collections.Concurrent;
using Agora.Registrations;
using Agora.Storage;

namespace Agora.Federation;

/// The context sources of each tenant, compiled from its registrations once and kept until a registration of
/// that tenant changes, so that a request of a tenant without registrations pays one dictionary lookup.
internal sealed class SourceRegistry(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<ContextSource>> _sources = new(StringComparer.Ordinal);

    /// The unexpired sources of the tenant whose store this is.
    public IReadOnlyList<ContextSource> Of(SqliteTenantStore store)
    {
        var all = _sources.GetOrAdd(store.Tenant, _ => store.Read(c => RegistrationRows.All(c).Select(d => new ContextSource(d)).ToList()));
        if (all.Count == 0)
        {
            return all;
        }
        var now = time.GetUtcNow();
        return all.Any(s => s.ExpiresAt <= now) ? [.. all.Where(s => !(s.ExpiresAt <= now))] : all;
    }

    /// Called after every change to a tenant's registrations.
    public void Changed(string tenant) => _sources.TryRemove(tenant, out _);
}
