namespace Agora.Market;

/// Agreements' daily usage: calls, entities and bytes metered on every read of an agreement's credential, the
/// times those calls took, and notifications. Reads are counted in memory (UsageMeter) and written here once a
/// second, in one transaction; notifications, far fewer, are counted in the database as they go.
internal sealed partial class MarketStore : IDisposable
{
    private readonly UsageMeter _meter = new();
    private readonly Lock _flushing = new();
    // Ticks once a second from the store's start (a tick with nothing counted writes nothing).
    private Timer? _flushTimer;
    // Set when the server stops: the last flush is Dispose's, and no timer writes after it.
    private volatile bool _disposed;

    /// Counts one call against the agreement's day if it stays within the limit; false when the quota is spent.
    public bool TryCountCall(string agreement, string day, long? limit)
    {
        if (limit is null)
        {
            _meter.Add(agreement, day, c => c.Calls++);
            return true;
        }
        if (_database.IsPostgres)
        {
            // Every node counts against the same quota: the database decides, one call at a time.
            return Run("""
                INSERT INTO usage (agreement, day, calls) SELECT @agreement, @day, 1 WHERE @limit >= 1
                ON CONFLICT (agreement, day) DO UPDATE SET calls = usage.calls + 1 WHERE usage.calls < @limit
                """, ("@agreement", agreement), ("@day", day), ("@limit", limit)) == 1;
        }
        return _meter.TryCountCall(agreement, day, limit.Value, () => Stored(agreement, day).Calls);
    }

    public void AddResult(string agreement, string day, long entities, long bytes) =>
        _meter.Add(agreement, day, c =>
        {
            c.Entities += entities;
            c.Bytes += bytes;
        });

    /// Records how long one counted call of the agreement took and whether it was answered with a 5xx.
    public void AddTiming(string agreement, string day, long milliseconds, bool serverError) =>
        _meter.Add(agreement, day, c =>
        {
            c.Timed++;
            c.TimeMs += milliseconds;
            c.MaxMs = Math.Max(c.MaxMs, milliseconds);
            c.ServerErrors += serverError ? 1 : 0;
            c.Latency[UsageMeter.Bucket(milliseconds)]++;
        });

    /// The bytes an agreement has been sent on a day, for the bytesPerDay quota.
    public long BytesOn(string agreement, string day) => Stored(agreement, day).Bytes + _meter.Unwritten(agreement, day, c => c.Bytes);

    /// Counts one notification if it stays within the limit; otherwise counts it as dropped and returns false.
    public bool TryCountNotification(string agreement, string day, long? limit)
    {
        var counted = Run("""
            INSERT INTO usage (agreement, day, notifications) SELECT @agreement, @day, 1 WHERE CAST(@limit AS BIGINT) IS NULL OR @limit >= 1
            ON CONFLICT (agreement, day) DO UPDATE SET notifications = usage.notifications + 1 WHERE CAST(@limit AS BIGINT) IS NULL OR usage.notifications < @limit
            """, ("@agreement", agreement), ("@day", day), ("@limit", limit)) == 1;
        if (!counted)
        {
            Run("""
                INSERT INTO usage (agreement, day, notifications_dropped) VALUES (@agreement, @day, 1)
                ON CONFLICT (agreement, day) DO UPDATE SET notifications_dropped = usage.notifications_dropped + 1
                """, ("@agreement", agreement), ("@day", day));
        }
        return counted;
    }

