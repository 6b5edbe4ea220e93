using System.Data.Common;
using System.Text.Json.Nodes;

namespace Agora.Temporal;

/// The statements HistoryRecorder runs for the entity changes of one write, each prepared once and reused by
/// every change of that write: a batch of 1,000 entities prepares them once, not 1,000 times. An entity whose
/// types and scope did not change costs one lookup and one update of its history row.
internal sealed class HistoryWriter(DbConnection connection) : IDisposable
{
    private readonly List<DbCommand> _prepared = [];
    private TemporalRows.Appender? _appender;
    private DbCommand? _touchSame, _find, _insert, _retype, _deleteTypes, _insertType, _markDeleted;

    public TemporalRows.Appender Appender => _appender ??= new TemporalRows.Appender(connection);

    /// The history row of a written entity, created or brought up to date; returns its eid. created says that
    /// the entity is new in the store (its history row exists only if an entity of the same id was deleted).
    public long Written(string id, JsonArray types, JsonNode? scope, string createdAt, string at, bool created)
    {
        var typesJson = types.ToJsonString();
        var scopeJson = scope?.ToJsonString();
        // A new entity in one statement (and its types); an entity whose types and scope did not change in one;
        // only a changed one reads its row. One or two round trips for most writes on PostgreSQL.
        if (created && Insert(id, types, typesJson, scopeJson, createdAt, at) is { } fresh)
        {
            return fresh;
        }
        _touchSame ??= Prepare(Storage.Db.IsPostgres(connection)
            ? "UPDATE temporal_entities SET modified_at = @m, deleted_at = NULL WHERE id = @id AND types = @types AND scope IS NOT DISTINCT FROM @scope RETURNING eid"
            : "UPDATE temporal_entities SET modified_at = @m, deleted_at = NULL WHERE id = @id AND types = @types AND scope IS @scope RETURNING eid",
            "@m", "@id", "@types", "@scope");
        Bind(_touchSame, at, id, typesJson, scopeJson);
        if (_touchSame.ExecuteScalar() is long touched)
        {
            return touched;
        }
        if (!created && Insert(id, types, typesJson, scopeJson, createdAt, at) is { } inserted)
        {
            return inserted;
        }
        _find ??= Prepare("SELECT eid FROM temporal_entities WHERE id = @id", "@id");
        _find.Parameters["@id"].Value = id;
        var eid = (long)_find.ExecuteScalar()!;
        _retype ??= Prepare("UPDATE temporal_entities SET types = @types, scope = @scope, modified_at = @m, deleted_at = NULL WHERE eid = @eid", "@types", "@scope", "@m", "@eid");
        Run(_retype, typesJson, scopeJson, at, eid);
        WriteTypes(eid, types, replace: true);
        return eid;
    }

    // A new history row and its types, or null when the id has one already.
    private long? Insert(string id, JsonArray types, string typesJson, string? scopeJson, string createdAt, string at)
    {
        _insert ??= Prepare("INSERT INTO temporal_entities (id, types, scope, created_at, modified_at) VALUES (@id, @types, @scope, @c, @m) ON CONFLICT (id) DO NOTHING RETURNING eid",
            "@id", "@types", "@scope", "@c", "@m");
        Bind(_insert, id, typesJson, scopeJson, createdAt, at);
        if (_insert.ExecuteScalar() is not long eid)
        {
            return null;
        }
        WriteTypes(eid, types, replace: false);
        return eid;
    }

    /// Writes the instances the appender collected (PostgreSQL writes them together).
    public void Flush() => _appender?.Flush();

    public void Deleted(long eid, string at)
    {
        _markDeleted ??= Prepare("UPDATE temporal_entities SET deleted_at = @at, modified_at = @at WHERE eid = @eid", "@at", "@eid");
        Run(_markDeleted, at, eid);
    }

    /// The eid of an entity's history, or null.
    public long? Find(string id)
    {
        _find ??= Prepare("SELECT eid FROM temporal_entities WHERE id = @id", "@id");
        _find.Parameters["@id"].Value = id;
        return _find.ExecuteScalar() is long eid ? eid : null;
    }

    private void WriteTypes(long eid, JsonArray types, bool replace)
    {
        if (replace)
        {
            _deleteTypes ??= Prepare("DELETE FROM temporal_types WHERE eid = @eid", "@eid");
            Run(_deleteTypes, eid);
        }
        _insertType ??= Prepare("INSERT INTO temporal_types (type, eid) VALUES (@type, @eid) ON CONFLICT DO NOTHING", "@type", "@eid");
        foreach (var type in types)
        {
            Run(_insertType, (string)type!, eid);
        }
    }

    private DbCommand Prepare(string sql, params string[] parameters)
    {
        var command = Storage.Statements.For(connection, sql);
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }
        _prepared.Add(command);
        return command;
    }

    private static void Bind(DbCommand command, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }
    }

    private static void Run(DbCommand command, params object?[] values)
    {
        Bind(command, values);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _appender?.Dispose();
        _prepared.ForEach(c => c.Dispose());
    }
}
