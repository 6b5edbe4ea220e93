using System.Data.Common;
using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Registrations;
using Agora.Storage;
using Agora.Subscriptions;

namespace Agora.CsourceSubscriptions;

/// Writes the notifications of context source registration subscriptions (clause 5.11.7) to the outbox, inside the
/// transaction of the write that causes them, so that the dispatcher delivers them as it does entity notifications;
/// runs the periodic (timeInterval) ones. Registrations and their subscriptions are few, so each registration write
/// reads the subscriptions afresh.
internal sealed class CsourceNotifier : IHostedService, IDisposable
{
    public const string NewlyMatching = "newlyMatching";
    public const string Updated = "updated";
    public const string NoLongerMatching = "noLongerMatching";

    private readonly TenantStores _stores;
    private readonly ContextResolver _resolver;
    private readonly ILogger<CsourceNotifier> _logger;
    private readonly PeriodicTimers _periodic;
    private readonly ConcurrentDictionary<(string Tenant, string Id), DateTimeOffset> _lastNotified = new();
    // The document each timer was last scheduled from by a reload (Schedule(store)).
    private readonly ConcurrentDictionary<(string Tenant, string Id), string> _scheduledAs = new();

    public CsourceNotifier(TenantStores stores, ContextResolver resolver, ILogger<CsourceNotifier> logger)
    {
        _stores = stores;
        _resolver = resolver;
        _logger = logger;
        _periodic = new PeriodicTimers(logger);
    }

