using System.Collections.Concurrent;
using Agora.Storage;

namespace Agora.Subscriptions;

/// One timer per periodic subscription (timeInterval) of a tenant, entity or context source one: each interval it
/// calls the subscription's tick, until the subscription is unscheduled, rescheduled or the store closes. With
/// several nodes every node runs the timer, and a firing is claimed in the database (SubscriptionRows.TryFire).
internal sealed class PeriodicTimers(ILogger logger) : IDisposable
{
    private readonly ConcurrentDictionary<(string Tenant, string Id), CancellationTokenSource> _timers = new();

    /// Replaces the subscription's timer by one of this interval, or by none when seconds is null. Scheduling is
    /// serialised: two updates of one subscription at once must leave exactly one timer, and a timer's token is
    /// taken before another update can cancel and dispose it.
    public void Schedule(TenantStore store, string id, double? seconds, Func<CancellationToken, Task> tick)
    {
        lock (_timers)
        {
            Unschedule(store.Tenant, id);
            if (seconds is not { } interval)
            {
                return;
            }
            var cancel = new CancellationTokenSource();
            var token = cancel.Token;
            _timers[(store.Tenant, id)] = cancel;
            _ = RunAsync(store, id, TimeSpan.FromSeconds(interval), tick, token);
        }
    }

    public void Unschedule(string tenant, string id)
    {
        lock (_timers)
        {
            if (_timers.TryRemove((tenant, id), out var previous))
            {
                previous.Cancel();
                previous.Dispose();
            }
        }
    }

    /// The ids of the tenant's subscriptions that have a timer.
    public List<string> Scheduled(string tenant)
    {
        lock (_timers)
        {
            return [.. _timers.Keys.Where(k => k.Tenant == tenant).Select(k => k.Id)];
        }
    }

    /// Stops every timer (the host is stopping); Dispose releases them.
    public void CancelAll()
    {
        lock (_timers)
        {
            foreach (var timer in _timers.Values)
            {
                timer.Cancel();
            }
        }
    }

    public void Dispose()
    {
        lock (_timers)
        {
            foreach (var key in _timers.Keys.ToList())
            {
                Unschedule(key.Tenant, key.Id);
            }
        }
    }

    private async Task RunAsync(TenantStore store, string id, TimeSpan interval, Func<CancellationToken, Task> tick, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                await tick(ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
            // The store closed (shutdown): nothing left to notify.
        }
        catch (Exception e)
        {
            logger.LogError(e, "Periodic subscription {Id} of tenant '{Tenant}' stopped.", id, store.Tenant);
        }
    }
}
