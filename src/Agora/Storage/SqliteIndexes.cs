using System.Data;
using System.Data.Common;

namespace Agora.Storage;

/// Writes an entity's index rows on SQLite, in process: no round trips to save, so one compiled statement per
/// table (Statements) runs once per row; value paths and geometry attributes as their codes (TextCodes). attr_values is clustered by (rid, path, seq), so that an entity's rows,
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
        // them sort from the IRI up to the IRI followed by a space (U+0020). Their codes are that range of
        // value_paths.
        using var values = Statements.For(c, """
            DELETE FROM attr_values WHERE rid = @rid
            AND path IN (SELECT code FROM value_paths WHERE path >= @attr AND path < @attr || ' ')
            """);
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
        var paths = TextCodes.Paths(c);
        // seq tells apart the rows of one path (several values, or instances with datasetIds); the rows of
        // one path all come from one attribute, which is written whole.
        var counts = new Dictionary<long, int>();
        foreach (var row in rows)
        {
            var code = paths.Code(c, Db.Text(row.Path));
            var seq = counts[code] = counts.TryGetValue(code, out var n) ? n + 1 : 0;
            insert.Bind(1, rid).Bind(2, code).Bind(3, seq).Bind(4, row.Num).Bind(5, row.Str is { } text ? Db.Text(text) : null).Step();
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

    /// How many bits of a geometry's id number the geometries of one entity: its id is rid << GeometryBits | n.
    public const int GeometryBits = 20;

    private static void WriteGeometries(DbConnection c, long rid, List<IndexRows.GeoRow> geometries)
    {
        if (geometries.Count == 0)
        {
            return;
        }
        if (geometries.Count >= 1 << GeometryBits)
        {
            throw Errors.NgsiLdException.BadRequest("Too many geometries", $"An entity may hold at most {(1 << GeometryBits) - 1} GeoProperty values.");
        }
        var bounds = Statements.Row(c, "INSERT INTO geo (id, minx, maxx, miny, maxy, mina, maxa) VALUES (?1, ?2, ?3, ?4, ?5, ?6 - 0.25, ?6 + 0.25)");
        var owner = Statements.Row(c, "INSERT INTO geo_rids (rid, gid) VALUES (?1, ?2)");
        var attributes = TextCodes.GeoAttributes(c);
        for (var n = 0; n < geometries.Count; n++)
        {
            var g = geometries[n];
            var id = (rid << GeometryBits) | (long)n;
            bounds.Bind(1, id).Bind(2, g.MinX).Bind(3, g.MaxX).Bind(4, g.MinY).Bind(5, g.MaxY).Bind(6, attributes.Code(c, g.Attribute)).Step();
            owner.Bind(1, rid).Bind(2, id).Step();
        }
    }

    private static void Run(DbConnection c, string sql, long rid)
    {
        using var command = Statements.For(c, sql);
        command.Parameters.AddWithValue("@rid", rid);
        command.ExecuteNonQuery();
    }
}
