using Agora.Storage;

namespace Agora.Temporal;

/// On PostgreSQL, keeps a history partition ready for this month and the next in every tenant (see
/// Schema.HistoryPartitions), checking at start and twice a day, and logs a month it could not make. The stores
/// make them at start too. Nothing to do on SQLite.
internal sealed class HistoryPartitions(TenantStores stores, ILogger<HistoryPartitions> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(12);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!stores.Shared)
        {
            return;
        }
        using var timer = new PeriodicTimer(Interval);
        do
        {
            foreach (var store in stores.Open.ToList())
            {
                try
                {
                    foreach (var failure in store.Direct(c => Schema.HistoryPartitions(c, DateTimeOffset.UtcNow)))
                    {
                        logger.LogWarning("A history partition of tenant '{Tenant}' could not be made, and that month's history goes to the default partition: {Failure}", store.Tenant, failure);
                    }
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Preparing the history partitions of tenant '{Tenant}' failed; tried again in {Interval}.", store.Tenant, Interval);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
