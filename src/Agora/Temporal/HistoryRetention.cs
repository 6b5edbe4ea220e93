using System.Data.Common;
using Agora.Storage;
using Microsoft.Extensions.Options;

namespace Agora.Temporal;

/// Purges instances older than a tenant's retention (by observedAt, or by when they were recorded when they
/// have none), in the background and in slices, so that a large purge never holds the writer for long.
internal sealed class HistoryRetention(TenantStores stores, IOptions<TemporalOptions> options, ILogger<HistoryRetention> logger) : BackgroundService
{
    private const int Slice = 5000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (o.RetentionDays <= 0 && o.Tenants.Values.All(t => t.RetentionDays is null or <= 0))
        {
            return;
        }
        using var timer = new PeriodicTimer(o.RetentionInterval);
        do
        {
            foreach (var store in stores.Open.ToList())
            {
                try
                {
                    await PurgeAsync(store, o.RetentionDaysOf(store.Tenant), stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "Purging the history of tenant '{Tenant}' failed; it is tried again in {Interval}.", store.Tenant, o.RetentionInterval);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // Hours wholly before the cutoff are gone; the hour the cutoff falls in is added up again.
    private static bool RollUpFrom(System.Data.Common.DbConnection c, double cutoff)
    {
        var hour = TemporalRows.Hour(cutoff);
        using var command = c.CreateCommand();
        command.CommandText = "DELETE FROM attr_hours WHERE hour < @hour";
        command.Parameters.AddWithValue("@hour", hour);
        command.ExecuteNonQuery();
        command.CommandText = "SELECT DISTINCT eid, attr FROM attr_hours WHERE hour = @hour";
        var touched = new List<(long, string)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                touched.Add((reader.GetInt64(0), reader.GetString(1)));
            }
        }
        foreach (var (eid, attr) in touched)
        {
            TemporalRows.RebuildHours(c, eid, attr, hour, hour);
        }
        return true;
    }

    /// Deletes the instances older than the given number of days; returns how many went.
    public static async Task<long> PurgeAsync(TenantStore store, int days, CancellationToken cancellationToken)
    {
        if (days <= 0)
        {
            return 0;
        }
        var cutoff = (DateTimeOffset.UtcNow.AddDays(-days) - DateTimeOffset.UnixEpoch).TotalMilliseconds;
        long total = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var purged = await store.WriteAsync(c =>
            {
                using var command = Statements.For(c, """
                    DELETE FROM attr_instances WHERE iid IN
                        (SELECT iid FROM attr_instances WHERE coalesce(observed, created) < @cutoff LIMIT @slice)
                    """);
                command.Parameters.AddWithValue("@cutoff", cutoff);
                command.Parameters.AddWithValue("@slice", Slice);
                return command.ExecuteNonQuery();
            });
            if (purged > 0)
            {
                await store.WriteAsync(c => RollUpFrom(c, cutoff));
            }
            total += purged;
            if (purged < Slice)
            {
                break;
            }
        }
        return total;
    }
}
