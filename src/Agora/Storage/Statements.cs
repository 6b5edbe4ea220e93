using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

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

    // Microsoft.Data.Sqlite refuses to run a command whose Transaction is not the connection's current one,
    // and does not make that one public: the accessor reads it without reflection.
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Transaction")]
    private static extern SqliteTransaction? CurrentTransaction(SqliteConnection connection);

    private sealed class Cache
    {
        private readonly Dictionary<string, CachedCommand?> _idle = new(StringComparer.Ordinal);

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
