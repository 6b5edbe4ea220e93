using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Agora.Storage;

/// Prepared statements kept per SQLite connection. Microsoft.Data.Sqlite compiles a command's SQL on its first
/// execution and throws the compiled statement away with the command, so a statement written as "new command,
/// set its text, run it" was compiled again on every request: `sqlite3RunParser` and its code generator were
/// among the writer's top frames. The writer and the pooled readers are long-lived connections, so each keeps
/// its statements by SQL text and hands the same compiled command out again, with its parameters cleared.
/// A statement asked for while its cached command is still in use (a reader open on it) gets a fresh one.
/// On PostgreSQL a plain command is returned: Npgsql prepares recurring statements itself (Max Auto Prepare).
internal static class Statements
{
    // Past this many SQL texts on one connection (queries of many shapes), the cache starts over.
    private const int MaxPerConnection = 128;
    private static readonly ConditionalWeakTable<DbConnection, Cache> Caches = new();

    /// A command for this SQL on this connection, compiled at most once per connection; disposing it returns it.
    public static DbCommand For(DbConnection connection, string sql)
    {
        if (connection is not SqliteConnection sqlite)
        {
            var plain = connection.CreateCommand();
            plain.CommandText = sql;
            return plain;
        }
        var cache = Caches.GetValue(connection, _ => new Cache());
        if (cache.TryTake(sql, out var cached))
        {
            cached.Inner.Parameters.Clear();
            // A command remembers the transaction it was made in; the connection's current one is what runs it.
            cached.Inner.Transaction = CurrentTransaction(sqlite);
            return cached;
        }
        var command = sqlite.CreateCommand();
        command.CommandText = sql;
        return new CachedCommand(command, cache);
    }

    /// A statement run once per row on the SQLite writer (an index row, a history instance), bound by position
    /// and stepped on the library's own handle. Microsoft.Data.Sqlite spends more per execution than SQLite
    /// spends inserting the row (a data reader, a statement enumerator, each parameter looked up by name);
    /// for statements run thousands of times a batch, its lower layer (SQLitePCLRaw) is used directly. It runs
    /// in whatever transaction the connection is in.
    public static RowStatement Row(DbConnection connection, string sql)
    {
        var sqlite = (SqliteConnection)connection;
        var cache = Caches.GetValue(connection, _ => new Cache());
        return cache.Row(sqlite, sql);
    }

    // Microsoft.Data.Sqlite refuses to run a command whose Transaction is not the connection's current one,
    // and does not make that one public: the accessor reads it without reflection.
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Transaction")]
    private static extern SqliteTransaction? CurrentTransaction(SqliteConnection connection);

    private sealed class Cache
    {
        private readonly Dictionary<string, CachedCommand?> _idle = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RowStatement> _rows = new(StringComparer.Ordinal);

        // Row statements are few and fixed (one per SQL text in the code), so they are kept for the connection's life.
        public RowStatement Row(SqliteConnection connection, string sql)
        {
            lock (_rows)
            {
                if (!_rows.TryGetValue(sql, out var statement))
                {
                    _rows[sql] = statement = new RowStatement(connection, sql);
                }
                return statement;
            }
        }

        // A connection is used by one thread at a time, but the cache outlives any one use of it.
        public bool TryTake(string sql, [NotNullWhen(true)] out CachedCommand? command)
        {
            lock (_idle)
            {
                if (_idle.TryGetValue(sql, out command) && command is not null)
                {
                    _idle[sql] = null;
                    return true;
                }
                command = null;
                return false;
            }
        }

        /// False when the cache keeps another command for this SQL (this one was made while that one was out).
        public bool Return(CachedCommand command)
        {
            lock (_idle)
            {
                if (_idle.TryGetValue(command.Inner.CommandText, out var kept) && kept is not null)
                {
                    return false;
                }
                if (_idle.Count >= MaxPerConnection)
                {
                    foreach (var idle in _idle.Values)
                    {
                        idle?.Inner.Dispose();
                    }
                    _idle.Clear();
                }
                _idle[command.Inner.CommandText] = command;
                return true;
            }
        }
    }

    /// The compiled command, lent out; Dispose gives it back to its connection's cache instead of finalizing it.
    private sealed class CachedCommand(SqliteCommand inner, Cache home) : DbCommand
    {
        public SqliteCommand Inner { get; } = inner;

        [AllowNull]
        public override string CommandText
        {
            get => Inner.CommandText;
            set => throw new InvalidOperationException("A cached statement keeps its SQL.");
        }

        public override int CommandTimeout { get => Inner.CommandTimeout; set => Inner.CommandTimeout = value; }
        public override CommandType CommandType { get => Inner.CommandType; set => Inner.CommandType = value; }
        public override UpdateRowSource UpdatedRowSource { get => Inner.UpdatedRowSource; set => Inner.UpdatedRowSource = value; }
        public override bool DesignTimeVisible { get => Inner.DesignTimeVisible; set => Inner.DesignTimeVisible = value; }
        protected override DbConnection? DbConnection { get => Inner.Connection; set => throw new InvalidOperationException("A cached statement keeps its connection."); }
        protected override DbParameterCollection DbParameterCollection => Inner.Parameters;
        protected override DbTransaction? DbTransaction { get => Inner.Transaction; set => Inner.Transaction = (SqliteTransaction?)value; }

        public override void Cancel() => Inner.Cancel();
        public override int ExecuteNonQuery() => Inner.ExecuteNonQuery();
        public override object? ExecuteScalar() => Inner.ExecuteScalar();
        public override void Prepare() => Inner.Prepare();
        protected override DbParameter CreateDbParameter() => Inner.CreateParameter();
        protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => Inner.ExecuteReader(behavior);

        protected override void Dispose(bool disposing)
        {
            if (disposing && !home.Return(this))
            {
                Inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// A compiled statement bound by position (1-based) and run by Step; see Statements.Row.
internal sealed class RowStatement
{
    private readonly SqliteConnection _connection;
    private readonly sqlite3_stmt _statement;

    public RowStatement(SqliteConnection connection, string sql)
    {
        _connection = connection;
        var rc = raw.sqlite3_prepare_v2(connection.Handle, sql, out _statement);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
    }

    public RowStatement Bind(int index, long value)
    {
        raw.sqlite3_bind_int64(_statement, index, value);
        return this;
    }

    public RowStatement Bind(int index, double? value)
    {
        _ = value is { } v ? raw.sqlite3_bind_double(_statement, index, v) : raw.sqlite3_bind_null(_statement, index);
        return this;
    }

    public RowStatement Bind(int index, string? value)
    {
        _ = value is null ? raw.sqlite3_bind_null(_statement, index) : raw.sqlite3_bind_text(_statement, index, value);
        return this;
    }

    /// Runs the statement to its end; returns the first column of its first row (RETURNING), or null.
    public long? Step()
    {
        long? first = null;
        try
        {
            int rc;
            while ((rc = raw.sqlite3_step(_statement)) == raw.SQLITE_ROW)
            {
                first ??= raw.sqlite3_column_int64(_statement, 0);
            }
            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, _connection.Handle);
            }
            return first;
        }
        finally
        {
            raw.sqlite3_reset(_statement);
        }
    }
}
