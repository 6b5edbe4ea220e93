using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// Copies a tenant's write-ahead log back into its database file on a connection of its own, beside the
/// writer rather than on it. By default SQLite checkpoints on the committing connection whenever the log
/// passes 1,000 pages: the tenant's one writer stopped to read the log, write the pages into the database and
/// fsync it, and every queued write waited (perf of single-entity updates: `pwrite`, `pread` and `fsync` were
/// a fifth of the process's time, nearly all of it on the writer). Here the writer only appends to the log;
/// a checkpoint runs Interval after a commit, in PASSIVE mode, which never blocks the writer or a reader. Pages
/// written many times between two checkpoints are copied once. One thread runs the checkpoints of every
/// tenant, in the order they fell due: a checkpoint blocks while it copies (tens of milliseconds), which a
/// thread-pool thread should not, and a thread per tenant would let anyone who names new tenants add threads.
///
/// The writer keeps SQLite's own automatic checkpoint as a backstop, at Backstop pages; when the log starts
/// over, the file is cut back to LogSizeLimit. Under writes that never pause, the log only starts over after
/// that backstop: SQLite restarts it when a write transaction begins with the whole log copied, which the
/// background checkpoint, running while the writer appends, does not reach. Without the backstop the log grew
/// to 4 GB in under a minute.
///
/// The price is tail latency at saturation: single updates from 32 connections ran 30% faster than with
/// SQLite's default, but their p99 rose from about 25 ms to about 100 ms (a smaller backstop, 2,048 pages with
/// a checkpoint every 100 ms, kept p99 near 30 ms and gained 8%; where the checkpoint's thread came from
/// changed neither). Throughput is what bounds a city's loads and sensor updates today, so it is chosen here.
internal sealed class SqliteCheckpointer : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    public const int Backstop = 16_384;

    /// What the log file is cut back to when SQLite starts it over, in bytes: a burst of writes grows it, and
    /// it would otherwise keep that size on disk.
    public const long LogSizeLimit = 64L << 20;

    // The checkpoints due, oldest first (each is queued Interval after a commit, so the queue is in due order).
    private static readonly System.Collections.Concurrent.BlockingCollection<(SqliteCheckpointer Store, long Due)> Due = [];
    private static readonly Lazy<Thread> Worker = new(() =>
    {
        var thread = new Thread(RunDue) { IsBackground = true, Name = "SQLite checkpoints" };
        thread.Start();
        return thread;
    });

    private readonly string _connectionString;
    private readonly string _synchronous;
    private readonly ILogger? _logger;
    private readonly Lock _gate = new();
    private SqliteConnection? _connection;
    private int _queued;
    private bool _disposed;

    public SqliteCheckpointer(string connectionString, string synchronous, ILogger? logger)
    {
        _connectionString = connectionString;
        _synchronous = synchronous;
        _logger = logger;
    }

    /// Called after each commit of the writer: a checkpoint follows within Interval (one for all the commits
    /// made until it starts).
    public void Committed()
    {
        if (Interlocked.Exchange(ref _queued, 1) == 0)
        {
            _ = Worker.Value;
            Due.Add((this, Environment.TickCount64 + (long)Interval.TotalMilliseconds));
        }
    }

    private static void RunDue()
    {
        foreach (var (store, due) in Due.GetConsumingEnumerable())
        {
            var wait = due - Environment.TickCount64;
            if (wait > 0)
            {
                Thread.Sleep((int)wait);
            }
            // Cleared first: a commit made while this checkpoint runs queues the next one.
            Volatile.Write(ref store._queued, 0);
            store.Checkpoint();
        }
    }

    private void Checkpoint()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            try
            {
                if (_connection is null)
                {
                    _connection = new SqliteConnection(_connectionString);
                    _connection.Open();
                    TenantStore.Execute(_connection, $"PRAGMA busy_timeout=0; PRAGMA synchronous={_synchronous};");
                }
                TenantStore.Execute(_connection, "PRAGMA wal_checkpoint(PASSIVE);");
            }
            catch (Exception e)
            {
                // Busy (a backstop checkpoint of the writer's), an I/O error, the file gone with its tenant: the
                // next commit tries again, the writer's own checkpoint bounds the log meanwhile, and the thread
                // that serves every tenant goes on.
                _logger?.LogDebug(e, "A background checkpoint did not run.");
                _connection?.Dispose();
                _connection = null;
            }
        }
    }

    /// No checkpoint runs after this returns (one running finishes first).
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _connection?.Dispose();
            _connection = null;
        }
    }
}
