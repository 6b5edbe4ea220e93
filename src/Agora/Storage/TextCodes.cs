using System.Data.Common;
using System.Runtime.CompilerServices;

namespace Agora.Storage;

/// Texts a SQLite store keeps as integers, each in a table of (code, text) given on first use and never taken
/// back: value paths (value_paths; a path is an IRI and more, 50 to 120 bytes that every attr_values row
/// repeated in its three B-trees) and the attributes of geometries (geo_attrs, the R*Tree's third dimension).
///
/// The writer looks codes up in memory. Only codes known to be committed are kept across transactions: one
/// read or made inside the running transaction is pending until the writer says that it committed
/// (Committed), and dropped when it says anything rolled back (RolledBack), since a rolled-back insert would
/// otherwise leave a code that the table does not hold. Queries read the tables (EntityQuery).
internal sealed class TextCodes
{
    // A tenant with more distinct texts than this (attribute names generated without end) keeps reading the
    // table for those past it rather than holding them all in memory.
    private const int MaxKept = 100_000;

    private static readonly ConditionalWeakTable<DbConnection, TextCodes[]> Writers = new();
    private readonly Dictionary<string, long> _committed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _pending = new(StringComparer.Ordinal);
    private readonly string _find, _add;

    private TextCodes(string table, string column)
    {
        _find = $"SELECT code FROM {table} WHERE {column} = ?1";
        _add = $"INSERT INTO {table} ({column}) VALUES (?1) RETURNING code";
    }

    /// The writer's value paths (as stored: Db.Text).
    public static TextCodes Paths(DbConnection writer) => Of(writer)[0];

    /// The writer's geometry attributes.
    public static TextCodes GeoAttributes(DbConnection writer) => Of(writer)[1];

    private static TextCodes[] Of(DbConnection writer) =>
        Writers.GetValue(writer, _ => [new("value_paths", "path"), new("geo_attrs", "attr")]);

    /// The code of a text, given now if it has none.
    public long Code(DbConnection c, string text)
    {
        if (_committed.TryGetValue(text, out var code) || _pending.TryGetValue(text, out code))
        {
            return code;
        }
        code = Statements.Row(c, _find).Bind(1, text).Step() ?? Statements.Row(c, _add).Bind(1, text).Step()!.Value;
        _pending[text] = code;
        return code;
    }

    /// The writer's transaction committed: the codes it used are the tables'.
    public static void Committed(DbConnection writer)
    {
        if (!Writers.TryGetValue(writer, out var tables))
        {
            return;
        }
        foreach (var codes in tables)
        {
            foreach (var (text, code) in codes._pending)
            {
                if (codes._committed.Count < MaxKept)
                {
                    codes._committed[text] = code;
                }
            }
            codes._pending.Clear();
        }
    }

    /// The writer rolled back a savepoint or its transaction: a code made since the last commit may be gone.
    public static void RolledBack(DbConnection writer)
    {
        if (Writers.TryGetValue(writer, out var tables))
        {
            Array.ForEach(tables, codes => codes._pending.Clear());
        }
    }
}