    /// An agreement's usage, day by day, with every call this node counted until now.
    public List<UsageDay> Usage(string agreement)
    {
        Flush();
        using var connection = Open();
        var buckets = new Dictionary<string, List<(int Bucket, long Calls)>>(StringComparer.Ordinal);
        using (var latency = Command(connection, "SELECT day, bucket, calls FROM usage_latency WHERE agreement = @agreement ORDER BY day, bucket", [("@agreement", agreement)]))
        using (var rows = latency.ExecuteReader())
        {
            while (rows.Read())
            {
                var day = rows.GetString(0);
                (buckets.TryGetValue(day, out var list) ? list : buckets[day] = []).Add((rows.GetInt32(1), rows.GetInt64(2)));
            }
        }
        using var command = Command(connection, """
            SELECT agreement, day, calls, entities, bytes, notifications, notifications_dropped, timed, time_ms, max_ms, server_errors
            FROM usage WHERE agreement = @agreement ORDER BY day
            """, [("@agreement", agreement)]);
        using var reader = command.ExecuteReader();
        var days = new List<UsageDay>();
        while (reader.Read())
        {
            var day = reader.GetString(1);
            days.Add(new UsageDay(reader.GetString(0), day, reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
                reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10),
                Percentile95(buckets.GetValueOrDefault(day) ?? [], reader.GetInt64(7), reader.GetInt64(9))));
        }
        return days;
    }

    /// Writes what the meter counted, in one transaction. On failure the counts stay for the next flush.
    public void Flush() => Flush(last: false);

    private void Flush(bool last)
    {
        lock (_flushing)
        {
            if (_disposed && !last || _meter.Take() is not { } taken)
            {
                return;
            }
            try
            {
                using var connection = Open();
                using var transaction = connection.BeginTransaction();
                foreach (var ((agreement, day), c) in taken)
                {
                    using (var usage = Command(connection, """
                        INSERT INTO usage (agreement, day, calls, entities, bytes, timed, time_ms, max_ms, server_errors)
                        VALUES (@agreement, @day, @calls, @entities, @bytes, @timed, @ms, @max, @errors)
                        ON CONFLICT (agreement, day) DO UPDATE SET calls = usage.calls + @calls, entities = usage.entities + @entities,
                            bytes = usage.bytes + @bytes, timed = usage.timed + @timed, time_ms = usage.time_ms + @ms,
                            max_ms = CASE WHEN usage.max_ms > @max THEN usage.max_ms ELSE @max END, server_errors = usage.server_errors + @errors
                        """, [("@agreement", agreement), ("@day", day), ("@calls", c.Calls), ("@entities", c.Entities), ("@bytes", c.Bytes),
                            ("@timed", c.Timed), ("@ms", c.TimeMs), ("@max", c.MaxMs), ("@errors", c.ServerErrors)]))
                    {
                        usage.Transaction = transaction;
                        usage.ExecuteNonQuery();
                    }
                    for (var bucket = 0; bucket < UsageMeter.Buckets; bucket++)
                    {
                        if (c.Latency[bucket] == 0)
                        {
                            continue;
                        }
                        using var latency = Command(connection, """
                            INSERT INTO usage_latency (agreement, day, bucket, calls) VALUES (@agreement, @day, @bucket, @calls)
                            ON CONFLICT (agreement, day, bucket) DO UPDATE SET calls = usage_latency.calls + @calls
                            """, [("@agreement", agreement), ("@day", day), ("@bucket", bucket), ("@calls", c.Latency[bucket])]);
                        latency.Transaction = transaction;
                        latency.ExecuteNonQuery();
                    }
                }
                transaction.Commit();
                _meter.Written();
            }
            catch
            {
                _meter.Failed();
                throw;
            }
        }
    }

    /// The last counts reach the database when the server stops.
    public void Dispose()
    {
        _disposed = true;
        _flushTimer?.Dispose();
        try
        {
            Flush(last: true);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Could not write the last usage counts of agreements");
        }
    }

    private void StartFlushing() => _flushTimer = new Timer(_ => FlushQuietly(), null, UsageMeter.FlushEvery, UsageMeter.FlushEvery);

    private void FlushQuietly()
    {
        try
        {
            Flush();
        }
        catch (Exception e)
        {
            // The counts stay in memory and the next flush tries again.
            _logger.LogWarning(e, "Could not write agreements' usage counts; trying again in {Seconds} s", UsageMeter.FlushEvery.TotalSeconds);
        }
    }

    // What the database holds for an agreement's day.
    private UsageDay Stored(string agreement, string day)
    {
        using var connection = Open();
        using var command = Command(connection, "SELECT calls, bytes FROM usage WHERE agreement = @agreement AND day = @day", [("@agreement", agreement), ("@day", day)]);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new UsageDay(agreement, day, reader.GetInt64(0), 0, reader.GetInt64(1), 0, 0) : new UsageDay(agreement, day, 0, 0, 0, 0, 0);
    }

    // The upper bound of the bucket that holds the 95th percentile call, never above the longest call.
    private static long Percentile95(List<(int Bucket, long Calls)> buckets, long timed, long max)
    {
        var rank = (long)Math.Ceiling(timed * 0.95);
        long seen = 0;
        foreach (var (bucket, calls) in buckets)
        {
            seen += calls;
            if (seen >= rank)
            {
                return Math.Min(1L << bucket, max);
            }
        }
        return max;
    }
}
