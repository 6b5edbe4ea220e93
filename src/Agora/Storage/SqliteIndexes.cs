using System.Data;
using System.Data.Common;

namespace Agora.Storage;

/// Writes an entity's index rows on SQLite, in process: no round trips to save, so one compiled statement per
/// table (Statements) runs once per row. attr_values is clustered by (rid, path, seq), so that an entity's rows,
/// and one attribute's among them, are one range of the table: a new entity appends at its end, an update
/// deletes the range of each attribute it changed, and a query's probe of one entity seeks its key.
internal static class SqliteIndexes
{
    public static void Write(DbConnection c, long rid, IndexChange change)
    {
        if (change.Types is { } types)
        {
            Rewrite(c, rid, change.Replace, "entity_types", "type", types);
        }
        if (change.Cleared.Count > 0)
        {
            ClearAttributes(c, rid, change.Cleared);
        }
        WriteValues(c, rid, change.Values);
        WriteAttributes(c, rid, change.Attributes);
        if (change.Geometries is { } geometries)
        {
            if (change.Replace)
            {
                ClearGeometries(c, rid);
            }
            WriteGeometries(c, rid, geometries);
        }
        if (change.Scopes is { } scopes)
        {
            Rewrite(c, rid, change.Replace, "scopes", "scope", scopes);
        }
    }

    // A table of (name, rid) rows, rewritten whole.
    private static void Rewrite(DbConnection c, long rid, bool replace, string table, string column, string[] names)
    {
        if (replace)
        {
            Run(c, $"DELETE FROM {table} WHERE rid = @rid", rid);
        }
        var insert = Statements.Row(c, $"INSERT INTO {table} ({column}, rid) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
        foreach (var n in names)
        {
            insert.Bind(1, n).Bind(2, rid).Step();
        }
    }

    /// Deletes every index row of an entity (not its types, which go with the entity's row).
    public static void Clear(DbConnection c, long rid)
    {
        Run(c, "DELETE FROM attr_values WHERE rid = @rid", rid);
        Run(c, "DELETE FROM entity_attrs WHERE rid = @rid", rid);
        Run(c, "DELETE FROM scopes WHERE rid = @rid", rid);
        ClearGeometries(c, rid);
    }

    private static void ClearAttributes(DbConnection c, long rid, List<string> attributes)
    {
        // An attribute's paths are its IRI, then the IRI followed by the separator (U+001F) and more: all of
        // them sort from the IRI up to the IRI followed by a space (U+0020).
        using var values = Statements.For(c, "DELETE FROM attr_values WHERE rid = @rid AND path >= @attr AND path < @attr || ' '");
        using var names = Statements.For(c, "DELETE FROM entity_attrs WHERE rid = @rid AND attr = @attr");
        values.Parameters.AddWithValue("@rid", rid);
        names.Parameters.AddWithValue("@rid", rid);
        var valueAttr = values.Parameters.Add("@attr", DbType.String);
        var nameAttr = names.Parameters.Add("@attr", DbType.String);
        foreach (var attribute in attributes)
        {
            valueAttr.Value = Db.Text(attribute);
            values.ExecuteNonQuery();
            nameAttr.Value = attribute;
            names.ExecuteNonQuery();
        }
    }

    private static void WriteValues(DbConnection c, long rid, List<IndexRows.ValueRow> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }
        var insert = Statements.Row(c, "INSERT INTO attr_values (rid, path, seq, num, str) VALUES (?1, ?2, ?3, ?4, ?5)");
        // seq tells apart the rows of one path (several values, or instances with datasetIds); the rows of
        // one path all come from one attribute, which is written whole.
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var key = Db.Text(row.Path);
            var seq = counts[key] = counts.TryGetValue(key, out var n) ? n + 1 : 0;
            insert.Bind(1, rid).Bind(2, key).Bind(3, seq).Bind(4, row.Num).Bind(5, row.Str is { } text ? Db.Text(text) : null).Step();
        }
    }

    private static void WriteAttributes(DbConnection c, long rid, List<(string Attr, string Type)> attributes)
    {
        if (attributes.Count == 0)
        {
            return;
        }
        var insert = Statements.Row(c, "INSERT INTO entity_attrs (attr, attr_type, rid) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
        foreach (var (name, attributeType) in attributes)
        {
            insert.Bind(1, name).Bind(2, attributeType).Bind(3, rid).Step();
        }
    }

    private static void ClearGeometries(DbConnection c, long rid)
    {
        Run(c, "DELETE FROM geo WHERE id IN (SELECT gid FROM geo_rids WHERE rid = @rid)", rid);
        Run(c, "DELETE FROM geo_rids WHERE rid = @rid", rid);
    }

    private static void WriteGeometries(DbConnection c, long rid, List<IndexRows.GeoRow> geometries)
    {
        // An R*Tree has no RETURNING: its new id is the connection's last inserted rowid.
        var bounds = Statements.Row(c, "INSERT INTO geo (minx, maxx, miny, maxy, rid, attr) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        var owner = Statements.Row(c, "INSERT INTO geo_rids (rid, gid) VALUES (?1, last_insert_rowid())");
        foreach (var g in geometries)
        {
            bounds.Bind(1, g.MinX).Bind(2, g.MaxX).Bind(3, g.MinY).Bind(4, g.MaxY).Bind(5, rid).Bind(6, g.Attribute).Step();
            owner.Bind(1, rid).Step();
        }
    }

    private static void Run(DbConnection c, string sql, long rid)
    {
        using var command = Statements.For(c, sql);
        command.Parameters.AddWithValue("@rid", rid);
        command.ExecuteNonQuery();
    }
}
