using System.Data.Common;
using System.Runtime.CompilerServices;

namespace Agora.Storage;

/// The value paths of a SQLite store as the integers attr_values keeps (value_paths: code, path). A path is
/// an IRI and more (an attribute's, then sub-attributes, metadata, keys), 50 to 120 bytes of text that every
/// value row repeated in its three B-trees; as an integer, each row is a fraction of that, and its key is
/// compared without a string comparison. Codes are given on first use and never taken back.
///
/// The writer looks codes up in memory. Only codes known to be committed are kept across transactions: one
/// read or made inside the running transaction is pending until the writer says that it committed
/// (Committed), and dropped when it says anything rolled back (RolledBack), since a rolled-back insert would
/// otherwise leave a code that the table does not hold. Queries read the table (EntityQuery).
internal sealed class ValuePaths
{
    // A tenant with more distinct paths than this (attribute names generated without end) keeps reading the
    // table for those past it rather than holding them all in memory.
    private const int MaxKept = 100_000;

    private static readonly ConditionalWeakTable<DbConnection, ValuePaths> Writers = new();
    private readonly Dictionary<string, long> _committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pending = new(StringComparer.Ordinal);

    public static ValuePaths Of(DbConnection writer) => Writers.GetValue(writer, _ => new ValuePaths());

    /// The code of a path (as stored: Db.Text), given now if it has none.
    public long Code(DbConnection c, string path)
    {
        if (_committed.TryGetValue(path, out var code) || _pending.TryGetValue(path, out code))
        {
            return code;
        }
        code = Statements.Row(c, "SELECT code FROM value_paths WHERE path = ?1").Bind(1, path).Step()
            ?? Statements.Row(c, "INSERT INTO value_paths (path) VALUES (?1) RETURNING code").Bind(1, path).Step()!.Value;
        _pending[path] = code;
        return code;
    }

    /// The writer's transaction committed: the codes it used are the table's.
    public static void Committed(DbConnection writer)
    {
        if (!Writers.TryGetValue(writer, out var paths) || paths._pending.Count == 0)
        {
            return;
        }
        foreach (var (path, code) in paths._pending)
        {
            if (paths._committed.Count < MaxKept)
            {
                paths._committed[path] = code;
            }
        }
        paths._pending.Clear();
    }

    /// The writer rolled back a savepoint or its transaction: a code made since the last commit may be gone.
    public static void RolledBack(DbConnection writer)
    {
        if (Writers.TryGetValue(writer, out var paths))
        {
            paths._pending.Clear();
        }
    }
}
