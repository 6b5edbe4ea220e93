using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Agora.Security;

/// The audit log's writer: requests hand their entries to a queue and go on; one background loop writes whatever
/// has queued in a single transaction, so auditing every request costs a request no disk wait. The same loop
/// applies the retention setting once an hour.
internal sealed class AuditLog(SecurityStore store, IOptions<SecurityOptions> options, TimeProvider time, ILogger<AuditLog> logger)
    : BackgroundService
{
    public const string Allowed = "allowed";
    public const string Denied = "denied";
    public const string Unauthenticated = "unauthenticated";
    public const string Throttled = "throttled";
    public const string Changed = "changed";

    private static readonly TimeSpan PurgeEvery = TimeSpan.FromHours(1);

    // Bounded, so that a flood of requests slows down rather than eats memory; entries are never dropped.
    private readonly Channel<object> _queue = Channel.CreateBounded<object>(new BoundedChannelOptions(10_000) { SingleReader = true });

    public ValueTask WriteAsync(AuditEntry entry, CancellationToken ct = default) => _queue.Writer.WriteAsync(entry, ct);

    public ValueTask WriteAsync(HttpContext http, string tenant, string? actor, string decision, string? reason) =>
        WriteAsync(new AuditEntry(time.GetUtcNow(), Cut(tenant, 128), actor, Cut(ActionOf(http.Request), 1024), decision, reason,
            http.Connection.RemoteIpAddress?.ToString()), http.RequestAborted);

    // What an anonymous client sends (a tenant header, a path) is kept, but not at any length.
    private static string Cut(string value, int length) => value.Length <= length ? value : value[..length] + "…";

    /// Returns once everything queued before the call is on disk: a reader of the log sees its own request.
    public async Task FlushAsync(CancellationToken ct)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync(done, ct);
        await done.Task.WaitAsync(ct);
    }

    /// Method and path, never the query string: a client may put a secret in it by mistake.
    public static string ActionOf(HttpRequest request) => request.Method + " " + request.PathBase + request.Path;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var purging = PurgeLoopAsync(stoppingToken);
        var batch = new List<AuditEntry>();
        var flushes = new List<TaskCompletionSource>();
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < 1000 && reader.TryRead(out var item))
                {
                    if (item is AuditEntry entry)
                    {
                        batch.Add(entry);
                    }
                    else
                    {
                        flushes.Add((TaskCompletionSource)item);
                    }
                }
                Write(batch);
                flushes.ForEach(f => f.TrySetResult());
                flushes.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // What queued before the stop still reaches the disk.
        while (reader.TryRead(out var item))
        {
            if (item is AuditEntry entry)
            {
                batch.Add(entry);
            }
        }
        Write(batch);
        await purging;
    }

    private async Task PurgeLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PurgeEvery, time);
        try
        {
            do
            {
                Purge();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Write(List<AuditEntry> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }
        try
        {
            store.Append(batch);
        }
        catch (Exception e)
        {
            // Any failure, not only the store's: an exception leaving this service would stop the whole server
            // (BackgroundServiceExceptionBehavior), so one bad batch is logged and the log goes on.
            logger.LogError(e, "Could not write {Count} audit entries", batch.Count);
        }
        batch.Clear();
    }

    /// Deletes the entries older than the retention setting; returns how many.
    public int Purge()
    {
        var days = options.Value.AuditRetentionDays;
        if (days <= 0)
        {
            return 0;
        }
        var removed = store.PurgeAudit(time.GetUtcNow().AddDays(-days));
        if (removed > 0)
        {
            logger.LogInformation("Removed {Count} audit entries older than {Days} days", removed, days);
        }
        return removed;
    }
}
