using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// Copies a tenant's write-ahead log back into its database file on a connection of its own, beside the
/// writer rather than on it. By default SQLite checkpoints on the committing connection whenever the log
/// passes 1,000 pages: the tenant's one writer stopped to read the log, write the pages into the database and
/// fsync it, and every queued write waited (perf of single-entity updates: `pwrite`, `pread` and `fsync` were
/// a fifth of the process's time, nearly all of it on the writer). Here the writer only appends to the log;
/// a checkpoint runs at most every Interval after a commit, in PASSIVE mode, which never blocks the writer or
/// a reader. Pages written many times between two checkpoints are copied once.
///
/// The writer keeps SQLite's own automatic checkpoint as a backstop, at Backstop pages; when the log starts
/// over, the file is cut back to LogSizeLimit. Under writes that never pause, the log only starts over after
/// that backstop: SQLite restarts it when a write transaction begins with the whole log copied, which the
/// background checkpoint, running while the writer appends, does not reach. Without the backstop the log grew
/// to 4 GB in under a minute.
///
/// The price is tail latency at saturation: single updates from 32 connections ran 30% faster than with
/// SQLite's default, but their p99 rose from about 25 ms to about 100 ms (a smaller backstop, 2,048 pages with
/// a checkpoint every 100 ms, kept p99 near 30 ms and gained 8%; running the checkpoint on a thread of its own
/// changed neither). Throughput is what bounds a city's loads and sensor updates today, so it is chosen here.
internal sealed class SqliteCheckpointer : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    public const int Backstop = 16_384;

    /// What the log file is cut back to when SQLite starts it over, in bytes: a burst of writes grows it, and
    /// it would otherwise keep that size on disk.
    public const long LogSizeLimit = 64L << 20;

    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly ILogger? _logger;
    private readonly SemaphoreSlim _committed = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public SqliteCheckpointer(string connectionString, string synchronous, ILogger? logger)
    {
        _connectionString = connectionString;
        _synchronous = synchronous;
        _logger = logger;
        // A thread of its own: a checkpoint blocks for as long as it copies (tens of milliseconds), which a
        // thread-pool thread should not.
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite checkpoint" };
        _thread.Start();
    }

    /// Called after each commit of the writer: a checkpoint follows within Interval.
    public void Committed()
    {
        if (_committed.CurrentCount == 0)
        {
            try
            {
                _committed.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another commit signalled first: one checkpoint covers both.
            }
        }
    }

    private void Run()
    {
        SqliteConnection? connection = null;
        try
        {
            while (true)
            {
                _committed.Wait(_stop.Token);
                if (_stop.Token.WaitHandle.WaitOne(Interval))
                {
                    return;
                }
                try
                {
                    if (connection is null)
                    {
                        connection = new SqliteConnection(_connectionString);
                        connection.Open();
                        TenantStore.Execute(connection, $"PRAGMA busy_timeout=0; PRAGMA synchronous={_synchronous};");
                    }
                    TenantStore.Execute(connection, "PRAGMA wal_checkpoint(PASSIVE);");
                }
                catch (SqliteException e)
                {
                    // Busy (a backstop checkpoint of the writer's) or an I/O error: the next commit tries again,
                    // and the writer's own checkpoint bounds the log meanwhile.
                    _logger?.LogDebug(e, "A background checkpoint did not run.");
                    connection?.Dispose();
                    connection = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            connection?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.Run(_thread.Join);
        _stop.Dispose();
        _committed.Dispose();
    }
}