    // Every store's periodic subscriptions run from the start, including those of stores opened later.
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stores.Attach(Attach);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stores.Opened -= Attach;
        _periodic.CancelAll();
        return Task.CompletedTask;
    }

    public void Dispose() => _periodic.Dispose();

    // Scheduling replaces a subscription's timer, so a store reported twice still runs each subscription once.
    private void Attach(TenantStore store)
    {
        store.Invalidated += OnInvalidated;
        Schedule(store);

        // Another node changed the csource subscriptions: their timers follow (each tick reads its subscription).
        void OnInvalidated(string table, DbConnection? writer)
        {
            if (table == CsourceSubscriptionRows.Table && writer is null)
            {
                Schedule(store);
            }
        }
    }

    // The timers follow the stored subscriptions: one deleted, or changed to have no timeInterval, on another
    // node loses its timer here too. A subscription whose document did not change keeps its timer and phase, so
    // that frequent changes to others never keep resetting it.
    private void Schedule(TenantStore store)
    {
        var scheduled = _periodic.Scheduled(store.Tenant).ToHashSet(StringComparer.Ordinal);
        var stale = new HashSet<string>(scheduled, StringComparer.Ordinal);
        foreach (var doc in store.Read(CsourceSubscriptionRows.All))
        {
            var id = (string)doc["id"]!;
            if (doc["timeInterval"] is JsonValue seconds && seconds.TryGetValue<double>(out var interval))
            {
                stale.Remove(id);
                var text = doc.ToJsonString();
                if (!scheduled.Contains(id) || !_scheduledAs.TryGetValue((store.Tenant, id), out var known) || known != text)
                {
                    Schedule(store, id, interval);
                    _scheduledAs[(store.Tenant, id)] = text;
                }
            }
        }
        foreach (var id in stale)
        {
            Unschedule(store, id);
        }
    }

    /// Makes a created or updated subscription's timeInterval take effect: a periodic one notifies every interval
    /// all the registrations it matches then; one without timeInterval has no timer.
    public void Schedule(TenantStore store, Subscription s)
    {
        // A changed subscription starts its throttling afresh, as an entity subscription does.
        _lastNotified.TryRemove((store.Tenant, s.Id), out _);
        Schedule(store, s.Id, s.TimeInterval);
        _scheduledAs[(store.Tenant, s.Id)] = s.Doc.ToJsonString();
    }

    public void Unschedule(TenantStore store, string id)
    {
        _periodic.Unschedule(store.Tenant, id);
        _scheduledAs.TryRemove((store.Tenant, id), out _);
        _lastNotified.TryRemove((store.Tenant, id), out _);
    }

    private void Schedule(TenantStore store, string id, double? seconds) =>
        _periodic.Schedule(store, id, seconds, ct => NotifyPeriodicallyAsync(store, id, ct));

    // Each tick reads the subscription afresh, so that it reports in the subscription's current terms.
    private async Task NotifyPeriodicallyAsync(TenantStore store, string id, CancellationToken ct)
    {
        if (store.Read(c => CsourceSubscriptionRows.Find(c, id)) is not { } doc)
        {
            return;
        }
        await ResolveContextsAsync(store.Tenant, doc, ct);
        var s = Load(store.Tenant, doc);
        await store.WriteAsync(c =>
        {
            var now = DateTimeOffset.UtcNow;
            if (s.TimeInterval is { } interval && SubscriptionRows.TryFire(c, s.Id, now, interval))
            {
                Matching(c, s, now);
            }
            return true;
        });
    }

    /// Resolves the contexts of the tenant's subscriptions before a registration write, so that its transaction
    /// finds them in memory instead of waiting on a fetch.
    public async Task PrepareAsync(TenantStore store, CancellationToken ct)
    {
        foreach (var doc in store.Read(CsourceSubscriptionRows.All))
        {
            await ResolveContextsAsync(store.Tenant, doc, ct);
        }
    }

    private async Task ResolveContextsAsync(string tenant, JsonObject doc, CancellationToken ct)
    {
        foreach (var url in new[] { Subscription.ContextUrlOf(doc), (string?)doc[SubscriptionsApi.RequestContext] }.OfType<string>())
        {
            try
            {
                await _resolver.ResolveAsync(JsonValue.Create(url), tenant, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning(e, "The @context {Url} of context source subscription {Id} is not available; its notifications use the core context.", url, (string?)doc["id"]);
            }
        }
    }

    /// Notifies every live subscription without timeInterval that the registration matched before the write or
    /// matches after it: newlyMatching, updated or noLongerMatching. before is null on creation, after on deletion.
    /// A periodic subscription reports on its own schedule instead, as a periodic entity subscription does; a
    /// throttled one is not notified again until its throttling has elapsed since the last notification.
    public void RegistrationChanged(DbConnection c, string tenant, JsonObject? before, JsonObject? after, DateTimeOffset now)
    {
        foreach (var doc in CsourceSubscriptionRows.All(c))
        {
            var s = Load(tenant, doc);
            var key = (tenant, s.Id);
            if (!s.LiveAt(now) || s.TimeInterval is not null
                || (s.Throttling is { } throttling && _lastNotified.TryGetValue(key, out var last) && (now - last).TotalSeconds < throttling))
            {
                continue;
            }
            var narrowing = RegistrationQuery.Narrowing(s);
            var (was, @is) = (before is null ? null : narrowing(before), after is null ? null : narrowing(after));
            // A registration that no longer matches is shown whole, as it now is (ETSI 047_09), or as it was when deleted.
            var (reason, shown) = (was, @is) switch
            {
                (null, not null) => (NewlyMatching, @is),
                (not null, not null) => (Updated, @is),
                (not null, null) => (NoLongerMatching, after ?? was),
                _ => (null, null),
            };
            if (reason is not null)
            {
                SubscriptionRows.Enqueue(c, Row(s, [shown!], reason, now));
                _lastNotified[key] = now;
            }
        }
    }

    /// The registrations that match a subscription now, if any, as newlyMatching: on its creation or update (ETSI
    /// 047_02, 047_16) and, for a periodic one, every interval (ETSI 047_01). The notification data has a minimum of
    /// one registration (clause 5.3.2), so nothing is sent while none matches.
    public static void Matching(DbConnection c, Subscription s, DateTimeOffset now)
    {
        if (!s.LiveAt(now))
        {
            return;
        }
        var matching = RegistrationRows.All(c).Select(RegistrationQuery.Narrowing(s)).OfType<JsonObject>().ToList();
        if (matching.Count > 0)
        {
            SubscriptionRows.Enqueue(c, Row(s, matching, NewlyMatching, now));
        }
    }

    /// A CsourceNotification (clause 5.3.2, type ContextSourceNotification as the ETSI suite checks): an entity
    /// notification's envelope around registrations, shown in the subscription's context, with the reason it was sent.
    private static OutboxRow Row(Subscription s, IEnumerable<JsonObject> registrations, string reason, DateTimeOffset now)
    {
        var data = registrations.Select(r => (JsonNode)RegistrationOutput.Render(r, null, s.Context, s.Representation.SysAttrs));
        var row = Subscriptions.Notifications.Row(s, data, now);
        row.Body["type"] = "ContextSourceNotification";
        row.Body["triggerReason"] = reason;
        return row;
    }

    // Inside a transaction nothing may wait on a fetch: a context not in memory (PrepareAsync could not resolve it)
    // leaves the core context to render with.
    private Subscription Load(string tenant, JsonObject doc) =>
        Subscription.Of(doc, Resolved(tenant, Subscription.ContextUrlOf(doc)), Resolved(tenant, (string?)doc[SubscriptionsApi.RequestContext]));

    private JsonLdContext Resolved(string tenant, string? url)
    {
        if (url is null)
        {
            return JsonLdContext.Core;
        }
        var pending = _resolver.ResolveAsync(JsonValue.Create(url), tenant, CancellationToken.None);
        return pending.IsCompletedSuccessfully ? pending.Result : JsonLdContext.Core;
    }
}
