using System.Threading.Channels;
using Agora.Storage;

namespace Agora.Notifications;

/// Drains one tenant's outbox. A scan loop finds subscriptions with a due notification and starts one worker
/// per subscription, which sends that subscription's notifications one at a time, oldest first, and stops at
/// the first failure (the rest wait for its retry). Workers of different subscriptions run side by side, so a
/// slow or dead endpoint holds up only its own subscription. With several nodes on one PostgreSQL database,
/// a worker first takes the subscription's lease (delivery_leases) and renews it before each batch, so that
/// one node at a time delivers a subscription's notifications, in order; the lease of a node that died runs
/// out and another node takes over what it left pending.
internal sealed class TenantOutbox
{
    private const int ReadBatch = 32;
    private const int RecordBatch = 256;
    private static readonly TimeSpan IdleScan = TimeSpan.FromSeconds(1);

    private readonly TenantStore _store;
    private readonly NotificationDispatcher _dispatcher;
    private readonly CancellationToken _stopping;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Channel<(DeliveryResult Result, TaskCompletionSource Recorded)> _results = Channel.CreateUnbounded<(DeliveryResult, TaskCompletionSource)>(new() { SingleReader = true });
    private readonly HashSet<string> _busy = new(StringComparer.Ordinal);
    private readonly List<Task> _workers = [];
    private readonly Task _scanLoop;
    private readonly Task _recordLoop;

    public TenantOutbox(TenantStore store, NotificationDispatcher dispatcher, ILogger logger, CancellationToken stopping)
    {
        _store = store;
        _dispatcher = dispatcher;
        _logger = logger;
        _stopping = stopping;
        _store.Committed += Wake;
        _recordLoop = Task.Run(RecordLoop, CancellationToken.None);
        _scanLoop = Task.Run(ScanLoop, CancellationToken.None);
    }

    // Raised on the store's writer after every commit: it must only signal, never wait.
    public void Wake() => _wake.Writer.TryWrite(true);

    private async Task ScanLoop()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var delay = IdleScan;
            try
            {
                delay = Scan();
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Scanning the notification outbox of tenant '{Tenant}' failed; trying again.", _store.Tenant);
            }
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
            timer.CancelAfter(delay);
            try
            {
                await _wake.Reader.WaitToReadAsync(timer.Token);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException)
            {
            }
        }
        Task[] workers;
        lock (_busy)
        {
            workers = [.. _workers];
        }
        await Task.WhenAll(workers);
        _results.Writer.TryComplete();
        await _recordLoop;
        _store.Committed -= Wake;
    }

    // Starts a worker for every subscription with a due notification that has none yet; answers how long
    // to wait before the next scan if nothing wakes the loop sooner.
    private TimeSpan Scan()
    {
        var now = OutboxRows.UnixSeconds(DateTimeOffset.UtcNow);
        string[] busy;
        lock (_busy)
        {
            busy = [.. _busy];
        }
        var (due, next) = _store.Read(c => (OutboxRows.DueSubscriptions(c, now, busy, _dispatcher.Node), OutboxRows.NextAttempt(c, now)));
        foreach (var subscription in due)
        {
            lock (_busy)
            {
                if (_busy.Add(subscription))
                {
                    _workers.Add(Task.Run(() => Work(subscription), CancellationToken.None));
                }
            }
        }
        if (next is null)
        {
            return IdleScan;
        }
        var wait = TimeSpan.FromSeconds(next.Value - now) + TimeSpan.FromMilliseconds(5);
        return wait < IdleScan ? wait : IdleScan;
    }

    private async Task Work(string subscription)
    {
        try
        {
            await _dispatcher.Slots.WaitAsync(_stopping);
            try
            {
                if (Lease(subscription))
                {
                    try
                    {
                        await Deliver(subscription);
                    }
                    finally
                    {
                        if (_dispatcher.Lease is not null)
                        {
                            _store.Direct(c =>
                            {
                                OutboxRows.Release(c, subscription, _dispatcher.Node);
                                return 0;
                            });
                        }
                    }
                }
            }
            finally
            {
                _dispatcher.Slots.Release();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: what was not recorded stays in the outbox and goes out after the restart.
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Delivering the notifications of subscription {Subscription} (tenant '{Tenant}') failed; they stay in the outbox.", subscription, _store.Tenant);
            // The subscription stays busy a moment, so that a failing store is not hammered by the next scan.
            await Task.Delay(IdleScan, _stopping).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        finally
        {
            lock (_busy)
            {
                _busy.Remove(subscription);
                _workers.RemoveAll(w => w.IsCompleted);
            }
            // Rows of this subscription that arrived while it was busy were left out of the scans.
            Wake();
        }
    }

    // True when this node may deliver the subscription's notifications now: always with one node; with
    // several, while it holds the lease, taken or renewed here for another lease period.
    private bool Lease(string subscription)
    {
        if (_dispatcher.Lease is not { } lease)
        {
            return true;
        }
        var now = DateTimeOffset.UtcNow;
        return _store.Direct(c => OutboxRows.TryLease(c, subscription, _dispatcher.Node, OutboxRows.UnixSeconds(now), OutboxRows.UnixSeconds(now + lease)));
    }

    private async Task Deliver(string subscription)
    {
        while (!_stopping.IsCancellationRequested && Lease(subscription))
        {
            var rows = _store.Read(c => OutboxRows.Pending(c, subscription, ReadBatch));
            if (rows.Count == 0)
            {
                return;
            }
            foreach (var row in rows)
            {
                if (row.NextAttempt > OutboxRows.UnixSeconds(DateTimeOffset.UtcNow))
                {
                    // The oldest is waiting for its retry and a newer one was found due: newer ones wait too.
                    await _store.WriteAsync(c =>
                    {
                        OutboxRows.Park(c, subscription, row.NextAttempt);
                        return 0;
                    });
                    return;
                }
                // Renewed before each send, so it cannot run out while this node works through a backlog.
                if (!Lease(subscription))
                {
                    return;
                }
                var result = await _dispatcher.SendAsync(_store.Tenant, row, _stopping);
                var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                if (!_results.Writer.TryWrite((result, recorded)))
                {
                    return;
                }
                await recorded.Task;
                if (result.Failure is not null)
                {
                    return;
                }
            }
        }
    }

    // Results that complete together are written together: one write through the single writer for many.
    private async Task RecordLoop()
    {
        var batch = new List<(DeliveryResult Result, TaskCompletionSource Recorded)>(RecordBatch);
        while (await _results.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < RecordBatch && _results.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }
            try
            {
                var results = batch.Select(b => b.Result).ToList();
                await _store.WriteAsync(c =>
                {
                    OutboxRows.Record(c, results);
                    return 0;
                });
                batch.ForEach(b => b.Recorded.TrySetResult());
            }
            catch (Exception e)
            {
                // Not recorded: the notifications stay in the outbox and are sent again (at least once).
                batch.ForEach(b => b.Recorded.TrySetException(e));
            }
        }
    }

    public Task Stopped => _scanLoop;
}
