using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Agora.Storage;

/// One tenant's database: a SQLite file, or a schema of PostgreSQL. Writes are queued to a single writer loop
/// that commits whatever has queued up in one transaction (group commit): one fsync serves many requests, and
/// each request still succeeds or fails on its own through a savepoint. SQLite allows one writer at a time
/// anyway; on PostgreSQL, where several nodes share the tenant, each group first takes the tenant's advisory
/// lock, so that the writes of all nodes are serialised as one writer's would be (a read-modify-write of an
/// entity sees the last committed state, and each change is matched against subscriptions exactly once).
/// Readers use pooled connections and never wait for the writer (WAL on SQLite, MVCC on PostgreSQL).
internal sealed class TenantStore : IAsyncDisposable
{
    private const int MaxGroup = 256;
    private const int MaxIdleReaders = 32;

    // A read-only connection maps the database file into memory: a page read is then a memory access, not a
    // pread copied into the connection's own small page cache (which a query over a few thousand candidates
    // overflows, each connection with a copy of its own). The map only reserves address space; the kernel's page
    // cache holds the pages once for every connection. SQLite lowers the size to its compile-time limit (2 GB in
    // common builds); the pages of a larger file beyond it are read as before.
    private const long MemoryMapBytes = 16L << 30;

    private readonly System.Collections.Concurrent.ConcurrentBag<DbConnection> _idleReaders = [];
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new() { SingleReader = true });
    private readonly Func<DbConnection> _openReader;
    private readonly DbConnection _writer;
    private readonly string? _groupLock;
    private readonly Task _writerLoop;
    private SqliteCheckpointer? _checkpointer;

    public string Tenant { get; }

    /// The entity changes of the write being run; enable it to have ChangesMade called.
    public EntityChanges Changes { get; }

    /// Called on the writer, inside the transaction of each write that changed entities, after the write
    /// and before it is released: what it writes commits or rolls back with the change. Throwing fails the write.
    public event Action<DbConnection, IReadOnlyList<EntityChange>>? ChangesMade;

    /// Raised after every commit, off the writer, for those who deliver what a commit made durable.
    public event Action? Committed;

    /// Raised when a table kept in memory changed (Generations), with the name of the table: on the writer,
    /// inside the transaction of the next group and before its writes run, with the writer's connection; or
    /// when another node's notification arrives, with none. Handlers reload or drop their copy; they must not
    /// throw, and on the writer they must not queue writes.
    public event Action<string, DbConnection?>? Invalidated;

    private Dictionary<string, long>? _generations;

    private TenantStore(string tenant, DbConnection writer, Func<DbConnection> openReader, string? groupLock)
    {
        Tenant = tenant;
        _writer = writer;
        _openReader = openReader;
        _groupLock = groupLock;
        Changes = EntityChanges.Attach(_writer);
        if (groupLock is not null)
        {
            _generations = Generations.Read(_writer);
        }
        _writerLoop = Task.Factory.StartNew(WriteLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public static TenantStore OpenSqlite(string tenant, string path, string synchronous, ILogger? logger = null)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true };
        var writer = new SqliteConnection(builder.ToString());
        writer.Open();
        // Savepoints (one per request of a group) keep their undo pages in the temp store: in memory, not a
        // file written page by page. A 64 MB cache keeps a large group's dirty pages from spilling to the WAL
        // before its commit. The log is copied back into the database beside the writer (SqliteCheckpointer).
        Execute(writer, $"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous}; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint={SqliteCheckpointer.Backstop}; PRAGMA journal_size_limit={SqliteCheckpointer.LogSizeLimit};");
        Schema.Migrate(writer);
        var checkpointer = new SqliteCheckpointer(builder.ToString(), synchronous, logger);
        builder.Mode = SqliteOpenMode.ReadOnly;
        var readOnly = builder.ToString();
        var store = new TenantStore(tenant, writer, () => OpenSqliteReader(readOnly), groupLock: null) { _checkpointer = checkpointer };
        store.Committed += checkpointer.Committed;
        // A log left by the last run (it stopped before its last checkpoint) is copied back soon after the
        // start, not after the first write: until then every read looks its pages up in it (a 176 MB log left by
        // a load cut reads of a 100,000-entity store to a third).
        checkpointer.Committed();
        return store;
    }

    private static SqliteConnection OpenSqliteReader(string connectionString)
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        Execute(connection, $"PRAGMA mmap_size={MemoryMapBytes};");
        return connection;
    }

    /// A tenant's schema on PostgreSQL (migrated by PostgresStores before this opens it).
    public static TenantStore OpenPostgres(string tenant, Npgsql.NpgsqlDataSource schema, string groupLock) =>
        new(tenant, schema.OpenConnection(), schema.OpenConnection, groupLock);

    /// Runs a read on a pooled read-only connection.
    public T Read<T>(Func<DbConnection, T> read)
    {
        if (_groupLock is not null)
        {
            using var pooled = _openReader();
            return read(pooled);
        }
        // SQLite: the store keeps its read-only connections open, so that each keeps its compiled statements
        // (Statements). A read that fails in the database drops its connection; one that fails in the caller's
        // own code (an entity not found) hands it back like any other.
        if (!_idleReaders.TryTake(out var connection))
        {
            connection = _openReader();
        }
        try
        {
            return read(connection);
        }
        catch (DbException)
        {
            connection.Dispose();
            connection = null;
            throw;
        }
        finally
        {
            if (connection is not null)
            {
                if (_idleReaders.Count < MaxIdleReaders)
                {
                    _idleReaders.Add(connection);
                }
                else
                {
                    connection.Dispose();
                }
            }
        }
    }

    /// Runs a statement outside the writer, in a transaction of its own, on a pooled connection: for the
    /// bookkeeping nodes sharing a PostgreSQL database settle between them row by row (delivery leases),
    /// which must not wait for the tenant's writer lock. Not on SQLite, whose pooled connections read only.
    public T Direct<T>(Func<DbConnection, T> run) =>
        _groupLock is null ? throw new InvalidOperationException("Direct statements are for the PostgreSQL store.") : Read(run);

    /// Queues a write; it runs inside the writer's transaction and its effects are durable once the task completes.
    /// An exception thrown by <paramref name="write"/> rolls back that write alone and is rethrown to the caller.
    public Task<T> WriteAsync<T>(Func<DbConnection, T> write) => Enqueue(new PendingWrite<T>(write, alone: false));

    /// Queues a large write (a batch) to run in a transaction of its own, without the per-request savepoint:
    /// SQLite truncates an in-memory sub-journal by walking it whenever a statement ends inside a savepoint,
    /// which makes thousands of statements in one savepoint quadratic. The write must therefore fail, if it
    /// fails, before its first change; an unexpected failure rolls the whole transaction back.
    public Task<T> WriteAloneAsync<T>(Func<DbConnection, T> write) => Enqueue(new PendingWrite<T>(write, alone: true));

    private Task<T> Enqueue<T>(PendingWrite<T> pending)
    {
        if (!_writes.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(TenantStore));
        }
        return pending.Completion.Task;
    }

    private async Task WriteLoop()
    {
        var group = new List<PendingWrite>(MaxGroup);
        while (await _writes.Reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < MaxGroup && _writes.Reader.TryRead(out var next))
            {
                if (next.Alone)
                {
                    CommitGroup(group);
                    group.Clear();
                    CommitAlone(next);
                    continue;
                }
                group.Add(next);
            }
            CommitGroup(group);
        }
    }

    private void CommitAlone(PendingWrite write)
    {
        try
        {
            using var tx = Begin();
            if (!write.Run(_writer) || !Observe(write))
            {
                Changes.Clear();
                tx.Rollback();
                TextCodes.RolledBack(_writer);
                write.Publish();
                return;
            }
            tx.Commit();
            TextCodes.Committed(_writer);
        }
        catch (Exception e)
        {
            TextCodes.RolledBack(_writer);
            write.Fail(e);
            return;
        }
        write.Publish();
        Committed?.Invoke();
    }

    // Hands the write's entity changes to the observer; an observer failure fails the write.
    private bool Observe(PendingWrite write)
    {
        try
        {
            if (Changes.Changes.Count > 0 && ChangesMade is { } observer)
            {
                observer(_writer, Changes.Changes);
            }
            return true;
        }
        catch (Exception e)
        {
            write.Reject(e);
            return false;
        }
        finally
        {
            Changes.Clear();
        }
    }

    private void CommitGroup(List<PendingWrite> group)
    {
        if (group.Count == 0)
        {
            return;
        }
        try
        {
            using var tx = Begin();
            foreach (var write in group)
            {
                Savepoint("SAVEPOINT w");
                if (write.Run(_writer) && Observe(write))
                {
                    Savepoint("RELEASE w");
                }
                else
                {
                    Changes.Clear();
                    Savepoint("ROLLBACK TO w");
                    Savepoint("RELEASE w");
                    TextCodes.RolledBack(_writer);
                }
            }
            tx.Commit();
            TextCodes.Committed(_writer);
        }
        catch (Exception e)
        {
            TextCodes.RolledBack(_writer);
            // The commit itself failed (disk full, I/O error): nothing of the group is durable.
            foreach (var write in group)
            {
                write.Fail(e);
            }
            return;
        }
        foreach (var write in group)
        {
            write.Publish();
        }
        Committed?.Invoke();
    }

    private DbTransaction Begin()
    {
        try
        {
            return BeginOnce();
        }
        catch (DbException) when (_writer.State != System.Data.ConnectionState.Open)
        {
            // The PostgreSQL server restarted, failed over or dropped the writer's idle connection: nothing of
            // this group ran yet, so it runs on a new connection.
            return BeginOnce();
        }
    }

    private DbTransaction BeginOnce()
    {
        if (_writer.State != System.Data.ConnectionState.Open)
        {
            _writer.Close();
            _writer.Open();
        }
        var tx = _writer.BeginTransaction();
        try
        {
            if (_groupLock is not null)
            {
                Execute(_writer, _groupLock);
                CatchUp();
            }
            return tx;
        }
        catch
        {
            // Never left open: it would hold the tenant's lock and refuse every later transaction.
            tx.Dispose();
            throw;
        }
    }

    // Holding the tenant's lock, no other node writes: a generation read now is the last committed one.
    private void CatchUp()
    {
        foreach (var (name, value) in Generations.Read(_writer))
        {
            if (!_generations!.TryGetValue(name, out var known) || known != value)
            {
                // Recorded once the handlers have reloaded: one that failed (and failed the group) runs again.
                Invalidated?.Invoke(name, _writer);
                _generations[name] = value;
            }
        }
    }

    /// Passes on another node's notification that a table kept in memory changed.
    public void Invalidate(string name) => Invalidated?.Invoke(name, null);

    internal static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    // The statements every write of a group runs, compiled once.
    private void Savepoint(string sql)
    {
        using var command = Statements.For(_writer, sql);
        command.ExecuteNonQuery();
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writerLoop;
        _checkpointer?.Dispose();
        _writer.Dispose();
        while (_idleReaders.TryTake(out var reader))
        {
            reader.Dispose();
        }
    }

    private abstract class PendingWrite(bool alone)
    {
        public bool Alone { get; } = alone;

        /// Runs the write; false when it failed and must be rolled back.
        public abstract bool Run(DbConnection connection);
        public abstract void Publish();
        public abstract void Fail(Exception e);

        /// Marks a write that ran but must not commit (its changes are rolled back); Publish reports the error.
        public abstract void Reject(Exception e);
    }

    private sealed class PendingWrite<T>(Func<DbConnection, T> write, bool alone) : PendingWrite(alone)
    {
        private T? _result;
        private Exception? _error;
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool Run(DbConnection connection)
        {
            try
            {
                _result = write(connection);
                return true;
            }
            catch (Exception e)
            {
                _error = e;
                return false;
            }
        }

        // Results are handed out only after the commit, so no caller sees a write that could still be lost.
        public override void Publish()
        {
            if (_error is null)
            {
                Completion.TrySetResult(_result!);
            }
            else
            {
                Completion.TrySetException(_error);
            }
        }

        public override void Fail(Exception e) => Completion.TrySetException(e);

        public override void Reject(Exception e) => _error = e;
    }
}
