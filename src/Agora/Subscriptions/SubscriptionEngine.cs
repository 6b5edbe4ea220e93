using System.Data.Common;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Storage;

namespace Agora.Subscriptions;

/// Matches every entity change against the tenant's subscriptions and writes the notifications they cause into
/// the outbox, inside the change's own transaction (so none is lost, none is invented); runs the periodic
/// (timeInterval) subscriptions. It never sends anything: delivery reads the outbox.
internal sealed class SubscriptionEngine : IHostedService, IDisposable
{
    private readonly TenantStores _stores;
    private readonly ContextResolver _resolver;
    private readonly ILogger<SubscriptionEngine> _logger;
    private readonly ConcurrentDictionary<string, TenantSubscriptions> _tenants = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Tenant, string Id), DateTimeOffset> _lastNotified = new();
    private readonly PeriodicTimers _periodic;
    private readonly Lock _lock = new();

    public SubscriptionEngine(TenantStores stores, ContextResolver resolver, ILogger<SubscriptionEngine> logger)
    {
        _stores = stores;
        _resolver = resolver;
        _logger = logger;
        _periodic = new PeriodicTimers(logger);
        // Subscribed before TenantStores starts (hosted services are all built before any starts), so every
        // store it opens at start, and every store opened later, is attached.
        stores.Opened += Attach;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var store in _stores.Open)
        {
            Attach(store);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _periodic.CancelAll();
        return Task.CompletedTask;
    }

    // The container disposes the engine once as the singleton and once as the hosted service.
    public void Dispose()
    {
        _stores.Opened -= Attach;
        _periodic.Dispose();
    }

    /// The parsed subscriptions of a tenant (empty when it has none).
    public IReadOnlyDictionary<string, Subscription> Of(string tenant) =>
        _tenants.TryGetValue(tenant, out var t) ? t.ById : new Dictionary<string, Subscription>();

    private void Attach(TenantStore store)
    {
        if (_tenants.ContainsKey(store.Tenant))
        {
            return;
        }
        var subscriptions = LoadAll(store, store.Read(SubscriptionRows.All));
        store.ChangesMade += (connection, changes) => OnChanges(store, connection, changes);
        store.Invalidated += (table, connection) =>
        {
            if (table == SubscriptionRows.Table)
            {
                OnInvalidated(store, connection);
            }
        };
        lock (_lock)
        {
            Publish(store, TenantSubscriptions.Of(subscriptions));
        }
        foreach (var s in subscriptions)
        {
            Schedule(store, s);
        }
    }

    private List<Subscription> LoadAll(TenantStore store, List<JsonObject> docs)
    {
        var subscriptions = new List<Subscription>();
        foreach (var doc in docs)
        {
            try
            {
                subscriptions.Add(Load(store.Tenant, doc));
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Subscription {Id} of tenant '{Tenant}' could not be loaded; it will not notify.", (string?)doc["id"], store.Tenant);
            }
        }
        return subscriptions;
    }

    // Another node changed the tenant's subscriptions. They are read again on the writer, inside the transaction
    // of the group that found the change (so the writes that follow are matched against them, and reloads never
    // race each other); a failure fails that group, and the next group tries again. A node's notification of the
    // change only queues an empty write, so that a node that does not write follows too (its periodic timers).
    private void OnInvalidated(TenantStore store, DbConnection? writer)
    {
        if (writer is not null)
        {
            Reload(store, writer);
            return;
        }
        store.WriteAsync(_ => 0).ContinueWith(
            t => _logger.LogError(t.Exception, "Catching up with the subscriptions of tenant '{Tenant}' failed; the next write does.", store.Tenant),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    private void Reload(TenantStore store, DbConnection writer)
    {
        // A subscription whose document did not change is kept as it is: its contexts are not resolved again
        // (which would count as uses of them) and its timer keeps its phase.
        var held = _tenants.TryGetValue(store.Tenant, out var current) ? current.ById : [];
        var subscriptions = new List<Subscription>();
        var changed = new List<Subscription>();
        foreach (var doc in SubscriptionRows.All(writer))
        {
            if (held.TryGetValue((string)doc["id"]!, out var same) && JsonNode.DeepEquals(same.Doc, doc))
            {
                subscriptions.Add(same);
                continue;
            }
            var loaded = LoadAll(store, [doc]);
            subscriptions.AddRange(loaded);
            changed.AddRange(loaded);
        }
        HashSet<string> gone;
        lock (_lock)
        {
            gone = _tenants.TryGetValue(store.Tenant, out var known) ? [.. known.ById.Keys] : [];
            Publish(store, TenantSubscriptions.Of(subscriptions));
        }
        foreach (var s in subscriptions)
        {
            gone.Remove(s.Id);
            if (changed.Contains(s))
            {
                Schedule(store, s);
            }
        }
        foreach (var id in gone)
        {
            _periodic.Unschedule(store.Tenant, id);
        }
    }

    // Contexts are resolved from Agora's context store, which keeps every context a subscription was made with;
    // only a context missing from it is fetched, and if that fails the core context renders meanwhile. They are the
    // subscription's tenant's: a context it made or added is that tenant's alone.
    private Subscription Load(string tenant, JsonObject doc) =>
        Subscription.Of(doc, Resolve(tenant, (string?)doc["jsonldContext"] ?? (string?)doc[SubscriptionsApi.DefaultContext]), Resolve(tenant, (string?)doc[SubscriptionsApi.RequestContext]));

    private JsonLdContext Resolve(string tenant, string? url)
    {
        if (url is null)
        {
            return JsonLdContext.Core;
        }
        try
        {
            return _resolver.ResolveAsync(JsonValue.Create(url), tenant, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "The @context {Url} of a subscription is not available; its notifications use the core context until it is.", url);
            return JsonLdContext.Core;
        }
    }

    /// Makes a created or updated subscription take effect.
    public void Put(TenantStore store, Subscription subscription)
    {
        lock (_lock)
        {
            IEnumerable<Subscription> current = _tenants.TryGetValue(store.Tenant, out var known) ? known.ById.Values : [];
            Publish(store, TenantSubscriptions.Of([.. current.Where(s => s.Id != subscription.Id), subscription]));
        }
        _lastNotified.TryRemove((store.Tenant, subscription.Id), out _);
        Schedule(store, subscription);
    }

    public void Remove(TenantStore store, string id)
    {
        lock (_lock)
        {
            IEnumerable<Subscription> current = _tenants.TryGetValue(store.Tenant, out var known) ? known.ById.Values : [];
            Publish(store, TenantSubscriptions.Of([.. current.Where(s => s.Id != id)]));
        }
        _lastNotified.TryRemove((store.Tenant, id), out _);
        _periodic.Unschedule(store.Tenant, id);
    }

    private void Publish(TenantStore store, TenantSubscriptions subscriptions)
    {
        _tenants[store.Tenant] = subscriptions;
        // Writes record the entity's previous state only while someone may need it.
        store.Changes.Listen(EntityChanges.Subscriptions, subscriptions.ById.Values.Any(s => s.TimeInterval is null));
    }

    private void OnChanges(TenantStore store, DbConnection connection, IReadOnlyList<EntityChange> changes)
    {
        if (!_tenants.TryGetValue(store.Tenant, out var subscriptions) || subscriptions.ById.Count == 0)
        {
            return;
        }
        var now = DateTimeOffset.UtcNow;
        foreach (var change in changes)
        {
            var entity = change.After ?? change.Before;
            if (entity is null)
            {
                continue;
            }
            AttributeChanges? attributes = null;
            foreach (var s in subscriptions.Candidates(entity))
            {
                if (s.TimeInterval is not null || !s.LiveAt(now))
                {
                    continue;
                }
                var key = (store.Tenant, s.Id);
                if (s.Throttling is { } throttling && _lastNotified.TryGetValue(key, out var last) && (now - last).TotalSeconds < throttling)
                {
                    continue;
                }
                attributes ??= AttributeChanges.Of(change);
                var data = Notifications.Data(s, change, attributes, id => EntityRows.Find(connection, id));
                if (data.Count > 0)
                {
                    SubscriptionRows.Enqueue(connection, Notifications.Row(s, data, now));
                    _lastNotified[key] = now;
                }
            }
        }
    }

    private void Schedule(TenantStore store, Subscription s) =>
        _periodic.Schedule(store, s.Id, s.TimeInterval, _ => NotifyPeriodicallyAsync(store, s));

    // One notification per interval with every entity the subscription selects, written through the store so it
    // is as durable as any other.
    private async Task NotifyPeriodicallyAsync(TenantStore store, Subscription s)
    {
        var now = DateTimeOffset.UtcNow;
        if (!s.LiveAt(now))
        {
            return;
        }
        var data = store.Read(c => SubscriptionRows.Fired(c, s.Id, now, s.TimeInterval!.Value) ? []
            : Periodic.Matching(c, s).SelectMany(e => Notifications.Render(s, e, id => EntityRows.Find(c, id))).ToList());
        if (data.Count == 0)
        {
            return;
        }
        await store.WriteAsync(c =>
        {
            if (SubscriptionRows.TryFire(c, s.Id, now, s.TimeInterval!.Value))
            {
                SubscriptionRows.Enqueue(c, Notifications.Row(s, data, now));
            }
            return true;
        });
    }

    /// A tenant's subscriptions, indexed by the entity types they select so that a change reaches only those that
    /// may match it. Immutable: replaced whole when a subscription changes.
    private sealed class TenantSubscriptions
    {
        private readonly Dictionary<string, List<Subscription>> _byType = new(StringComparer.Ordinal);
        private readonly List<Subscription> _anyType = [];

        public Dictionary<string, Subscription> ById { get; } = new(StringComparer.Ordinal);

        public static TenantSubscriptions Of(IEnumerable<Subscription> subscriptions)
        {
            var result = new TenantSubscriptions();
            foreach (var s in subscriptions)
            {
                result.ById[s.Id] = s;
                if (s.IndexTypes is null)
                {
                    result._anyType.Add(s);
                    continue;
                }
                foreach (var type in s.IndexTypes)
                {
                    if (!result._byType.TryGetValue(type, out var list))
                    {
                        result._byType[type] = list = [];
                    }
                    list.Add(s);
                }
            }
            return result;
        }

        public IEnumerable<Subscription> Candidates(JsonObject entity)
        {
            IEnumerable<Subscription> candidates = _anyType;
            var types = entity["type"] as JsonArray;
            if (types is not null)
            {
                foreach (var type in types)
                {
                    if (_byType.TryGetValue((string)type!, out var list))
                    {
                        candidates = candidates.Concat(list);
                    }
                }
            }
            return types is { Count: > 1 } ? candidates.Distinct() : candidates;
        }
    }
}

/// The entities a periodic subscription reports.
internal static class Periodic
{
    private const int MaxEntities = 1000;

    public static List<JsonObject> Matching(DbConnection c, Subscription s)
    {
        var plan = new EntityQuery();
        if (s.IndexTypes is { } types)
        {
            plan.Types(types);
        }
        plan.Inexact();
        plan.Exact = s.Selects;
        return plan.Run(c, 0, MaxEntities, false).Page;
    }
}
